//! Exception handling without native unwinding: `throw` and `throw_ref` make
//! the store's pending exception non-null, `try_table` records catch clauses
//! on its frame, and every call in exception-aware code is followed by a test
//! of the pending exception that dispatches to the innermost matching catch
//! clause or returns at once (the protocol is in the descriptor's crate docs).
//!
//! The dispatch code is emitted inline at each call and throw site, in cold
//! blocks: the frames enclosing a site are known there, so a catch is a
//! compare of tag identities and a branch, with no runtime search.

use super::state::{block_args, FrameKind, FuncTranslator};
use crate::env::{clif_type, trap_code};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use rivet_descriptor::{vm, Builtin, TrapKind, VmctxLayout};
use wasmparser::{Catch, Operator};

impl FuncTranslator<'_, '_> {
    /// Translates `try_table`, `throw` and `throw_ref`; false for anything else.
    pub(super) fn translate_exception(&mut self, op: &Operator) -> bool {
        match op {
            Operator::TryTable { try_table } => {
                let (params, results) = self.block_signature(try_table.ty);
                let dest = self.block_with_params(&results);
                let kind = FrameKind::TryTable {
                    catches: try_table.catches.clone(),
                };
                self.push_frame(kind, dest, params.len(), results.len());
            }
            Operator::Throw { tag_index } => self.throw(*tag_index),
            Operator::ThrowRef => {
                let exn = self.pop();
                self.b.ins().trapz(exn, trap_code(TrapKind::NullReference));
                self.raise(exn);
            }
            _ => return false,
        }
        true
    }

    /// After a call in exception-aware code: if the callee left an exception
    /// pending, hands it to the enclosing handlers, or traps at a component
    /// boundary (the store's pending exception is cleared when the trap
    /// reaches the host).
    pub(super) fn check_pending_exception(&mut self) {
        if !self.env.exceptions {
            return;
        }
        let exn = self.pending_exception();
        if self.env.exception_boundary {
            let kind = TrapKind::UncaughtException;
            self.b.ins().trapnz(exn, trap_code(kind));
            return;
        }
        let handler = self.b.create_block();
        let next = self.b.create_block();
        self.b.set_cold_block(handler);
        self.b.ins().brif(exn, handler, &[], next, &[]);
        self.b.switch_to_block(handler);
        self.dispatch(exn);
        self.b.switch_to_block(next);
    }

    /// `throw`: a new exception of tag `tag` carrying the tag's parameters.
    fn throw(&mut self, tag: u32) {
        let ty = self.env.tags[tag as usize];
        let n = self.env.types[ty as usize].params.len();
        let payload = self.popn(n);
        let tag_ptr = self.tag_identity(tag);
        let count = self.const_i32(n as u32);
        let exn = self
            .call_builtin(
                Builtin::ExnNew,
                &[tag_ptr, count],
                Some(self.env.pointer_type()),
            )
            .expect("ExnNew returns the exception");
        for (i, v) in payload.iter().enumerate() {
            let at = vm::EXN_PAYLOAD + vm::VAL_RAW_SIZE * i as u32;
            self.b
                .ins()
                .store(MemFlagsData::trusted(), *v, exn, at as i32);
        }
        self.raise(exn);
    }

    /// Makes `exn` the pending exception and dispatches it; what follows is
    /// unreachable.
    fn raise(&mut self, exn: Value) {
        self.set_pending_exception(exn);
        self.dispatch(exn);
        self.reachable = false;
    }

    /// Ends the current block by branching to the first catch clause of the
    /// enclosing `try_table`s (innermost first) that matches the pending
    /// exception `exn`, or by returning zero values when none does.
    fn dispatch(&mut self, exn: Value) {
        let tries: Vec<(usize, Vec<Catch>)> = self
            .frames
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, f)| match &f.kind {
                FrameKind::TryTable { catches } => Some((i, catches.clone())),
                _ => None,
            })
            .collect();
        for (frame, catches) in tries {
            for catch in catches {
                if !self.try_catch(exn, frame, catch) {
                    return;
                }
            }
        }
        self.return_zeros();
    }

    /// Emits one catch clause of the `try_table` at `frame`. A tag clause
    /// tests the tag and continues in a new block when it does not match
    /// (returns true); a catch-all clause always matches (returns false: no
    /// later clause can be reached).
    fn try_catch(&mut self, exn: Value, frame: usize, catch: Catch) -> bool {
        let (tag, label, with_ref) = match catch {
            Catch::One { tag, label } => (Some(tag), label, false),
            Catch::OneRef { tag, label } => (Some(tag), label, true),
            Catch::All { label } => (None, label, false),
            Catch::AllRef { label } => (None, label, true),
        };
        let mut args = Vec::new();
        let next = match tag {
            Some(tag) => {
                let thrown = self.load_pointer(exn, vm::EXN_TAG);
                let ours = self.tag_identity(tag);
                let same = self.b.ins().icmp(IntCC::Equal, thrown, ours);
                let (matched, next) = (self.b.create_block(), self.b.create_block());
                self.b.set_cold_block(matched);
                self.b.set_cold_block(next);
                self.b.ins().brif(same, matched, &[], next, &[]);
                self.b.switch_to_block(matched);
                args = self.payload(exn, tag);
                Some(next)
            }
            None => None,
        };
        if with_ref {
            args.push(exn);
        }
        let zero = self.b.ins().iconst(self.env.pointer_type(), 0);
        self.set_pending_exception(zero);
        // Catch labels are relative to the frame that encloses the try_table.
        let depth = (self.frames.len() - 1) - (frame - 1 - label as usize);
        let (target, _) = self.branch_target(depth as u32);
        self.b.ins().jump(target, &block_args(&args));
        match next {
            Some(next) => {
                self.b.switch_to_block(next);
                true
            }
            None => false,
        }
    }

    /// The payload values of an exception of tag `tag`.
    fn payload(&mut self, exn: Value, tag: u32) -> Vec<Value> {
        let ty = self.env.tags[tag as usize];
        let params = self.env.types[ty as usize].params.clone();
        let ptr = self.env.pointer_type();
        params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let at = vm::EXN_PAYLOAD + vm::VAL_RAW_SIZE * i as u32;
                self.b
                    .ins()
                    .load(clif_type(ptr, *p), MemFlagsData::trusted(), exn, at as i32)
            })
            .collect()
    }

    /// Returns zero values: the caller finds the exception pending.
    fn return_zeros(&mut self) {
        let returns: Vec<_> = self
            .b
            .func
            .signature
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let zeros: Vec<Value> = returns.into_iter().map(|t| self.zero(t)).collect();
        self.b.ins().return_(&zeros);
    }

    /// The identity (address of its `VMTag`) of tag `tag`.
    fn tag_identity(&mut self, tag: u32) -> Value {
        let at = self.env.layout.tag_pointer(tag);
        self.load_pointer(self.vmctx, at)
    }

    /// The store's pending exception (null when none).
    fn pending_exception(&mut self) -> Value {
        let store = self.load_pointer(self.vmctx, VmctxLayout::STORE);
        self.load_pointer(store, vm::STORE_PENDING_EXCEPTION)
    }

    fn set_pending_exception(&mut self, exn: Value) {
        let store = self.load_pointer(self.vmctx, VmctxLayout::STORE);
        let at = vm::STORE_PENDING_EXCEPTION as i32;
        self.b.ins().store(MemFlagsData::trusted(), exn, store, at);
    }
}
