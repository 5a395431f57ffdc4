//! The protection each page of the module area has now, so that changing
//! a range costs a system call only when some page in it differs.
//!
//! An `mprotect` costs microseconds here (a TLB flush on every CPU the host
//! ran on), far more than loading a small module's relocations; a module
//! placed where the last one of its size was finds its pages already in the
//! wanted state and changes nothing.

use std::io;

use super::Protection;

/// One entry per page; `None` when a failed change left it unknown.
#[derive(Debug)]
pub struct PageStates {
    pages: Vec<Option<Protection>>,
}

impl PageStates {
    /// `count` pages, all inaccessible (as a fresh reservation).
    pub fn new(count: u64) -> PageStates {
        PageStates {
            pages: vec![Some(Protection::None); count as usize],
        }
    }

    /// Gives pages `[first, first + count)` protection `prot`, calling
    /// `change(first, count, prot)` at most once: over the span from the
    /// first page that differs to the last. On failure that span is marked
    /// unknown (the system may have changed part of it), so the next
    /// request over it changes it again.
    ///
    /// # Panics
    /// When the range lies outside the area: a host bug, never input.
    pub fn set(
        &mut self,
        first: u64,
        count: u64,
        prot: Protection,
        change: impl FnOnce(u64, u64, Protection) -> io::Result<()>,
    ) -> io::Result<()> {
        let range = &mut self.pages[first as usize..(first + count) as usize];
        let Some(lo) = range.iter().position(|&p| p != Some(prot)) else {
            return Ok(());
        };
        let hi = range.iter().rposition(|&p| p != Some(prot)).expect("lo");
        let span = &mut range[lo..=hi];
        match change(first + lo as u64, span.len() as u64, prot) {
            Ok(()) => {
                span.fill(Some(prot));
                Ok(())
            }
            Err(e) => {
                span.fill(None);
                Err(e)
            }
        }
    }

    /// Pages `[first, first + count)` as runs of equal recorded
    /// protection: `(first page, count, protection)`, in order.
    pub fn runs(&self, first: u64, count: u64) -> Vec<(u64, u64, Option<Protection>)> {
        let range = &self.pages[first as usize..(first + count) as usize];
        let mut at = first;
        range
            .chunk_by(|a, b| a == b)
            .map(|run| {
                let r = (at, run.len() as u64, run[0]);
                at += run.len() as u64;
                r
            })
            .collect()
    }

    /// The recorded protection of page `page` (`None`: unknown).
    #[cfg(test)]
    pub fn get(&self, page: u64) -> Option<Protection> {
        self.pages[page as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a change and returns the calls it made.
    fn set(s: &mut PageStates, first: u64, count: u64, prot: Protection) -> Vec<(u64, u64)> {
        let mut calls = Vec::new();
        s.set(first, count, prot, |f, c, _| {
            calls.push((f, c));
            Ok(())
        })
        .unwrap();
        calls
    }

    #[test]
    fn only_the_differing_span_is_changed_and_only_once() {
        let mut s = PageStates::new(8);
        assert_eq!(set(&mut s, 0, 3, Protection::ReadWrite), vec![(0, 3)]);
        assert_eq!(set(&mut s, 0, 3, Protection::ReadWrite), vec![], "no-op");
        assert_eq!(set(&mut s, 1, 1, Protection::ReadExec), vec![(1, 1)]);
        // Pages 0 and 2 already read-write: one call over 1..2 only.
        assert_eq!(set(&mut s, 0, 3, Protection::ReadWrite), vec![(1, 1)]);
        assert_eq!(set(&mut s, 0, 1, Protection::Read), vec![(0, 1)]);
        assert_eq!(set(&mut s, 2, 1, Protection::ReadExec), vec![(2, 1)]);
        // Differing pages 0 and 2 around a matching one: one call over all three.
        assert_eq!(set(&mut s, 0, 4, Protection::ReadWrite), vec![(0, 4)]);
        assert_eq!(s.get(3), Some(Protection::ReadWrite));
        assert_eq!(s.get(4), Some(Protection::None));
        assert_eq!(set(&mut s, 1, 2, Protection::ReadExec), vec![(1, 2)]);
        assert_eq!(
            s.runs(0, 5),
            vec![
                (0, 1, Some(Protection::ReadWrite)),
                (1, 2, Some(Protection::ReadExec)),
                (3, 1, Some(Protection::ReadWrite)),
                (4, 1, Some(Protection::None)),
            ]
        );
    }

    #[test]
    fn a_failed_change_leaves_the_span_unknown_and_is_retried() {
        let mut s = PageStates::new(4);
        let r = s.set(0, 2, Protection::ReadWrite, |_, _, _| {
            Err(io::Error::from_raw_os_error(libc::ENOMEM))
        });
        assert!(r.is_err());
        assert_eq!(s.get(0), None);
        assert_eq!(s.get(2), Some(Protection::None));
        // Back to "inaccessible": the unknown pages are changed again.
        assert_eq!(set(&mut s, 0, 2, Protection::None), vec![(0, 2)]);
    }
}
