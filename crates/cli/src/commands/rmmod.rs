//! `umod rmmod [-a] [-r] NAME...`: `delete_module` for each name; `-a` is
//! the autoclean sweep, `-r` also removes what each module used once it is
//! unused.

use umod_abi::{Errno, QueryAnswer, QM_DEPS};
use umod_client::Client;
use umod_loader::insmod::ModuleCalls;

use crate::Failure;

/// Removes `names` (or sweeps with `all`).
pub fn run(
    client: &mut Client,
    names: &[String],
    all: bool,
    recursive: bool,
) -> Result<(), Failure> {
    if all || names.is_empty() {
        return client
            .delete_module(None)
            .map_err(|e| Failure::errno("rmmod".into(), e, String::new()));
    }
    let mut failed = None;
    for name in names {
        // Which modules it used, asked before it goes (modutils' -r; a
        // plain rmmod asks nothing but the removal).
        let deps = match recursive.then(|| client.query_module(Some(name), QM_DEPS)) {
            Some(Ok(QueryAnswer::Names(d))) => d,
            _ => Vec::new(),
        };
        if let Err(e) = client.delete_module(Some(name)) {
            failed = Some(Failure::errno(format!("rmmod: {name}"), e, String::new()));
            eprintln!("{}", failed.as_ref().expect("set").message);
            continue;
        }
        for dep in deps {
            let dep = String::from_utf8_lossy(&dep).into_owned();
            match client.delete_module(Some(&dep)) {
                Ok(()) | Err(Errno::EBUSY) | Err(Errno::ENOENT) => {}
                Err(e) => eprintln!("rmmod: {dep}: {e}"),
            }
        }
    }
    match failed {
        Some(f) => Err(f.already_printed()),
        None => Ok(()),
    }
}
