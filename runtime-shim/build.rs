//! Builds the C trap helper: signal handling and the jump back to the host cannot
//! be written in Rust (no `sigsetjmp` binding that is sound to return through twice).

fn main() {
    println!("cargo:rerun-if-changed=csrc/trap.c");
    cc::Build::new()
        .file("csrc/trap.c")
        .flag_if_supported("-std=c11")
        .warnings(true)
        .compile("rivet_trap");
}
