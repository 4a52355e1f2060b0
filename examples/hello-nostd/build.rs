//! Compiles the `hello` example's guest, the very same file, for this host.

fn main() {
    rivet_build::Config::new()
        .component("hello", "../hello/guest/hello.wat")
        .compile();
}
