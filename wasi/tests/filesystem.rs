//! The filesystem sandbox, through the context's methods (the same ones the
//! guest's imports call): every escape from a preopen is attempted and must
//! fail with the WASI error code, and the permissions bound what is opened.

use rivet_wasi::{DescriptorFlags, DirPerms, ErrorCode, FilePerms, OpenFlags, WasiCtx};
use std::fs;
use std::os::unix::fs::symlink;

const READ: DescriptorFlags = DescriptorFlags {
    read: true,
    write: false,
    mutate_directory: false,
};
const NONE: OpenFlags = OpenFlags {
    create: false,
    directory: false,
    exclusive: false,
    truncate: false,
};
const CREATE: OpenFlags = OpenFlags {
    create: true,
    ..NONE
};

/// `outside/secret` next to the preopened `root/` (holding `file` and `sub/`).
struct Sandbox {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn sandbox() -> Sandbox {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (root, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(root.join("file"), b"inside").unwrap();
    fs::write(outside.join("secret"), b"secret").unwrap();
    Sandbox {
        _tmp: tmp,
        root,
        outside,
    }
}

/// A context with `root` preopened as `/`, and the rep of its descriptor.
fn ctx(s: &Sandbox, dir: DirPerms, file: FilePerms) -> (WasiCtx, u32) {
    let mut ctx = WasiCtx::builder()
        .preopened_dir(&s.root, "/", dir, file)
        .expect("preopen")
        .build();
    let dirs = ctx.get_directories().unwrap();
    assert_eq!(dirs.len(), 1);
    assert_eq!(dirs[0].1, "/");
    (ctx, dirs[0].0)
}

fn open(ctx: &mut WasiCtx, fd: u32, follow: bool, path: &str) -> Result<u32, ErrorCode> {
    ctx.open_at(fd, follow, path, NONE, READ).unwrap()
}

#[test]
fn a_file_inside_reads_through_a_descriptor_and_a_stream() {
    let s = sandbox();
    let (mut ctx, root) = ctx(&s, DirPerms::READ, FilePerms::READ);
    let file = open(&mut ctx, root, false, "file").expect("opens");
    assert_eq!(
        ctx.pread(file, 100, 2).unwrap(),
        Ok((b"side".to_vec(), false))
    );
    let stream = ctx.read_via_stream(file, 0).unwrap().unwrap();
    assert_eq!(ctx.read(stream, 1 << 40).unwrap(), Ok(b"inside".to_vec()));
    // The stream is a child of the descriptor: dropping the descriptor first traps.
    assert!(ctx.drop_resource(file).is_err());
    ctx.drop_resource(stream).unwrap();
    ctx.drop_resource(file).unwrap();
}

#[test]
fn dot_dot_above_the_root_and_absolute_paths_are_refused() {
    let s = sandbox();
    let (mut ctx, root) = ctx(&s, DirPerms::ALL, FilePerms::ALL);
    assert_eq!(
        open(&mut ctx, root, true, "../outside/secret"),
        Err(ErrorCode::NotPermitted)
    );
    assert_eq!(
        open(&mut ctx, root, true, "sub/../../outside/secret"),
        Err(ErrorCode::NotPermitted)
    );
    let abs = s.outside.join("secret");
    assert_eq!(
        open(&mut ctx, root, true, abs.to_str().unwrap()),
        Err(ErrorCode::NotPermitted)
    );
    // `..` that stays inside is fine.
    assert!(open(&mut ctx, root, true, "sub/../file").is_ok());
}

#[test]
fn symlinks_and_symlink_chains_leading_out_are_refused() {
    let s = sandbox();
    symlink(s.outside.join("secret"), s.root.join("abs-link")).unwrap();
    symlink("../outside/secret", s.root.join("rel-link")).unwrap();
    symlink("rel-link", s.root.join("chain")).unwrap();
    symlink("file", s.root.join("inside-link")).unwrap();
    let (mut ctx, root) = ctx(&s, DirPerms::ALL, FilePerms::ALL);
    for link in ["abs-link", "rel-link", "chain"] {
        assert_eq!(
            open(&mut ctx, root, true, link),
            Err(ErrorCode::NotPermitted),
            "{link}"
        );
    }
    assert!(open(&mut ctx, root, true, "inside-link").is_ok());
    // Not following the final link: a symlink is not opened as a file.
    assert_eq!(
        open(&mut ctx, root, false, "inside-link"),
        Err(ErrorCode::Loop)
    );
}

#[test]
fn guest_made_links_cannot_point_out() {
    let s = sandbox();
    let (mut ctx, root) = ctx(&s, DirPerms::ALL, FilePerms::ALL);
    let abs = s.outside.join("secret");
    assert_eq!(
        ctx.symlink_at(root, abs.to_str().unwrap(), "l").unwrap(),
        Err(ErrorCode::NotPermitted)
    );
    // A relative symlink out can be made, but never followed.
    ctx.symlink_at(root, "../outside/secret", "l2")
        .unwrap()
        .unwrap();
    assert_eq!(
        open(&mut ctx, root, true, "l2"),
        Err(ErrorCode::NotPermitted)
    );
    // Hard links: neither end may leave the root.
    assert_eq!(
        ctx.link_at(root, "file", root, "../outside/x").unwrap(),
        Err(ErrorCode::NotPermitted)
    );
    assert_eq!(
        ctx.link_at(root, "../outside/secret", root, "x").unwrap(),
        Err(ErrorCode::NotPermitted)
    );
    assert!(!s.outside.join("x").exists() && !s.root.join("x").exists());
}

#[test]
fn a_directory_renamed_out_while_open_gives_no_way_up() {
    let s = sandbox();
    fs::write(s.root.join("sub/inner"), b"x").unwrap();
    let (mut ctx, root) = ctx(&s, DirPerms::ALL, FilePerms::ALL);
    let sub = ctx
        .open_at(
            root,
            false,
            "sub",
            OpenFlags {
                directory: true,
                ..NONE
            },
            READ,
        )
        .unwrap()
        .expect("sub opens");
    // The host moves the open directory out of the sandbox.
    fs::rename(s.root.join("sub"), s.outside.join("moved")).unwrap();
    assert!(
        open(&mut ctx, sub, true, "inner").is_ok(),
        "still its own contents"
    );
    assert_eq!(
        open(&mut ctx, sub, true, "../secret"),
        Err(ErrorCode::NotPermitted)
    );
    // The guest's own renames stay inside too.
    assert_eq!(
        ctx.rename_at(root, "file", root, "../outside/file")
            .unwrap(),
        Err(ErrorCode::NotPermitted)
    );
}

/// While the host swaps `a` between a directory inside and a symlink out,
/// atomically and without pause (the race a check-then-open would lose), every
/// open of `a/secret` that succeeds reads the inside file; none reaches the
/// one outside.
#[test]
fn a_rename_racing_an_open_never_leads_out() {
    const OPENS: usize = 2_000;
    let s = sandbox();
    fs::create_dir(s.root.join("a")).unwrap();
    fs::write(s.root.join("a/secret"), b"inside").unwrap();
    symlink("../outside", s.root.join("b")).unwrap();
    let (mut ctx, root) = ctx(&s, DirPerms::READ, FilePerms::READ);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut inside, mut refused) = (0, 0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let path = |name: &str| std::ffi::CString::new(s.root.join(name).to_str().unwrap());
            let (a, b) = (path("a").unwrap(), path("b").unwrap());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: two NUL-terminated paths.
                let swapped = unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(swapped, 0, "{}", std::io::Error::last_os_error());
            }
        });
        for _ in 0..OPENS {
            match open(&mut ctx, root, true, "a/secret") {
                Ok(file) => {
                    let (bytes, _) = ctx.pread(file, 100, 0).unwrap().unwrap();
                    assert_eq!(bytes, b"inside", "an open through `a` read outside");
                    ctx.drop_resource(file).unwrap();
                    inside += 1;
                }
                Err(_) => refused += 1,
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(inside + refused, OPENS);
}

#[test]
fn permissions_bound_what_is_opened() {
    let s = sandbox();
    let (mut ctx, root) = ctx(&s, DirPerms::READ, FilePerms::READ);
    let write = DescriptorFlags {
        write: true,
        ..READ
    };
    assert_eq!(
        ctx.open_at(root, false, "new", CREATE, READ).unwrap(),
        Err(ErrorCode::ReadOnly)
    );
    assert_eq!(
        ctx.open_at(root, false, "file", NONE, write).unwrap(),
        Err(ErrorCode::ReadOnly)
    );
    assert_eq!(
        ctx.create_directory_at(root, "d").unwrap(),
        Err(ErrorCode::ReadOnly)
    );
    assert_eq!(
        ctx.unlink_file_at(root, "file").unwrap(),
        Err(ErrorCode::ReadOnly)
    );
    let file = open(&mut ctx, root, false, "file").unwrap();
    assert_eq!(
        ctx.pwrite(file, b"x", 0).unwrap(),
        Err(ErrorCode::BadDescriptor)
    );
    assert_eq!(fs::read(s.root.join("file")).unwrap(), b"inside");

    let (mut ctx, root) = self::ctx(&s, DirPerms::ALL, FilePerms::READ);
    assert_eq!(
        ctx.open_at(root, false, "file", NONE, write).unwrap(),
        Err(ErrorCode::NotPermitted)
    );
}

#[test]
fn files_are_created_written_listed_and_removed() {
    let s = sandbox();
    let (mut ctx, root) = ctx(&s, DirPerms::ALL, FilePerms::ALL);
    let rw = DescriptorFlags {
        read: true,
        write: true,
        mutate_directory: false,
    };
    let f = ctx
        .open_at(root, false, "new", CREATE, rw)
        .unwrap()
        .unwrap();
    assert_eq!(ctx.pwrite(f, b"hello", 0).unwrap(), Ok(5));
    let out = ctx.write_via_stream(f, None).unwrap().unwrap();
    assert_eq!(ctx.write(out, b" world").unwrap(), Ok(()));
    assert_eq!(fs::read(s.root.join("new")).unwrap(), b"hello world");
    assert_eq!(ctx.stat(f).unwrap().unwrap().size, 11);
    let entries = ctx.read_directory(root).unwrap().unwrap();
    let mut names = Vec::new();
    while let Some((_, name)) = ctx.read_directory_entry(entries).unwrap().unwrap() {
        names.push(name);
    }
    names.sort();
    assert_eq!(names, ["file", "new", "sub"]);
    assert_eq!(ctx.unlink_file_at(root, "new").unwrap(), Ok(()));
    assert_eq!(
        ctx.stat_at(root, false, "new").unwrap().map(|_| ()),
        Err(ErrorCode::NoEntry)
    );
    assert_eq!(
        ctx.remove_directory_at(root, "file").unwrap(),
        Err(ErrorCode::NotDirectory)
    );
}

#[test]
fn the_default_context_has_no_directories() {
    assert!(WasiCtx::default().get_directories().unwrap().is_empty());
}
