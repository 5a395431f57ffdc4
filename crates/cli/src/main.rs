//! `umod`: the tools of the umod module system, one multi-call binary.
//!
//! Invoked through a link named `insmod`, `rmmod`, `lsmod`, `ksyms`,
//! `modinfo`, `modprobe` or `depmod`, it acts as that subcommand.

mod commands;
mod render;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
use umod_abi::Errno;
use umod_client::{socket_path, Client};

/// A failed command: what to print on stderr before exiting 1.
pub struct Failure {
    /// The message, naming the tool, the object and the cause.
    pub message: String,
    printed: bool,
}

impl Failure {
    /// A failure with this message.
    pub fn new(message: String) -> Failure {
        Failure {
            message,
            printed: false,
        }
    }

    /// `context: detail`, with the errno's name and meaning unless the
    /// detail already says it.
    pub fn errno(context: String, errno: Errno, detail: String) -> Failure {
        let name = errno.name().unwrap_or("errno");
        let message =
            if detail.is_empty() || detail == errno.to_string() || detail == errno.description() {
                format!("{context}: {errno}")
            } else if detail.contains(name) {
                format!("{context}: {detail}")
            } else {
                format!("{context}: {detail}: {errno}")
            };
        Failure::new(message)
    }

    /// The message went to stderr already; only the exit status remains.
    pub fn already_printed(mut self) -> Failure {
        self.printed = true;
        self
    }
}

#[derive(Parser)]
#[command(
    name = "umod",
    version,
    about = "The Linux 2.4 module system as a user-space module host"
)]
struct Cli {
    /// The daemon's socket (default: $UMOD_SOCKET, else /run/umod/umod.sock).
    #[arg(long, global = true, value_name = "PATH")]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the example modules on an embedded host and show the tools at work.
    ///
    /// Example: umod demo
    Demo,
    /// Run the machine-wide daemon in the foreground (logs to stderr, level
    /// from RUST_LOG).
    ///
    /// Started by systemd's umod.socket (LISTEN_PID, LISTEN_FDS=1), it
    /// serves on the socket passed as fd 3 instead of binding one.
    ///
    /// Example: umod serve --socket /tmp/umod.sock --window 64M --preload /etc/umod/modules
    Serve {
        /// Load the modules this file lists before serving: one per line,
        /// PATH [name=value ...], # for comments, relative paths from the
        /// file's directory. Failures are logged and skipped.
        #[arg(long, value_name = "FILE")]
        preload: Option<PathBuf>,
        #[command(flatten)]
        limits: Box<commands::serve::Limits>,
    },
    /// Load a module object (the 2.4 way unless --oneshot).
    ///
    /// Example: umod insmod params.o irq=7 mode=fast
    Insmod {
        /// Set autoclean: rmmod -a may remove it once unused.
        #[arg(short = 'k', long = "autoclean")]
        autoclean: bool,
        /// Load even if the module was built for another kernel release.
        #[arg(short = 'f', long = "force")]
        force: bool,
        /// Module name (default: the file name up to the first '.').
        #[arg(short = 'o', long = "name", value_name = "NAME")]
        name: Option<String>,
        /// Print the load map: sections and symbols with their addresses.
        #[arg(short = 'm', long = "map")]
        map: bool,
        /// Export nothing unless the module has a symbol table.
        #[arg(short = 'x', long = "noexport")]
        noexport: bool,
        /// Send the object to the daemon, which loads it in one step.
        #[arg(long)]
        oneshot: bool,
        /// The module object.
        file: String,
        /// Parameters, name=value[,value...].
        params: Vec<String>,
    },
    /// Remove modules.
    ///
    /// Example: umod rmmod -r counter_user
    Rmmod {
        /// Autoclean sweep: remove unused autoclean modules.
        #[arg(short = 'a', long = "all")]
        all: bool,
        /// Also remove the modules each one used, once they are unused.
        #[arg(short = 'r', long = "stacks", visible_alias = "recursive")]
        recursive: bool,
        /// Module names.
        names: Vec<String>,
    },
    /// List the loaded modules (from /proc/modules).
    ///
    /// Example: umod lsmod --json
    Lsmod {
        /// Print JSON: [{name, size, used, status, users}].
        #[arg(long)]
        json: bool,
    },
    /// List exported symbols (/proc/ksyms format).
    ///
    /// Example: umod ksyms -a
    Ksyms {
        /// Include the kernel's own symbols.
        #[arg(short = 'a', long = "all")]
        all: bool,
        /// Print JSON: [{value, name, module}].
        #[arg(long)]
        json: bool,
    },
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
    /// Write DIR/modules.dep from the modules in DIR.
    ///
    /// Example: umod depmod -b ./modules
    Depmod {
        /// The module directory (default: the current one).
        #[arg(short = 'b', long = "basedir", default_value = ".")]
        dir: PathBuf,
    },
    /// Load a module and what it depends on, in order (or -r: remove them).
    ///
    /// Example: umod modprobe -d ./modules counter_user
    Modprobe {
        /// The module directory (default: the current one).
        #[arg(short = 'd', long = "dirname", default_value = ".")]
        dir: PathBuf,
        /// Remove the module, then the ones it used.
        #[arg(short = 'r', long = "remove")]
        remove: bool,
        /// Module name.
        name: String,
        /// Parameters for it, name=value[,value...].
        params: Vec<String>,
    },
    /// Show the kernel log.
    ///
    /// Example: umod dmesg -c
    Dmesg {
        /// Clear the log after printing it.
        #[arg(short = 'c', long = "clear")]
        clear: bool,
        /// Print JSON: [{seq, level, time, text}].
        #[arg(long)]
        json: bool,
    },
    /// Software interrupts: raise a line, as a device would; its handlers
    /// run on the daemon's irq thread (counts: umod cat /proc/interrupts).
    ///
    /// Example: umod irq raise 5
    Irq {
        #[command(subcommand)]
        action: IrqAction,
    },
    /// Print /proc/modules, /proc/ksyms, /proc/interrupts, or a /proc entry
    /// a module made.
    ///
    /// Example: umod cat /proc/umod_hello
    Cat {
        /// The path.
        path: String,
    },
    /// Print the compiler flags that build a module against the kit (its
    /// headers travel inside umod and are unpacked to a cache directory).
    ///
    /// Example: gcc $(umod cflags) -c hello.c
    Cflags {
        /// Unpack the kit's headers here instead of the cache directory.
        #[arg(long, value_name = "DIR")]
        kit_dir: Option<PathBuf>,
    },
    /// Print a shell completion script for umod.
    ///
    /// Example: umod completions bash > /etc/bash_completion.d/umod
    Completions {
        /// The shell.
        shell: commands::docs::Shell,
    },
    /// Write the man pages: umod.1 and one per command (umod-insmod.1...).
    ///
    /// Example: umod manpages /usr/local/share/man/man1
    Manpages {
        /// The directory (made if missing).
        dir: PathBuf,
    },
    /// Start a module project: a Rust crate with the umod-module kit (the
    /// default), or a C file and a Makefile.
    ///
    /// Example: umod new hello && cd hello && cargo build --release
    New {
        /// A Rust project (the default).
        #[arg(long, conflicts_with = "c")]
        rust: bool,
        /// A C project.
        #[arg(long)]
        c: bool,
        /// Where to make it.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// The module's name (and its directory's).
        name: String,
    },
    /// Run an unmodified program whose module syscalls (174-178) umod serves.
    ///
    /// Example: umod exec --embedded --uname-release 2.4.32 -- ./old-insmod hello.o
    Exec {
        /// Serve the calls from a private host instead of the daemon.
        #[arg(long)]
        embedded: bool,
        /// The release uname reports to the program (2.4-era tools decide
        /// by it).
        #[arg(long, value_name = "REL")]
        uname_release: Option<String>,
        /// Do not serve /proc/modules and /proc/ksyms from the host.
        #[arg(long)]
        no_proc: bool,
        /// Answer every module call with 0 without doing anything (to
        /// measure the cost of interception itself).
        #[arg(long, hide = true)]
        null_supervisor: bool,
        /// Answer every module call with 0 after reading what serving it
        /// must read (the caller's memory and capabilities) and checking
        /// the call is still pending (to measure that floor).
        #[arg(long, hide = true)]
        floor_supervisor: bool,
        /// The program and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        argv: Vec<std::ffi::OsString>,
    },
}

/// Arguments with the tool name taken from argv[0] when invoked by a link.
fn arguments() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().collect();
    let tool = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_default();
    if [
        "insmod", "rmmod", "lsmod", "ksyms", "modinfo", "modprobe", "depmod",
    ]
    .contains(&tool.as_str())
    {
        args[0] = "umod".into();
        args.insert(1, tool);
    }
    args
}

/// What `umod irq` does.
#[derive(Subcommand)]
enum IrqAction {
    /// Raise line N (0-223) and wait until its handlers have returned.
    ///
    /// Example: umod irq raise 5
    Raise {
        /// The line.
        irq: u32,
    },
}

fn connect(socket: Option<&std::path::Path>, tool: &str) -> Result<Client, Failure> {
    Client::connect(&socket_path(socket)).map_err(|e| Failure::new(format!("{tool}: {e}")))
}

fn run(cli: Cli) -> Result<(), Failure> {
    let socket = cli.socket.as_deref();
    match cli.command {
        Command::Demo => commands::demo::run().map_err(Failure::new),
        Command::Serve { preload, limits } => {
            commands::serve::run(socket, preload.as_deref(), &limits).map_err(Failure::new)
        }
        Command::Cflags { kit_dir } => {
            commands::cflags::run(kit_dir.as_deref()).map_err(Failure::new)
        }
        Command::New {
            rust: _,
            c,
            dir,
            name,
        } => {
            let language = match c {
                true => commands::new::Language::C,
                false => commands::new::Language::Rust,
            };
            let made = commands::new::run(&name, language, &dir).map_err(Failure::new)?;
            let shown = made.display();
            match language {
                commands::new::Language::Rust => println!(
                    "made {shown}: `cargo build --release` there, then \
                     `umod insmod {shown}/target/release/lib{name}.a`"
                ),
                commands::new::Language::C => {
                    println!("made {shown}: `make` there, then `umod insmod {shown}/{name}.o`")
                }
            }
            Ok(())
        }
        Command::Modinfo { field, file } => {
            commands::modinfo::run(&file, field.as_deref()).map_err(Failure::new)
        }
        Command::Depmod { dir } => commands::depmod::depmod(&dir),
        Command::Completions { shell } => {
            commands::docs::completions(Cli::command(), shell);
            Ok(())
        }
        Command::Manpages { dir } => {
            commands::docs::manpages(Cli::command(), &dir).map_err(Failure::new)
        }
        Command::Insmod {
            autoclean,
            force,
            name,
            map,
            noexport,
            oneshot,
            file,
            params,
        } => {
            let opts = commands::insmod::Options {
                autoclean,
                force,
                name,
                map,
                oneshot,
                no_exports: noexport,
            };
            commands::insmod::run(&mut connect(socket, "insmod")?, &file, &params, &opts)
        }
        Command::Rmmod {
            all,
            recursive,
            names,
        } => commands::rmmod::run(&mut connect(socket, "rmmod")?, &names, all, recursive),
        Command::Lsmod { json } => commands::views::lsmod(&mut connect(socket, "lsmod")?, json),
        Command::Ksyms { all, json } => {
            commands::views::ksyms(&mut connect(socket, "ksyms")?, all, json)
        }
        Command::Dmesg { clear, json } => {
            commands::views::dmesg(&mut connect(socket, "dmesg")?, clear, json)
        }
        Command::Irq {
            action: IrqAction::Raise { irq },
        } => commands::irq::raise(&mut connect(socket, "irq")?, irq),
        Command::Cat { path } => commands::views::cat(&mut connect(socket, "cat")?, &path),
        Command::Exec {
            embedded,
            uname_release,
            no_proc,
            null_supervisor,
            floor_supervisor,
            argv,
        } => commands::exec::run(
            socket,
            embedded,
            uname_release,
            !no_proc,
            null_supervisor,
            floor_supervisor,
            argv,
        ),
        Command::Modprobe {
            dir,
            remove,
            name,
            params,
        } => commands::depmod::modprobe(
            &mut connect(socket, "modprobe")?,
            &dir,
            &name,
            &params,
            remove,
        ),
    }
}

fn main() {
    let cli = Cli::parse_from(arguments());
    // The daemon sets up its own log; the tools log only when asked
    // (RUST_LOG=umod_client=debug shows each request to the daemon).
    if !matches!(cli.command, Command::Serve { .. }) && std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .without_time()
            .init();
    }
    if let Err(f) = run(cli) {
        if !f.printed {
            eprintln!("{}", f.message);
        }
        std::process::exit(1);
    }
}
