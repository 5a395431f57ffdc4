// Compiles the host's C: the variadic kernel services (printk and
// friends), which stable Rust cannot define, and the guard that runs
// module code (it must siglongjmp out of a signal handler).
fn main() {
    for file in [
        "src/services/services.c",
        "src/services/deferred.c",
        "src/exec/guard.c",
    ] {
        println!("cargo:rerun-if-changed={file}");
    }
    cc::Build::new()
        .file("src/services/services.c")
        .file("src/services/deferred.c")
        .file("src/exec/guard.c")
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        .extra_warnings(true)
        .compile("umod_services");
}
