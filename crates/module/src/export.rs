//! Exports: `export!(name)` puts a function or static in `__ksymtab`, as
//! `EXPORT_SYMBOL(name)` did, for other modules to link against (2.4
//! exported every global of a module that has no `__ksymtab`; with one,
//! only what it lists). The exported item must have its plain name:
//! `#[no_mangle] pub extern "C" fn` or `#[no_mangle] pub static`.
//!
//! Another module's exports, C or Rust, are plain `extern "C"`
//! declarations; the loader resolves them and records the dependency, so
//! the exporter cannot be removed while this module uses it.

// Every module built with this crate has a `__ksymtab`, empty unless it
// uses `export!`: a Rust module exports what it says, not every global
// the compiler left (2.4 exported all globals of a module without one).
core::arch::global_asm!(".section __ksymtab,\"a\"", ".previous");

/// `struct module_symbol`: a value and the address of its name.
#[repr(C)]
#[derive(Debug)]
pub struct ModuleSymbol {
    /// The symbol's address.
    pub value: *const (),
    /// Its NUL-terminated name.
    pub name: *const u8,
}

// SAFETY: plain addresses, never written after the loader relocated them.
unsafe impl Sync for ModuleSymbol {}

/// `EXPORT_SYMBOL(name)`: `export!(fn name)` for a `#[no_mangle]`
/// function, `export!(static name)` for a `#[no_mangle]` static.
#[macro_export]
macro_rules! export {
    (fn $name:ident) => {
        $crate::export!(@entry $name, $name as *const ());
    };
    (static $name:ident) => {
        $crate::export!(@entry $name, &raw const $name as *const ());
    };
    (@entry $name:ident, $value:expr) => {
        const _: () = {
            static NAME: &str = concat!(stringify!($name), "\0");
            #[used]
            #[link_section = "__ksymtab"]
            static ENTRY: $crate::export::ModuleSymbol = $crate::export::ModuleSymbol {
                value: $value,
                name: NAME.as_ptr(),
            };
        };
    };
}
