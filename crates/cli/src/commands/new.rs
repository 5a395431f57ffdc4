//! `umod new [--rust|--c] NAME`: a module project to start from.
//!
//! A Rust project is a `staticlib` crate with the kit crate (umod-module,
//! carried inside `umod`) copied beside it, and the profile that makes one
//! object of the whole module (fat LTO, one codegen unit, no unwinding):
//! `cargo build --release` leaves `target/release/libNAME.a`, which `umod
//! insmod` loads. A C project is `NAME.c` and a Makefile over `umod
//! cflags`. Nothing is overwritten: the directory must not exist.

use std::path::{Path, PathBuf};

/// Which language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// A Rust crate with the umod-module kit.
    Rust,
    /// A C file and a Makefile.
    C,
}

/// Makes project `name` in `parent/name`; returns its directory.
pub fn run(name: &str, language: Language, parent: &Path) -> Result<PathBuf, String> {
    check_name(name)?;
    let dir = parent.join(name);
    std::fs::create_dir(&dir).map_err(|e| format!("new: cannot make {}: {e}", dir.display()))?;
    let files = match language {
        Language::Rust => rust_files(name),
        Language::C => c_files(name),
    };
    for (rel, bytes) in files {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("new: cannot make {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| format!("new: cannot write {}: {e}", path.display()))?;
    }
    Ok(dir)
}

/// A module name that is also a crate name and a C identifier: what
/// insmod, cargo and the symbols of the module all take.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() < 56
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "new: `{name}` is not a module name: use lower-case letters, digits and _, \
             not starting with a digit, under 56 characters"
        ))
    }
}

fn rust_files(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = vec![
        (
            PathBuf::from("Cargo.toml"),
            rust_manifest(name).into_bytes(),
        ),
        (PathBuf::from("src/lib.rs"), rust_module(name).into_bytes()),
        (PathBuf::from(".gitignore"), b"/target\n".to_vec()),
        (
            PathBuf::from("umod-module/Cargo.toml"),
            KIT_MANIFEST.as_bytes().to_vec(),
        ),
    ];
    for (rel, bytes) in umod_loader::kit::RUST_FILES {
        files.push((Path::new("umod-module/src").join(rel), bytes.to_vec()));
    }
    files
}

/// The kit crate's manifest in a project (the workspace's own inherits
/// from the umod workspace).
const KIT_MANIFEST: &str = "[package]
name = \"umod-module\"
version = \"0.1.0\"
edition = \"2021\"
description = \"Write umod modules in Rust (copied here by umod new)\"
license = \"MIT OR Apache-2.0\"

[lib]
test = false
doctest = false
";

fn rust_manifest(name: &str) -> String {
    format!(
        "[package]
name = \"{name}\"
version = \"0.1.0\"
edition = \"2021\"

# A module is one relocatable object: a static library whose crate, with
# everything it uses from core and alloc, is one object (fat LTO into one
# codegen unit), built not to unwind. `cargo build --release`, then
# `umod insmod target/release/lib{name}.a`.
[lib]
crate-type = [\"staticlib\"]

[dependencies]
umod-module = {{ path = \"umod-module\" }}

[profile.release]
opt-level = 2
lto = \"fat\"
codegen-units = 1
panic = \"abort\"

[profile.dev]
lto = \"fat\"
codegen-units = 1
panic = \"abort\"

# A project of its own, even inside another workspace.
[workspace]
"
    )
}

fn rust_module(name: &str) -> String {
    format!(
        "//! {name}: a umod module in Rust.
//!
//! cargo build --release && umod insmod target/release/lib{name}.a greetings=2
#![no_std]

use umod_module::prelude::*;

module! {{
    type: Greeter,
    license: \"GPL\",
    description: \"Says hello\",
}}

params! {{
    greetings: i32 = 1, \"How many times to say hello\";
}}

struct Greeter;

impl Module for Greeter {{
    fn init() -> Result<Self> {{
        for n in 1..=params::greetings() {{
            pr_info!(\"{name}: hello ({{n}})\");
        }}
        Ok(Greeter)
    }}
}}

impl Drop for Greeter {{
    fn drop(&mut self) {{
        pr_info!(\"{name}: goodbye\");
    }}
}}
"
    )
}

fn c_files(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let source = format!(
        "/* {name}: a umod module in C.
 *
 * make && umod insmod {name}.o greetings=2 */
#include <linux/module.h>
#include <linux/kernel.h>

MODULE_LICENSE(\"GPL\");
MODULE_DESCRIPTION(\"Says hello\");

static int greetings = 1;
MODULE_PARM(greetings, \"i\");
MODULE_PARM_DESC(greetings, \"How many times to say hello\");

int init_module(void)
{{
	int n;
	for (n = 1; n <= greetings; n++)
		printk(KERN_INFO \"{name}: hello (%d)\\n\", n);
	return 0;
}}

void cleanup_module(void)
{{
	printk(KERN_INFO \"{name}: goodbye\\n\");
}}
"
    );
    let makefile = format!(
        "# {name}: `make` builds {name}.o with the kit's flags; `umod insmod {name}.o`
# loads it.
UMOD ?= umod
CFLAGS := $(shell $(UMOD) cflags)

{name}.o: {name}.c
\t$(CC) $(CFLAGS) -c $< -o $@

clean:
\trm -f {name}.o

.PHONY: clean
"
    );
    vec![
        (PathBuf::from(format!("{name}.c")), source.into_bytes()),
        (PathBuf::from("Makefile"), makefile.into_bytes()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("hello_2").is_ok());
        for bad in ["", "2x", "Hello", "a-b", "a.b", &"x".repeat(56)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_rust_project_carries_the_kit() {
        let files = rust_files("m");
        let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert!(names.contains(&"umod-module/src/lib.rs".to_string()));
        assert!(names.contains(&"umod-module/src/param.rs".to_string()));
        assert!(names.contains(&"Cargo.toml".to_string()));
    }
}
