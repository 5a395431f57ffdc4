//! Module parameters, as `MODULE_PARM` declared them: a variable with the
//! parameter's name (the loader finds it by its symbol and writes what
//! `insmod NAME.a irq=7` says), its type in `.modinfo` (`parm_irq=i`) and
//! its description (`parm_desc_irq=...`).
//!
//! ```ignore
//! params! {
//!     irq: i32 = 5, "Interrupt line";
//!     ports: [i32; 4] (1..=4) = [0x300, 0, 0, 0], "Up to four I/O ports";
//!     mode: &str = "auto", "Operating mode";
//!     label: CharArray<16> = "none", "A name of up to 15 characters";
//! }
//! // Read back, typed: params::irq(), params::ports(), params::mode(),
//! // params::label().as_str().
//! ```

use core::ffi::{c_char, CStr};

/// A scalar parameter type and its `MODULE_PARM` letter.
pub trait Scalar: Copy {
    /// `b`, `h`, `i` or `l`.
    const LETTER: &'static [u8];
}

macro_rules! scalars {
    ($($t:ty => $l:literal),*) => { $(impl Scalar for $t { const LETTER: &'static [u8] = $l; })* };
}
scalars!(i8 => b"b", u8 => b"b", i16 => b"h", u16 => b"h", i32 => b"i", u32 => b"i",
         i64 => b"l", u64 => b"l", isize => b"l", usize => b"l");

/// A `char[N]` parameter (`cN`): up to `N - 1` bytes and a NUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub struct CharArray<const N: usize>(pub [u8; N]);

impl<const N: usize> CharArray<N> {
    /// The array holding `text` (cut to `N - 1` bytes), NUL-padded.
    pub const fn new(text: &str) -> CharArray<N> {
        let bytes = text.as_bytes();
        let mut out = [0u8; N];
        let mut i = 0;
        while i < bytes.len() && i + 1 < N {
            out[i] = bytes[i];
            i += 1;
        }
        CharArray(out)
    }

    /// The text up to the first NUL (up to the first byte that is not
    /// UTF-8, if any).
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(N);
        match core::str::from_utf8(&self.0[..end]) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&self.0[..e.valid_up_to()]).unwrap_or(""),
        }
    }
}

/// A string parameter (`s`): the loader points it at its copy of the
/// value; by default it points at a NUL-terminated literal.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct StrPtr(pub *const c_char);

impl StrPtr {
    /// The string (up to the first byte that is not UTF-8).
    ///
    /// # Safety
    /// The pointer is the literal the module was built with or the string
    /// the loader wrote into the module's image: NUL-terminated, for the
    /// module's lifetime.
    pub unsafe fn as_str(&self) -> &'static str {
        if self.0.is_null() {
            return "";
        }
        // SAFETY: the caller's promise.
        let bytes = unsafe { CStr::from_ptr(self.0) }.to_bytes();
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        }
    }
}

/// The decimal digits of `n`, for a `.modinfo` string, in a fixed buffer.
#[derive(Clone, Copy, Debug)]
pub struct Digits {
    buf: [u8; 20],
    len: usize,
}

impl Digits {
    /// `n` in decimal.
    pub const fn of(mut n: usize) -> Digits {
        let mut buf = [0u8; 20];
        let mut len = 0;
        loop {
            buf[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // Most significant first.
        let mut i = 0;
        while i < len / 2 {
            let t = buf[i];
            buf[i] = buf[len - 1 - i];
            buf[len - 1 - i] = t;
            i += 1;
        }
        Digits { buf, len }
    }

    /// The digits.
    pub const fn bytes(&self) -> &[u8] {
        self.buf.split_at(self.len).0
    }
}

/// Declares the module's parameters (see the [module docs](self)):
/// each gets a `#[no_mangle]` variable of its name, its `.modinfo` type
/// and description, and a reader `params::NAME()`.
#[macro_export]
macro_rules! params {
    // One parameter at a time, collecting the readers.
    (@each [$($readers:tt)*]) => {
        /// The module's parameters, as `insmod` set them.
        #[allow(dead_code)]
        pub mod params {
            $($readers)*
        }
    };
    (@each [$($readers:tt)*]
        $name:ident : [$elem:ty; $n:literal] ($min:literal ..= $max:literal) = $default:expr, $desc:literal;
        $($rest:tt)*
    ) => {
        #[no_mangle]
        #[used]
        #[allow(non_upper_case_globals)]
        static mut $name: [$elem; $n] = $default;
        $crate::modinfo!(
            b"parm_", stringify!($name).as_bytes(), b"=",
            $crate::param::Digits::of($min).bytes(), b"-", $crate::param::Digits::of($max).bytes(),
            <$elem as $crate::param::Scalar>::LETTER,
        );
        $crate::modinfo!(b"parm_desc_", stringify!($name).as_bytes(), b"=", $desc.as_bytes());
        const _: () = assert!($max == $n && $min >= 1 && $min <= $max, "the range is 1..=N at most");
        $crate::params!(@each [$($readers)*
            /// The parameter's values.
            pub fn $name() -> [$elem; $n] {
                // SAFETY: the loader wrote it before init; nothing writes
                // it afterwards.
                unsafe { core::ptr::read_volatile(&raw const super::$name) }
            }
        ] $($rest)*);
    };
    (@each [$($readers:tt)*]
        $name:ident : &str = $default:literal, $desc:literal;
        $($rest:tt)*
    ) => {
        #[no_mangle]
        #[used]
        #[allow(non_upper_case_globals)]
        static mut $name: $crate::param::StrPtr =
            $crate::param::StrPtr(concat!($default, "\0").as_ptr().cast());
        $crate::modinfo!(b"parm_", stringify!($name).as_bytes(), b"=s");
        $crate::modinfo!(b"parm_desc_", stringify!($name).as_bytes(), b"=", $desc.as_bytes());
        $crate::params!(@each [$($readers)*
            /// The parameter's value.
            pub fn $name() -> &'static str {
                // SAFETY: the loader wrote it before init; it points at the
                // literal or at the loader's copy of the value, both
                // NUL-terminated in the module's image.
                unsafe { core::ptr::read_volatile(&raw const super::$name).as_str() }
            }
        ] $($rest)*);
    };
    (@each [$($readers:tt)*]
        $name:ident : CharArray<$n:literal> = $default:literal, $desc:literal;
        $($rest:tt)*
    ) => {
        #[no_mangle]
        #[used]
        #[allow(non_upper_case_globals)]
        static mut $name: $crate::param::CharArray<$n> = $crate::param::CharArray::new($default);
        $crate::modinfo!(
            b"parm_", stringify!($name).as_bytes(), b"=c", $crate::param::Digits::of($n).bytes(),
        );
        $crate::modinfo!(b"parm_desc_", stringify!($name).as_bytes(), b"=", $desc.as_bytes());
        $crate::params!(@each [$($readers)*
            /// The parameter's value.
            pub fn $name() -> $crate::param::CharArray<$n> {
                // SAFETY: the loader wrote it before init; nothing writes
                // it afterwards.
                unsafe { core::ptr::read_volatile(&raw const super::$name) }
            }
        ] $($rest)*);
    };
    (@each [$($readers:tt)*]
        $name:ident : $ty:ty = $default:expr, $desc:literal;
        $($rest:tt)*
    ) => {
        #[no_mangle]
        #[used]
        #[allow(non_upper_case_globals)]
        static mut $name: $ty = $default;
        $crate::modinfo!(
            b"parm_", stringify!($name).as_bytes(), b"=", <$ty as $crate::param::Scalar>::LETTER,
        );
        $crate::modinfo!(b"parm_desc_", stringify!($name).as_bytes(), b"=", $desc.as_bytes());
        $crate::params!(@each [$($readers)*
            /// The parameter's value.
            pub fn $name() -> $ty {
                // SAFETY: the loader wrote it before init; nothing writes
                // it afterwards.
                unsafe { core::ptr::read_volatile(&raw const super::$name) }
            }
        ] $($rest)*);
    };
    ($($body:tt)*) => {
        $crate::params!(@each [] $($body)*);
    };
}
