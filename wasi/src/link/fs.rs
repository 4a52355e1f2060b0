//! Handlers of `wasi:filesystem` (types and preopens).

use super::convert::*;
use super::handlers::{datetime, Handlers};
use super::Types;
use crate::filesystem::{
    DescriptorFlags, DescriptorStat, DescriptorType, FsResult, NewTimestamp, OpenFlags,
};
use crate::WasiCtx;
use rivet::{Trap, Value};
use std::time::Duration;

type Out = Result<Option<Value>, Trap>;

const DESCRIPTOR: &str = "wasi:filesystem/types#descriptor";
const TYPES: &str = "wasi:filesystem/types";

/// Lowers a filesystem result: `ok` through `f`, or the error code.
fn fs<T>(r: FsResult<T>, f: impl FnOnce(T) -> Result<Option<Value>, Trap>) -> Out {
    match r? {
        Ok(v) => Ok(ok(f(v)?)),
        Err(code) => Ok(err(Value::Enum(code.name().into()))),
    }
}

fn unit(r: FsResult<()>) -> Out {
    fs(r, |()| Ok(None))
}

fn has(flags: &[String], name: &str) -> bool {
    flags.iter().any(|f| f == name)
}

fn follow(a: &[Value], i: usize) -> Result<bool, Trap> {
    Ok(has(flags_arg(a, i)?, "symlink-follow"))
}

fn descriptor_flags(a: &[Value], i: usize) -> Result<DescriptorFlags, Trap> {
    let f = flags_arg(a, i)?;
    Ok(DescriptorFlags {
        read: has(f, "read"),
        write: has(f, "write"),
        mutate_directory: has(f, "mutate-directory"),
    })
}

fn open_flags(a: &[Value], i: usize) -> Result<OpenFlags, Trap> {
    let f = flags_arg(a, i)?;
    Ok(OpenFlags {
        create: has(f, "create"),
        directory: has(f, "directory"),
        exclusive: has(f, "exclusive"),
        truncate: has(f, "truncate"),
    })
}

fn timestamp(a: &[Value], i: usize) -> Result<NewTimestamp, Trap> {
    match case_arg(a, i)? {
        ("no-change", _) => Ok(NewTimestamp::NoChange),
        ("now", _) => Ok(NewTimestamp::Now),
        ("timestamp", Some(Value::Record(fields))) => match fields.as_slice() {
            [(_, Value::U64(s)), (_, Value::U32(n))] => Ok(NewTimestamp::At(Duration::new(*s, *n))),
            _ => Err(Trap::host("WASI call: a malformed datetime")),
        },
        (other, _) => Err(Trap::host(format!("WASI call: new-timestamp `{other}`"))),
    }
}

fn type_name(t: DescriptorType) -> Value {
    let name = match t {
        DescriptorType::Unknown => "unknown",
        DescriptorType::BlockDevice => "block-device",
        DescriptorType::CharacterDevice => "character-device",
        DescriptorType::Directory => "directory",
        DescriptorType::Fifo => "fifo",
        DescriptorType::SymbolicLink => "symbolic-link",
        DescriptorType::RegularFile => "regular-file",
        DescriptorType::Socket => "socket",
    };
    Value::Enum(name.into())
}

fn stat(s: DescriptorStat) -> Value {
    let time = |t: Option<Duration>| option(t.map(datetime));
    record(vec![
        ("type", type_name(s.type_)),
        ("link-count", Value::U64(s.link_count)),
        ("size", Value::U64(s.size)),
        ("data-access-timestamp", time(s.accessed)),
        ("data-modification-timestamp", time(s.modified)),
        ("status-change-timestamp", time(s.status_changed)),
    ])
}

fn hash((upper, lower): (u64, u64)) -> Result<Option<Value>, Trap> {
    Ok(Some(record(vec![
        ("lower", Value::U64(lower)),
        ("upper", Value::U64(upper)),
    ])))
}

fn own_descriptor(t: &Types, rep: u32) -> Result<Option<Value>, Trap> {
    Ok(Some(t.own(DESCRIPTOR, rep)?))
}

fn sync_data(c: &mut WasiCtx, _: &Types, a: &[Value]) -> Out {
    unit(c.sync(rep(a, 0)?, true))
}

pub(super) const FILESYSTEM: Handlers = &[
    ("wasi:filesystem/preopens", "get-directories", |c, t, _| {
        let dirs = c.get_directories()?.into_iter();
        let pairs = dirs.map(|(rep, name)| {
            Ok(Value::Tuple(vec![
                t.own(DESCRIPTOR, rep)?,
                Value::String(name),
            ]))
        });
        Ok(Some(Value::List(pairs.collect::<Result<_, Trap>>()?)))
    }),
    (TYPES, "[method]descriptor.read-via-stream", |c, t, a| {
        let r = c.read_via_stream(rep(a, 0)?, u64_arg(a, 1)?);
        fs(r, |s| Ok(Some(t.own("wasi:io/streams#input-stream", s)?)))
    }),
    (TYPES, "[method]descriptor.write-via-stream", |c, t, a| {
        let r = c.write_via_stream(rep(a, 0)?, Some(u64_arg(a, 1)?));
        fs(r, |s| Ok(Some(t.own("wasi:io/streams#output-stream", s)?)))
    }),
    (TYPES, "[method]descriptor.append-via-stream", |c, t, a| {
        let r = c.write_via_stream(rep(a, 0)?, None);
        fs(r, |s| Ok(Some(t.own("wasi:io/streams#output-stream", s)?)))
    }),
    (TYPES, "[method]descriptor.advise", |c, _, a| {
        unit(c.advise(rep(a, 0)?))
    }),
    (TYPES, "[method]descriptor.sync-data", sync_data),
    (TYPES, "[method]descriptor.sync", |c, _, a| {
        unit(c.sync(rep(a, 0)?, false))
    }),
    (TYPES, "[method]descriptor.get-flags", |c, _, a| {
        fs(c.get_flags(rep(a, 0)?), |f| {
            let set = [
                (f.read, "read"),
                (f.write, "write"),
                (f.mutate_directory, "mutate-directory"),
            ];
            let names = set.iter().filter(|(on, _)| *on).map(|(_, n)| n.to_string());
            Ok(Some(Value::Flags(names.collect())))
        })
    }),
    (TYPES, "[method]descriptor.get-type", |c, _, a| {
        fs(c.get_type(rep(a, 0)?), |ty| Ok(Some(type_name(ty))))
    }),
    (TYPES, "[method]descriptor.set-size", |c, _, a| {
        unit(c.set_size(rep(a, 0)?, u64_arg(a, 1)?))
    }),
    (TYPES, "[method]descriptor.set-times", |c, _, a| {
        unit(c.set_times(rep(a, 0)?, timestamp(a, 1)?, timestamp(a, 2)?))
    }),
    (TYPES, "[method]descriptor.read", |c, _, a| {
        fs(
            c.pread(rep(a, 0)?, u64_arg(a, 1)?, u64_arg(a, 2)?),
            |(b, end)| Ok(Some(Value::Tuple(vec![bytes(b), Value::Bool(end)]))),
        )
    }),
    (TYPES, "[method]descriptor.write", |c, _, a| {
        let r = c.pwrite(rep(a, 0)?, &bytes_arg(a, 1)?, u64_arg(a, 2)?);
        fs(r, |n| Ok(Some(Value::U64(n))))
    }),
    (TYPES, "[method]descriptor.read-directory", |c, t, a| {
        fs(c.read_directory(rep(a, 0)?), |s| {
            Ok(Some(
                t.own("wasi:filesystem/types#directory-entry-stream", s)?,
            ))
        })
    }),
    (
        TYPES,
        "[method]descriptor.create-directory-at",
        |c, _, a| unit(c.create_directory_at(rep(a, 0)?, string_arg(a, 1)?)),
    ),
    (TYPES, "[method]descriptor.stat", |c, _, a| {
        fs(c.stat(rep(a, 0)?), |s| Ok(Some(stat(s))))
    }),
    (TYPES, "[method]descriptor.stat-at", |c, _, a| {
        let r = c.stat_at(rep(a, 0)?, follow(a, 1)?, string_arg(a, 2)?);
        fs(r, |s| Ok(Some(stat(s))))
    }),
    (TYPES, "[method]descriptor.set-times-at", |c, _, a| {
        let (at, mt) = (timestamp(a, 3)?, timestamp(a, 4)?);
        unit(c.set_times_at(rep(a, 0)?, follow(a, 1)?, string_arg(a, 2)?, at, mt))
    }),
    (TYPES, "[method]descriptor.link-at", |c, _, a| {
        // `old-path-flags` may ask to follow a symlink at `old-path`; links
        // are made to the named entry itself, as Linux's `linkat` does.
        unit(c.link_at(rep(a, 0)?, string_arg(a, 2)?, rep(a, 3)?, string_arg(a, 4)?))
    }),
    (TYPES, "[method]descriptor.open-at", |c, t, a| {
        let (open, flags) = (open_flags(a, 3)?, descriptor_flags(a, 4)?);
        let r = c.open_at(rep(a, 0)?, follow(a, 1)?, string_arg(a, 2)?, open, flags);
        fs(r, |d| own_descriptor(t, d))
    }),
    (TYPES, "[method]descriptor.readlink-at", |c, _, a| {
        fs(c.readlink_at(rep(a, 0)?, string_arg(a, 1)?), |s| {
            Ok(Some(Value::String(s)))
        })
    }),
    (
        TYPES,
        "[method]descriptor.remove-directory-at",
        |c, _, a| unit(c.remove_directory_at(rep(a, 0)?, string_arg(a, 1)?)),
    ),
    (TYPES, "[method]descriptor.rename-at", |c, _, a| {
        unit(c.rename_at(rep(a, 0)?, string_arg(a, 1)?, rep(a, 2)?, string_arg(a, 3)?))
    }),
    (TYPES, "[method]descriptor.symlink-at", |c, _, a| {
        unit(c.symlink_at(rep(a, 0)?, string_arg(a, 1)?, string_arg(a, 2)?))
    }),
    (TYPES, "[method]descriptor.unlink-file-at", |c, _, a| {
        unit(c.unlink_file_at(rep(a, 0)?, string_arg(a, 1)?))
    }),
    (TYPES, "[method]descriptor.is-same-object", |c, _, a| {
        Ok(Some(Value::Bool(c.is_same_object(rep(a, 0)?, rep(a, 1)?)?)))
    }),
    (TYPES, "[method]descriptor.metadata-hash", |c, _, a| {
        fs(c.metadata_hash(rep(a, 0)?), hash)
    }),
    (TYPES, "[method]descriptor.metadata-hash-at", |c, _, a| {
        fs(
            c.metadata_hash_at(rep(a, 0)?, follow(a, 1)?, string_arg(a, 2)?),
            hash,
        )
    }),
    (
        TYPES,
        "[method]directory-entry-stream.read-directory-entry",
        |c, _, a| {
            fs(c.read_directory_entry(rep(a, 0)?), |e| {
                let entry = e.map(|(ty, name)| {
                    record(vec![("type", type_name(ty)), ("name", Value::String(name))])
                });
                Ok(Some(option(entry)))
            })
        },
    ),
    (TYPES, "filesystem-error-code", |c, _, a| {
        let code = c.filesystem_error_code(rep(a, 0)?)?;
        Ok(Some(option(code.map(|c| Value::Enum(c.name().into())))))
    }),
];
