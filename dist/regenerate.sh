#!/bin/sh
# Regenerates dist/completions and dist/man from umod's own command line
# definition. crates/cli/tests/docs.rs fails until they match the binary.
set -eu
cd "$(dirname "$0")/.."
umod() { cargo run -q -p umod -- "$@"; }
umod completions bash > dist/completions/umod.bash
umod completions zsh > dist/completions/_umod
umod completions fish > dist/completions/umod.fish
rm -rf dist/man
umod manpages dist/man
