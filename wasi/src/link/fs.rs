pub(super) const FILESYSTEM: super::handlers::Handlers = &[];
