//! The `consent` command as the integration tests run it: in a directory of its own, on that
//! directory's log and key file, whatever the environment running the tests says of them.

use std::path::Path;
use std::process::{Command, Output};

/// `consent` in `dir`, on `dir/consent.db` and `dir/consent.key`; a `CONSENT_CONFIG` of the
/// environment running the tests is not passed on.
pub fn command(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_consent"));
    c.current_dir(dir)
        .env("CONSENT_DB", dir.join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.join("consent.key"))
        .env_remove("CONSENT_CONFIG");
    c
}

/// `consent <args>` in `dir` (as [`command`] sets it up), run to its end.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).output().expect("run consent")
}

/// What a run printed: its standard output, then its standard error.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
