//! Static archives (`ar`): how a Rust module arrives. Built as a
//! `staticlib` with fat LTO and one codegen unit (the profile `umod new
//! --rust` writes), a crate's archive holds one object with all of its
//! code, the standard library's included, next to `compiler_builtins`'s
//! objects, whose routines the host exports. That object, the one member
//! that defines `init_module` or `cleanup_module`, is the module.

use object::read::archive::ArchiveFile;

use crate::error::LoadError;

/// The magic of a System V / GNU archive.
pub const MAGIC: &[u8] = b"!<arch>\n";

/// Whether `data` is an archive.
pub fn is_archive(data: &[u8]) -> bool {
    data.starts_with(MAGIC)
}

/// Names whose definition marks the module's object.
const ENTRY_POINTS: [&[u8]; 2] = [b"init_module", b"cleanup_module"];

fn bad(why: impl Into<String>) -> LoadError {
    LoadError::Archive(why.into())
}

/// The bytes of the archive member that is the module: the one object
/// that defines `init_module` or `cleanup_module`, found through the
/// archive's symbol index.
pub fn module_member(data: &[u8]) -> Result<&[u8], LoadError> {
    let archive = ArchiveFile::parse(data).map_err(|e| bad(e.to_string()))?;
    if archive.is_thin() {
        return Err(bad(
            "a thin archive names its members' files instead of holding them",
        ));
    }
    let symbols = archive
        .symbols()
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("it has no symbol index (run ranlib on it)"))?;
    let mut offsets = Vec::new();
    for symbol in symbols {
        let symbol = symbol.map_err(|e| bad(e.to_string()))?;
        if ENTRY_POINTS.contains(&symbol.name()) && !offsets.contains(&symbol.offset().0) {
            offsets.push(symbol.offset().0);
        }
    }
    match offsets.as_slice() {
        [] => Err(bad("no member defines init_module or cleanup_module")),
        [one] => {
            let member = archive
                .member(object::read::archive::ArchiveOffset(*one))
                .map_err(|e| bad(e.to_string()))?;
            member.data(data).map_err(|e| bad(e.to_string()))
        }
        many => Err(bad(format!(
            "{} members define init_module or cleanup_module: build the crate with \
             lto = \"fat\" and codegen-units = 1 (as the profile umod new --rust writes does), \
             so that one object holds the module",
            many.len()
        ))),
    }
}
