//! One wasm function body to one C function.
//!
//! Every value an operator pushes is a fresh C variable (`vN`); locals are
//! `lN`; a block's results, and a loop's parameters, are variables
//! that branches assign before their `goto`. Blocks become labels, `br_table` a
//! `switch`. The C compiler turns all of it back into SSA form.

use super::tables::{self, Entries};
use super::{float, numeric, Symbols, Ty};
use crate::env::ModuleEnv;
use rivet_descriptor::{vm, Builtin, TrapKind, ValType, VmctxLayout, GUARD_BYTES};
use std::fmt::Write;
use wasmparser::{BlockType, BrTable, MemArg, MemArgTarget, Operator};

/// Why a function stays with Cranelift.
pub type Unsupported = String;

/// A stack value: the variable holding it and its type.
#[derive(Clone)]
struct Val {
    name: String,
    ty: Ty,
}

enum Kind {
    Function,
    Block,
    Loop,
    If { has_else: bool },
}

/// An open block: where branches to it go and what they assign.
struct Frame {
    kind: Kind,
    label: usize,
    /// Variables a branch to the frame assigns: a loop's parameters, any
    /// other frame's results.
    targets: Vec<Val>,
    /// The frame's results (the same as `targets` except for loops).
    results: Vec<Val>,
    /// Stack height below the frame's parameters.
    height: usize,
    /// An `if`'s parameters, pushed again at its `else`.
    params: Vec<Val>,
}

/// What a function's translation needs to know of its module: the names of
/// the functions it may call, and the tables known at build time.
pub struct Context<'a> {
    pub symbols: &'a Symbols,
    /// The module's index in the unit.
    pub module: usize,
    /// By table index (see [`tables::frozen`]).
    pub tables: &'a [Option<Entries>],
}

/// Translates defined function `defined` of `env`.
pub fn translate(env: &ModuleEnv, defined: u32, cx: &Context) -> Result<String, Unsupported> {
    let index = env.imported_functions + defined;
    let ty = &env.types[env.functions[index as usize] as usize];
    let body = &env.bodies[defined as usize];
    let mut t = Translator {
        env,
        cx,
        decls: String::new(),
        body: String::new(),
        stack: Vec::new(),
        frames: Vec::new(),
        next_var: 0,
        next_label: 0,
        reachable: true,
        dead_depth: 0,
        loads: Vec::new(),
        used: Vec::new(),
        locals: Vec::new(),
        memories: Vec::new(),
        calls: false,
    };
    let results = tys(&ty.results)?;
    if results.len() > 1 {
        return Err("several results".into());
    }
    let params = tys(&ty.params)?;
    let mut header = format!(
        "CODE {} {}(u8 *vmctx",
        result_c(&results),
        cx.symbols.defined[defined as usize]
    );
    for (i, p) in params.iter().enumerate() {
        write!(header, ", {} l{i}", p.c()).unwrap();
        t.locals.push(*p);
    }
    header.push(')');
    t.declare_locals(body)?;
    t.open(Kind::Function, Vec::new(), results);
    let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
    while !reader.eof() {
        let op = reader.read().map_err(|e| e.to_string())?;
        t.operator(&op)?;
    }
    Ok(t.finish(header))
}

/// The backend's type of a wasm value type; references and vectors stay
/// with Cranelift.
fn value_ty(t: ValType) -> Result<Ty, Unsupported> {
    match t {
        ValType::I32 => Ok(Ty::I32),
        ValType::I64 => Ok(Ty::I64),
        ValType::F32 => Ok(Ty::F32),
        ValType::F64 => Ok(Ty::F64),
        other => Err(format!("values of type {other:?}")),
    }
}

fn tys(types: &[ValType]) -> Result<Vec<Ty>, Unsupported> {
    types.iter().map(|&t| value_ty(t)).collect()
}

fn result_c(results: &[Ty]) -> &'static str {
    results.first().map_or("void", |t| t.c())
}

struct Translator<'a, 'e> {
    env: &'a ModuleEnv<'e>,
    cx: &'a Context<'a>,
    decls: String,
    body: String,
    stack: Vec<Val>,
    frames: Vec<Frame>,
    next_var: usize,
    next_label: usize,
    reachable: bool,
    /// Blocks opened in unreachable code, skipped to their `end`.
    dead_depth: usize,
    /// Each load: its variable and where its helper's name ends in `body`,
    /// so that a load whose value is never used can be made volatile (it must
    /// still trap).
    loads: Vec<(usize, usize)>,
    /// Whether each variable `vN` is read.
    used: Vec<bool>,
    /// Types of the locals.
    locals: Vec<Ty>,
    /// Memories whose base the function reads, loaded once on entry.
    memories: Vec<u32>,
    /// Whether the function calls wasm functions (a leaf does not).
    calls: bool,
}

impl Translator<'_, '_> {
    fn declare_locals(&mut self, body: &wasmparser::FunctionBody) -> Result<(), Unsupported> {
        let reader = body.get_locals_reader().map_err(|e| e.to_string())?;
        for local in reader {
            let (count, ty) = local.map_err(|e| e.to_string())?;
            let ty = value_ty(crate::env::val_type(ty))?;
            for _ in 0..count {
                let i = self.locals.len();
                writeln!(self.decls, "  {} l{i} = 0;", ty.c()).unwrap();
                self.locals.push(ty);
            }
        }
        Ok(())
    }

    /// A new variable of type `ty` assigned `expr`, pushed.
    fn push_expr(&mut self, ty: Ty, expr: &str) -> usize {
        let n = self.new_var(ty);
        writeln!(self.body, "  v{n} = {expr};").unwrap();
        self.stack.push(Val {
            name: format!("v{n}"),
            ty,
        });
        n
    }

    fn new_var(&mut self, ty: Ty) -> usize {
        let n = self.next_var;
        self.next_var += 1;
        self.used.push(false);
        writeln!(self.decls, "  {} v{n} = 0;", ty.c()).unwrap();
        n
    }

    fn pop(&mut self) -> Val {
        let v = self.stack.pop().expect("validated stack");
        self.mark_used(&v);
        v
    }

    fn popn(&mut self, n: usize) -> Vec<Val> {
        let mut vals: Vec<Val> = (0..n).map(|_| self.pop()).collect();
        vals.reverse();
        vals
    }

    fn operator(&mut self, op: &Operator) -> Result<(), Unsupported> {
        if !self.reachable {
            self.dead(op);
            return Ok(());
        }
        for (arity, expression) in OPERATORS {
            if let Some(n) = arity(op) {
                let args: Vec<String> = self.popn(n).into_iter().map(|v| v.name).collect();
                let (ty, expr) = expression(op, &args).expect("arity implies support");
                self.push_expr(ty, &expr);
                return Ok(());
            }
        }
        if self.control(op)? || self.variable(op)? || self.memory(op)? || self.call(op)? {
            return Ok(());
        }
        Err(format!("the {} instruction", operator_name(op)))
    }

    /// In unreachable code only nesting is tracked, to find the `else` or
    /// `end` that makes code reachable again.
    fn dead(&mut self, op: &Operator) {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.dead_depth += 1
            }
            Operator::Else if self.dead_depth == 0 => self.else_(),
            Operator::End if self.dead_depth == 0 => self.end(),
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
    }

    fn block_types(&self, ty: BlockType) -> Result<(Vec<Ty>, Vec<Ty>), Unsupported> {
        Ok(match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![value_ty(crate::env::val_type(t))?]),
            BlockType::FuncType(i) => {
                let f = &self.env.types[i as usize];
                (tys(&f.params)?, tys(&f.results)?)
            }
        })
    }

    /// Fresh variables for a frame's results or a loop's parameters.
    fn vars(&mut self, types: &[Ty]) -> Vec<Val> {
        types
            .iter()
            .map(|&ty| {
                let n = self.new_var(ty);
                self.used[n] = true;
                Val {
                    name: format!("v{n}"),
                    ty,
                }
            })
            .collect()
    }

    fn open(&mut self, kind: Kind, params: Vec<Ty>, results: Vec<Ty>) {
        let label = self.next_label;
        self.next_label += 1;
        let results = self.vars(&results);
        let height = self.stack.len() - params.len();
        let targets = if matches!(kind, Kind::Loop) {
            let vars = self.vars(&params);
            let values = self.popn(params.len());
            self.assign(&vars, &values);
            writeln!(self.body, " L{label}:;").unwrap();
            self.stack.extend(vars.iter().cloned());
            vars
        } else {
            results.clone()
        };
        let params = self.stack[height..].to_vec();
        self.frames.push(Frame {
            kind,
            label,
            targets,
            results,
            height,
            params,
        });
    }

    /// `vars = values`, through temporaries when a value is one of the
    /// variables (a loop passing its parameters on in another order).
    fn assign(&mut self, vars: &[Val], values: &[Val]) {
        for v in values {
            self.mark_used(v);
        }
        let clash = values.iter().any(|v| vars.iter().any(|t| t.name == v.name));
        if clash {
            let temps: Vec<String> = values
                .iter()
                .map(|v| {
                    let n = self.new_var(v.ty);
                    writeln!(self.body, "  v{n} = {};", v.name).unwrap();
                    format!("v{n}")
                })
                .collect();
            for (var, temp) in vars.iter().zip(temps) {
                writeln!(self.body, "  {} = {temp};", var.name).unwrap();
            }
        } else {
            for (var, value) in vars.iter().zip(values) {
                if var.name != value.name {
                    writeln!(self.body, "  {} = {};", var.name, value.name).unwrap();
                }
            }
        }
    }

    fn control(&mut self, op: &Operator) -> Result<bool, Unsupported> {
        match op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.trap(TrapKind::Unreachable);
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                let (p, r) = self.block_types(*blockty)?;
                self.open(Kind::Block, p, r);
            }
            Operator::Loop { blockty } => {
                let (p, r) = self.block_types(*blockty)?;
                self.open(Kind::Loop, p, r);
            }
            Operator::If { blockty } => {
                let cond = self.pop();
                let (p, r) = self.block_types(*blockty)?;
                self.open(Kind::If { has_else: false }, p, r);
                let label = self.frames.last().expect("just opened").label;
                writeln!(self.body, "  if (!{}) goto E{label};", cond.name).unwrap();
            }
            Operator::Else => self.else_(),
            Operator::End => self.end(),
            Operator::Br { relative_depth } => {
                self.branch(*relative_depth, None);
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                self.branch(*relative_depth, Some(&cond.name));
            }
            Operator::BrTable { targets } => self.br_table(targets)?,
            Operator::Return => {
                self.branch(self.frames.len() as u32 - 1, None);
                self.reachable = false;
            }
            Operator::Drop => {
                self.stack.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let c = self.pop();
                let (a, b) = (self.pop(), self.pop());
                let expr = format!("{} ? {} : {}", c.name, b.name, a.name);
                self.push_expr(a.ty, &expr);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Jumps to the frame `depth` levels out, assigning its targets from the
    /// top of the stack (the stack itself is left as it is), if `cond`.
    fn branch(&mut self, depth: u32, cond: Option<&str>) {
        let frame = &self.frames[self.frames.len() - 1 - depth as usize];
        let targets = frame.targets.clone();
        let goto = jump(frame);
        let values = self.stack[self.stack.len() - targets.len()..].to_vec();
        if let Some(c) = cond {
            writeln!(self.body, "  if ({c}) {{").unwrap();
        }
        self.assign(&targets, &values);
        writeln!(self.body, "  {goto};").unwrap();
        if cond.is_some() {
            self.body.push_str("  }\n");
        }
    }

    fn mark_used(&mut self, v: &Val) {
        if let Some(n) = v
            .name
            .strip_prefix('v')
            .and_then(|n| n.parse::<usize>().ok())
        {
            self.used[n] = true;
        }
    }

    fn br_table(&mut self, table: &BrTable) -> Result<(), Unsupported> {
        let index = self.pop();
        let targets: Vec<u32> = table
            .targets()
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        writeln!(self.body, "  switch ({}) {{", index.name).unwrap();
        for (i, depth) in targets.iter().enumerate() {
            writeln!(self.body, "  case {i}:").unwrap();
            self.branch(*depth, None);
        }
        self.body.push_str("  default:\n");
        self.branch(table.default(), None);
        self.body.push_str("  }\n");
        self.reachable = false;
        Ok(())
    }

    fn else_(&mut self) {
        let frame = self.frames.last_mut().expect("validated nesting");
        frame.kind = Kind::If { has_else: true };
        let (label, height, params) = (frame.label, frame.height, frame.params.clone());
        if self.reachable {
            self.branch(0, None);
        }
        writeln!(self.body, " E{label}:;").unwrap();
        self.stack.truncate(height);
        self.stack.extend(params);
        self.reachable = true;
    }

    fn end(&mut self) {
        let frame = self.frames.last().expect("validated nesting");
        if let Kind::If { has_else: false } = frame.kind {
            // An empty else: its parameters become the results.
            self.else_();
        }
        let frame = self.frames.pop().expect("validated nesting");
        if self.reachable {
            let values = self.stack[self.stack.len() - frame.results.len()..].to_vec();
            self.assign(&frame.results, &values);
        }
        if !matches!(frame.kind, Kind::Loop) {
            writeln!(self.body, " B{}:;", frame.label).unwrap();
        }
        self.stack.truncate(frame.height);
        self.stack.extend(frame.results);
        self.reachable = true;
    }

    fn trap(&mut self, kind: TrapKind) {
        writeln!(self.body, "  trap(vmctx, {});", kind as u32).unwrap();
    }

    fn variable(&mut self, op: &Operator) -> Result<bool, Unsupported> {
        match *op {
            Operator::LocalGet { local_index } => {
                let ty = self.locals[local_index as usize];
                self.push_expr(ty, &format!("l{local_index}"));
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                writeln!(self.body, "  l{local_index} = {};", v.name).unwrap();
            }
            Operator::LocalTee { local_index } => {
                let v = self.stack.last().expect("validated").clone();
                self.mark_used(&v);
                writeln!(self.body, "  l{local_index} = {};", v.name).unwrap();
            }
            Operator::GlobalGet { global_index } => {
                let (place, ty) = self.global(global_index)?;
                self.push_expr(ty, &place);
            }
            Operator::GlobalSet { global_index } => {
                let (place, _) = self.global(global_index)?;
                let v = self.pop();
                writeln!(self.body, "  {place} = {};", v.name).unwrap();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Where global `index` lives, as a C lvalue, and its type.
    fn global(&self, index: u32) -> Result<(String, Ty), Unsupported> {
        let ty = value_ty(self.env.globals[index as usize].content)?;
        let layout = &self.env.layout;
        let place = match self.env.defined_global(index) {
            Some(d) => format!("AT({}, vmctx, {})", ty.c(), layout.defined_global(d)),
            None => format!(
                "AT({}, FIELD(vmctx, {}), 0)",
                ty.c(),
                layout.global_pointer(index)
            ),
        };
        Ok((place, ty))
    }

    /// The address of memory `mem`'s `VMMemory`.
    fn memory_struct(&self, mem: u32) -> String {
        let layout = &self.env.layout;
        match self.env.defined_memory(mem) {
            Some(d) => format!("(vmctx + {})", layout.defined_memory(d)),
            None => format!("FIELD(vmctx, {})", layout.memory_pointer(mem)),
        }
    }

    /// The variable holding memory `mem`'s base, read once on entry: in
    /// guard-region mode a memory never moves.
    fn base(&mut self, mem: u32) -> String {
        if !self.memories.contains(&mem) {
            self.memories.push(mem);
        }
        format!("m{mem}")
    }

    /// The current byte length of memory `mem`, as a `u64`.
    fn length(&self, mem: u32) -> String {
        format!(
            "AT(u64, {}, {})",
            self.memory_struct(mem),
            vm::MEMORY_LENGTH
        )
    }

    /// The native address of an access; checked against the length when the
    /// guard region does not cover its offset.
    fn address(&mut self, memarg: &MemArg, index: &str, size: u64) -> Result<String, Unsupported> {
        let MemArgTarget::Memory(mem) = memarg.target else {
            return Err("GC array accesses".into());
        };
        let end = memarg.offset + size;
        if end > GUARD_BYTES {
            let check = format!("(u64){index} + {end}ull > {}", self.length(mem));
            self.trap_if(&check, TrapKind::MemoryOutOfBounds);
        }
        let base = self.base(mem);
        Ok(format!("{base} + (u64){index} + {}ull", memarg.offset))
    }

    fn trap_if(&mut self, cond: &str, kind: TrapKind) {
        writeln!(self.body, "  TRAP_IF({cond}, {});", kind as u32).unwrap();
    }

    fn memory(&mut self, op: &Operator) -> Result<bool, Unsupported> {
        if let Some((memarg, size, ty, helper, cast)) = load_kind(op) {
            let index = self.pop();
            let addr = self.address(memarg, &index.name, size)?;
            let n = self.new_var(ty);
            write!(self.body, "  v{n} = {cast}{helper}(").unwrap();
            let helper_end = self.body.len() - 1;
            writeln!(self.body, "{addr});").unwrap();
            self.loads.push((n, helper_end));
            self.stack.push(Val {
                name: format!("v{n}"),
                ty,
            });
            return Ok(true);
        }
        if let Some((memarg, size, store)) = store_kind(op) {
            let value = self.pop();
            let index = self.pop();
            let addr = self.address(memarg, &index.name, size)?;
            writeln!(self.body, "  {store}({addr}, {});", value.name).unwrap();
            return Ok(true);
        }
        self.memory_instance(op)
    }

    /// `memory.size`, `memory.grow` and bulk memory.
    fn memory_instance(&mut self, op: &Operator) -> Result<bool, Unsupported> {
        match *op {
            Operator::MemorySize { mem } => {
                let expr = format!("(u32)({} >> 16)", self.length(mem));
                self.push_expr(Ty::I32, &expr);
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop();
                let args = format!("{mem}u, {}", delta.name);
                let call = builtin(Builtin::MemoryGrow, "u32", "u32, u32", &args);
                self.push_expr(Ty::I32, &call);
            }
            Operator::MemoryFill { mem } => {
                let [dst, value, len] = self.pop3();
                let dst = self.range(mem, &dst.name, &len.name);
                writeln!(
                    self.body,
                    "  memset({dst}, (int)(u8){}, {});",
                    value.name, len.name
                )
                .unwrap();
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let [dst, src, len] = self.pop3();
                let dst = self.range(dst_mem, &dst.name, &len.name);
                let src = self.range(src_mem, &src.name, &len.name);
                writeln!(self.body, "  memmove({dst}, {src}, {});", len.name).unwrap();
            }
            Operator::MemoryInit { data_index, mem } => {
                let [dst, src, len] = self.pop3();
                let args = format!(
                    "{mem}u, {data_index}u, {}, {}, {}",
                    dst.name, src.name, len.name
                );
                let params = "u32, u32, u32, u32, u32";
                let call = builtin(Builtin::MemoryInit, "u32", params, &args);
                self.trap_if(&format!("{call} != 0"), TrapKind::MemoryOutOfBounds);
            }
            Operator::DataDrop { data_index } => {
                let args = format!("{data_index}u");
                let call = builtin(Builtin::DataDrop, "void", "u32", &args);
                writeln!(self.body, "  {call};").unwrap();
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn pop3(&mut self) -> [Val; 3] {
        let c = self.pop();
        let b = self.pop();
        let a = self.pop();
        [a, b, c]
    }

    /// The native address of `len` bytes at `index` in memory `mem`, after
    /// trapping if any is out of bounds.
    fn range(&mut self, mem: u32, index: &str, len: &str) -> String {
        let check = format!("(u64){index} + {len} > {}", self.length(mem));
        self.trap_if(&check, TrapKind::MemoryOutOfBounds);
        format!("{} + (u64){index}", self.base(mem))
    }

    fn call(&mut self, op: &Operator) -> Result<bool, Unsupported> {
        self.calls |= matches!(op, Operator::Call { .. } | Operator::CallIndirect { .. });
        match *op {
            Operator::Call { function_index } => self.call_direct(function_index)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The C return type and argument list of a call to a function of type
    /// `ty`, popping the arguments.
    fn call_args(&mut self, ty: u32) -> Result<(Option<Ty>, Vec<Ty>, String), Unsupported> {
        let f = &self.env.types[ty as usize];
        let (params, results) = (tys(&f.params)?, tys(&f.results)?);
        if results.len() > 1 {
            return Err("a call with several results".into());
        }
        let args = self.popn(params.len());
        let list: String = args.iter().map(|a| format!(", {}", a.name)).collect();
        Ok((results.first().copied(), params, list))
    }

    /// Pushes the result of `call`, or runs it for its effect.
    fn finish_call(&mut self, result: Option<Ty>, call: &str) {
        match result {
            Some(ty) => {
                self.push_expr(ty, call);
            }
            None => writeln!(self.body, "  {call};").unwrap(),
        }
    }

    fn call_direct(&mut self, index: u32) -> Result<(), Unsupported> {
        let ty = self.env.functions[index as usize];
        let (result, params, args) = self.call_args(ty)?;
        let layout = &self.env.layout;
        let call = if let Some(d) = index.checked_sub(self.env.imported_functions) {
            format!("{}(vmctx{args})", self.cx.symbols.defined[d as usize])
        } else {
            let at = layout.imported_function(index);
            let callee_vmctx = format!("FIELD(vmctx, {})", at + vm::FUNC_IMPORT_VMCTX);
            match &self.cx.symbols.imports[index as usize] {
                Some(name) => format!("{name}({callee_vmctx}{args})"),
                None => {
                    let code = format!("FIELD(vmctx, {})", at + vm::FUNC_IMPORT_CODE);
                    format!(
                        "(({})({code}))({callee_vmctx}{args})",
                        pointer_type(result, &params)
                    )
                }
            }
        };
        self.finish_call(result, &call);
        Ok(())
    }

    fn call_indirect(&mut self, ty: u32, table: u32) -> Result<(), Unsupported> {
        let index = self.pop();
        let (result, params, args) = self.call_args(ty)?;
        if let Some(Some(entries)) = self.cx.tables.get(table as usize) {
            let call = self.call_frozen(ty, table, entries.len(), &index.name, result, &params);
            self.finish_call(result, &format!("{call}(vmctx{args})"));
            return Ok(());
        }
        let layout = &self.env.layout;
        let table_struct = match self.env.defined_table(table) {
            Some(d) => format!("(vmctx + {})", layout.defined_table(d)),
            None => format!("FIELD(vmctx, {})", layout.table_pointer(table)),
        };
        let length = format!("AT(u32, {table_struct}, {})", vm::TABLE_LENGTH);
        self.trap_if(
            &format!("{} >= {length}", index.name),
            TrapKind::UndefinedElement,
        );
        let f = self.new_var(Ty::Ptr);
        writeln!(
            self.body,
            "  v{f} = ((u8 **)FIELD({table_struct}, {}))[{}];",
            vm::TABLE_BASE,
            index.name
        )
        .unwrap();
        self.trap_if(&format!("!v{f}"), TrapKind::UninitializedElement);
        let check = format!(
            "AT(u32, v{f}, {}) != AT(u32, vmctx, {})",
            vm::FUNCREF_TYPE_ID,
            layout.type_id(ty)
        );
        self.trap_if(&check, TrapKind::BadSignature);
        let call = format!(
            "(({})FIELD(v{f}, {}))(FIELD(v{f}, {}){args})",
            pointer_type(result, &params),
            vm::FUNCREF_CODE,
            vm::FUNCREF_VMCTX
        );
        self.finish_call(result, &call);
        Ok(())
    }

    /// The checks of a `call_indirect` through table `table`, known at build
    /// time and `len` entries long, and the callee's code, cast for the call.
    fn call_frozen(
        &mut self,
        ty: u32,
        table: u32,
        len: usize,
        index: &str,
        result: Option<Ty>,
        params: &[Ty],
    ) -> String {
        self.trap_if(&format!("{index} >= {len}u"), TrapKind::UndefinedElement);
        let e = self.new_var(Ty::Entry);
        let name = tables::name(self.cx.module, table);
        writeln!(self.body, "  v{e} = &{name}[{index}];").unwrap();
        self.trap_if(&format!("!v{e}->code"), TrapKind::UninitializedElement);
        let canon = tables::canonical(self.env, ty);
        self.trap_if(&format!("v{e}->type != {canon}u"), TrapKind::BadSignature);
        format!("(({})v{e}->code)", pointer_type(result, params))
    }

    /// The finished C function: declarations, the stack check, the memory
    /// bases, the body and the return.
    fn finish(mut self, header: String) -> String {
        for (n, at) in self.loads.iter().rev() {
            if !self.used[*n] {
                self.body.insert_str(*at, "_keep");
            }
        }
        let mut out = header;
        out.push_str(" {\n");
        out.push_str(&self.decls);
        // A leaf with a small frame cannot overflow the stack: the runtime
        // keeps 64 KiB below the limit for code that does not check it.
        if self.calls || self.next_var + self.locals.len() > LEAF_VALUES {
            let store = format!("FIELD(vmctx, {})", VmctxLayout::STORE);
            writeln!(
                out,
                "  TRAP_IF(stack_pointer() < (uintptr_t)FIELD({store}, {}), {});",
                vm::STORE_STACK_LIMIT,
                TrapKind::StackOverflow as u32
            )
            .unwrap();
        }
        for &m in &self.memories {
            let s = self.memory_struct(m);
            writeln!(
                out,
                "  u8 *restrict const m{m} = FIELD({s}, {});",
                vm::MEMORY_BASE
            )
            .unwrap();
        }
        out.push_str(&self.body);
        // After the function's `end`, the stack holds its result, if any.
        match self.stack.last() {
            Some(r) => writeln!(out, "  return {};", r.name).unwrap(),
            None => out.push_str("  return;\n"),
        }
        out.push_str("}\n");
        out
    }
}

/// The numeric operator writers: operand count and C expression.
type Writer = (
    fn(&Operator) -> Option<usize>,
    fn(&Operator, &[String]) -> Option<(Ty, String)>,
);
const OPERATORS: [Writer; 2] = [
    (numeric::arity, numeric::expression),
    (float::arity, float::expression),
];

/// Most locals and stack values a function without calls may have and skip
/// the stack check: its frame stays far below the runtime's 64 KiB margin.
const LEAF_VALUES: usize = 256;

/// The `goto` of a branch to `frame`: a loop's head, any other frame's end.
fn jump(frame: &Frame) -> String {
    match frame.kind {
        Kind::Loop => format!("goto L{}", frame.label),
        _ => format!("goto B{}", frame.label),
    }
}

/// The C type of a pointer to a wasm function (native convention).
fn pointer_type(result: Option<Ty>, params: &[Ty]) -> String {
    let params: String = params.iter().map(|p| format!(", {}", p.c())).collect();
    format!("{} (*)(u8 *{params})", result.map_or("void", |t| t.c()))
}

/// A call of runtime builtin `b`, of C type `ret (u8 *vmctx, params)`.
fn builtin(b: Builtin, ret: &str, params: &str, args: &str) -> String {
    format!(
        "(({ret} (*)(u8 *, {params}))((void **)FIELD(vmctx, {}))[{}])(vmctx, {args})",
        VmctxLayout::BUILTINS,
        b as u32
    )
}

/// A load: memory argument, bytes read, result type, helper and the cast
/// that widens what it reads.
type LoadKind<'a> = (&'a MemArg, u64, Ty, &'static str, &'static str);

fn load_kind<'a>(op: &'a Operator) -> Option<LoadKind<'a>> {
    use Operator as O;
    use Ty::{F32, F64, I32, I64};
    Some(match op {
        O::I32Load { memarg } => (memarg, 4, I32, "ld_u32", ""),
        O::I64Load { memarg } => (memarg, 8, I64, "ld_u64", ""),
        O::F32Load { memarg } => (memarg, 4, F32, "ld_f32", ""),
        O::F64Load { memarg } => (memarg, 8, F64, "ld_f64", ""),
        O::I32Load8S { memarg } => (memarg, 1, I32, "ld_u8", "(u32)(s32)(int8_t)"),
        O::I32Load8U { memarg } => (memarg, 1, I32, "ld_u8", "(u32)"),
        O::I32Load16S { memarg } => (memarg, 2, I32, "ld_u16", "(u32)(s32)(int16_t)"),
        O::I32Load16U { memarg } => (memarg, 2, I32, "ld_u16", "(u32)"),
        O::I64Load8S { memarg } => (memarg, 1, I64, "ld_u8", "(u64)(s64)(int8_t)"),
        O::I64Load8U { memarg } => (memarg, 1, I64, "ld_u8", "(u64)"),
        O::I64Load16S { memarg } => (memarg, 2, I64, "ld_u16", "(u64)(s64)(int16_t)"),
        O::I64Load16U { memarg } => (memarg, 2, I64, "ld_u16", "(u64)"),
        O::I64Load32S { memarg } => (memarg, 4, I64, "ld_u32", "(u64)(s64)(s32)"),
        O::I64Load32U { memarg } => (memarg, 4, I64, "ld_u32", "(u64)"),
        _ => return None,
    })
}

/// A store: memory argument, bytes written and helper.
fn store_kind<'a>(op: &'a Operator) -> Option<(&'a MemArg, u64, &'static str)> {
    use Operator as O;
    Some(match op {
        O::I32Store { memarg } => (memarg, 4, "st_u32"),
        O::I64Store { memarg } => (memarg, 8, "st_u64"),
        O::F32Store { memarg } => (memarg, 4, "st_f32"),
        O::F64Store { memarg } => (memarg, 8, "st_f64"),
        O::I32Store8 { memarg } | O::I64Store8 { memarg } => (memarg, 1, "st_u8"),
        O::I32Store16 { memarg } | O::I64Store16 { memarg } => (memarg, 2, "st_u16"),
        O::I64Store32 { memarg } => (memarg, 4, "st_u32"),
        _ => return None,
    })
}

/// An operator's name, for the reason a function stays with Cranelift.
fn operator_name(op: &Operator) -> String {
    let name = format!("{op:?}");
    name.split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_string()
}
