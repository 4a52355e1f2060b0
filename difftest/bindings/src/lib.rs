//! The typed bindings of the corpus `build.rs` generates: cases of the
//! component fuzzer (issue 22) composed into one component, each case `i`
//! importing the host's `h` as interface `host{i}` and exporting `g` as
//! interface `api{i}`. `tests/corpus.rs` calls every `g` through them.
//! Generated code must compile without warnings, hence `deny(warnings)`.
#![deny(warnings)]

rivet::component!(Corpus, "corpus");
