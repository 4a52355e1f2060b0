//! Array and host trampolines.
