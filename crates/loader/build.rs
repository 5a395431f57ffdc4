// Embeds the module kit in the crate: the C headers (kit/include) and the
// Rust kit crate's sources (crates/module/src), so that a umod binary
// installed away from its source tree still carries them.
use std::path::{Path, PathBuf};

fn walk(dir: &Path, root: &Path, ext: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("kit/include")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, root, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            let rel = path.strip_prefix(root).expect("under the root");
            out.push((rel.to_string_lossy().into_owned(), path.clone()));
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"))
        .join("../../kit/include");
    let root = root.canonicalize().expect("kit/include exists");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &root, "h", &mut files);
    let mut code = String::new();
    table(
        &mut code,
        "FILES",
        "The kit's headers: (path under `include/`, contents).",
        &files,
    );
    let rust = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"))
        .join("../module/src")
        .canonicalize()
        .expect("crates/module/src exists");
    println!("cargo:rerun-if-changed={}", rust.display());
    let mut rust_files = Vec::new();
    walk(&rust, &rust, "rs", &mut rust_files);
    table(
        &mut code,
        "RUST_FILES",
        "The Rust kit crate's sources: (path under `src/`, contents).",
        &rust_files,
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("kit_files.rs");
    std::fs::write(out, code).expect("write kit_files.rs");
}

/// `pub const NAME: &[(&str, &[u8])]` of `files`, documented by `doc`.
fn table(code: &mut String, name: &str, doc: &str, files: &[(String, PathBuf)]) {
    code.push_str(&format!(
        "/// {doc}\npub const {name}: &[(&str, &[u8])] = &[\n"
    ));
    for (rel, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
}
