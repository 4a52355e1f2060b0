//! Rivet's typed bindings for the components `build.rs` compiled: what a user
//! of Rivet calls.

rivet::component!(Host, "host");
rivet::component!(Pair, "pair");
rivet::component!(PairExplicit, "pair_explicit");
rivet::component!(Records, "records");
rivet::component!(Kernels, "kernels");
rivet::component!(KernelsCranelift, "kernels_cranelift");

/// A store in the default bounds mode (guard regions), as a user would create it.
pub fn store() -> rivet::Store {
    rivet::Store::new(rivet::BoundsMode::Guard)
}

/// Any Rivet error as text for the report.
pub fn err(e: impl std::fmt::Display) -> String {
    format!("Rivet: {e}")
}
