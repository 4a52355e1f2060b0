//! The `kernels` crate exported as a component, so the benchmark can run the very
//! source it also runs natively under Rivet and Wasmtime.

wit_bindgen::generate!({ world: "kernels", path: "wit" });

struct Kernels;

impl Guest for Kernels {
    fn sha256(len: u32, seed: u32) -> Vec<u8> {
        kernels::sha256_workload(len as usize, seed).to_vec()
    }

    fn tokenize(len: u32, seed: u32) -> u32 {
        kernels::tokenize_workload(len as usize, seed)
    }
}

export!(Kernels);
