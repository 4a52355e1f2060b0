//! The bindings for the round-trip guest component `build.rs` compiles from
//! `guest/all-types.wat`, which passes every kind of component value type from
//! host to guest and back; `tests/roundtrip.rs` exercises them. Generated code
//! must compile without warnings, hence `deny(warnings)`.
#![deny(warnings)]

rivet::component!(All, "all-types");
