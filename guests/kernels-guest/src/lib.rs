//! The `kernels` crate exported as a component, so the benchmark can run the very
//! source it also runs natively under Rivet and Wasmtime.

use std::cell::RefCell;

wit_bindgen::generate!({ world: "kernels", path: "wit" });

thread_local! {
    /// The document `generate` made, kept so that `tokenize` times the parse alone.
    static DOCUMENT: RefCell<String> = const { RefCell::new(String::new()) };
}

struct Kernels;

impl Guest for Kernels {
    fn sha256(len: u32, seed: u32) -> Vec<u8> {
        kernels::sha256_workload(len as usize, seed).to_vec()
    }

    fn generate(len: u32, seed: u32) -> u32 {
        let document = kernels::document(len as usize, seed);
        let generated = document.len() as u32;
        DOCUMENT.with(|d| *d.borrow_mut() = document);
        generated
    }

    fn tokenize() -> u32 {
        DOCUMENT.with(|d| kernels::token_count(&d.borrow()))
    }
}

export!(Kernels);
