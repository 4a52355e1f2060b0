//! `wasi:filesystem/types.error-code`, and its mapping from host I/O errors.

use std::io;

/// Generates the enum with its WIT case names, in WIT order.
macro_rules! error_codes {
    ($($variant:ident = $wit:literal,)*) => {
        /// A filesystem error code (`wasi:filesystem/types.error-code`), like
        /// POSIX's `errno`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            /// The WIT case names, in WIT (and declaration) order.
            pub(crate) const NAMES: &'static [&'static str] = &[$($wit,)*];

            /// The WIT case name.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $wit,)* }
            }
        }
    };
}

error_codes! {
    Access = "access",
    WouldBlock = "would-block",
    Already = "already",
    BadDescriptor = "bad-descriptor",
    Busy = "busy",
    Deadlock = "deadlock",
    Quota = "quota",
    Exist = "exist",
    FileTooLarge = "file-too-large",
    IllegalByteSequence = "illegal-byte-sequence",
    InProgress = "in-progress",
    Interrupted = "interrupted",
    Invalid = "invalid",
    Io = "io",
    IsDirectory = "is-directory",
    Loop = "loop",
    TooManyLinks = "too-many-links",
    MessageSize = "message-size",
    NameTooLong = "name-too-long",
    NoDevice = "no-device",
    NoEntry = "no-entry",
    NoLock = "no-lock",
    InsufficientMemory = "insufficient-memory",
    InsufficientSpace = "insufficient-space",
    NotDirectory = "not-directory",
    NotEmpty = "not-empty",
    NotRecoverable = "not-recoverable",
    Unsupported = "unsupported",
    NoTty = "no-tty",
    NoSuchDevice = "no-such-device",
    Overflow = "overflow",
    NotPermitted = "not-permitted",
    Pipe = "pipe",
    ReadOnly = "read-only",
    InvalidSeek = "invalid-seek",
    TextFileBusy = "text-file-busy",
    CrossDevice = "cross-device",
}

impl ErrorCode {
    /// The code for a host I/O error: by its OS error number when it has one
    /// (cap-std reports a path escaping its root as `EPERM`-like errors, which
    /// map to `not-permitted`), else by its kind.
    pub fn from_io(e: &io::Error) -> ErrorCode {
        match e.raw_os_error() {
            Some(errno) => from_errno(errno),
            None => from_kind(e.kind()),
        }
    }
}

fn from_errno(errno: i32) -> ErrorCode {
    use ErrorCode::*;
    match errno {
        libc::EACCES => Access,
        libc::EAGAIN => WouldBlock,
        libc::EALREADY => Already,
        libc::EBADF => BadDescriptor,
        libc::EBUSY => Busy,
        libc::EDEADLK => Deadlock,
        libc::EDQUOT => Quota,
        libc::EEXIST => Exist,
        libc::EFBIG => FileTooLarge,
        libc::EILSEQ => IllegalByteSequence,
        libc::EINPROGRESS => InProgress,
        libc::EINTR => Interrupted,
        libc::EINVAL => Invalid,
        libc::EIO => Io,
        libc::EISDIR => IsDirectory,
        libc::ELOOP => Loop,
        libc::EMLINK => TooManyLinks,
        libc::EMSGSIZE => MessageSize,
        libc::ENAMETOOLONG => NameTooLong,
        libc::ENODEV => NoDevice,
        libc::ENOENT => NoEntry,
        libc::ENOLCK => NoLock,
        libc::ENOMEM => InsufficientMemory,
        libc::ENOSPC => InsufficientSpace,
        libc::ENOTDIR => NotDirectory,
        libc::ENOTEMPTY => NotEmpty,
        libc::ENOTRECOVERABLE => NotRecoverable,
        libc::ENOTSUP => Unsupported,
        libc::ENOTTY => NoTty,
        libc::ENXIO => NoSuchDevice,
        libc::EOVERFLOW => Overflow,
        libc::EPERM => NotPermitted,
        libc::EPIPE => Pipe,
        libc::EROFS => ReadOnly,
        libc::ESPIPE => InvalidSeek,
        libc::ETXTBSY => TextFileBusy,
        libc::EXDEV => CrossDevice,
        _ => Io,
    }
}

fn from_kind(kind: io::ErrorKind) -> ErrorCode {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => ErrorCode::NoEntry,
        K::PermissionDenied => ErrorCode::NotPermitted,
        K::AlreadyExists => ErrorCode::Exist,
        K::WouldBlock => ErrorCode::WouldBlock,
        K::InvalidInput | K::InvalidData => ErrorCode::Invalid,
        K::Interrupted => ErrorCode::Interrupted,
        K::Unsupported => ErrorCode::Unsupported,
        K::OutOfMemory => ErrorCode::InsufficientMemory,
        K::NotADirectory => ErrorCode::NotDirectory,
        K::IsADirectory => ErrorCode::IsDirectory,
        K::DirectoryNotEmpty => ErrorCode::NotEmpty,
        K::ReadOnlyFilesystem => ErrorCode::ReadOnly,
        K::CrossesDevices => ErrorCode::CrossDevice,
        K::FileTooLarge => ErrorCode::FileTooLarge,
        K::StorageFull => ErrorCode::InsufficientSpace,
        K::InvalidFilename => ErrorCode::NameTooLong,
        _ => ErrorCode::Io,
    }
}
