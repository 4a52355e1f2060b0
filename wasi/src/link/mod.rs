//! The one layer between the runtime and the WASI methods of [`WasiCtx`]:
//! it finds a component's `wasi:*@0.2.x` imports and registers a typed host
//! function for each on [`ComponentImports`] (`func_typed`): arguments are
//! lifted straight into the methods' Rust types and results lowered
//! straight back, without a dynamic `Value` per call (`list<u8>` crosses as
//! one copy of the bytes).

mod convert;
mod fs;
mod handlers;
mod net;
mod sockets;

use crate::WasiCtx;
use rivet::{Component, ComponentImports, ComponentInstance, Error, Store, Trap, Value};
use std::sync::{Arc, Mutex, MutexGuard};

/// The newest WASI 0.2 patch release this host implements; a guest importing
/// any 0.2.x up to it is served, as semver says.
const NEWEST_PATCH: u32 = 12;

/// Registers the host function of one WASI import under its name, serving
/// it from the context (see `handlers::typed!`).
type Handler = fn(&mut ComponentImports, &str, &Wasi);

/// A [`WasiCtx`] serving one component instance: made by [`add_to_imports`],
/// shared with the host functions it registered.
#[derive(Clone)]
pub struct Wasi {
    ctx: Arc<Mutex<WasiCtx>>,
    /// The component's `wasi:cli/run@0.2.x#run` export, if it has one.
    run: Option<Arc<str>>,
}

impl Wasi {
    /// The context, to read the exit status or what the guest left (a
    /// panic in another user of the context does not poison it for this one).
    pub fn ctx(&self) -> MutexGuard<'_, WasiCtx> {
        self.ctx.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calls the instance's `wasi:cli/run` export and returns the guest's
    /// exit status: 0 when `run` returned `ok` (or the guest called
    /// `exit(ok)`), 1 for `err`, the code it gave `exit-with-code`. A trap
    /// other than an exit is the `Err`.
    pub fn run(&self, store: &mut Store, instance: &ComponentInstance) -> Result<i32, Trap> {
        let name = (self.run.as_deref())
            .ok_or_else(|| Trap::host("the component does not export wasi:cli/run@0.2.x"))?;
        let result = instance.call(store, name, &[]);
        self.exit_status(result.map(|v| matches!(v, Some(Value::Result(Ok(_))))))
    }

    /// The status of a finished `run`: `Ok(true)` from `run` returning `ok`;
    /// a trap the guest raised by exiting becomes its status.
    pub fn exit_status(&self, outcome: Result<bool, Trap>) -> Result<i32, Trap> {
        match (outcome, self.ctx().exit.take()) {
            (_, Some(status)) => Ok(status),
            (Ok(ok), None) => Ok(if ok { 0 } else { 1 }),
            (Err(trap), None) => Err(trap),
        }
    }
}

/// The name of the `run` function of the `wasi:cli/run@0.2.x` export among
/// `exports`, if there is one.
pub fn run_export<'a>(mut exports: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    exports.find(|n| n.starts_with("wasi:cli/run@0.2.") && n.ends_with("#run"))
}

/// Serves every `wasi:*` import of `component` from `ctx`: registers a host
/// function for each imported WASI function and a destructor for each
/// imported WASI resource type. Other imports are left to the host.
///
/// Fails, naming the import, on a WASI import of a version outside 0.2.0 to
/// 0.2.12 or a function this host does not know.
pub fn add_to_imports(
    imports: &mut ComponentImports,
    component: &Component,
    ctx: WasiCtx,
) -> Result<Wasi, Error> {
    let exports = component.exports();
    let wasi = Wasi {
        ctx: Arc::new(Mutex::new(ctx)),
        run: run_export(exports.iter().map(|(n, _)| n.as_str())).map(Arc::from),
    };
    for (name, _) in component.imports() {
        if let Some(register) = handler_for(&name)? {
            register(imports, &name, &wasi);
        }
    }
    for name in component.imported_resources() {
        if serves_resource(&name)? {
            let wasi = wasi.clone();
            imports.resource(&name, move |rep| wasi.ctx().drop_resource(rep));
        }
    }
    Ok(wasi)
}

/// Whether [`add_to_imports`] serves the function import `name`: `Ok(true)`
/// for a WASI 0.2 function, `Ok(false)` for an import that is not WASI's
/// (left to the host), and the error `add_to_imports` would give otherwise.
/// For tools that check a component before it is loaded.
pub fn serves_import(name: &str) -> Result<bool, Error> {
    handler_for(name).map(|h| h.is_some())
}

/// As [`serves_import`], for an imported resource type.
pub fn serves_resource(name: &str) -> Result<bool, Error> {
    let Some(iface) = wasi_interface(name)? else {
        return Ok(false);
    };
    convert::known_resource(iface, name)?;
    Ok(true)
}

/// The handler of import `name` (`wasi:pkg/iface@0.2.x#func`); `None` for an
/// import that is not WASI's.
fn handler_for(name: &str) -> Result<Option<Handler>, Error> {
    let Some(iface) = wasi_interface(name)? else {
        return Ok(None);
    };
    let func = name.rsplit_once('#').map_or("", |(_, f)| f);
    handlers::find(iface, func)
        .map(Some)
        .ok_or_else(|| Error::Link(format!("WASI import `{name}`: not a function of WASI 0.2")))
}

/// `wasi:pkg/iface` of a WASI import or resource name, its version checked;
/// `None` when the name is not WASI's.
fn wasi_interface(name: &str) -> Result<Option<&str>, Error> {
    if !name.starts_with("wasi:") {
        return Ok(None);
    }
    let iface = name.split('#').next().unwrap_or(name);
    let (path, version) = iface.split_once('@').unwrap_or((iface, ""));
    if !served(version) {
        return Err(Error::Link(format!(
            "WASI import `{name}`: version `{version}` is not served (this host implements WASI 0.2.0 to 0.2.{NEWEST_PATCH})"
        )));
    }
    Ok(Some(path))
}

/// Whether `version` is a WASI 0.2 release this host serves.
fn served(version: &str) -> bool {
    let patch = version
        .strip_prefix("0.2.")
        .and_then(|p| p.parse::<u32>().ok());
    // `parse` refuses pre-releases (`0.2.0-rc-…`) and build metadata.
    patch.is_some_and(|p| p <= NEWEST_PATCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_0_2_0_to_0_2_12_are_served_and_no_other() {
        for ok in ["0.2.0", "0.2.6", "0.2.12"] {
            assert!(served(ok), "{ok}");
        }
        for bad in ["0.2.13", "0.3.0", "0.1.0", "", "0.2.0-rc-2023-11-10", "0.2"] {
            assert!(!served(bad), "{bad}");
        }
    }

    #[test]
    fn an_unknown_version_or_function_is_a_link_error_naming_the_import() {
        let e = handler_for("wasi:cli/stdout@0.3.0#get-stdout")
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("wasi:cli/stdout@0.3.0#get-stdout"),
            "{e}"
        );
        let e = handler_for("wasi:cli/stdout@0.2.6#get-stdoot")
            .err()
            .unwrap();
        assert!(e.to_string().contains("get-stdoot"), "{e}");
        assert!(handler_for("my:host/log@1.0.0#log").unwrap().is_none());
        assert!(handler_for("wasi:cli/stdout@0.2.0#get-stdout")
            .unwrap()
            .is_some());
    }
}
