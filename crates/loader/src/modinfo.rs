//! `.modinfo`: the NUL-separated `key=value` strings a module carries
//! (license, author, description, kernel_version, parameter types and
//! descriptions), and the 2.4 parameter type syntax.

use crate::error::LoadError;

/// The element type of a module parameter (`MODULE_PARM(var, type)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `b`: one byte.
    Byte,
    /// `h`: a short.
    Short,
    /// `i`: an int.
    Int,
    /// `l`: a long.
    Long,
    /// `s`: a `char *` to a string the loader places in the image.
    String,
    /// `c<N>`: a `char[N]` filled in place.
    CharArray(u32),
}

impl ParamType {
    /// Bytes one element occupies in the variable.
    pub fn element_size(self) -> u64 {
        match self {
            ParamType::Byte => 1,
            ParamType::Short => 2,
            ParamType::Int => 4,
            ParamType::Long | ParamType::String => 8,
            ParamType::CharArray(n) => u64::from(n),
        }
    }

    /// A word for messages and `modinfo`.
    pub fn describe(self) -> String {
        match self {
            ParamType::Byte => "byte".into(),
            ParamType::Short => "short".into(),
            ParamType::Int => "int".into(),
            ParamType::Long => "long".into(),
            ParamType::String => "string".into(),
            ParamType::CharArray(n) => format!("string (char[{n}])"),
        }
    }
}

/// One declared parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Variable name.
    pub name: String,
    /// Element type.
    pub ty: ParamType,
    /// Fewest values accepted.
    pub min: u32,
    /// Most values accepted (the array length).
    pub max: u32,
    /// The raw type string (`"1-4i"`).
    pub raw: String,
    /// `MODULE_PARM_DESC`, if any.
    pub description: Option<String>,
}

/// The decoded `.modinfo` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// Every `key=value` in order.
    pub entries: Vec<(String, String)>,
    /// Declared parameters, in declaration order.
    pub params: Vec<ParamSpec>,
}

impl ModInfo {
    /// Parses the section bytes; malformed parameter types are errors.
    pub fn parse(bytes: &[u8]) -> Result<ModInfo, LoadError> {
        let mut info = ModInfo::default();
        for raw in bytes.split(|&b| b == 0).filter(|s| !s.is_empty()) {
            let text = String::from_utf8_lossy(raw);
            let (key, value) = text.split_once('=').unwrap_or((&text, ""));
            info.entries.push((key.to_string(), value.to_string()));
        }
        for (key, value) in &info.entries {
            if let Some(name) = key.strip_prefix("parm_") {
                if name.starts_with("desc_") {
                    continue;
                }
                let (min, max, ty) =
                    parse_param_type(value).ok_or_else(|| LoadError::BadParameter {
                        name: name.to_string(),
                        problem: format!("bad type `{value}` in .modinfo"),
                    })?;
                info.params.push(ParamSpec {
                    name: name.to_string(),
                    ty,
                    min,
                    max,
                    raw: value.clone(),
                    description: None,
                });
            }
        }
        for (key, value) in &info.entries {
            if let Some(name) = key.strip_prefix("parm_desc_") {
                if let Some(p) = info.params.iter_mut().find(|p| p.name == name) {
                    p.description = Some(value.clone());
                }
            }
        }
        Ok(info)
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `license=`.
    pub fn license(&self) -> Option<&str> {
        self.get("license")
    }

    /// Whether the license lets the module use GPL-only exports (the list
    /// 2.4's `license_is_gpl_compatible` accepts).
    pub fn is_gpl_compatible(&self) -> bool {
        matches!(
            self.license(),
            Some(
                "GPL"
                    | "GPL v2"
                    | "GPL and additional rights"
                    | "Dual BSD/GPL"
                    | "Dual MPL/GPL"
                    | "Dual MIT/GPL"
            )
        )
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// `[min[-max]]{b,h,i,l,s,c<N>}` → (min, max, type).
pub fn parse_param_type(s: &str) -> Option<(u32, u32, ParamType)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (min, rest) = if digits > 0 {
        (s[..digits].parse::<u32>().ok()?, &s[digits..])
    } else {
        (1, s)
    };
    let (max, rest) = match rest.strip_prefix('-') {
        Some(r) => {
            let d = r.bytes().take_while(u8::is_ascii_digit).count();
            (r[..d].parse::<u32>().ok()?, &r[d..])
        }
        None if digits > 0 => (min, rest),
        None => (1, rest),
    };
    let ty = match rest {
        "b" => ParamType::Byte,
        "h" => ParamType::Short,
        "i" => ParamType::Int,
        "l" => ParamType::Long,
        "s" => ParamType::String,
        c if c.starts_with('c') => {
            let n: u32 = c[1..].parse().ok()?;
            if n == 0 {
                return None;
            }
            ParamType::CharArray(n)
        }
        _ => return None,
    };
    (min <= max && max > 0 && max <= 4096).then_some((min, max, ty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_types() {
        assert_eq!(parse_param_type("i"), Some((1, 1, ParamType::Int)));
        assert_eq!(parse_param_type("1-4i"), Some((1, 4, ParamType::Int)));
        assert_eq!(parse_param_type("2l"), Some((2, 2, ParamType::Long)));
        assert_eq!(
            parse_param_type("c20"),
            Some((1, 1, ParamType::CharArray(20)))
        );
        assert_eq!(parse_param_type("0-3s"), Some((0, 3, ParamType::String)));
        for bad in ["", "x", "4-1i", "c", "c0", "1-i", "i2"] {
            assert_eq!(parse_param_type(bad), None, "{bad}");
        }
    }

    #[test]
    fn entries_params_and_descriptions() {
        let info = ModInfo::parse(b"license=GPL\0author=Ann\0parm_irq=1-4i\0parm_desc_irq=IRQ lines\0\0kernel_version=2.4.32\0").unwrap();
        assert_eq!(info.license(), Some("GPL"));
        assert!(info.is_gpl_compatible());
        assert_eq!(info.get("kernel_version"), Some("2.4.32"));
        let irq = info.param("irq").unwrap();
        assert_eq!((irq.min, irq.max, irq.ty), (1, 4, ParamType::Int));
        assert_eq!(irq.description.as_deref(), Some("IRQ lines"));
        assert!(ModInfo::parse(b"parm_x=zz\0").is_err());
    }
}
