//! Process-wide registry of loaded wasm code: lets the C signal handler decide
//! whether a fault is a wasm trap (lock-free range list on the C side) and lets
//! Rust map the faulting PC to a trap kind afterwards (trap sites, here).

use crate::error::Error;
use crate::prelude::*;
use crate::sync::RwLock;
use core::sync::atomic::{AtomicU64, Ordering};
use rivet_descriptor::{FunctionCode, TrapKind};

extern "C" {
    fn rivet_register_range(start: usize, end: usize) -> i64;
    fn rivet_unregister_range(slot: i64);
}

/// One registered span of code with the trap sites of its functions.
struct Span {
    id: u64,
    start: usize,
    end: usize,
    /// Code address of each function, in the module's order: not sorted,
    /// since only a trap looks a function up, and a scan there costs less
    /// than linking a sort into every host.
    addresses: &'static [usize],
    /// Code length and trap sites of each function, read in place from the
    /// module's metadata.
    code: &'static [FunctionCode],
}

static SPANS: RwLock<Vec<Span>> = RwLock::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Keeps a span registered; unregisters it on drop.
pub(crate) struct CodeRegistration {
    id: u64,
    slot: i64,
}

/// Registers the functions of one module (code addresses, and per function
/// its code length and trap sites) as one span. Returns None for a module
/// without code.
///
/// # Safety
/// Both slices stay valid until the registration is dropped: a module keeps
/// its metadata alive longer than its registration.
pub(crate) unsafe fn register(
    addresses: &'static [usize],
    code: &'static [FunctionCode],
) -> Result<Option<CodeRegistration>, Error> {
    let ranges = addresses
        .iter()
        .zip(code)
        .filter(|(_, c)| c.len > 0)
        .map(|(&a, c)| (a, a.saturating_add(c.len as usize)));
    let Some((start, end)) = ranges.reduce(|(s, e), (a, b)| (s.min(a), e.max(b))) else {
        return Ok(None);
    };
    register_span(start, end, addresses, code).map(Some)
}

/// Registers `start..end` as code without trap sites (the C backend's span:
/// a fault in it is an out-of-bounds access).
pub(crate) fn register_range(start: usize, end: usize) -> Result<CodeRegistration, Error> {
    register_span(start, end, &[], &[])
}

fn register_span(
    start: usize,
    end: usize,
    addresses: &'static [usize],
    code: &'static [FunctionCode],
) -> Result<CodeRegistration, Error> {
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
        addresses,
        code,
    };
    SPANS.write().push(span);
    Ok(CodeRegistration { id, slot })
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        // SAFETY: the slot was returned by rivet_register_range.
        unsafe { rivet_unregister_range(self.slot) };
        // Lookups search every span, so their order does not matter.
        let mut spans = SPANS.write();
        if let Some(i) = spans.iter().position(|s| s.id == self.id) {
            spans.swap_remove(i);
        }
    }
}

/// Where `pc` is: None outside registered code; Some(kind) inside, with the
/// trap site's kind if `pc` is one.
///
/// Spans may overlap: a unit's functions are placed in the order they are
/// compiled (callees first, across its modules, for inlining), so one
/// module's span can hold another module's functions, a fused adapter's
/// for example. The function that holds `pc` is looked for in every span
/// around it, not just the first.
pub(crate) fn lookup(pc: usize) -> Option<Option<TrapKind>> {
    let spans = SPANS.read();
    let mut around = spans
        .iter()
        .filter(|s| pc >= s.start && pc < s.end)
        .peekable();
    around.peek()?;
    let found = around.find_map(|span| {
        span.addresses
            .iter()
            .zip(span.code)
            .find(|(&a, c)| pc >= a && pc - a < c.len as usize)
    });
    let Some((start, code)) = found else {
        return Some(None);
    };
    let offset = (pc - start) as u32;
    let traps = &code.traps;
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
        let code: &'static [FunctionCode] = Vec::leak(vec![code.clone(), code]);
        let addresses: &'static [usize] = Vec::leak(vec![base + 32, base]);
        // SAFETY: leaked, so valid for ever.
        let reg = unsafe { register(addresses, code) }.unwrap().unwrap();
        assert_eq!(lookup(base + 4), Some(Some(TrapKind::Unreachable)));
        assert_eq!(lookup(base + 32 + 9), Some(Some(TrapKind::IntegerOverflow)));
        assert_eq!(lookup(base + 5), Some(None));
        assert_eq!(lookup(base + 20), Some(None));
        assert_eq!(lookup(base + 48), None);
        drop(reg);
        assert_eq!(lookup(base + 4), None);
        // SAFETY: empty slices.
        assert!(unsafe { register(&[], &[]) }.unwrap().is_none());
        let reg = register_range(base, base + 8).unwrap();
        assert_eq!(lookup(base + 4), Some(None));
        drop(reg);
        assert_eq!(lookup(base + 4), None);
    }

    /// Two modules of one unit whose functions interleave: the first span
    /// (registered first) surrounds a function of the second, whose trap
    /// sites must still be found.
    #[test]
    fn lookup_finds_trap_sites_in_interleaved_spans() {
        let function = |traps: Vec<(u32, TrapKind)>| FunctionCode {
            len: 16,
            traps: traps.into(),
            name: None,
        };
        let base = 0x7100_0000_0000usize;
        let outer: &'static [FunctionCode] = Vec::leak(vec![
            function(vec![(2, TrapKind::Unreachable)]),
            function(vec![]),
        ]);
        let outer_at: &'static [usize] = Vec::leak(vec![base, base + 64]);
        let inner: &'static [FunctionCode] =
            Vec::leak(vec![function(vec![(6, TrapKind::MemoryOutOfBounds)])]);
        let inner_at: &'static [usize] = Vec::leak(vec![base + 32]);
        // SAFETY: leaked, so valid for ever.
        let first = unsafe { register(outer_at, outer) }.unwrap().unwrap();
        // SAFETY: as above.
        let second = unsafe { register(inner_at, inner) }.unwrap().unwrap();
        assert_eq!(lookup(base + 2), Some(Some(TrapKind::Unreachable)));
        assert_eq!(
            lookup(base + 32 + 6),
            Some(Some(TrapKind::MemoryOutOfBounds))
        );
        assert_eq!(lookup(base + 32 + 7), Some(None));
        assert_eq!(lookup(base + 20), Some(None));
        drop((first, second));
    }
}
