//! Runs the example binary and checks the whole conversation: constructor,
//! methods and destructor of the host's resource, as the guest uses them.

use std::process::Command;

#[test]
fn the_guest_uses_the_hosts_store_and_drops_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_host-resources"))
        .output()
        .expect("running the host-resources example");
    assert!(
        out.status.success(),
        "host-resources failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("the output is UTF-8");
    let expected = "\
guest: opening a store
host: open store `guest-store` as rep 0
host: guest-store[greeting] = hello
recall greeting: Some(\"hello\")
recall missing: None
host: open store `host-store` as rep 1
peek color: Some(\"blue\")
guest: dropping my store
host: store `guest-store` (rep 0) dropped
recall color: Some(\"blue\")
guest: dropping my store
host: store `host-store` (rep 1) dropped
live stores: 0
";
    assert_eq!(stdout, expected);
}
