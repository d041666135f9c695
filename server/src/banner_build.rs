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
//! - The renames are one by one: a crash among them leaves some files of the build beside
//!   some of the one before, each of them whole. Building again finishes it.
//! - A banner read from the output directory itself (`--dist` naming it) is copied, then
//!   renamed over itself: the same bytes, never a file emptied by copying it onto itself.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The staging directory's name in the output directory (with the process id after it).
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
    let staging = out.join(format!("{STAGING}{}", std::process::id()));
    let staged = stage(out, &staging, files, config);
    if staged.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        if made {
            let _ = std::fs::remove_dir(out);
        }
    }
    staged?;
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

/// Steps 1 and 2 of the module docs: every file into `staging`, nothing in `out` touched.
fn stage(
    out: &Path,
    staging: &Path,
    files: &[(OsString, Source<'_>)],
    config: &Path,
) -> anyhow::Result<()> {
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
    std::fs::create_dir(staging).with_context(|| format!("cannot write in {}", out.display()))?;
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
