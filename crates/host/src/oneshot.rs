//! The one-shot load (2.6 style): the host receives the object bytes and
//! runs the loader itself, atomically. On any failure nothing remains:
//! no list entry, no window bytes, no refs, no registrations of a failed
//! init. The image is mapped W^X: code read-execute, constants read-only,
//! data read-write.

use umod_abi::ModuleHeader;
use umod_abi::{Errno, UTS_RELEASE};
use umod_loader::layout::Segment;
use umod_loader::{LinkOptions, LoadError, LoadMap, ModuleObject, Plan};

use crate::caller::Caller;
use crate::calls::{self, gate};
use crate::host::Host;
use crate::services::{TAINT_FORCED_MODULE, TAINT_PROPRIETARY_MODULE};
use crate::state::{Shared, StateGuard};
use crate::wx;

/// How to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `name=value` parameter arguments.
    pub args: Vec<String>,
    /// Set `MOD_AUTOCLEAN` (`insmod -k`).
    pub autoclean: bool,
    /// Export nothing unless the module has a `__ksymtab` (`insmod -x`).
    pub no_default_exports: bool,
    /// Ignore a `kernel_version` that differs from the host's (`insmod -f`).
    pub force: bool,
    /// Also return the load map (`insmod -m`).
    pub map: bool,
}

/// Why a one-shot load failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OneShotError {
    /// The object could not be linked.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// A module call refused it (EPERM, EEXIST, ENOMEM, init's errno...).
    #[error("{call}: {errno}")]
    Call {
        /// The step that failed.
        call: &'static str,
        /// Its errno.
        errno: Errno,
    },
}

impl OneShotError {
    /// The errno to report.
    pub fn errno(&self) -> Errno {
        match self {
            OneShotError::Load(e) => e.errno(),
            OneShotError::Call { errno, .. } => *errno,
        }
    }
}

/// What the one-shot path built in the block.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    /// The header as written.
    pub header: ModuleHeader,
    /// Ranges and their protection, relative to the base.
    pub segments: Vec<Segment>,
    /// Number of relocations applied.
    pub relocations: usize,
}

/// A module the one-shot path loaded.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Header address.
    pub addr: u64,
    /// The image as built in place.
    pub image: LoadedImage,
    /// Where its sections and symbols went, when asked for.
    pub map: Option<LoadMap>,
}

fn call(call: &'static str) -> impl Fn(Errno) -> OneShotError {
    move |errno| OneShotError::Call { call, errno }
}

impl Host {
    /// Loads the relocatable object `object` as module `name` in one step.
    pub fn load_object(
        &self,
        caller: &Caller,
        name: &str,
        object: &[u8],
        options: &LoadOptions,
    ) -> Result<Loaded, OneShotError> {
        let sh = self.shared();
        gate(sh.personality, caller, true, true).map_err(call("load"))?;
        let module = ModuleObject::parse(name, object)?;
        let mut taint = 0;
        if !module.modinfo.is_gpl_compatible() {
            taint |= TAINT_PROPRIETARY_MODULE;
        }
        if let Some(v) = module.modinfo.get("kernel_version") {
            if v != UTS_RELEASE && options.force {
                taint |= TAINT_FORCED_MODULE;
            }
            if v != UTS_RELEASE && !options.force {
                return Err(LoadError::VersionMismatch {
                    module: v.to_string(),
                    host: UTS_RELEASE.to_string(),
                }
                .into());
            }
        }
        let mut st = sh.lock().map_err(call("load"))?;
        let source = crate::resolve::source_for(sh, &st, &module.wanted_symbols());
        let link = LinkOptions {
            autoclean: options.autoclean,
            no_default_exports: options.no_default_exports,
            wx: true,
        };
        let workspace = std::mem::take(&mut st.workspace);
        let plan = module.plan_in(&source, &options.args, &link, workspace)?;
        let loaded = place(sh, &mut st, name, &plan, options);
        st.workspace = plan.into_workspace();
        if loaded.is_ok() {
            // As 2.4's insmod did through /proc/sys/kernel/tainted.
            sh.kernel.add_taint(taint);
        }
        loaded
    }
}

/// Creates the entry for `plan`, relocates it in place, protects it and
/// runs its init; on any failure the entry is gone again.
fn place(
    sh: &Shared,
    st: &mut StateGuard<'_>,
    name: &str,
    plan: &Plan<'_>,
    options: &LoadOptions,
) -> Result<Loaded, OneShotError> {
    let addr = calls::create::create_named(sh, st, name.as_bytes(), plan.size(), false)
        .map_err(call("create_module"))?;
    let undo = |st: &mut StateGuard<'_>| {
        if let Some(i) = st.index_of_addr(addr) {
            let id = st.modules[i].id;
            calls::delete::free_module(sh, st, id, false);
        }
    };
    // Relocate straight into the block: no copy of the image anywhere.
    let idx = st.index_of_addr(addr).expect("just created");
    let block_size = st.modules[idx].block.size();
    // SAFETY: the block was handed to this load just now, under the big
    // lock it still holds: no module code runs in it, nothing else touches
    // it.
    let relocated = unsafe {
        sh.window
            .mapping()
            .with_bytes_mut(addr, block_size, |block| {
                let (image, tail) = block.split_at_mut(plan.size() as usize);
                tail.fill(0);
                plan.relocate_into(image, addr)
            })
    };
    let (header, relocations) = match relocated {
        Ok(done) => done,
        Err(e) => {
            undo(st);
            return Err(e.into());
        }
    };
    let id = match calls::init::prepare_in_place(sh, st, idx) {
        Ok(id) => id,
        Err(errno) => {
            undo(st);
            return Err(OneShotError::Call {
                call: "init_module",
                errno,
            });
        }
    };
    let image = LoadedImage {
        header,
        segments: plan.layout().segments.clone(),
        relocations,
    };
    let idx = st.index_of_id(id).expect("prepared entry");
    if let Err(errno) = wx::protect(sh, st, idx, &image.segments) {
        undo(st);
        return Err(OneShotError::Call {
            call: "mprotect",
            errno,
        });
    }
    // The host has the object: a debugger gets its DWARF too.
    let dwarf = match sh.gdb_jit {
        true => plan.debug_sections(addr),
        false => Vec::new(),
    };
    crate::debug::loaded(sh, st, idx, &dwarf);
    if let Err(errno) = calls::init::run_init(sh, st, id) {
        undo(st);
        return Err(OneShotError::Call {
            call: "init",
            errno,
        });
    }
    let map = options.map.then(|| plan.load_map(addr));
    Ok(Loaded { addr, image, map })
}
