//! `umod cflags`: the compiler flags that build a module against the kit.

/// Prints the flags on one line, ready for `gcc $(umod cflags) -c mod.c`.
pub fn run() -> Result<(), String> {
    println!("{}", umod_loader::kit::cflags().join(" "));
    Ok(())
}
