//! Composes the pipeline at build time and compiles it to native code: the
//! Rust guest `front` (built by `guests/build.sh front`, committed as
//! `guests/front.wasm`) is the socket; the WAT components `upper` and `count`
//! are plugged into it. `rivet:pipeline/log`, which no plug exports, stays an
//! import that the host provides.
//!
//! Also compiles the bench's echo pair (two components, a memory each) in both
//! bounds modes, for `tests/instances.rs`: many live instances and churn
//! across threads.

use rivet_build::BoundsMode;

fn main() {
    rivet_build::Config::new()
        .component("pipeline", "../../guests/front.wasm")
        .plug("pipeline", "components/upper.wat")
        .plug("pipeline", "components/count.wat")
        .compile();
    for (name, bounds) in [
        ("pair", BoundsMode::Guard),
        ("pair_explicit", BoundsMode::Explicit),
    ] {
        rivet_build::Config::new()
            .bounds(bounds)
            .component(name, "../../bench/components/pair.wat")
            .compile();
    }
}
