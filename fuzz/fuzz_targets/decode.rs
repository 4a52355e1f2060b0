//! Arbitrary bytes through validation and, when valid, compilation: any panic is a
//! bug (bad input must come back as an error with a message).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rivet_build::{compile_module, validate_module, BoundsMode, Options};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options, so both bounds modes and both feature
    // sets are explored; the rest is the module.
    let Some((&selector, wasm)) = data.split_first() else {
        return;
    };
    let options = Options {
        bounds: if selector & 1 == 0 {
            BoundsMode::Guard
        } else {
            BoundsMode::Explicit
        },
        multi_memory: selector & 2 == 0,
        ..Options::default()
    };
    match validate_module(wasm, &options) {
        Err(e) => assert!(!e.message.is_empty(), "validation error without a message"),
        Ok(()) => {
            if let Err(e) = compile_module(wasm, &options) {
                assert!(!e.message.is_empty(), "compile error without a message");
            }
        }
    }
});
