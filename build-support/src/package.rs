//! Linking objects into shared and static libraries.
