//! `umod depmod [-b DIR]` and `umod modprobe [-d DIR] [-r] NAME`.
//!
//! depmod reads every `*.o` in DIR, matches each module's undefined
//! symbols against the others' exports, and writes `DIR/modules.dep`
//! (`/path/a.o: /path/b.o ...`, one line per module). Symbols no module
//! exports are left to the kernel. modprobe loads a module after its
//! dependencies, in order (or with -r removes it, then them).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use umod_abi::{Errno, QueryAnswer, QM_MODULES};
use umod_client::Client;
use umod_loader::insmod::ModuleCalls;
use umod_loader::{module_name_from_path, ModuleObject};

use crate::commands::insmod;
use crate::Failure;

/// Module path → the paths of the modules it needs.
pub type DepMap = BTreeMap<PathBuf, Vec<PathBuf>>;

/// Computes the dependencies of every module object in `dir`.
pub fn compute(dir: &Path) -> Result<DepMap, Failure> {
    let mut objects = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::new(format!("depmod: {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "o") {
            let bytes = std::fs::read(&path)
                .map_err(|e| Failure::new(format!("depmod: {}: {e}", path.display())))?;
            objects.push((path, bytes));
        }
    }
    let mut exporters: HashMap<String, PathBuf> = HashMap::new();
    let mut needs: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for (path, bytes) in &objects {
        let m = ModuleObject::parse(&module_name_from_path(&path.to_string_lossy()), bytes)
            .map_err(|e| Failure::new(format!("depmod: {}: {e}", path.display())))?;
        for sym in m.exported_symbols() {
            exporters.entry(sym).or_insert_with(|| path.clone());
        }
        needs.push((path.clone(), m.undefined_symbols()));
    }
    let mut map = DepMap::new();
    for (path, undefined) in needs {
        let mut deps: Vec<PathBuf> = undefined
            .iter()
            .filter_map(|s| exporters.get(s))
            .filter(|p| **p != path)
            .cloned()
            .collect();
        deps.sort();
        deps.dedup();
        map.insert(path, deps);
    }
    Ok(map)
}

/// The `modules.dep` text.
pub fn render(map: &DepMap) -> String {
    map.iter()
        .map(|(m, deps)| {
            let deps: Vec<String> = deps.iter().map(|d| d.display().to_string()).collect();
            format!(
                "{}:{}{}\n",
                m.display(),
                if deps.is_empty() { "" } else { " " },
                deps.join(" ")
            )
        })
        .collect()
}

/// Parses `modules.dep`.
pub fn parse(text: &str) -> DepMap {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(m, deps)| {
            (
                PathBuf::from(m.trim()),
                deps.split_whitespace().map(PathBuf::from).collect(),
            )
        })
        .collect()
}

/// `depmod [-b DIR]`: writes `DIR/modules.dep`.
pub fn depmod(dir: &Path) -> Result<(), Failure> {
    let dir = dir
        .canonicalize()
        .map_err(|e| Failure::new(format!("depmod: {}: {e}", dir.display())))?;
    let text = render(&compute(&dir)?);
    let out = dir.join("modules.dep");
    std::fs::write(&out, text).map_err(|e| Failure::new(format!("depmod: {}: {e}", out.display())))
}

/// The load order for `target`: dependencies first, each once.
fn order(
    map: &DepMap,
    target: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut Vec<PathBuf>,
) -> Result<(), Failure> {
    if out.iter().any(|p| p == target) {
        return Ok(());
    }
    if seen.iter().any(|p| p == target) {
        return Err(Failure::new(format!(
            "modprobe: dependency loop through {}",
            target.display()
        )));
    }
    seen.push(target.to_path_buf());
    for dep in map.get(target).into_iter().flatten() {
        order(map, dep, out, seen)?;
    }
    out.push(target.to_path_buf());
    Ok(())
}

/// `modprobe [-d DIR] [-r] NAME [args]`.
pub fn modprobe(
    client: &mut Client,
    dir: &Path,
    name: &str,
    args: &[String],
    remove: bool,
) -> Result<(), Failure> {
    let dir = dir
        .canonicalize()
        .map_err(|e| Failure::new(format!("modprobe: {}: {e}", dir.display())))?;
    let map = match std::fs::read_to_string(dir.join("modules.dep")) {
        Ok(text) => parse(&text),
        Err(_) => compute(&dir)?,
    };
    let target = map
        .keys()
        .find(|p| module_name_from_path(&p.to_string_lossy()) == name)
        .cloned()
        .ok_or_else(|| Failure::new(format!("modprobe: can't locate module {name}")))?;
    let mut plan = Vec::new();
    order(&map, &target, &mut plan, &mut Vec::new())?;
    if remove {
        for path in plan.iter().rev() {
            let m = module_name_from_path(&path.to_string_lossy());
            match client.delete_module(Some(&m)) {
                Ok(()) => {}
                Err(Errno::EBUSY | Errno::ENOENT) if m != name => {}
                Err(e) => return Err(Failure::errno(format!("modprobe: {m}"), e, String::new())),
            }
        }
        return Ok(());
    }
    let loaded = match client.query_module(None, QM_MODULES) {
        Ok(QueryAnswer::Names(n)) => n
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .collect(),
        _ => Vec::new(),
    };
    for path in &plan {
        let m = module_name_from_path(&path.to_string_lossy());
        if loaded.contains(&m) {
            continue;
        }
        let these: &[String] = if *path == target { args } else { &[] };
        let opts = insmod::Options {
            autoclean: false,
            force: false,
            name: None,
            map: false,
            oneshot: false,
            no_exports: false,
        };
        insmod::run(client, &path.to_string_lossy(), these, &opts)?;
    }
    Ok(())
}
