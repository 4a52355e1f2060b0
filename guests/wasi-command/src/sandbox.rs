//! The `sandbox` mode: every way a guest might reach outside its preopened
//! directory, each printed with the outcome. A host that confines the guest
//! prints an error for each read or write below; what matters is that none
//! succeeds, and the error kind shows how the host said no.

use std::fs;
use std::io;
use std::path::Path;

use crate::report::step;

/// Probes from the preopen `dir`, whose host parent holds a file `outside`.
pub fn run(dir: &str) {
    let root = Path::new(dir);
    let parent_file = format!("{dir}/../outside");
    step("read ../outside", read(&parent_file));
    step("read /etc/passwd", read("/etc/passwd"));
    step(
        "list ..",
        fs::read_dir(format!("{dir}/..")).map(|_| "listed".to_string()),
    );
    step(
        "create ../created-outside",
        fs::write(format!("{dir}/../created-outside"), "escaped"),
    );
    probe_symlink(root, "escape", "../outside");
    probe_symlink(root, "absolute", "/etc/passwd");
}

/// Makes `DIR/name -> target` and reads through it; removes the link after.
fn probe_symlink(root: &Path, name: &str, target: &str) {
    let link = root.join(name);
    #[allow(deprecated)] // the one stable way to make a symlink on WASI
    let made = fs::soft_link(target, &link);
    let created = made.is_ok();
    step(&format!("symlink {name} -> {target}"), made);
    step(&format!("read through {name}"), read(&link));
    if created {
        step(&format!("remove {name}"), fs::remove_file(&link));
    }
}

/// The size of what was read: the content itself would be the host's.
fn read(path: impl AsRef<Path>) -> io::Result<String> {
    fs::read(path).map(|bytes| format!("read {} bytes", bytes.len()))
}
