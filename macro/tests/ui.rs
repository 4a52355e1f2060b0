//! The macro's compile errors, checked with trybuild: each `ui/*.rs` must fail
//! to compile with the message in the `.stderr` beside it, pointing at the
//! macro's arguments. `TRYBUILD=overwrite`
//! rewrites the `.stderr` files after a deliberate change.

#[test]
fn compile_errors_point_at_the_arguments() {
    // The cases expand with the plans this crate's build.rs recorded, as a
    // crate whose build script compiled components would.
    std::env::set_var("OUT_DIR", env!("OUT_DIR"));
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
