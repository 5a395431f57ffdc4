//! `.modinfo` strings built at compile time: `key=value` and a NUL, in an
//! array of exactly their length (as the kit's C macros write them).

/// The bytes `parts` take joined, with the NUL.
pub const fn len(parts: &[&[u8]]) -> usize {
    let mut n = 1;
    let mut i = 0;
    while i < parts.len() {
        n += parts[i].len();
        i += 1;
    }
    n
}

/// `parts` joined and NUL-terminated, in exactly `N` bytes (from [`len`]).
pub const fn join<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    let mut i = 0;
    while i < parts.len() {
        let p = parts[i];
        let mut j = 0;
        while j < p.len() {
            out[at] = p[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// One `.modinfo` entry made of the byte strings `parts`, e.g.
/// `modinfo!(b"license=", b"GPL")`.
#[macro_export]
macro_rules! modinfo {
    ($($part:expr),+ $(,)?) => {
        const _: () = {
            #[used]
            #[link_section = ".modinfo"]
            static ENTRY: [u8; $crate::modinfo::len(&[$($part),+])] =
                $crate::modinfo::join(&[$($part),+]);
        };
    };
}
