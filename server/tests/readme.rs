//! The README works when copied: its configs validate, in one language and in three, and
//! each Rust snippet is a whole program preceded by the `[dependencies]` it needs. (The
//! snippets themselves compile and run as doctests of this crate, `src/lib.rs`.)

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;

use consent_core::Config;

const README: &str = include_str!("../../README.md");

/// A fenced code block: its info string, its text and the README line it starts on.
#[derive(Debug)]
struct Block {
    info: String,
    text: String,
    line: usize,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_owned(),
                    text: String::new(),
                    line: i + 1,
                });
            }
            (Some(_), Some("")) => out.extend(open.take()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README ends inside a code block");
    out
}

/// The first word of the info string: `rust` for "rust no_run".
fn lang(block: &Block) -> &str {
    block.info.split([' ', ',']).next().unwrap_or_default()
}

#[test]
fn every_config_in_the_readme_is_valid_and_there_is_one_in_one_language_and_one_in_three() {
    let configs: Vec<Block> = blocks(README)
        .into_iter()
        // A whole document, which a reader may copy; not a fragment such as `"transfer": ...`.
        .filter(|b| lang(b) == "json" && b.text.starts_with('{'))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut languages = Vec::new();
    for block in &configs {
        let config = Config::from_json(&block.text)
            .unwrap_or_else(|e| panic!("README line {}: {e}", block.line));
        languages.push(config.languages().len());
        // As the reader checks it: with `consent validate`.
        let path = dir.path().join(format!("readme-{}.json", block.line));
        std::fs::write(&path, &block.text).expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_consent"))
            .arg("validate")
            .arg(&path)
            .output()
            .expect("run consent");
        assert!(
            out.status.success(),
            "README line {}: {}",
            block.line,
            String::from_utf8_lossy(&out.stderr)
        );
        // Complete: a banner can be built from it, with something to ask about.
        assert!(
            config.categories().len() > 1 && config.service_count() > 0,
            "README line {}: a config with nothing to consent to",
            block.line
        );
        consent_core::bundle::files(&config)
            .unwrap_or_else(|e| panic!("README line {}: {e}", block.line));
    }
    assert!(
        languages.contains(&1) && languages.contains(&3),
        "the README shows a config in one language and one in three, not {languages:?}"
    );
    // The one-language config shows the plain strings such a site may write.
    let one = configs
        .iter()
        .zip(&languages)
        .find(|(_, n)| **n == 1)
        .map(|(b, _)| &b.text)
        .expect("found above");
    let value: serde_json::Value = serde_json::from_str(one).expect("valid above");
    assert!(
        value["categories"][1]["services"][0]["purpose"].is_string(),
        "{one}"
    );
}

/// Every identifier in `code`, in order, each with whether `::` follows it and whether `::`
/// comes before it; comments and string literals left out.
fn paths(code: &str) -> Vec<(String, bool, bool)> {
    let mut out = Vec::new();
    let mut chars = code.char_indices().peekable();
    let mut after_colons = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '/' if code[i..].starts_with("//") => {
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
            }
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                after_colons = false;
            }
            ':' if code[i..].starts_with("::") => {
                chars.next();
                after_colons = true;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some((j, d)) = chars.next_if(|&(_, d)| d.is_alphanumeric() || d == '_') {
                    end = j + d.len_utf8();
                }
                let before = after_colons;
                after_colons = false;
                out.push((
                    code[i..end].to_owned(),
                    code[end..].starts_with("::"),
                    before,
                ));
            }
            c if c.is_whitespace() => {}
            _ => after_colons = false,
        }
    }
    out
}

/// The crates a snippet names: the first segment of its paths (`time` in
/// `time::OffsetDateTime::now_utc()`, `tokio` in `#[tokio::main]`), leaving out the standard
/// library and the modules and types its `use` lines bring in (`policy` in `policy::decide`).
fn crates_used(code: &str) -> BTreeSet<String> {
    let mut imported = BTreeSet::new();
    for statement in code.split(';') {
        if let Some(rest) = statement.trim_start().strip_prefix("use ") {
            imported.extend(paths(rest).into_iter().skip(1).map(|(name, _, _)| name));
        }
    }
    paths(code)
        .into_iter()
        .filter(|(name, colons_after, colons_before)| {
            *colons_after
                && !colons_before
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && !["std", "core", "alloc", "crate", "self", "super"].contains(&name.as_str())
                && !imported.contains(name)
        })
        .map(|(name, _, _)| name.replace('_', "-"))
        .collect()
}

/// The crates a ```toml block's `[dependencies]` names.
fn dependencies(toml: &str) -> Option<BTreeSet<String>> {
    let mut lines = toml.lines().filter(|l| !l.trim().is_empty());
    if lines.next()?.trim() != "[dependencies]" {
        return None;
    }
    lines
        .map(|l| {
            l.split_once('=')
                .map(|(name, _)| name.trim().replace('_', "-"))
        })
        .collect()
}

#[test]
fn every_rust_snippet_is_a_whole_program_after_its_dependencies() {
    let all = blocks(README);
    let mut snippets = 0;
    for (i, block) in all.iter().enumerate() {
        if lang(block) != "rust" {
            continue;
        }
        snippets += 1;
        let at = block.line;
        assert!(
            block.text.contains("fn main()"),
            "README line {at}: a snippet is a whole program, with its fn main"
        );
        for line in block.text.lines() {
            let line = line.trim_start();
            assert!(
                line != "#" && !line.starts_with("# "),
                "README line {at}: `{line}` is hidden by rustdoc, so a reader copies code without it"
            );
        }
        let toml = i
            .checked_sub(1)
            .and_then(|j| all.get(j))
            .filter(|b| lang(b) == "toml")
            .unwrap_or_else(|| {
                panic!("README line {at}: no ```toml block with its [dependencies] before it")
            });
        let listed = dependencies(&toml.text).unwrap_or_else(|| {
            panic!(
                "README line {}: expected `[dependencies]` and one `name = ...` a line",
                toml.line
            )
        });
        assert_eq!(
            crates_used(&block.text),
            listed,
            "README line {at}: the crates the snippet uses, against the [dependencies] above it"
        );
    }
    assert!(snippets >= 3, "the README's Rust snippets are gone");
}

#[test]
fn the_checks_catch_what_they_are_for() {
    let code = r#"use consent_core::policy::{self, Action};
use std::sync::Arc;
#[tokio::main]
async fn main() {
    // serde::Serialize in a comment is not used
    let s = "axum::Router in a string is not used";
    let now = time::OffsetDateTime::now_utc();
    policy::evaluate(Action::RejectAll, Arc::new(consent_server::gating::verdict));
}"#;
    assert_eq!(
        crates_used(code),
        BTreeSet::from(["consent-core", "consent-server", "time", "tokio"].map(String::from))
    );
    assert_eq!(
        dependencies("[dependencies]\nconsent-core = { git = \"x\" }\ntime = \"0.3\"\n"),
        Some(BTreeSet::from(["consent-core", "time"].map(String::from)))
    );
    assert_eq!(dependencies("[package]\nname = \"x\"\n"), None);
    let md = "text\n```toml\n[dependencies]\n```\n\n```rust no_run\nfn main() {}\n```\n";
    let found = blocks(md);
    assert_eq!(found.len(), 2);
    assert_eq!((lang(&found[1]), found[1].line), ("rust", 6));
}

/// The README's `[dependencies]` line for `name`, with the repository's address replaced by
/// this checkout's path (what the reader's copy fetches from git).
fn local_dependency(line: &str, root: &std::path::Path) -> String {
    let dirs = [
        ("consent-core", "core"),
        ("consent-gate", "gate"),
        ("consent-server", "server"),
    ];
    let name = line.split_once('=').map_or("", |(n, _)| n.trim());
    match dirs.iter().find(|(crate_name, _)| *crate_name == name) {
        Some((_, dir)) => line.replace(
            r#"git = "https://github.com/consent-rs/consent""#,
            &format!("path = {:?}", root.join(dir).display().to_string()),
        ),
        None => line.to_owned(),
    }
}

/// Each Rust snippet, with the `[dependencies]` block above it, builds as a program of a new
/// project outside this workspace: what a reader who copies them gets (`cargo check`, offline,
/// with this workspace's lock file so that the versions are the ones tested here).
#[test]
fn every_rust_snippet_checks_in_a_new_project() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf();
    let all = blocks(README);
    let project = tempfile::tempdir().expect("tempdir");
    let mut dependencies: BTreeSet<String> = BTreeSet::new();
    let mut bins = Vec::new();
    for (i, block) in all.iter().enumerate() {
        if lang(block) != "rust" {
            continue;
        }
        let toml = &all[i - 1];
        for line in toml.text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            dependencies.insert(local_dependency(line, &root));
        }
        let name = format!("line{}", block.line);
        let dir = project.path().join("src/bin");
        std::fs::create_dir_all(&dir).expect("src/bin");
        std::fs::write(dir.join(format!("{name}.rs")), &block.text).expect("write snippet");
        bins.push(name);
    }
    // One project for all of them: the same crate listed twice must be listed the same way.
    let names: Vec<&str> = dependencies
        .iter()
        .map(|l| l.split_once('=').map_or("", |(n, _)| n.trim()))
        .collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(
        names.len(),
        unique.len(),
        "a crate listed differently above two snippets: {dependencies:?}"
    );
    let manifest = format!(
        "[package]\nname = \"readme-snippets\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{}\n",
        dependencies.into_iter().collect::<Vec<_>>().join("\n")
    );
    std::fs::write(project.path().join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::copy(root.join("Cargo.lock"), project.path().join("Cargo.lock")).expect("Cargo.lock");
    // Its own target directory, so this test never waits on (or disturbs) the build running it.
    let out = Command::new(env!("CARGO"))
        .args(["check", "--offline", "--bins", "--quiet"])
        .current_dir(project.path())
        .env("CARGO_TARGET_DIR", project.path().join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "the README's snippets {bins:?} do not build in a new project:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
