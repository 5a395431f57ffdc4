// Compiles the host's C: the variadic kernel services (printk and
// friends), which stable Rust cannot define, and the guard that runs
// module code (it must siglongjmp out of a signal handler).
fn main() {
    const FILES: [&str; 12] = [
        "src/services/services.c",
        "src/services/memory.c",
        "src/services/time.c",
        "src/services/resource.c",
        "src/services/io.c",
        "src/services/spinlock.c",
        "src/services/strings.c",
        "src/services/sched.c",
        "src/services/uaccess.c",
        "src/services/chrdev.c",
        "src/services/deferred.c",
        "src/exec/guard.c",
    ];
    for file in FILES {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=src/services/kapi.h");
    println!("cargo:rerun-if-changed=src/services/kstructs.h");
    cc::Build::new()
        .files(FILES)
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        .extra_warnings(true)
        .compile("umod_services");
}
