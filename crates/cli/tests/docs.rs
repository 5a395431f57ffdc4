//! The completions and man pages in `dist/` are what the built binary
//! generates, byte for byte: they cannot drift from the command line.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dist")
}

/// How to bring `dist/` up to date, for the failure messages.
const REGENERATE: &str = "regenerate them with dist/regenerate.sh and commit them";

/// Every file of `dir`, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn completions_match_the_checked_in_copies() {
    for (shell, file) in [
        ("bash", "umod.bash"),
        ("zsh", "_umod"),
        ("fish", "umod.fish"),
    ] {
        let out = Command::new(umod())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(!out.stdout.is_empty());
        let path = dist().join("completions").join(file);
        let shown = format!("dist/completions/{file}");
        let checked_in = std::fs::read(&path).unwrap_or_default();
        assert!(
            out.stdout == checked_in,
            "{shown} differs from `umod completions {shell}`: {REGENERATE}"
        );
    }
}

#[test]
fn man_pages_match_the_checked_in_copies() {
    let dir = scratch_dir("man");
    let out = Command::new(umod())
        .arg("manpages")
        .arg(dir.join("man1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let made = files(&dir.join("man1"));
    assert!(made.contains_key("umod.1") && made.contains_key("umod-insmod.1"));
    assert!(made.contains_key("umod-serve.1") && made.contains_key("umod-manpages.1"));
    assert!(!made.contains_key("umod-help.1"), "no page for `help`");
    let checked_in = files(&dist().join("man"));
    assert_eq!(
        made.keys().collect::<Vec<_>>(),
        checked_in.keys().collect::<Vec<_>>(),
        "dist/man has other pages than `umod manpages` writes: {REGENERATE}"
    );
    for (name, page) in &made {
        assert!(
            *page == checked_in[name],
            "dist/man/{name} differs from what `umod manpages` writes: {REGENERATE}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generated_files_hold_no_date_and_no_path_of_the_build() {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let checkout = checkout.canonicalize().unwrap();
    let binary = Path::new(UMOD_BUILT).parent().unwrap();
    for dir in ["completions", "man"] {
        for (name, text) in files(&dist().join(dir)) {
            let text = String::from_utf8(text).unwrap();
            for path in [checkout.as_path(), binary] {
                let path = path.to_str().unwrap();
                assert!(!text.contains(path), "{dir}/{name} names {path}");
            }
        }
    }
    // The pages' header: name, section, and umod's version, no date.
    let page = std::fs::read_to_string(dist().join("man/umod-insmod.1")).unwrap();
    assert!(
        page.contains(&format!(
            ".TH umod-insmod 1  \"umod {}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{page}"
    );
}

#[test]
fn a_directory_that_cannot_be_made_is_named() {
    let out = Command::new(umod())
        .args(["manpages", "/proc/umod-no-such-dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("manpages: /proc/umod-no-such-dir: "),
        "{stderr}"
    );
    let out = Command::new(umod())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("[possible values: bash, zsh, fish]"));
}
