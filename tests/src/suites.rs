//! Which script files the conformance gate runs: the core, multi-memory, SIMD and
//! extended-const suites, and the component-model suite minus component-model async (`async/`)
//! and the files its `nyi.txt` lists as ahead of the implementations.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// The flat suite directories, relative to the testsuite root.
pub const FLAT_SUITES: [&str; 4] = ["core", "multi-memory", "simd", "extended-const"];

/// The component-model suite directory, relative to the testsuite root.
pub const COMPONENT_SUITE: &str = "component-model";

/// Subdirectories of the component-model suite left out: component-model async is
/// out of Rivet's scope.
pub const EXCLUDED_COMPONENT_DIRS: [&str; 1] = ["async"];

/// Every suite file the gate runs, sorted within each suite.
pub fn all_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for suite in FLAT_SUITES {
        files.extend(wast_files_in(&root.join(suite))?);
    }
    files.extend(component_files(&root.join(COMPONENT_SUITE))?);
    Ok(files)
}

/// The `.wast` files directly in `dir`, sorted.
pub fn wast_files_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if is_wast(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The component-model files to run: every `.wast` below `dir` (recursively),
/// except those under [`EXCLUDED_COMPONENT_DIRS`] and those `dir/nyi.txt` lists.
pub fn component_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let nyi = match std::fs::read_to_string(dir.join("nyi.txt")) {
        Ok(text) => parse_nyi(&text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    collect_wast(dir, dir, &nyi, &mut files)?;
    files.sort();
    Ok(files)
}

fn collect_wast(
    root: &Path,
    dir: &Path,
    nyi: &BTreeSet<String>,
    files: &mut Vec<PathBuf>,
) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let relative = relative_name(root, &path);
        if path.is_dir() {
            if !EXCLUDED_COMPONENT_DIRS.contains(&relative.as_str()) {
                collect_wast(root, &path, nyi, files)?;
            }
        } else if is_wast(&path) && !nyi.contains(&relative) {
            files.push(path);
        }
    }
    Ok(())
}

/// `path` relative to `root`, with `/` separators.
fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

fn is_wast(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|x| x == "wast")
}

/// The files a `nyi.txt` lists, relative to its directory: one per line, `#`
/// comments and blank lines ignored, a leading `./` dropped.
pub fn parse_nyi(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .map(|line| line.trim_start_matches("./").to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nyi_lines_are_relative_names() {
        let text = "# See README.md\n./validation/max-value-size.wast\n\n  values/x.wast  \n\
                    ./async/y.wast # trailing comment\n";
        let names: Vec<String> = parse_nyi(text).into_iter().collect();
        assert_eq!(
            names,
            vec![
                "async/y.wast",
                "validation/max-value-size.wast",
                "values/x.wast"
            ]
        );
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rivet-suites-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn touch(root: &Path, name: &str) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    fn names(root: &Path, files: &[PathBuf]) -> Vec<String> {
        files.iter().map(|f| relative_name(root, f)).collect()
    }

    #[test]
    fn component_files_skip_async_and_nyi() {
        let dir = scratch("component");
        for f in [
            "values/a.wast",
            "values/b.wast",
            "values/notes.md",
            "async/c.wast",
            "validation/nested/d.wast",
            "validation/max-value-size.wast",
            "top.wast",
        ] {
            touch(&dir, f);
        }
        std::fs::write(
            dir.join("nyi.txt"),
            "# x\n./validation/max-value-size.wast\n",
        )
        .unwrap();
        let files = component_files(&dir).unwrap();
        let found = names(&dir, &files);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            vec![
                "top.wast",
                "validation/nested/d.wast",
                "values/a.wast",
                "values/b.wast"
            ]
        );
    }

    #[test]
    fn missing_nyi_excludes_nothing_but_async() {
        let dir = scratch("nonyi");
        touch(&dir, "x/a.wast");
        touch(&dir, "async/b.wast");
        let files = component_files(&dir).unwrap();
        let found = names(&dir, &files);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, vec!["x/a.wast"]);
    }

    #[test]
    fn all_files_cover_every_suite_in_order() {
        let dir = scratch("all");
        for f in [
            "core/i32.wast",
            "core/a.wast",
            "multi-memory/m.wast",
            "simd/simd_const.wast",
            "extended-const/global.wast",
            "component-model/values/s.wast",
            "component-model/async/t.wast",
            "other/ignored.wast",
        ] {
            touch(&dir, f);
        }
        let files = all_files(&dir).unwrap();
        let found = names(&dir, &files);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            vec![
                "core/a.wast",
                "core/i32.wast",
                "multi-memory/m.wast",
                "simd/simd_const.wast",
                "extended-const/global.wast",
                "component-model/values/s.wast"
            ]
        );
    }
}
