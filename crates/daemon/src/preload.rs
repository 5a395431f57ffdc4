//! `umod serve --preload LIST`: the modules a boot script's insmod lines
//! would load, loaded by the daemon itself once its socket is set up and
//! before it serves anyone (clients that connect meanwhile wait).
//!
//! The list has one module per line, `PATH [name=value ...]`; `#` starts
//! a comment, blank lines are skipped, and a relative PATH is relative to
//! the list's directory. Words are separated by blanks, so a value can
//! hold neither a blank nor a `#`. The modules are loaded in the listed
//! order on the one-shot path, as root: the list is the daemon's own
//! configuration, named by whoever started it. A module that fails is
//! reported in the daemon's log and in the kernel log
//! (`preload: LIST:LINE: PATH: cause`), and the rest are loaded still; a
//! list that cannot be read stops the start.
//!
//! What the list names runs as the daemon, so the list and every object
//! must belong to root or to the daemon's user and be writable by nobody
//! else (as the socket's directories must, `listen.rs`).

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use umod_host::services::KERN_ERR;
use umod_host::{Caller, Host, LoadOptions};

/// One module of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its line in the list, from 1.
    pub line: usize,
    /// The object, relative paths resolved against the list's directory.
    pub path: PathBuf,
    /// Its parameters, `name=value[,value...]`.
    pub args: Vec<String>,
}

/// A preload list, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreloadList {
    /// The list file, as named.
    pub path: PathBuf,
    /// Its modules, in order.
    pub entries: Vec<Entry>,
}

/// Why the list itself cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the preload list {path}: {why}")]
pub struct ListError {
    /// The list file.
    pub path: PathBuf,
    /// What was wrong.
    pub why: String,
}

impl PreloadList {
    /// Reads and parses the list at `path`.
    pub fn read(path: &Path) -> Result<PreloadList, ListError> {
        let text = read_trusted(path)
            .and_then(|bytes| String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".into()))
            .map_err(|why| ListError {
                path: path.to_path_buf(),
                why,
            })?;
        Ok(PreloadList::parse(path, &text))
    }

    /// Parses `text`, the contents of the list at `path`.
    pub fn parse(path: &Path, text: &str) -> PreloadList {
        let dir = path.parent().unwrap_or(Path::new(""));
        let entries = text
            .lines()
            .enumerate()
            .filter_map(|(i, line)| {
                let mut words = line.split('#').next().unwrap_or("").split_whitespace();
                let object = words.next()?;
                Some(Entry {
                    line: i + 1,
                    path: dir.join(object),
                    args: words.map(str::to_string).collect(),
                })
            })
            .collect();
        PreloadList {
            path: path.to_path_buf(),
            entries,
        }
    }
}

/// Loads the list's modules in order onto `host`; returns the names of
/// those loaded. Each failure is logged and the rest go on.
pub fn load(host: &Host, list: &PreloadList) -> Vec<String> {
    let mut loaded = Vec::new();
    for entry in &list.entries {
        match load_one(host, entry) {
            Ok(name) => {
                tracing::info!(module = %name, "preloaded {}", entry.path.display());
                loaded.push(name);
            }
            Err(cause) => {
                let line = format!(
                    "preload: {}:{}: {}: {cause}",
                    list.path.display(),
                    entry.line,
                    entry.path.display()
                );
                tracing::error!("{line}");
                host.printk(KERN_ERR, &line);
            }
        }
    }
    loaded
}

/// Loads one module, named as insmod names it (its file name up to the
/// first `.`); what went wrong otherwise.
fn load_one(host: &Host, entry: &Entry) -> Result<String, String> {
    let object = read_trusted(&entry.path)?;
    let name = umod_loader::module_name_from_path(&entry.path.to_string_lossy());
    let options = LoadOptions {
        args: entry.args.clone(),
        ..LoadOptions::default()
    };
    host.load_object(&Caller::root(), &name, &object, &options)
        .map_err(|e| e.to_string())?;
    Ok(name)
}

/// The contents of a file the daemon will act on as root: a regular file
/// of root's or the daemon's user's, that nobody else may write.
fn read_trusted(path: &Path) -> Result<Vec<u8>, String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    trusted(&meta, rustix::process::geteuid().as_raw())?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e: io::Error| e.to_string())?;
    Ok(bytes)
}

/// Whether a file with `meta` may be acted on by a daemon running as `me`.
fn trusted(meta: &Metadata, me: u32) -> Result<(), String> {
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.uid() != 0 && meta.uid() != me {
        return Err(format!(
            "belongs to uid {}, neither root nor this daemon's user",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!("writable by other users (mode {mode:04o})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(line: usize, path: &str, args: &[&str]) -> Entry {
        Entry {
            line,
            path: PathBuf::from(path),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn lines_comments_blanks_and_relative_paths() {
        let text = "# boot modules\n\
                    \n\
                    counter.o\n\
                    \t /opt/mods/params.o irq=7 mode=fast  # the card\n\
                    sub/hello.o#no space before the comment\n\
                    \x20  # only a comment\n";
        let list = PreloadList::parse(Path::new("/etc/umod/modules"), text);
        assert_eq!(list.path, Path::new("/etc/umod/modules"));
        assert_eq!(
            list.entries,
            [
                entry(3, "/etc/umod/counter.o", &[]),
                entry(4, "/opt/mods/params.o", &["irq=7", "mode=fast"]),
                entry(5, "/etc/umod/sub/hello.o", &[]),
            ]
        );
    }

    #[test]
    fn a_list_named_without_a_directory_is_relative_to_the_current_one() {
        let list = PreloadList::parse(Path::new("modules"), "hello.o\n");
        assert_eq!(list.entries, [entry(1, "hello.o", &[])]);
    }

    #[test]
    fn an_empty_list_has_no_entries() {
        let list = PreloadList::parse(Path::new("/m"), "\n# nothing\n   \n");
        assert!(list.entries.is_empty());
    }

    #[test]
    fn files_others_may_write_are_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("umod-preload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("list");
        std::fs::write(&file, "hello.o\n").unwrap();
        let me = rustix::process::geteuid().as_raw();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(trusted(&file.metadata().unwrap(), me), Ok(()));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert_eq!(
            trusted(&file.metadata().unwrap(), me),
            Err("writable by other users (mode 0664)".into())
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        // Another user's file: as root, give it away; otherwise look at
        // it as a daemon of another user would.
        let (owner, daemon) = if me == 0 {
            std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
            (65534, 0)
        } else {
            (me, me + 1)
        };
        assert_eq!(
            trusted(&file.metadata().unwrap(), daemon),
            Err(format!(
                "belongs to uid {owner}, neither root nor this daemon's user"
            ))
        );
        assert_eq!(
            trusted(&dir.metadata().unwrap(), me),
            Err("not a regular file".into())
        );
        let e = PreloadList::read(&dir.join("missing")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot use the preload list {}: No such file or directory (os error 2)",
                dir.join("missing").display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
