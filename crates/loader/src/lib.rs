//! The umod loader: from an x86_64 ELF relocatable object (`gcc -c`,
//! `ld -r`, `rustc --emit=obj`) to a relocated Linux 2.4 module image.
//!
//! One file per pipeline stage: [`elf`] reads and validates the object,
//! [`modinfo`] decodes `.modinfo`, [`resolve`] binds undefined symbols to
//! what the host exports ([`symbols`]), [`params`] turns `name=value`
//! arguments into stores, [`layout`] places everything, [`x86_64`] holds
//! the relocation arithmetic, and [`link`] puts it together for a base
//! address. [`insmod`] drives the 2.4 load sequence over any
//! [`insmod::ModuleCalls`] implementation; the module kit's compiler flags
//! come from [`kit`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::cast_possible_truncation)]
#![cfg_attr(test, allow(clippy::cast_possible_truncation))]

pub mod archive;
pub mod elf;
pub mod error;
pub mod insmod;
pub mod kit;
pub mod layout;
pub mod link;
pub mod modinfo;
pub mod params;
pub mod refused;
pub mod resolve;
pub mod symbols;
pub mod x86_64;

pub use error::LoadError;
pub use link::{Image, LinkOptions, LoadMap, MapEntry, Plan, Workspace};
pub use modinfo::ModInfo;
pub use symbols::SymbolSource;

use elf::{Object, Place};

/// A parsed module object: the validated ELF, its `.modinfo` and its name.
#[derive(Clone, Debug)]
pub struct ModuleObject<'data> {
    /// Module name (file name up to the first `.`, unless overridden).
    pub name: String,
    /// The validated object.
    pub object: Object<'data>,
    /// Its `.modinfo`.
    pub modinfo: ModInfo,
}

impl<'data> ModuleObject<'data> {
    /// Parses `data` as the module `name`: a relocatable object, or an
    /// archive holding one (a Rust module's `staticlib`, see [`archive`]).
    pub fn parse(name: &str, data: &'data [u8]) -> Result<ModuleObject<'data>, LoadError> {
        let data = match archive::is_archive(data) {
            true => archive::module_member(data)?,
            false => data,
        };
        let object = Object::parse(data)?;
        // Compilers may emit several `.modinfo` sections (rustc: one per
        // static); together they are the module's information.
        let mut info = Vec::new();
        for s in object.sections.iter().filter(|s| s.name == ".modinfo") {
            info.extend_from_slice(s.data);
            info.push(0);
        }
        let modinfo = ModInfo::parse(&info)?;
        Ok(ModuleObject {
            name: name.to_string(),
            object,
            modinfo,
        })
    }

    /// Resolves, lays out and plans the module against `symbols`.
    pub fn plan(
        &'data self,
        symbols: &SymbolSource,
        args: &[String],
        options: &LinkOptions,
    ) -> Result<Plan<'data>, LoadError> {
        self.plan_in(symbols, args, options, Workspace::default())
    }

    /// [`ModuleObject::plan`] in the buffers of `ws`.
    pub fn plan_in(
        &'data self,
        symbols: &SymbolSource,
        args: &[String],
        options: &LinkOptions,
        ws: Workspace,
    ) -> Result<Plan<'data>, LoadError> {
        Plan::new(
            &self.object,
            &self.name,
            &self.modinfo,
            symbols,
            args,
            options,
            ws,
        )
    }

    /// Names of every symbol the module needs from the host, weak ones
    /// included: what a resolution request asks for.
    pub fn wanted_symbols(&self) -> Vec<&'data [u8]> {
        self.object
            .symbols
            .iter()
            .skip(1)
            .filter(|s| s.place == Place::Undefined && !s.name.is_empty())
            .filter(|s| s.name != resolve::THIS_MODULE && s.name != resolve::GLOBAL_OFFSET_TABLE)
            .map(|s| s.name)
            .collect()
    }

    /// Names of the undefined, non-weak symbols (what `modinfo` and
    /// `depmod` match against other modules' exports).
    pub fn undefined_symbols(&self) -> Vec<String> {
        self.object
            .symbols
            .iter()
            .skip(1)
            .filter(|s| s.place == Place::Undefined && !s.name.is_empty() && !s.is_weak())
            .filter(|s| s.name != resolve::THIS_MODULE && s.name != resolve::GLOBAL_OFFSET_TABLE)
            .map(|s| s.display_name())
            .collect()
    }

    /// Names this module exports (its `__ksymtab` names, or every global
    /// of a loaded section when it has none).
    pub fn exported_symbols(&self) -> Vec<String> {
        match layout::export_table(&self.object) {
            layout::ExportTable::Nothing => Vec::new(),
            layout::ExportTable::AllGlobals => layout::default_exports(&self.object)
                .into_iter()
                .map(|i| self.object.symbols[i].display_name())
                .collect(),
            layout::ExportTable::Sections(pieces) => match self.object.section_index(".kstrtab") {
                Some(k) => self.object.sections[k]
                    .data
                    .split(|&b| b == 0)
                    .filter(|n| !n.is_empty())
                    .map(|n| {
                        let n = n.strip_prefix(symbols::GPL_ONLY_PREFIX).unwrap_or(n);
                        String::from_utf8_lossy(n).into_owned()
                    })
                    .collect(),
                // No string section (rustc keeps each name apart): what
                // each entry's value points at.
                None => self
                    .object
                    .relocations
                    .iter()
                    .filter(|r| pieces.contains(&r.target))
                    .flat_map(|r| r.entries())
                    .filter(|e| e.offset % 16 == 0)
                    .filter_map(|e| self.object.symbols.get(e.sym as usize))
                    .map(|s| s.display_name())
                    .collect(),
            },
        }
    }
}

/// The module name for an object file: its file name up to the first `.`
/// (`/lib/modules/hello.o` → `hello`); for a Rust module's static library,
/// without cargo's `lib` prefix (`target/release/libhello.a` → `hello`).
pub fn module_name_from_path(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let file = match file.strip_suffix(".a") {
        Some(stem) => stem.strip_prefix("lib").unwrap_or(stem),
        None => file,
    };
    file.split('.').next().unwrap_or(file).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_from_paths() {
        assert_eq!(super::module_name_from_path("/a/b/hello.o"), "hello");
        assert_eq!(super::module_name_from_path("multi.part.o"), "multi");
        assert_eq!(
            super::module_name_from_path("target/release/libhello.a"),
            "hello"
        );
        assert_eq!(super::module_name_from_path("other.a"), "other");
        assert_eq!(super::module_name_from_path("plain"), "plain");
    }
}
