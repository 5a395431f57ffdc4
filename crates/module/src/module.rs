//! A module as a Rust value: `init()` builds it (or fails with an errno),
//! dropping it is the cleanup. [`module!`](crate::module!) writes the
//! entry points the host calls.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

use crate::error::Result;

/// What a module is.
pub trait Module: Sized {
    /// Runs at `insmod`: sets the module up, or fails (nothing it made
    /// stays: what it registered is dropped with what it built).
    fn init() -> Result<Self>;
}

/// Where the module's value lives between `init_module` and
/// `cleanup_module`. The host runs those one at a time, never together,
/// and nothing else touches the slot.
pub struct Slot<T>(UnsafeCell<MaybeUninit<T>>);

// SAFETY: the host never runs init_module and cleanup_module at once, and
// they are the slot's only users.
unsafe impl<T> Sync for Slot<T> {}

impl<T: Module> Slot<T> {
    /// An empty slot.
    pub const fn new() -> Slot<T> {
        Slot(UnsafeCell::new(MaybeUninit::uninit()))
    }

    /// `init_module`: builds the value; `-errno` on failure.
    ///
    /// # Safety
    /// Called once, by the generated `init_module`, never while `cleanup`
    /// runs.
    pub unsafe fn init(&self) -> i32 {
        match T::init() {
            Ok(value) => {
                // SAFETY: the caller's promise: nobody else uses the slot now.
                unsafe { (*self.0.get()).write(value) };
                0
            }
            Err(e) => e.to_return(),
        }
    }

    /// `cleanup_module`: drops the value `init` built.
    ///
    /// # Safety
    /// Called once, by the generated `cleanup_module`, after a successful
    /// `init` (the host calls cleanup only for a running module).
    pub unsafe fn cleanup(&self) {
        // SAFETY: the caller's promise: init succeeded and nobody else
        // uses the slot.
        unsafe { (*self.0.get()).assume_init_drop() }
    }
}

impl<T: Module> Default for Slot<T> {
    fn default() -> Self {
        Slot::new()
    }
}

/// Declares the module: its type and its `.modinfo`.
///
/// ```ignore
/// module! {
///     type: Hello,
///     license: "GPL",
///     author: "A. Hacker",
///     description: "Says hello",
/// }
/// ```
///
/// `license` is required (2.4 tainted the kernel for a module without
/// one); `author` and `description` are optional.
#[macro_export]
macro_rules! module {
    (
        type: $ty:ty,
        license: $license:literal
        $(, author: $author:literal)?
        $(, description: $description:literal)?
        $(,)?
    ) => {
        static __UMOD_MODULE: $crate::module::Slot<$ty> = $crate::module::Slot::new();

        /// The host calls this at `insmod`.
        #[no_mangle]
        pub extern "C" fn init_module() -> i32 {
            // SAFETY: the host calls init_module once, before any cleanup.
            unsafe { __UMOD_MODULE.init() }
        }

        /// The host calls this at `rmmod`.
        #[no_mangle]
        pub extern "C" fn cleanup_module() {
            // SAFETY: the host calls cleanup_module once, after a
            // successful init_module.
            unsafe { __UMOD_MODULE.cleanup() }
        }

        $crate::modinfo!(b"license=", $license.as_bytes());
        $($crate::modinfo!(b"author=", $author.as_bytes());)?
        $($crate::modinfo!(b"description=", $description.as_bytes());)?
    };
}
