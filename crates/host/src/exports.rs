//! The kernel's own symbol table (`__ksymtab` of the pseudo-module "").
//!
//! Every exported address lies inside the module window: a function is
//! reached through a thunk in the kernel area (`jmp *slot(%rip)`), data is
//! allocated in the kernel data area. So no relocation from a module to the
//! host can overflow, whatever code model the module was built with.

use std::collections::HashMap;

use umod_loader::symbols::GPL_ONLY_PREFIX;

use crate::window::{Window, KERNEL_DATA_BYTES, THUNK_COUNT};

/// One exported kernel symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelSymbol {
    /// Name as modules see it (`GPLONLY_` prefix for GPL-only exports).
    pub name: Vec<u8>,
    /// Address inside the window.
    pub value: u64,
}

/// Why an export was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    /// The name is empty or holds a NUL byte.
    #[error("invalid symbol name {0:?}")]
    BadName(String),
    /// A symbol of that name is already exported.
    #[error("symbol `{0}` is already exported")]
    Duplicate(String),
    /// All export thunks are taken.
    #[error("no export thunk left (the kernel area holds {THUNK_COUNT})")]
    NoThunk,
    /// The kernel data area cannot hold the object.
    #[error("no room for {0} bytes of kernel data (the kernel area holds {KERNEL_DATA_BYTES})")]
    NoData(u64),
    /// Module code called back into the host while it held its lock.
    #[error("export requested from module code while the host is busy (EDEADLK)")]
    Busy,
}

/// The kernel export table and the kernel area's allocation state.
#[derive(Debug, Default)]
pub(crate) struct ExportTable {
    symbols: Vec<KernelSymbol>,
    by_name: HashMap<Vec<u8>, usize>,
    /// The `GPLONLY_` exports by their name without the prefix.
    gpl_only: HashMap<Vec<u8>, usize>,
    thunks_used: u64,
    data_used: u64,
}

impl ExportTable {
    fn check_name(&self, name: &[u8]) -> Result<(), ExportError> {
        let shown = || String::from_utf8_lossy(name).into_owned();
        if name.is_empty() || name.contains(&0) {
            return Err(ExportError::BadName(shown()));
        }
        if self.by_name.contains_key(name) {
            return Err(ExportError::Duplicate(shown()));
        }
        Ok(())
    }

    fn push(&mut self, name: Vec<u8>, value: u64) {
        if let Some(plain) = name.strip_prefix(GPL_ONLY_PREFIX) {
            self.gpl_only.insert(plain.to_vec(), self.symbols.len());
        }
        self.by_name.insert(name.clone(), self.symbols.len());
        self.symbols.push(KernelSymbol { name, value });
    }

    /// Exports a function at `target` (any address) through a new thunk;
    /// returns the thunk's address, the symbol's value.
    pub fn export_function(
        &mut self,
        window: &Window,
        name: &[u8],
        target: u64,
    ) -> Result<u64, ExportError> {
        self.check_name(name)?;
        if self.thunks_used == THUNK_COUNT {
            return Err(ExportError::NoThunk);
        }
        let i = self.thunks_used;
        window
            .mapping()
            .write(window.thunk_slot(i), &target.to_le_bytes());
        self.thunks_used += 1;
        let value = window.thunk_addr(i);
        self.push(name.to_vec(), value);
        Ok(value)
    }

    /// Takes `size` zeroed bytes of the kernel data area for the host's own
    /// use (not exported); returns their address.
    pub fn reserve_data(
        &mut self,
        window: &Window,
        size: u64,
        align: u64,
    ) -> Result<u64, ExportError> {
        let align = align.clamp(1, 4096).next_power_of_two();
        let start = self.data_used.div_ceil(align) * align;
        let end = start
            .checked_add(size)
            .filter(|&e| e <= KERNEL_DATA_BYTES)
            .ok_or(ExportError::NoData(size))?;
        self.data_used = end;
        Ok(window.kernel_data_base() + start)
    }

    /// Exports `size` zeroed bytes of data aligned to `align`; returns
    /// their address.
    pub fn export_data(
        &mut self,
        window: &Window,
        name: &[u8],
        size: u64,
        align: u64,
    ) -> Result<u64, ExportError> {
        self.check_name(name)?;
        let value = self.reserve_data(window, size, align)?;
        self.push(name.to_vec(), value);
        Ok(value)
    }

    /// The exported symbols in export order.
    pub fn symbols(&self) -> &[KernelSymbol] {
        &self.symbols
    }

    /// Looks a symbol up by name.
    pub fn lookup(&self, name: &[u8]) -> Option<u64> {
        self.by_name.get(name).map(|&i| self.symbols[i].value)
    }

    /// The export a module linking against `name` gets, as insmod found
    /// it: the symbol of that name, or its GPL-only twin `GPLONLY_name`,
    /// whichever was exported first. (value, GPL-only.)
    pub fn resolve(&self, name: &[u8]) -> Option<(u64, bool)> {
        let plain = self.by_name.get(name).map(|&i| (i, false));
        let gpl = self.gpl_only.get(name).map(|&i| (i, true));
        let (i, gpl_only) = match (plain, gpl) {
            (Some(p), Some(g)) => p.min(g),
            (p, g) => p.or(g)?,
        };
        Some((self.symbols[i].value, gpl_only))
    }
}
