//! Linux errno values as the module calls return them.

use std::fmt;

/// A Linux errno value (positive), as a failed module call reports it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno($value);
            )*

            /// The symbolic name (`"EPERM"`), or `None` for a value this table
            /// does not know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// The C library's description (`"Operation not permitted"`).
            pub fn description(self) -> &'static str {
                match self.0 {
                    $($value => $text,)*
                    _ => "Unknown error",
                }
            }

            /// Looks an errno up by its symbolic name.
            pub fn from_name(name: &str) -> Option<Errno> {
                match name {
                    $(stringify!($name) => Some(Errno::$name),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    ENODEV = 19, "No such device";
    EINVAL = 22, "Invalid argument";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOSYS = 38, "Function not implemented";
    ETIME = 62, "Timer expired";
    EPROTO = 71, "Protocol error";
    EMSGSIZE = 90, "Message too long";
    EOVERFLOW = 75, "Value too large for defined data type";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
}

impl Errno {
    /// The raw syscall return value for this error (`-errno`).
    pub fn as_negative(self) -> i64 {
        -i64::from(self.0)
    }

    /// Decodes a raw syscall return value in the error band
    /// (-4095..=-1); anything else is not an error.
    pub fn from_return(ret: i64) -> Option<Errno> {
        if (-4095..=-1).contains(&ret) {
            Some(Errno(i32::try_from(-ret).expect("in the errno band")))
        } else {
            None
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.description()),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl std::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_values_and_text() {
        assert_eq!(Errno::EPERM.0, 1);
        assert_eq!(Errno::ENAMETOOLONG.0, 36);
        assert_eq!(Errno::ENOSYS.0, 38);
        assert_eq!(Errno::ENOSPC.name(), Some("ENOSPC"));
        assert_eq!(Errno::from_name("EBUSY"), Some(Errno(16)));
        assert_eq!(Errno::EFAULT.to_string(), "EFAULT (Bad address)");
        assert_eq!(format!("{:?}", Errno(999)), "Errno(999)");
    }

    #[test]
    fn raw_return_band() {
        assert_eq!(Errno::from_return(-22), Some(Errno::EINVAL));
        assert_eq!(Errno::from_return(-4096), None);
        assert_eq!(Errno::from_return(0x4000_0000), None);
        assert_eq!(Errno::EEXIST.as_negative(), -17);
    }
}
