//! The bad input of the report tests, and the report for it: shared by
//! rivet-build's `tests/report.rs` (`Config::compile` in a build script) and
//! the `rivet` command's tests (`rivet compile`), which must print the same.

use std::path::Path;

/// A component exporting `add`, cut off inside its core module (whose
/// section's contents start at offset 0xa: the 8-byte header, the section's
/// id and its one-byte size).
pub fn truncated_component() -> Vec<u8> {
    let wasm = wat::parse_str(
        r#"(component
             (core module $m (func (export "add") (param i32 i32) (result i32)
               (i32.add (local.get 0) (local.get 1))))
             (core instance $i (instantiate $m))
             (func (export "add") (param "a" u32) (param "b" u32) (result u32)
               (canon lift (core func $i "add"))))"#,
    )
    .unwrap();
    wasm[..30].to_vec()
}

/// The report for `truncated_component` in `file`, compiled as `truncated`.
pub fn expected_report(file: &Path) -> String {
    format!(
        "error: rivet could not compile `truncated` (invalid input)\n\
         \x20 file:   {}\n\
         \x20 inside: the 1st core module\n\
         \x20 offset: 0xa\n\
         \x20 reason: module section extends past the end\n\
         \x20 help:   check that the file is a WebAssembly component or core module, \
         complete and valid\n",
        file.display()
    )
}
