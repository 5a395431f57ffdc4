//! One file per subcommand.

pub mod cflags;
pub mod demo;
pub mod modinfo;
