//! `create_module(name, size)`: reserve window memory for a named entry.

use umod_abi::module::MODULE_HEADER_SIZE;
use umod_abi::{Errno, ModuleHeader, PAGE_SIZE};

use super::get_mod_name;
use crate::state::{ImageFacts, Module, Shared, State};
use umod_abi::user::UserMemory;

/// Runs the checks of spec §2 in order (EPERM was checked by the caller)
/// and returns the new entry's header address.
pub(crate) fn create_module(
    sh: &Shared,
    st: &mut State,
    mem: &dyn UserMemory,
    name_addr: u64,
    size: u64,
) -> Result<u64, Errno> {
    let name = get_mod_name(mem, name_addr)?;
    create_named(sh, st, &name, size, true)
}

/// `create_module` with the name already copied in. Nothing in the block
/// runs yet: legacy callers get it wiped (`init_module` makes it
/// executable once the image is in); the one-shot path fills it completely.
pub(crate) fn create_named(
    sh: &Shared,
    st: &mut State,
    name: &[u8],
    size: u64,
    wipe: bool,
) -> Result<u64, Errno> {
    if name.is_empty() || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    if name.len() >= PAGE_SIZE as usize {
        return Err(Errno::ENAMETOOLONG);
    }
    let name = name.to_vec();
    if size < (MODULE_HEADER_SIZE + name.len() + 1) as u64 {
        return Err(Errno::EINVAL);
    }
    if st.find(sh, &name).is_some() {
        return Err(Errno::EEXIST);
    }
    // 2.4 had no such limit; a daemon serving a whole machine needs one.
    if st.modules.len() >= sh.max_modules {
        return Err(Errno::ENOMEM);
    }
    let block = sh.window.alloc(size, wipe).ok_or(Errno::ENOMEM)?;
    let addr = block.addr();

    let header = ModuleHeader {
        size_of_struct: MODULE_HEADER_SIZE as u64,
        name: addr + MODULE_HEADER_SIZE as u64,
        size,
        ..Default::default()
    };
    let w = sh.window.mapping();
    w.write(addr, &header.encode());
    let mut stored = name.clone();
    stored.push(0);
    w.write(addr + MODULE_HEADER_SIZE as u64, &stored);

    st.last_id += 1;
    let id = st.last_id;
    let slot = st.modules.insert(Module {
        id,
        name,
        block,
        reserved: size,
        image: ImageFacts::default(),
        deps: Vec::new(),
        refs: Vec::new(),
        wx: false,
        busy: false,
        pins: 0,
        sym_keys: Box::new([]),
        can_unload_busy: None,
        kallsyms: None,
        jit: None,
    });
    sh.write_next(st, slot);
    Ok(addr)
}
