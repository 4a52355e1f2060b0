//! Structured control flow: blocks, loops, ifs, branches, `return`,
//! `unreachable`, and the stack and local operators.

use super::state::{block_args, Frame, FrameKind, FuncTranslator};
use crate::env::{clif_type, trap_code, val_type};
use crate::Error;
use cranelift_codegen::ir::{Block, BlockCall, InstBuilder, JumpTableData, Type, Value};
use rivet_descriptor::TrapKind;
use std::collections::HashMap;
use wasmparser::{BlockType, BrTable, Operator};

impl FuncTranslator<'_, '_> {
    /// Translates a control, parametric or local operator; false if `op` is
    /// none of those.
    pub(super) fn translate_control(&mut self, op: &Operator) -> Result<bool, Error> {
        match op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.b.ins().trap(trap_code(TrapKind::Unreachable));
                self.reachable = false;
            }
            Operator::Block { blockty } => self.enter_block(*blockty),
            Operator::Loop { blockty } => self.enter_loop(*blockty),
            Operator::If { blockty } => self.enter_if(*blockty),
            Operator::Else => self.enter_else(),
            Operator::End => self.end_frame(),
            Operator::Br { relative_depth } => self.br(*relative_depth),
            Operator::BrIf { relative_depth } => self.br_if(*relative_depth),
            Operator::BrTable { targets } => self.br_table(targets)?,
            Operator::Return => self.return_(),
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => self.select(),
            Operator::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[*local_index as usize]);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[*local_index as usize], v);
            }
            Operator::LocalTee { local_index } => {
                let v = *self.peekn(1).first().expect("validated");
                self.b.def_var(self.locals[*local_index as usize], v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// In unreachable code, tracks nesting so that the `else` or `end` that makes
    /// code reachable again is found; every other operator is skipped.
    pub(super) fn translate_unreachable(&mut self, op: &Operator) -> Result<(), Error> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => self.enter_else(),
            Operator::End if self.dead_depth == 0 => self.end_frame(),
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    /// Parameter and result types of a block type.
    pub(super) fn block_signature(&self, ty: BlockType) -> (Vec<Type>, Vec<Type>) {
        let ptr = self.env.pointer_type();
        match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![clif_type(ptr, val_type(t))]),
            BlockType::FuncType(i) => {
                let f = &self.env.types[i as usize];
                (self.clif_types(&f.params), self.clif_types(&f.results))
            }
        }
    }

    pub(super) fn push_frame(
        &mut self,
        kind: FrameKind,
        dest: Block,
        params: usize,
        results: usize,
    ) {
        let height = self.stack.len() - params;
        self.frames.push(Frame {
            kind,
            dest,
            params,
            results,
            height,
            dest_reachable: false,
        });
    }

    /// `block`: parameters stay on the stack; only the continuation is new.
    fn enter_block(&mut self, ty: BlockType) {
        let (params, results) = self.block_signature(ty);
        let dest = self.block_with_params(&results);
        self.push_frame(FrameKind::Block, dest, params.len(), results.len());
    }

    /// `loop`: parameters become the header's block parameters, so that
    /// back edges can pass new ones.
    fn enter_loop(&mut self, ty: BlockType) {
        let (params, results) = self.block_signature(ty);
        let header = self.block_with_params(&params);
        let dest = self.block_with_params(&results);
        let args = self.popn(params.len());
        self.b.ins().jump(header, &block_args(&args));
        self.b.switch_to_block(header);
        let header_params = self.b.block_params(header).to_vec();
        self.stack.extend(header_params);
        let kind = FrameKind::Loop { header };
        self.push_frame(kind, dest, params.len(), results.len());
    }

    /// `if`: both arms are dominated by the branch, so the parameters stay
    /// plain values, re-pushed when the `else` arm starts.
    fn enter_if(&mut self, ty: BlockType) {
        let (params, results) = self.block_signature(ty);
        let cond = self.pop();
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let dest = self.block_with_params(&results);
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.switch_to_block(then_block);
        let kind = FrameKind::If {
            else_block,
            else_params: self.peekn(params.len()).to_vec(),
            has_else: false,
        };
        self.push_frame(kind, dest, params.len(), results.len());
    }

    /// `else`: closes the `then` arm and starts the `else` arm.
    fn enter_else(&mut self) {
        self.fall_through_to_dest();
        let frame = self.frames.last_mut().expect("validated: else inside if");
        let FrameKind::If {
            else_block,
            else_params,
            has_else,
        } = &mut frame.kind
        else {
            unreachable!("validated: else only ends an if");
        };
        *has_else = true;
        let (block, params, height) = (*else_block, else_params.clone(), frame.height);
        self.stack.truncate(height);
        self.stack.extend(params);
        self.b.switch_to_block(block);
        self.reachable = true;
    }

    /// If the current position is reachable, jumps to the innermost frame's
    /// continuation with its results.
    fn fall_through_to_dest(&mut self) {
        if !self.reachable {
            return;
        }
        let frame = self.frames.last_mut().expect("validated: inside a frame");
        frame.dest_reachable = true;
        let (dest, n) = (frame.dest, frame.results);
        let args = self.popn(n);
        self.b.ins().jump(dest, &block_args(&args));
    }

    /// `end`: continues at the frame's continuation, or returns at the end of
    /// the function.
    fn end_frame(&mut self) {
        self.fall_through_to_dest();
        let mut frame = self.frames.pop().expect("validated: end inside a frame");
        if let FrameKind::If {
            else_block,
            else_params,
            has_else: false,
        } = &frame.kind
        {
            // No `else`: a false condition passes the parameters straight on.
            self.b.switch_to_block(*else_block);
            self.b.ins().jump(frame.dest, &block_args(else_params));
            frame.dest_reachable = true;
        }
        self.stack.truncate(frame.height);
        self.reachable = frame.dest_reachable;
        if !frame.dest_reachable {
            return;
        }
        self.b.switch_to_block(frame.dest);
        let results = self.b.block_params(frame.dest).to_vec();
        if matches!(frame.kind, FrameKind::Function) {
            self.b.ins().return_(&results);
            self.reachable = false;
        } else {
            self.stack.extend(results);
        }
    }

    /// The block a branch to `depth` goes to and how many values it carries;
    /// marks the frame's continuation reachable.
    pub(super) fn branch_target(&mut self, depth: u32) -> (Block, usize) {
        let i = self.frames.len() - 1 - depth as usize;
        let frame = &mut self.frames[i];
        match frame.kind {
            FrameKind::Loop { header } => (header, frame.params),
            _ => {
                frame.dest_reachable = true;
                (frame.dest, frame.results)
            }
        }
    }

    fn br(&mut self, depth: u32) {
        let (target, n) = self.branch_target(depth);
        let args = block_args(self.peekn(n));
        self.b.ins().jump(target, &args);
        self.reachable = false;
    }

    fn br_if(&mut self, depth: u32) {
        let cond = self.pop();
        let (target, n) = self.branch_target(depth);
        let args = block_args(self.peekn(n));
        let next = self.b.create_block();
        self.b.ins().brif(cond, target, &args, next, &[]);
        self.b.switch_to_block(next);
    }

    /// `br_table`: a jump table; when the targets take values, each distinct
    /// target gets an edge block that passes them.
    fn br_table(&mut self, table: &BrTable) -> Result<(), Error> {
        let index = self.pop();
        let mut depths = table.targets().collect::<Result<Vec<u32>, _>>()?;
        depths.push(table.default());
        let mut edges: HashMap<u32, Block> = HashMap::new();
        let mut calls = Vec::with_capacity(depths.len());
        for depth in depths {
            let block = match edges.get(&depth) {
                Some(b) => *b,
                None => {
                    let b = self.branch_edge(depth);
                    edges.insert(depth, b);
                    b
                }
            };
            calls.push(BlockCall::new(block, [], &mut self.b.func.dfg.value_lists));
        }
        let default = calls.pop().expect("the default target was pushed");
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default, &calls));
        self.b.ins().br_table(index, jt);
        self.fill_edges(&edges);
        self.reachable = false;
        Ok(())
    }

    /// The block a `br_table` entry jumps to: the target itself when no values
    /// are passed, otherwise a new edge block filled by [`Self::fill_edges`].
    fn branch_edge(&mut self, depth: u32) -> Block {
        let (target, n) = self.branch_target(depth);
        if n == 0 {
            target
        } else {
            self.b.create_block()
        }
    }

    /// Fills the edge blocks of a `br_table` with jumps passing the values.
    fn fill_edges(&mut self, edges: &HashMap<u32, Block>) {
        let mut edges: Vec<(u32, Block)> = edges.iter().map(|(d, b)| (*d, *b)).collect();
        edges.sort_unstable_by_key(|(d, _)| *d);
        for (depth, edge) in edges {
            let (target, n) = self.branch_target(depth);
            if n == 0 {
                continue;
            }
            let args = block_args(self.peekn(n));
            self.b.switch_to_block(edge);
            self.b.ins().jump(target, &args);
        }
    }

    fn return_(&mut self) {
        let n = self.frames[0].results;
        let values: Vec<Value> = self.peekn(n).to_vec();
        self.b.ins().return_(&values);
        self.reachable = false;
    }

    /// `select` (typed or not): `cond ? x : y`.
    fn select(&mut self) {
        let cond = self.pop();
        let (x, y) = self.pop2();
        let v = self.b.ins().select(cond, x, y);
        self.push(v);
    }
}
