//! `wasi:filesystem`: preopened directories and the descriptors beneath them.
//!
//! Every path the guest names is resolved by cap-std beneath a directory
//! handle the guest was given: `..` above it, absolute paths, symlinks (and
//! chains of them) leading out and hard links out are refused by the kernel
//! (`openat2` with `RESOLVE_BENEATH` where Linux has it) or by cap-std's own
//! component-by-component walk, never by string checks here. The permissions
//! a preopen was given bound everything opened through it.

use cap_std::fs::{Dir, File};
use std::collections::VecDeque;
use std::sync::Arc;

/// What the guest may do with a preopened directory and the directories
/// beneath it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirPerms {
    /// List entries, stat, open what is inside.
    pub read: bool,
    /// Create, remove, rename and link entries.
    pub mutate: bool,
}

impl DirPerms {
    pub const READ: DirPerms = DirPerms {
        read: true,
        mutate: false,
    };
    pub const ALL: DirPerms = DirPerms {
        read: true,
        mutate: true,
    };
}

/// What the guest may do with the files beneath a preopened directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilePerms {
    pub read: bool,
    pub write: bool,
}

impl FilePerms {
    pub const READ: FilePerms = FilePerms {
        read: true,
        write: false,
    };
    pub const ALL: FilePerms = FilePerms {
        read: true,
        write: true,
    };
}

/// A directory the host gave the guest, under the name the guest sees.
pub(crate) struct Preopen {
    pub dir: Arc<Dir>,
    pub guest_path: String,
    pub dir_perms: DirPerms,
    pub file_perms: FilePerms,
}

impl Preopen {
    pub fn open(
        host: &std::path::Path,
        guest_path: String,
        dir_perms: DirPerms,
        file_perms: FilePerms,
    ) -> std::io::Result<Preopen> {
        let dir = Dir::open_ambient_dir(host, cap_std::ambient_authority())?;
        Ok(Preopen {
            dir: Arc::new(dir),
            guest_path,
            dir_perms,
            file_perms,
        })
    }
}

/// What a descriptor refers to.
pub(crate) enum Handle {
    Dir(Arc<Dir>),
    File(Arc<File>),
}

/// A `descriptor`: a directory or file, with what it may be used for.
pub(crate) struct Descriptor {
    pub handle: Handle,
    /// For a directory: what it and its descendants allow.
    pub dir_perms: DirPerms,
    /// For files opened through it (a directory) or this file's own access.
    pub file_perms: FilePerms,
    /// Opened for appending.
    pub append: bool,
}

/// A `directory-entry-stream`: the entries, read when it was opened.
pub(crate) struct DirEntries(pub VecDeque<(crate::DescriptorType, String)>);

/// `wasi:filesystem/types.descriptor-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptorType {
    Unknown,
    BlockDevice,
    CharacterDevice,
    Directory,
    Fifo,
    SymbolicLink,
    RegularFile,
    Socket,
}
