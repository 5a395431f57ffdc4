//! Whom module code on this thread runs for: the host whose services it
//! calls (`printk`, `add_timer`...) and the module whose code it is. The
//! executor enters a context around every call into module code; the
//! services look it up.

use std::cell::RefCell;
use std::sync::Arc;

use super::Kernel;

/// Who module code on this thread is running for.
#[derive(Clone)]
pub(crate) struct Frame {
    pub kernel: Arc<Kernel>,
    /// Id of the module whose code runs (None for host-owned code).
    pub module: Option<u64>,
}

thread_local! {
    /// Frames of module code running on this thread, innermost last.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// A frame entered; left on drop.
pub(crate) struct Entered(());

/// Enters `frame` for the module code about to run on this thread.
pub(crate) fn enter(frame: Frame) -> Entered {
    FRAMES.with(|f| f.borrow_mut().push(frame));
    Entered(())
}

impl Drop for Entered {
    fn drop(&mut self) {
        FRAMES.with(|f| f.borrow_mut().pop());
    }
}

/// The innermost frame of module code running on this thread, if any.
pub(crate) fn current() -> Option<Frame> {
    FRAMES.with(|f| f.borrow().last().cloned())
}

/// Whether module `id`'s code is running on this thread (perhaps below a
/// host call it made).
pub(crate) fn running(id: u64) -> bool {
    FRAMES.with(|f| f.borrow().iter().any(|fr| fr.module == Some(id)))
}
