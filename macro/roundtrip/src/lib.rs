//! The bindings for the round-trip guest components `build.rs` compiles:
//! `guest/all-types.wat`, which passes every kind of component value type from
//! host to guest and back (`tests/roundtrip.rs` exercises it), and
//! `guest/geometry.wat`, which exports an interface with a type, a resource
//! and WIT docs (`tests/geometry.rs`), and `guest/wasi-run.wat`, a WASI
//! command that imports an interface of the host's too (`tests/wasi.rs`).
//! Generated code must compile without warnings, hence `deny(warnings)`.
#![deny(warnings)]

rivet::component!(All, "all-types");
rivet::component!(Geometry, "geometry");
rivet::component!(WasiRun, "wasi-run");
