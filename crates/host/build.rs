// Compiles the host's C: the variadic kernel services (printk and
// friends), which stable Rust cannot define, and the guard that runs
// module code (it must siglongjmp out of a signal handler).
fn main() {
    let files = [
        "src/services/services.c",
        "src/services/sched.c",
        "src/services/uaccess.c",
        "src/services/chrdev.c",
        "src/exec/guard.c",
    ];
    for file in files.iter().chain(&["src/services/kstructs.h"]) {
        println!("cargo:rerun-if-changed={file}");
    }
    cc::Build::new()
        .files(files)
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        .extra_warnings(true)
        .compile("umod_services");
}
