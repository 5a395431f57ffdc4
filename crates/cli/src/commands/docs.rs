//! `umod completions` and `umod manpages`: shell completions and man
//! pages generated from the command line's own definition, so they say
//! what the binary accepts. Both are deterministic (no date, no path of
//! the build), so the copies in `dist/` can be checked against a rebuild
//! (`crates/cli/tests/docs.rs`).

use std::path::Path;

use clap_complete::Shell as Generator;

/// The shells completions are made for.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Shell {
    /// bash (`umod.bash`)
    Bash,
    /// zsh (`_umod`)
    Zsh,
    /// fish (`umod.fish`)
    Fish,
}

/// Prints `shell`'s completion script for `cmd` to stdout.
pub fn completions(mut cmd: clap::Command, shell: Shell) {
    let generator = match shell {
        Shell::Bash => Generator::Bash,
        Shell::Zsh => Generator::Zsh,
        Shell::Fish => Generator::Fish,
    };
    let name = cmd.get_name().to_string();
    clap_complete::generate(generator, &mut cmd, name, &mut std::io::stdout());
}

/// Writes `umod.1` and a page per subcommand (`umod-insmod.1`...) into
/// `dir`, made if missing. Every page's header names umod and its version
/// (a subcommand has no version of its own to show).
pub fn manpages(cmd: clap::Command, dir: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("manpages: {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut cmd = cmd.disable_help_subcommand(true);
    // Built, the subcommands know their full names (`umod-insmod`).
    cmd.build();
    let source = format!("umod {}", cmd.get_version().unwrap_or_default());
    write_pages(&cmd, &source, dir).map_err(fail)
}

/// Writes the page of `cmd` and of each subcommand it shows.
fn write_pages(cmd: &clap::Command, source: &str, dir: &Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, source, dir)?;
    }
    clap_mangen::Man::new(cmd.clone())
        .source(source)
        .generate_to(dir)
        .map(drop)
}
