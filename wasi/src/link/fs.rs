//! Handlers of `wasi:filesystem` (types and preopens).

use super::convert::{Advice, DirectoryEntry, Follow, MetadataHash, OpenDescriptorFlags};
use super::handlers::{typed, Handlers};
use super::{Handler, Wasi};
use crate::filesystem::{NewTimestamp, OpenFlags};
use crate::{ErrorCode, WasiCtx};
use rivet::typed_import::Rep;
use rivet::ComponentImports;

const TYPES: &str = "wasi:filesystem/types";

const SYNC_DATA: Handler = typed!(|c, fd: Rep| c.sync(fd.0, true));

pub(super) const FILESYSTEM: Handlers = &[
    (
        "wasi:filesystem/preopens",
        "get-directories",
        typed!(|c| {
            let dirs = c.get_directories()?.into_iter();
            Ok(dirs.map(|(rep, name)| (Rep(rep), name)).collect::<Vec<_>>())
        }),
    ),
    (
        TYPES,
        "[method]descriptor.read-via-stream",
        typed!(|c, fd: Rep, at: u64| Ok(c.read_via_stream(fd.0, at)?.map(Rep))),
    ),
    (
        TYPES,
        "[method]descriptor.write-via-stream",
        typed!(|c, fd: Rep, at: u64| Ok(c.write_via_stream(fd.0, Some(at))?.map(Rep))),
    ),
    (
        TYPES,
        "[method]descriptor.append-via-stream",
        typed!(|c, fd: Rep| Ok(c.write_via_stream(fd.0, None)?.map(Rep))),
    ),
    (
        TYPES,
        "[method]descriptor.advise",
        typed!(|c, fd: Rep, _at: u64, _len: u64, _advice: Advice| c.advise(fd.0)),
    ),
    (TYPES, "[method]descriptor.sync-data", SYNC_DATA),
    (
        TYPES,
        "[method]descriptor.sync",
        typed!(|c, fd: Rep| c.sync(fd.0, false)),
    ),
    (
        TYPES,
        "[method]descriptor.get-flags",
        typed!(|c, fd: Rep| c.get_flags(fd.0)),
    ),
    (
        TYPES,
        "[method]descriptor.get-type",
        typed!(|c, fd: Rep| c.get_type(fd.0)),
    ),
    (
        TYPES,
        "[method]descriptor.set-size",
        typed!(|c, fd: Rep, size: u64| c.set_size(fd.0, size)),
    ),
    (
        TYPES,
        "[method]descriptor.set-times",
        typed!(|c, fd: Rep, at: NewTimestamp, mt: NewTimestamp| c.set_times(fd.0, at, mt)),
    ),
    (
        TYPES,
        "[method]descriptor.read",
        typed!(|c, fd: Rep, len: u64, at: u64| c.pread(fd.0, len, at)),
    ),
    (
        TYPES,
        "[method]descriptor.write",
        typed!(|c, fd: Rep, bytes: Vec<u8>, at: u64| c.pwrite(fd.0, &bytes, at)),
    ),
    (
        TYPES,
        "[method]descriptor.read-directory",
        typed!(|c, fd: Rep| Ok(c.read_directory(fd.0)?.map(Rep))),
    ),
    (
        TYPES,
        "[method]descriptor.create-directory-at",
        typed!(|c, fd: Rep, path: String| c.create_directory_at(fd.0, &path)),
    ),
    (
        TYPES,
        "[method]descriptor.stat",
        typed!(|c, fd: Rep| c.stat(fd.0)),
    ),
    (
        TYPES,
        "[method]descriptor.stat-at",
        typed!(|c, fd: Rep, f: Follow, path: String| c.stat_at(fd.0, f.0, &path)),
    ),
    (
        TYPES,
        "[method]descriptor.set-times-at",
        typed!(
            |c, fd: Rep, f: Follow, path: String, at: NewTimestamp, mt: NewTimestamp| {
                c.set_times_at(fd.0, f.0, &path, at, mt)
            }
        ),
    ),
    (
        TYPES,
        "[method]descriptor.link-at",
        // `old-path-flags` may ask to follow a symlink at `old-path`; links
        // are made to the named entry itself, as Linux's `linkat` does.
        typed!(
            |c, fd: Rep, _f: Follow, old: String, new_fd: Rep, new: String| {
                c.link_at(fd.0, &old, new_fd.0, &new)
            }
        ),
    ),
    (
        TYPES,
        "[method]descriptor.open-at",
        typed!(|c,
                fd: Rep,
                f: Follow,
                path: String,
                open: OpenFlags,
                flags: OpenDescriptorFlags| {
            // Synchronized I/O is not offered (Wasmtime 48 refuses it too).
            if flags.sync {
                return Ok(Err(ErrorCode::Unsupported));
            }
            Ok(c.open_at(fd.0, f.0, &path, open, flags.flags)?.map(Rep))
        }),
    ),
    (
        TYPES,
        "[method]descriptor.readlink-at",
        typed!(|c, fd: Rep, path: String| c.readlink_at(fd.0, &path)),
    ),
    (
        TYPES,
        "[method]descriptor.remove-directory-at",
        typed!(|c, fd: Rep, path: String| c.remove_directory_at(fd.0, &path)),
    ),
    (
        TYPES,
        "[method]descriptor.rename-at",
        typed!(|c, fd: Rep, old: String, new_fd: Rep, new: String| {
            c.rename_at(fd.0, &old, new_fd.0, &new)
        }),
    ),
    (
        TYPES,
        "[method]descriptor.symlink-at",
        typed!(|c, fd: Rep, target: String, path: String| c.symlink_at(fd.0, &target, &path)),
    ),
    (
        TYPES,
        "[method]descriptor.unlink-file-at",
        typed!(|c, fd: Rep, path: String| c.unlink_file_at(fd.0, &path)),
    ),
    (
        TYPES,
        "[method]descriptor.is-same-object",
        typed!(|c, fd: Rep, other: Rep| c.is_same_object(fd.0, other.0)),
    ),
    (
        TYPES,
        "[method]descriptor.metadata-hash",
        typed!(|c, fd: Rep| Ok(c.metadata_hash(fd.0)?.map(MetadataHash))),
    ),
    (
        TYPES,
        "[method]descriptor.metadata-hash-at",
        typed!(|c, fd: Rep, f: Follow, path: String| {
            Ok(c.metadata_hash_at(fd.0, f.0, &path)?.map(MetadataHash))
        }),
    ),
    (
        TYPES,
        "[method]directory-entry-stream.read-directory-entry",
        typed!(|c, s: Rep| {
            let entry = c.read_directory_entry(s.0)?;
            Ok(entry.map(|e| e.map(|(ty, name)| DirectoryEntry(ty, name))))
        }),
    ),
    (
        TYPES,
        "filesystem-error-code",
        typed!(|c, e: Rep| c.filesystem_error_code(e.0)),
    ),
];
