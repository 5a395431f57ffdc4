//! `umod`: the tools of the umod module system, one multi-call binary.

mod commands;
mod render;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "umod", version, about = "The Linux 2.4 module system as a user-space module host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the example modules on an embedded host and show the tools at work.
    ///
    /// Example: umod demo
    Demo,
    /// Print the compiler flags that build a module against the kit.
    ///
    /// Example: gcc $(umod cflags) -c hello.c
    Cflags,
    /// Show what a module object says about itself.
    ///
    /// Example: umod modinfo -F parm params.o
    Modinfo {
        /// Print only this field's values (license, author, description,
        /// parm, kernel_version, depends...).
        #[arg(short = 'F', long = "field")]
        field: Option<String>,
        /// The module object.
        file: String,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo => commands::demo::run(),
        Command::Cflags => commands::cflags::run(),
        Command::Modinfo { field, file } => commands::modinfo::run(&file, field.as_deref()),
    };
    if let Err(e) = result {
        eprintln!("umod: {e}");
        std::process::exit(1);
    }
}
