//! `umod cflags`: the compiler flags that build a module against the kit.
//!
//! The kit's headers travel inside the binary (`umod_loader::kit::FILES`),
//! so an installed `umod` needs no source tree: they are unpacked to a
//! cache directory of this user's, one per kit (`$XDG_CACHE_HOME/umod/`,
//! else `~/.cache/umod/`), or wherever `--kit-dir` says.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Prints the flags on one line, ready for `gcc $(umod cflags) -c mod.c`.
pub fn run(kit_dir: Option<&Path>) -> Result<(), String> {
    let dir = match kit_dir {
        Some(d) => d.to_path_buf(),
        None => cache_dir()?,
    };
    let include = umod_loader::kit::unpack(&dir)
        .map_err(|e| format!("cflags: cannot unpack the kit into {}: {e}", dir.display()))?;
    let include = include.canonicalize().unwrap_or(include);
    println!("{}", umod_loader::kit::cflags_for(&include).join(" "));
    Ok(())
}

/// `$XDG_CACHE_HOME/umod/kit-VERSION-FINGERPRINT`, else under
/// `~/.cache`: made private to this user if missing, refused if another
/// user owns it or may write it.
fn cache_dir() -> Result<PathBuf, String> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .ok_or(
            "cflags: no cache directory ($XDG_CACHE_HOME and $HOME are unset): give --kit-dir",
        )?;
    let umod = base.join("umod");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&umod)
        .map_err(|e| format!("cflags: cannot make {}: {e}", umod.display()))?;
    let meta = std::fs::symlink_metadata(&umod).map_err(|e| format!("cflags: {e}"))?;
    let me = rustix::process::geteuid().as_raw();
    if !meta.is_dir() || meta.uid() != me || meta.mode() & 0o022 != 0 {
        return Err(format!(
            "cflags: refusing the kit cache {}: not a directory of this user's that only it may write",
            umod.display()
        ));
    }
    Ok(umod.join(format!(
        "kit-{}-{}",
        env!("CARGO_PKG_VERSION"),
        umod_loader::kit::fingerprint()
    )))
}
