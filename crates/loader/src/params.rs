//! Module parameters: `name=value[,value...]` arguments, checked against
//! the types the module declared with `MODULE_PARM`, turned into bytes to
//! write into the variable after relocation.

use crate::elf::{Object, Place};
use crate::error::LoadError;
use crate::modinfo::{ModInfo, ParamType};
use umod_abi::usize_of;

/// One store into a parameter variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamWrite {
    /// Literal bytes at (section, offset).
    Bytes {
        /// Section index of the variable.
        section: usize,
        /// Offset in the section.
        offset: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A pointer to string number `string` (placed by the layout) at
    /// (section, offset).
    StringPointer {
        /// Section index of the variable.
        section: usize,
        /// Offset in the section.
        offset: u64,
        /// Index into [`ParamPlan::strings`].
        string: usize,
    },
}

/// Every store the arguments ask for, and the strings they need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamPlan {
    /// Stores, in argument order.
    pub writes: Vec<ParamWrite>,
    /// NUL-less string values to place in the image (`s` parameters).
    pub strings: Vec<Vec<u8>>,
}

fn bad(name: &str, problem: impl Into<String>) -> LoadError {
    LoadError::BadParameter {
        name: name.to_string(),
        problem: problem.into(),
    }
}

/// Parses a number the way `simple_strtoul(value, NULL, 0)` reads it
/// (decimal, `0x` hex, leading-0 octal), with an optional sign.
fn parse_number(text: &str) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let v = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Builds the stores for `args` (`name=value[,value...]`).
pub fn plan(
    object: &Object<'_>,
    modinfo: &ModInfo,
    args: &[String],
) -> Result<ParamPlan, LoadError> {
    let mut out = ParamPlan::default();
    for arg in args {
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| bad(arg, "expected name=value"))?;
        let spec = modinfo.param(name).ok_or_else(|| {
            bad(
                name,
                "unknown parameter (the module declares no such MODULE_PARM)",
            )
        })?;
        let sym = object.find_symbol(name.as_bytes()).ok_or_else(|| {
            bad(
                name,
                "declared, but the module has no variable of that name",
            )
        })?;
        let sym = &object.symbols[sym];
        let Place::Section(section) = sym.place else {
            return Err(bad(name, "the variable is not in a loaded section"));
        };
        let values: Vec<&str> = value.split(',').collect();
        // More values than a u32 counts are more than any parameter takes.
        let count = u32::try_from(values.len()).unwrap_or(u32::MAX);
        if count < spec.min || count > spec.max {
            return Err(bad(
                name,
                format!(
                    "{count} value(s) given, the module takes {}-{}",
                    spec.min, spec.max
                ),
            ));
        }
        let elem = spec.ty.element_size();
        let needed = elem * u64::from(spec.max);
        let end = sym.value.checked_add(needed);
        if end.is_none_or(|e| e > object.sections[section].size) {
            return Err(bad(name, "the variable is smaller than its declared type"));
        }
        for (k, v) in values.iter().enumerate() {
            let offset = sym.value + elem * k as u64;
            let write = match spec.ty {
                ParamType::String => {
                    out.strings.push(v.as_bytes().to_vec());
                    ParamWrite::StringPointer {
                        section,
                        offset,
                        string: out.strings.len() - 1,
                    }
                }
                ParamType::CharArray(n) => {
                    if v.len() >= n as usize {
                        return Err(bad(
                            name,
                            format!("string `{v}` is too long (at most {} characters)", n - 1),
                        ));
                    }
                    let mut bytes = v.as_bytes().to_vec();
                    bytes.resize(n as usize, 0);
                    ParamWrite::Bytes {
                        section,
                        offset,
                        bytes,
                    }
                }
                ty => {
                    let n = parse_number(v)
                        .ok_or_else(|| bad(name, format!("`{v}` is not a number")))?;
                    let bits = u32::try_from(elem * 8).expect("elements of at most 8 bytes");
                    let (lo, hi) = (-(1i128 << (bits - 1)), (1i128 << bits) - 1);
                    if n < lo || n > hi {
                        return Err(bad(name, format!("{v} does not fit a {}", ty.describe())));
                    }
                    // In range, so its two's complement fits 64 bits.
                    let raw = n.to_le_bytes();
                    let bytes = raw[..usize_of(elem)].to_vec();
                    ParamWrite::Bytes {
                        section,
                        offset,
                        bytes,
                    }
                }
            };
            out.writes.push(write);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn numbers_like_simple_strtoul() {
        assert_eq!(parse_number("42"), Some(42));
        assert_eq!(parse_number("0x1F"), Some(31));
        assert_eq!(parse_number("010"), Some(8));
        assert_eq!(parse_number("-3"), Some(-3));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("12a"), None);
        assert_eq!(parse_number(""), None);
    }
}
