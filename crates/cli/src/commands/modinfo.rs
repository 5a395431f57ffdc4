//! `umod modinfo [-F FIELD] FILE`: what a module object says about itself.

use umod_loader::{module_name_from_path, ModuleObject};

/// The fields modinfo shows, in order: (field, values).
pub fn fields(module: &ModuleObject<'_>) -> Vec<(String, Vec<String>)> {
    let info = &module.modinfo;
    let mut out = Vec::new();
    for key in [
        "license",
        "author",
        "description",
        "device",
        "kernel_version",
    ] {
        let values: Vec<String> = info
            .entries
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect();
        if !values.is_empty() {
            out.push((key.to_string(), values));
        }
    }
    let parms: Vec<String> = info
        .params
        .iter()
        .map(|p| {
            let count = if p.min == 1 && p.max == 1 {
                String::new()
            } else {
                format!("{}-{} ", p.min, p.max)
            };
            match &p.description {
                Some(d) => format!("{}:{d} ({count}{})", p.name, p.ty.describe()),
                None => format!("{}:({count}{})", p.name, p.ty.describe()),
            }
        })
        .collect();
    if !parms.is_empty() {
        out.push(("parm".into(), parms));
    }
    let mut depends = module.undefined_symbols();
    depends.sort();
    out.push(("depends".into(), vec![depends.join(",")]));
    out
}

/// Prints every field as `field: value`, or only the values of `-F FIELD`.
pub fn run(file: &str, field: Option<&str>) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("modinfo: {file}: {e}"))?;
    let module = ModuleObject::parse(&module_name_from_path(file), &bytes)
        .map_err(|e| format!("modinfo: {file}: {e}"))?;
    for (key, values) in fields(&module) {
        for v in values {
            match field {
                Some(f) if f == key => println!("{v}"),
                Some(_) => {}
                None => println!("{:<16}{v}", format!("{key}:")),
            }
        }
    }
    Ok(())
}
