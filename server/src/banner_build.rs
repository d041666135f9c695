//! `consent banner build`'s output: a whole build in the output directory, or the directory
//! as it was.
//!
//! 1. Every file of the build, the compiled ones and a copy of the banner's, is written first
//!    into a staging directory inside the output directory, so that nothing there changes
//!    before the whole build is at hand. A failure then (a banner that cannot be read, a full
//!    disk) removes the staging directory, and the output directory if this build made it.
//! 2. A name of the build that is a directory in the output directory, or the config being
//!    built (directly or through a symlink), stops the build before anything is replaced.
//! 3. Then each file is renamed over its name: a file is replaced whole or not at all, never
//!    left cut short. The banner's files go first and the compiled policy last.
//!
//! Caveats:
//! - A build killed while staging leaves its staging directory (`.consent-build-<pid>-<n>`)
//!   behind. Later builds pass over it, never remove it: it may be another container's build
//!   of the same directory, running as the same pid. Remove it by hand.
//! - The renames are one by one: a crash among them leaves some files of the build beside
//!   some of the one before, each of them whole. Building again finishes it.
//! - A banner read from the output directory itself (`--dist` naming it) is copied, then
//!   renamed over itself: the same bytes, never a file emptied by copying it onto itself.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The staging directory's name in the output directory (the process id and a number after it).
const STAGING: &str = ".consent-build-";

/// One file of a build: its name in the output directory, and where its bytes come from.
pub(crate) enum Source<'a> {
    /// Compiled from the config.
    Bytes(&'a [u8]),
    /// A file of the banner, copied.
    Copy(PathBuf),
}

/// Writes `files` into `out` (created if missing), all of them or none (module docs), never
/// over `config`. The compiled policy, if among them, is renamed last.
///
/// # Errors
/// Why a file could not be read, written or put in place, naming it.
pub(crate) fn write(
    out: &Path,
    files: &[(OsString, Source<'_>)],
    config: &Path,
) -> anyhow::Result<()> {
    let made = !out.exists();
    if !out.is_dir() && std::fs::symlink_metadata(out).is_ok() {
        let what = if made {
            "a symlink to nothing"
        } else {
            "not a directory"
        };
        anyhow::bail!("cannot write into {}: {what}", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let staged = stage(out, files, config);
    if staged.is_err() && made {
        let _ = std::fs::remove_dir(out);
    }
    let staging = staged?;
    let mut order: Vec<&OsString> = files.iter().map(|(name, _)| name).collect();
    order.sort_by_key(|name| match name.to_str() {
        Some("policy.bin") => 2,
        Some(n) if n.ends_with(".json") => 1,
        _ => 0,
    });
    for name in order {
        let target = out.join(name);
        std::fs::rename(staging.join(name), &target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    std::fs::remove_dir(&staging)
        .with_context(|| format!("cannot remove the staging directory {}", staging.display()))
}

/// Steps 1 and 2 of the module docs: every file into a new staging directory, which it
/// returns, nothing else in `out` touched. On failure the staging directory is removed.
fn stage(out: &Path, files: &[(OsString, Source<'_>)], config: &Path) -> anyhow::Result<PathBuf> {
    // A rename replaces the name in `out`, whatever it links to: the config is in the way
    // where its own name, its links resolved, is one of those names.
    let config = std::fs::canonicalize(config).ok();
    let out_dir = std::fs::canonicalize(out).ok();
    for (name, _) in files {
        let target = out.join(name);
        if config.is_some() && out_dir.as_ref().map(|d| d.join(name)) == config {
            anyhow::bail!(
                "cannot write {}: it is the config being built; choose another --out or move \
                 the config; nothing was replaced",
                target.display()
            );
        }
        if target.is_dir() {
            anyhow::bail!(
                "cannot write {}: a directory is in the way; nothing was replaced",
                target.display()
            );
        }
    }
    let staging = new_staging(out)?;
    let filled = fill(out, &staging, files);
    if filled.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    filled.map(|()| staging)
}

/// A staging directory of this build's own in `out`: one of the same name (a build killed in
/// another container, where it was pid 1 too) is another build's, neither used nor removed.
fn new_staging(out: &Path) -> anyhow::Result<PathBuf> {
    let mut n = 0u32;
    loop {
        let staging = out.join(format!("{STAGING}{}-{n}", std::process::id()));
        match std::fs::create_dir(&staging) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            made => {
                return made
                    .map(|()| staging)
                    .with_context(|| format!("cannot write in {}", out.display()));
            }
        }
    }
}

/// Every file of the build into `staging`.
fn fill(out: &Path, staging: &Path, files: &[(OsString, Source<'_>)]) -> anyhow::Result<()> {
    for (name, source) in files {
        let path = staging.join(name);
        match source {
            Source::Bytes(bytes) => std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", out.join(name).display()))?,
            Source::Copy(from) => {
                std::fs::copy(from, &path)
                    .with_context(|| format!("cannot copy {}", from.display()))?;
            }
        }
    }
    Ok(())
}
