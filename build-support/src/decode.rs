//! Decoding and validation of core modules.
