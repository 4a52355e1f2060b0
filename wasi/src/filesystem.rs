//! `wasi:filesystem`: preopened directories and the descriptors beneath them.
//!
//! Every path the guest names is resolved by cap-std beneath a directory
//! handle the guest was given: `..` above it, absolute paths, symlinks (and
//! chains of them) leading out and hard links out are refused by the kernel
//! (`openat2` with `RESOLVE_BENEATH` where Linux has it) or by cap-std's own
//! component-by-component walk, never by string checks here. The permissions
//! a preopen was given bound everything opened through it.

use crate::io::{InputStream, OutputStream};
use crate::table::Entry;
use crate::{ErrorCode, WasiCtx};
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, SystemTimeSpec,
};
use cap_std::fs::{Dir, File, FileExt, Metadata, OpenOptions};
use rivet::Trap;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// What one descriptor allows (its `descriptor-flags`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DescriptorFlags {
    pub read: bool,
    pub write: bool,
    pub mutate_directory: bool,
}

/// A `descriptor`: a directory or file, what it allows, and the preopen's
/// permissions that bound everything opened through it.
pub(crate) struct Descriptor {
    pub handle: Handle,
    pub flags: DescriptorFlags,
    pub dir_perms: DirPerms,
    pub file_perms: FilePerms,
}

/// A `directory-entry-stream`: the entries, read when it was opened.
pub(crate) struct DirEntries(pub VecDeque<(DescriptorType, String)>);

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

/// `open-flags` of `open-at`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenFlags {
    pub create: bool,
    pub directory: bool,
    pub exclusive: bool,
    pub truncate: bool,
}

/// `descriptor-stat` (timestamps since the Unix epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescriptorStat {
    pub type_: DescriptorType,
    pub link_count: u64,
    pub size: u64,
    pub accessed: Option<Duration>,
    pub modified: Option<Duration>,
    pub status_changed: Option<Duration>,
}

/// `new-timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewTimestamp {
    NoChange,
    Now,
    At(Duration),
}

/// A filesystem result inside a call that can also trap.
pub type FsResult<T> = Result<Result<T, ErrorCode>, Trap>;

/// `?` for the inner error of an [`FsResult`].
macro_rules! fs_try {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return Ok(Err(code)),
        }
    };
}

/// An I/O result as a filesystem result.
fn io<T>(r: io::Result<T>) -> Result<T, ErrorCode> {
    r.map_err(|e| ErrorCode::from_io(&e))
}

impl DescriptorType {
    fn of(t: cap_std::fs::FileType) -> DescriptorType {
        use cap_std::fs::FileTypeExt as _;
        if t.is_dir() {
            DescriptorType::Directory
        } else if t.is_file() {
            DescriptorType::RegularFile
        } else if t.is_symlink() {
            DescriptorType::SymbolicLink
        } else if t.is_block_device() {
            DescriptorType::BlockDevice
        } else if t.is_char_device() {
            DescriptorType::CharacterDevice
        } else if t.is_fifo() {
            DescriptorType::Fifo
        } else if t.is_socket() {
            DescriptorType::Socket
        } else {
            DescriptorType::Unknown
        }
    }
}

fn since_epoch(t: io::Result<SystemTime>) -> Option<Duration> {
    t.ok()?.duration_since(UNIX_EPOCH).ok()
}

fn stat_of(m: &Metadata) -> DescriptorStat {
    use cap_std::fs::MetadataExt as _;
    let changed = u64::try_from(m.ctime())
        .ok()
        .map(|s| Duration::new(s, u32::try_from(m.ctime_nsec()).unwrap_or(0)));
    DescriptorStat {
        type_: DescriptorType::of(m.file_type()),
        link_count: m.nlink(),
        size: m.len(),
        accessed: since_epoch(m.accessed().map(|t| t.into_std())),
        modified: since_epoch(m.modified().map(|t| t.into_std())),
        status_changed: changed,
    }
}

fn time_spec(t: NewTimestamp) -> Option<SystemTimeSpec> {
    match t {
        NewTimestamp::NoChange => None,
        NewTimestamp::Now => Some(SystemTimeSpec::SymbolicNow),
        NewTimestamp::At(d) => Some(SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(UNIX_EPOCH + d),
        )),
    }
}

impl Descriptor {
    fn dir(&self) -> Result<&Arc<Dir>, ErrorCode> {
        match &self.handle {
            Handle::Dir(d) => Ok(d),
            Handle::File(_) => Err(ErrorCode::NotDirectory),
        }
    }

    fn file(&self) -> Result<&Arc<File>, ErrorCode> {
        match &self.handle {
            Handle::File(f) => Ok(f),
            Handle::Dir(_) => Err(ErrorCode::IsDirectory),
        }
    }

    /// The directory, for a call that changes what is in it.
    fn mutable_dir(&self) -> Result<&Arc<Dir>, ErrorCode> {
        let dir = self.dir()?;
        if !self.flags.mutate_directory {
            return Err(ErrorCode::ReadOnly);
        }
        Ok(dir)
    }

    fn readable_file(&self) -> Result<&Arc<File>, ErrorCode> {
        let file = self.file()?;
        if !self.flags.read {
            return Err(ErrorCode::BadDescriptor);
        }
        Ok(file)
    }

    fn writable_file(&self) -> Result<&Arc<File>, ErrorCode> {
        let file = self.file()?;
        if !self.flags.write {
            return Err(ErrorCode::BadDescriptor);
        }
        Ok(file)
    }

    fn metadata(&self) -> io::Result<Metadata> {
        match &self.handle {
            Handle::Dir(d) => d.dir_metadata(),
            Handle::File(f) => f.metadata(),
        }
    }

    /// Opens `path` beneath this directory as `open-at` asks.
    fn open_at(
        &self,
        follow: bool,
        path: &str,
        open: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<Descriptor, ErrorCode> {
        let dir = self.dir()?;
        // As the WIT says: changing anything needs a mutable base directory.
        let mutates = flags.write || flags.mutate_directory || open.create || open.truncate;
        if mutates && !self.flags.mutate_directory {
            return Err(ErrorCode::ReadOnly);
        }
        let writes = flags.write || open.truncate;
        if writes && !self.file_perms.write || flags.read && !self.file_perms.read {
            return Err(ErrorCode::NotPermitted);
        }
        let mut options = OpenOptions::new();
        options
            .read(flags.read || !flags.write)
            .write(flags.write || open.truncate);
        if open.create {
            options.create(true);
        }
        if open.exclusive {
            options.create_new(true);
        }
        options.truncate(open.truncate);
        options.follow(if follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        });
        options.maybe_dir(true);
        let file = io(dir.open_with(path, &options))?;
        let is_dir = io(file.metadata())?.is_dir();
        if open.directory && !is_dir {
            return Err(ErrorCode::NotDirectory);
        }
        let handle = match is_dir {
            true if flags.write => return Err(ErrorCode::IsDirectory),
            true => Handle::Dir(Arc::new(Dir::from_std_file(file.into_std()))),
            false => Handle::File(Arc::new(file)),
        };
        let flags = DescriptorFlags {
            mutate_directory: flags.mutate_directory && is_dir,
            read: flags.read,
            write: flags.write,
        };
        Ok(Descriptor {
            handle,
            flags,
            dir_perms: self.dir_perms,
            file_perms: self.file_perms,
        })
    }
}

impl WasiCtx {
    fn descriptor(&mut self, fd: u32) -> Result<&mut Descriptor, Trap> {
        self.table.descriptor(fd)
    }

    /// `preopens.get-directories`: a new descriptor per preopen, with its name.
    pub fn get_directories(&mut self) -> Result<Vec<(u32, String)>, Trap> {
        let mut out = Vec::new();
        for i in 0..self.preopens.len() {
            let p = &self.preopens[i];
            let d = Descriptor {
                handle: Handle::Dir(p.dir.clone()),
                flags: DescriptorFlags {
                    read: p.dir_perms.read,
                    write: false,
                    mutate_directory: p.dir_perms.mutate,
                },
                dir_perms: p.dir_perms,
                file_perms: p.file_perms,
            };
            let name = p.guest_path.clone();
            out.push((self.table.push(Entry::Descriptor(d), None)?, name));
        }
        Ok(out)
    }

    /// `descriptor.read-via-stream`: a child stream reading from `offset`.
    pub fn read_via_stream(&mut self, fd: u32, offset: u64) -> FsResult<u32> {
        let file = fs_try!(self.descriptor(fd)?.readable_file()).clone();
        let stream = InputStream::File { file, offset };
        Ok(Ok(self.table.push(Entry::Input(stream), Some(fd))?))
    }

    /// `descriptor.write-via-stream` (at `offset`) and `append-via-stream`
    /// (`None`): a child stream.
    pub fn write_via_stream(&mut self, fd: u32, offset: Option<u64>) -> FsResult<u32> {
        let file = fs_try!(self.descriptor(fd)?.writable_file()).clone();
        let stream = OutputStream::File { file, offset };
        Ok(Ok(self.table.push(Entry::Output(stream), Some(fd))?))
    }

    /// `descriptor.advise`: advice is only a hint; checks the descriptor is a file.
    pub fn advise(&mut self, fd: u32) -> FsResult<()> {
        Ok(self.descriptor(fd)?.file().map(drop))
    }

    /// `descriptor.sync-data` (`data_only`) and `descriptor.sync`.
    pub fn sync(&mut self, fd: u32, data_only: bool) -> FsResult<()> {
        let d = self.descriptor(fd)?;
        Ok(match &d.handle {
            Handle::File(f) if data_only => io(f.sync_data()),
            Handle::File(f) => io(f.sync_all()),
            // Directories are synced with their files; nothing to do.
            Handle::Dir(_) => Ok(()),
        })
    }

    /// `descriptor.get-flags`.
    pub fn get_flags(&mut self, fd: u32) -> FsResult<DescriptorFlags> {
        Ok(Ok(self.descriptor(fd)?.flags))
    }

    /// `descriptor.get-type`.
    pub fn get_type(&mut self, fd: u32) -> FsResult<DescriptorType> {
        let d = self.descriptor(fd)?;
        Ok(io(d.metadata()).map(|m| DescriptorType::of(m.file_type())))
    }

    /// `descriptor.set-size`.
    pub fn set_size(&mut self, fd: u32, size: u64) -> FsResult<()> {
        let file = fs_try!(self.descriptor(fd)?.writable_file());
        Ok(io(file.set_len(size)))
    }

    /// `descriptor.set-times`.
    pub fn set_times(&mut self, fd: u32, atime: NewTimestamp, mtime: NewTimestamp) -> FsResult<()> {
        let d = self.descriptor(fd)?;
        Ok(match &d.handle {
            Handle::Dir(dir) => io(dir.set_times(".", time_spec(atime), time_spec(mtime))),
            Handle::File(f) => io(set_file_times(f, atime, mtime)),
        })
    }

    /// `descriptor.read`: up to `len` bytes at `offset`, and whether the end
    /// of the file was reached.
    pub fn pread(&mut self, fd: u32, len: u64, offset: u64) -> FsResult<(Vec<u8>, bool)> {
        let file = fs_try!(self.descriptor(fd)?.readable_file());
        let mut buf = vec![0; len.min(READ_MAX) as usize];
        let n = fs_try!(io(file.read_at(&mut buf, offset)));
        buf.truncate(n);
        Ok(Ok((buf, n == 0 && len > 0)))
    }

    /// `descriptor.write`: writes at `offset`, returns the count.
    pub fn pwrite(&mut self, fd: u32, bytes: &[u8], offset: u64) -> FsResult<u64> {
        let file = fs_try!(self.descriptor(fd)?.writable_file());
        Ok(io(file.write_at(bytes, offset)).map(|n| n as u64))
    }

    /// `descriptor.read-directory`: a child stream of the entries (without
    /// `.` and `..`).
    pub fn read_directory(&mut self, fd: u32) -> FsResult<u32> {
        let d = self.descriptor(fd)?;
        if !d.flags.read {
            return Ok(Err(ErrorCode::BadDescriptor));
        }
        let entries = fs_try!(io(fs_try!(d.dir()).entries()));
        let mut list = VecDeque::new();
        for entry in entries {
            let entry = fs_try!(io(entry));
            let ty = io(entry.file_type()).map_or(DescriptorType::Unknown, DescriptorType::of);
            list.push_back((ty, entry.file_name().to_string_lossy().into_owned()));
        }
        Ok(Ok(self
            .table
            .push(Entry::DirEntries(DirEntries(list)), Some(fd))?))
    }

    /// `directory-entry-stream.read-directory-entry`.
    pub fn read_directory_entry(
        &mut self,
        stream: u32,
    ) -> FsResult<Option<(DescriptorType, String)>> {
        Ok(Ok(self.table.dir_entries(stream)?.0.pop_front()))
    }

    /// `descriptor.create-directory-at`.
    pub fn create_directory_at(&mut self, fd: u32, path: &str) -> FsResult<()> {
        let dir = fs_try!(self.descriptor(fd)?.mutable_dir());
        Ok(io(dir.create_dir(path)))
    }

    /// `descriptor.stat`.
    pub fn stat(&mut self, fd: u32) -> FsResult<DescriptorStat> {
        Ok(io(self.descriptor(fd)?.metadata()).map(|m| stat_of(&m)))
    }

    /// `descriptor.stat-at`.
    pub fn stat_at(&mut self, fd: u32, follow: bool, path: &str) -> FsResult<DescriptorStat> {
        let dir = fs_try!(self.descriptor(fd)?.dir());
        let m = match follow {
            true => dir.metadata(path),
            false => dir.symlink_metadata(path),
        };
        Ok(io(m).map(|m| stat_of(&m)))
    }

    /// `descriptor.set-times-at`.
    pub fn set_times_at(
        &mut self,
        fd: u32,
        follow: bool,
        path: &str,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> FsResult<()> {
        let dir = fs_try!(self.descriptor(fd)?.mutable_dir());
        let (a, m) = (time_spec(atime), time_spec(mtime));
        Ok(io(match follow {
            true => dir.set_times(path, a, m),
            false => dir.set_symlink_times(path, a, m),
        }))
    }

    /// `descriptor.link-at`: a hard link, both ends beneath their directories.
    pub fn link_at(&mut self, fd: u32, old: &str, new_fd: u32, new: &str) -> FsResult<()> {
        let from = fs_try!(self.descriptor(fd)?.mutable_dir()).clone();
        let to = fs_try!(self.descriptor(new_fd)?.mutable_dir()).clone();
        Ok(io(from.hard_link(old, &to, new)))
    }

    /// `descriptor.open-at`.
    pub fn open_at(
        &mut self,
        fd: u32,
        follow: bool,
        path: &str,
        open: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<u32> {
        let d = fs_try!(self.descriptor(fd)?.open_at(follow, path, open, flags));
        Ok(Ok(self.table.push(Entry::Descriptor(d), None)?))
    }

    /// `descriptor.readlink-at`.
    pub fn readlink_at(&mut self, fd: u32, path: &str) -> FsResult<String> {
        let dir = fs_try!(self.descriptor(fd)?.dir());
        let target = fs_try!(io(dir.read_link_contents(path)));
        Ok(target
            .into_os_string()
            .into_string()
            .map_err(|_| ErrorCode::IllegalByteSequence))
    }

    /// `descriptor.remove-directory-at`.
    pub fn remove_directory_at(&mut self, fd: u32, path: &str) -> FsResult<()> {
        let dir = fs_try!(self.descriptor(fd)?.mutable_dir());
        Ok(io(dir.remove_dir(path)))
    }

    /// `descriptor.rename-at`.
    pub fn rename_at(&mut self, fd: u32, old: &str, new_fd: u32, new: &str) -> FsResult<()> {
        let from = fs_try!(self.descriptor(fd)?.mutable_dir()).clone();
        let to = fs_try!(self.descriptor(new_fd)?.mutable_dir()).clone();
        Ok(io(from.rename(old, &to, new)))
    }

    /// `descriptor.symlink-at`: an absolute target is `not-permitted`.
    pub fn symlink_at(&mut self, fd: u32, target: &str, path: &str) -> FsResult<()> {
        let dir = fs_try!(self.descriptor(fd)?.mutable_dir());
        if target.starts_with('/') {
            return Ok(Err(ErrorCode::NotPermitted));
        }
        Ok(io(dir.symlink(target, path)))
    }

    /// `descriptor.unlink-file-at`.
    pub fn unlink_file_at(&mut self, fd: u32, path: &str) -> FsResult<()> {
        let dir = fs_try!(self.descriptor(fd)?.mutable_dir());
        Ok(io(dir.remove_file_or_symlink(path)))
    }

    /// `descriptor.is-same-object`.
    pub fn is_same_object(&mut self, fd: u32, other: u32) -> Result<bool, Trap> {
        let a = self.descriptor(fd)?.metadata();
        let b = self.descriptor(other)?.metadata();
        Ok(match (a, b) {
            (Ok(a), Ok(b)) => identity(&a) == identity(&b),
            _ => false,
        })
    }

    /// `descriptor.metadata-hash`: a hash of device, inode, size and times.
    pub fn metadata_hash(&mut self, fd: u32) -> FsResult<(u64, u64)> {
        Ok(io(self.descriptor(fd)?.metadata()).map(|m| hash(&m)))
    }

    /// `descriptor.metadata-hash-at`.
    pub fn metadata_hash_at(&mut self, fd: u32, follow: bool, path: &str) -> FsResult<(u64, u64)> {
        let dir = fs_try!(self.descriptor(fd)?.dir());
        let m = match follow {
            true => dir.metadata(path),
            false => dir.symlink_metadata(path),
        };
        Ok(io(m).map(|m| hash(&m)))
    }

    /// `filesystem-error-code`: the code of an `error` from a file stream.
    pub fn filesystem_error_code(&mut self, error: u32) -> Result<Option<ErrorCode>, Trap> {
        Ok(match self.table.error(error)?.1 {
            crate::FailureCode::Filesystem(code) => Some(code),
            crate::FailureCode::Network(_) => None,
        })
    }
}

/// The most bytes one `descriptor.read` returns, whatever the guest asks.
const READ_MAX: u64 = 1 << 20;

fn identity(m: &Metadata) -> (u64, u64) {
    use cap_std::fs::MetadataExt as _;
    (m.dev(), m.ino())
}

fn hash(m: &Metadata) -> (u64, u64) {
    use std::hash::{Hash, Hasher};
    let s = stat_of(m);
    let mut lower = std::collections::hash_map::DefaultHasher::new();
    (identity(m), s.size, s.modified, s.status_changed).hash(&mut lower);
    let mut upper = std::collections::hash_map::DefaultHasher::new();
    (lower.finish(), identity(m)).hash(&mut upper);
    (upper.finish(), lower.finish())
}

fn set_file_times(f: &File, atime: NewTimestamp, mtime: NewTimestamp) -> io::Result<()> {
    let resolve = |t| match t {
        NewTimestamp::NoChange => None,
        NewTimestamp::Now => Some(SystemTime::now()),
        NewTimestamp::At(d) => Some(UNIX_EPOCH + d),
    };
    let mut times = std::fs::FileTimes::new();
    if let Some(a) = resolve(atime) {
        times = times.set_accessed(a);
    }
    if let Some(m) = resolve(mtime) {
        times = times.set_modified(m);
    }
    f.try_clone()?.into_std().set_times(times)
}
