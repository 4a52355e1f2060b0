//! The `files` mode: each file operation a command needs, inside a fresh
//! directory `files` under the preopen, printed one line per step. Steps go on
//! after a failure, so one missing capability shows as one `error` line.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::report::step;

/// Runs every step under `DIR/files`, which must not exist yet, then removes it.
pub fn run(dir: &str) {
    let root = Path::new(dir).join("files");
    step("mkdir files", fs::create_dir(&root));
    write_read_seek(&root);
    metadata(&root);
    rename_and_list(&root);
    links(&root);
    remove(&root);
}

/// Create, write, read back, seek both ways, append, truncate.
fn write_read_seek(root: &Path) {
    let hello = root.join("hello.txt");
    step(
        "write hello.txt",
        fs::write(&hello, "hello, world\n").map(|()| "13 bytes".to_string()),
    );
    step("read hello.txt", text(&hello));
    step("seek to 7, read 5", read_at(&hello, SeekFrom::Start(7), 5));
    step(
        "seek to end-6, read 6",
        read_at(&hello, SeekFrom::End(-6), 6),
    );
    step("append bye", append(&hello, "bye\n"));
    step("read after append", text(&hello));
    let scratch = root.join("scratch.txt");
    step("truncate to 4", truncate(&scratch, 4));
}

/// A file's content, quoted as Rust does (escapes show stray bytes).
fn text(path: &Path) -> io::Result<String> {
    fs::read_to_string(path).map(|s| format!("{s:?}"))
}

fn read_at(path: &Path, from: SeekFrom, len: usize) -> io::Result<String> {
    let mut file = File::open(path)?;
    let position = file.seek(from)?;
    let mut buf = vec![0u8; len];
    file.read_exact(&mut buf)?;
    let after = file.stream_position()?;
    Ok(format!(
        "at {position}: {:?}, now at {after}",
        String::from_utf8_lossy(&buf)
    ))
}

fn append(path: &Path, text: &str) -> io::Result<String> {
    OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())?;
    Ok(format!("size {}", fs::metadata(path)?.len()))
}

/// Writes ten bytes, cuts the file to `len`, and reads what is left.
fn truncate(path: &Path, len: u64) -> io::Result<String> {
    let mut file = File::create(path)?;
    file.write_all(b"0123456789")?;
    file.set_len(len)?;
    text(path)
}

/// Size and type of a file, type of a directory (whose size depends on the
/// host's file system), and the error for a missing name.
fn metadata(root: &Path) {
    let kind = |m: &fs::Metadata| format!("file {}, dir {}", m.is_file(), m.is_dir());
    let file = |path: &Path| fs::metadata(path).map(|m| format!("size {}, {}", m.len(), kind(&m)));
    step("metadata hello.txt", file(&root.join("hello.txt")));
    step("metadata files", fs::metadata(root).map(|m| kind(&m)));
    step("metadata missing.txt", file(&root.join("missing.txt")));
}

/// Rename, then list the directory sorted by name with each entry's type.
fn rename_and_list(root: &Path) {
    step(
        "rename hello.txt greeting.txt",
        fs::rename(root.join("hello.txt"), root.join("greeting.txt")),
    );
    step(
        "hello.txt exists",
        root.join("hello.txt").try_exists().map(|b| b.to_string()),
    );
    step("mkdir sub", fs::create_dir(root.join("sub")));
    step("readdir", list(root));
}

/// `name (type)` for each entry, sorted, comma-separated.
fn list(dir: &Path) -> io::Result<String> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let kind = if kind.is_symlink() {
            "symlink"
        } else if kind.is_dir() {
            "dir"
        } else {
            "file"
        };
        entries.push(format!("{} ({kind})", entry.file_name().to_string_lossy()));
    }
    entries.sort();
    Ok(entries.join(", "))
}

/// A relative symlink (created, read, followed) and a hard link that outlives
/// the name it was made from.
fn links(root: &Path) {
    let link = root.join("link");
    // `std::fs::soft_link` is the one stable way to make a symlink on WASI
    // (`std::os::wasi::fs::symlink_path` is unstable).
    #[allow(deprecated)]
    let made = fs::soft_link("greeting.txt", &link);
    step("symlink link -> greeting.txt", made);
    step(
        "read_link link",
        fs::read_link(&link).map(|t| t.display().to_string()),
    );
    step("read through link", text(&link));
    step(
        "symlink_metadata link",
        fs::symlink_metadata(&link).map(|m| format!("symlink {}", m.file_type().is_symlink())),
    );
    let hard = root.join("hard.txt");
    step(
        "hard_link greeting.txt hard.txt",
        fs::hard_link(root.join("greeting.txt"), &hard),
    );
    step("readdir", list(root));
    step(
        "remove greeting.txt",
        fs::remove_file(root.join("greeting.txt")),
    );
    step("read hard.txt", text(&hard));
    step("read through dangling link", text(&link));
}

/// Removes what is left, entry by entry, then the directory itself.
fn remove(root: &Path) {
    for name in ["link", "hard.txt", "scratch.txt"] {
        step(&format!("remove {name}"), fs::remove_file(root.join(name)));
    }
    step("rmdir sub", fs::remove_dir(root.join("sub")));
    step(
        "readdir",
        list(root).map(|s| if s.is_empty() { "(empty)".into() } else { s }),
    );
    step("rmdir files", fs::remove_dir(root));
}
