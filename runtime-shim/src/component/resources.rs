//! Resource handle tables (CanonicalABI.md "Table State", "Resource State") and
//! the per-call bookkeeping of borrows.

use crate::error::Trap;
use crate::prelude::*;

/// Tables hold at most this many handles (the spec's `Table.MAX_LENGTH`).
const MAX_LENGTH: usize = (1 << 28) - 1;

/// One handle: a resource's representation, owned or borrowed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Handle {
    pub resource: u32,
    pub rep: u32,
    pub own: bool,
    /// Borrows currently lent out from this handle.
    pub lends: u32,
    /// For a borrow: the depth of the call frame it was lent for.
    pub scope: Option<usize>,
}

impl Handle {
    pub fn own(resource: u32, rep: u32) -> Handle {
        Handle {
            resource,
            rep,
            own: true,
            lends: 0,
            scope: None,
        }
    }
}

/// A dense table with holes; index 0 is never used.
#[derive(Default)]
pub(crate) struct HandleTable {
    slots: Vec<Option<Handle>>,
    free: Vec<u32>,
}

impl HandleTable {
    pub fn add(&mut self, h: Handle) -> Result<u32, Trap> {
        if self.slots.is_empty() {
            self.slots.push(None);
        }
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = Some(h);
            return Ok(i);
        }
        if self.slots.len() > MAX_LENGTH {
            return Err(Trap::host("handle table full"));
        }
        self.slots.push(Some(h));
        Ok(self.slots.len() as u32 - 1)
    }

    pub fn get(&self, i: u32) -> Result<&Handle, Trap> {
        self.slots
            .get(i as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| unknown(i))
    }

    pub fn get_mut(&mut self, i: u32) -> Result<&mut Handle, Trap> {
        self.slots
            .get_mut(i as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| unknown(i))
    }

    pub fn remove(&mut self, i: u32) -> Result<Handle, Trap> {
        let h = self
            .slots
            .get_mut(i as usize)
            .and_then(Option::take)
            .ok_or_else(|| unknown(i))?;
        self.free.push(i);
        Ok(h)
    }

    /// Handle `i`, checked to be of `resource`.
    pub fn get_typed(&self, i: u32, resource: u32) -> Result<&Handle, Trap> {
        let h = self.get(i)?;
        check_type(i, h, resource)?;
        Ok(h)
    }

    /// Removes an owned handle to move it elsewhere (`lift_own`): it must be of
    /// `resource`, owned and not lent out. Nothing changes on a trap.
    pub fn take_own(&mut self, i: u32, resource: u32) -> Result<Handle, Trap> {
        let h = self.get_typed(i, resource)?;
        if h.lends != 0 {
            return Err(Trap::host("cannot remove owned resource while borrowed"));
        }
        if !h.own {
            return Err(Trap::host(format!(
                "handle index {i} is a borrow where an owned handle is expected"
            )));
        }
        self.remove(i)
    }
}

fn check_type(i: u32, h: &Handle, resource: u32) -> Result<(), Trap> {
    if h.resource == resource {
        Ok(())
    } else {
        Err(Trap::host(format!(
            "handle index {i} used with the wrong type, expected guest-defined resource \
             but found a different guest-defined resource"
        )))
    }
}

fn unknown(i: u32) -> Trap {
    Trap::host(format!("unknown handle index {i}"))
}

/// Where a lent handle lives: a component instance's table or the host's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    Instance(u32),
    Host,
}

/// One call into a component instance: borrows it received and the handles
/// lent for it (their lend counts drop when the call ends).
#[derive(Default)]
pub(crate) struct Frame {
    pub borrows: u32,
    pub lenders: Vec<(Holder, u32)>,
}

/// The Canonical ABI state of one component instance.
#[derive(Default)]
pub(crate) struct InstanceState {
    pub table: HandleTable,
    pub frames: Vec<Frame>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reuses_holes_and_never_hands_out_zero() {
        let mut t = HandleTable::default();
        let a = t.add(Handle::own(0, 10)).unwrap();
        let b = t.add(Handle::own(0, 11)).unwrap();
        assert_eq!((a, b), (1, 2));
        assert_eq!(t.remove(a).unwrap().rep, 10);
        assert_eq!(t.get(a).unwrap_err().message, "unknown handle index 1");
        assert_eq!(t.get(0).unwrap_err().message, "unknown handle index 0");
        assert_eq!(t.add(Handle::own(0, 12)).unwrap(), 1);
        t.get_mut(2).unwrap().lends = 1;
        let e = t.take_own(2, 0).unwrap_err();
        assert_eq!(e.message, "cannot remove owned resource while borrowed");
        assert!(t.take_own(1, 5).unwrap_err().message.contains("wrong type"));
        assert_eq!(t.take_own(1, 0).unwrap().rep, 12);
    }
}
