//! Process-wide registry of loaded wasm code: lets the C signal handler decide
//! whether a fault is a wasm trap (lock-free range list on the C side) and lets
//! Rust map the faulting PC to a trap kind afterwards (trap sites, here).

use crate::error::Error;
use crate::prelude::*;
use core::sync::atomic::{AtomicU64, Ordering};
use rivet_descriptor::{FunctionCode, List, TrapKind};
use spin::RwLock;

extern "C" {
    fn rivet_register_range(start: usize, end: usize) -> i64;
    fn rivet_unregister_range(slot: i64);
}

/// (start address, code length, trap sites sorted by offset) of one function.
type FunctionSites = (usize, u32, List<(u32, TrapKind)>);

/// One registered span of code with the trap sites of its functions.
struct Span {
    id: u64,
    start: usize,
    end: usize,
    /// In the module's order, not sorted: only a trap looks a function up,
    /// and a scan there costs less than linking a sort into every host.
    functions: Vec<FunctionSites>,
}

static SPANS: RwLock<Vec<Span>> = RwLock::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Keeps a span registered; unregisters it on drop.
pub(crate) struct CodeRegistration {
    id: u64,
    slot: i64,
}

/// Registers the functions of one module (address, code info) as one span.
/// Returns None for a module without code.
pub(crate) fn register(
    functions: Vec<(usize, &FunctionCode)>,
) -> Result<Option<CodeRegistration>, Error> {
    let functions: Vec<_> = functions
        .into_iter()
        .filter(|(_, code)| code.len > 0)
        .map(|(addr, code)| (addr, code.len, code.traps.clone()))
        .collect();
    let Some(start) = functions.iter().map(|f| f.0).min() else {
        return Ok(None);
    };
    let end = functions
        .iter()
        .map(|f| f.0.saturating_add(f.1 as usize))
        .max()
        .unwrap_or(start);
    // SAFETY: plain call into the C helper.
    let slot = unsafe { rivet_register_range(start, end.max(start + 1)) };
    if slot < 0 {
        return Err(Error::Runtime("too many code ranges registered".into()));
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let span = Span {
        id,
        start,
        end,
        functions,
    };
    SPANS.write().push(span);
    Ok(Some(CodeRegistration { id, slot }))
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        // SAFETY: the slot was returned by rivet_register_range.
        unsafe { rivet_unregister_range(self.slot) };
        let mut spans = SPANS.write();
        spans.retain(|s| s.id != self.id);
    }
}

/// Where `pc` is: None outside registered code; Some(kind) inside, with the
/// trap site's kind if `pc` is one.
pub(crate) fn lookup(pc: usize) -> Option<Option<TrapKind>> {
    let spans = SPANS.read();
    let span = spans.iter().find(|s| pc >= s.start && pc < s.end)?;
    let Some((start, _, traps)) = span
        .functions
        .iter()
        .find(|f| pc >= f.0 && pc - f.0 < f.1 as usize)
    else {
        return Some(None);
    };
    let offset = (pc - start) as u32;
    Some(
        traps
            .binary_search_by_key(&offset, |t| t.0)
            .ok()
            .map(|i| traps[i].1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_trap_sites_and_forgets_dropped_code() {
        let code = FunctionCode {
            len: 16,
            traps: vec![(4, TrapKind::Unreachable), (9, TrapKind::IntegerOverflow)].into(),
            name: None,
        };
        let base = 0x7000_0000_0000usize;
        let reg = register(vec![(base + 32, &code), (base, &code)])
            .unwrap()
            .unwrap();
        assert_eq!(lookup(base + 4), Some(Some(TrapKind::Unreachable)));
        assert_eq!(lookup(base + 32 + 9), Some(Some(TrapKind::IntegerOverflow)));
        assert_eq!(lookup(base + 5), Some(None));
        assert_eq!(lookup(base + 20), Some(None));
        assert_eq!(lookup(base + 48), None);
        drop(reg);
        assert_eq!(lookup(base + 4), None);
        assert!(register(vec![]).unwrap().is_none());
    }
}
