//! One file per subcommand (the read-only views share one).

pub mod cflags;
pub mod demo;
pub mod depmod;
pub mod docs;
pub mod exec;
pub mod insmod;
pub mod irq;
pub mod modinfo;
pub mod new;
pub mod rmmod;
pub mod serve;
pub mod views;
