//! What can be wrong with a module object, and which errno a load reports.

use umod_abi::Errno;

/// Why an object could not be loaded. Every message names the offending
/// piece of the input (section, symbol, relocation, parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Not an ELF file, or one `object` cannot read.
    #[error("not a valid ELF object: {0}")]
    Malformed(String),
    /// ELF, but not a 64-bit little-endian object.
    #[error("wrong ELF class or byte order: {0} (need ELF64, little endian)")]
    WrongClass(String),
    /// An object for another machine.
    #[error("wrong machine {0} (need EM_X86_64, 62)")]
    WrongMachine(u16),
    /// An archive that does not hold one module object.
    #[error("not a module archive: {0}")]
    Archive(String),
    /// Not a relocatable object.
    #[error("wrong ELF type {0} (need ET_REL, a relocatable object built with -c)")]
    WrongType(u16),
    /// A section header that makes no sense.
    #[error("section {section}: {problem}")]
    BadSection {
        /// Section name or index.
        section: String,
        /// What is wrong.
        problem: String,
    },
    /// A symbol that makes no sense.
    #[error("symbol {symbol}: {problem}")]
    BadSymbol {
        /// Symbol name or index.
        symbol: String,
        /// What is wrong.
        problem: String,
    },
    /// A relocation entry that makes no sense.
    #[error("relocation {index} in {section}: {problem}")]
    BadRelocation {
        /// The section the relocation applies to.
        section: String,
        /// Entry number in its relocation section.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// A relocation type the loader does not implement.
    #[error("relocation type {name} ({r_type}) in {section} is not supported{why}")]
    UnsupportedRelocation {
        /// The section the relocation applies to.
        section: String,
        /// Numeric type.
        r_type: u32,
        /// Symbolic name.
        name: &'static str,
        /// Extra explanation.
        why: &'static str,
    },
    /// A narrowing relocation whose value does not fit its field.
    #[error("relocation {name} against `{symbol}` in {section}+{offset:#x} overflows: value {value:#x} does not fit")]
    Overflow {
        /// Relocation type name.
        name: &'static str,
        /// Symbol name.
        symbol: String,
        /// Target section.
        section: String,
        /// Offset in the section.
        offset: u64,
        /// The value that did not fit.
        value: i128,
    },
    /// Undefined, non-weak symbols no module or the kernel exports (all of
    /// them, in the object's order, as modutils listed them).
    #[error("{}", unresolved_text(.0))]
    Unresolved(Vec<String>),
    /// A GPL-only export used by a module whose license is not GPL-compatible.
    #[error("symbol {symbol} is exported GPL-only and the module's license is {license:?}")]
    GplOnly {
        /// The symbol.
        symbol: String,
        /// The module's license, if any.
        license: Option<String>,
    },
    /// A `name=value` argument that does not match the module's parameters.
    #[error("parameter {name}: {problem}")]
    BadParameter {
        /// Parameter name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The module was built for another kernel release.
    #[error("kernel-module version mismatch: module built for {module}, host is {host} (use -f to force)")]
    VersionMismatch {
        /// Module's kernel_version.
        module: String,
        /// The host's release.
        host: String,
    },
    /// The module is larger than anything the host could hold.
    #[error("module too large: {0} bytes")]
    TooLarge(u64),
    /// A section both writable and executable, which a W^X image cannot
    /// map (Linux's module loader refuses one too).
    #[error("section {0} is both writable and executable: a W^X module cannot map it")]
    WritableCode(String),
}

impl LoadError {
    /// The errno a one-shot load reports for this error (2.6's choices:
    /// ENOEXEC for bad objects, ENOENT for unknown symbols).
    pub fn errno(&self) -> Errno {
        match self {
            LoadError::Unresolved(_) | LoadError::GplOnly { .. } => Errno::ENOENT,
            LoadError::BadParameter { .. } => Errno::EINVAL,
            LoadError::VersionMismatch { .. } => Errno::EINVAL,
            LoadError::TooLarge(_) => Errno::ENOMEM,
            _ => Errno::ENOEXEC,
        }
    }
}

pub(crate) fn bad_section(section: impl Into<String>, problem: impl Into<String>) -> LoadError {
    LoadError::BadSection {
        section: section.into(),
        problem: problem.into(),
    }
}

pub(crate) fn bad_symbol(symbol: impl Into<String>, problem: impl Into<String>) -> LoadError {
    LoadError::BadSymbol {
        symbol: symbol.into(),
        problem: problem.into(),
    }
}

/// "unresolved symbol a", or "unresolved symbols a, b, c"; a symbol the
/// host refuses on purpose is followed by the reason.
fn unresolved_text(names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| crate::refused::explained(n)).collect();
    match names.as_slice() {
        [one] => format!("unresolved symbol {one}"),
        many => format!("unresolved symbols {}", many.join(", ")),
    }
}
