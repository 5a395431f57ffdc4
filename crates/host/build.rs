// Compiles the variadic kernel services (printk and friends), which stable
// Rust cannot define, into a static library linked into the host.
fn main() {
    println!("cargo:rerun-if-changed=src/services/services.c");
    cc::Build::new()
        .file("src/services/services.c")
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        .extra_warnings(true)
        .compile("umod_services");
}
