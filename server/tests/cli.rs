//! The `consent` command: messages and exit codes, against a real SQLite log.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Channel, Config, ConsentId, DecisionRecord, Lang};
use consent_server::store::Log as _;
use consent_server::store::postgres::PgStore;
use consent_server::store::sqlite::SqliteStore;

mod support;

use support::cli::{append_decisions, keep_head, key, log_with, run as consent, text};

/// The example clinic's config file (`consent_core::EXAMPLE_CONFIG` holds its text).
const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/src/example_config.json"
);

#[test]
fn validate_lists_every_problem_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = consent(dir.path(), &["validate", EXAMPLE]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("valid (revision 1, 3 categories, 5 services)"));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"}, {"id": "ads", "enabled_by_default": true}]}"#).expect("write");
    let out = consent(dir.path(), &["validate", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("categories[1].title: missing")
            && t.contains("categories[1].enabled_by_default: not allowed"),
        "{t}"
    );
    let missing = consent(dir.path(), &["validate", "/nonexistent.json"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing).contains("cannot read /nonexistent.json"));
}

#[test]
fn banner_build_writes_what_serve_serves_and_nothing_for_a_bad_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = EXAMPLE;
    let out = dir.path().join("site");
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).expect("dist");
    std::fs::write(dist.join("consent.js"), "// the banner").expect("write");
    // A dist that also holds an earlier build's output (the site's own directory, say): the
    // files compiled from this config are kept, never the older ones beside the banner.
    std::fs::write(dist.join("policy.bin"), "CPOL stale").expect("write");
    std::fs::write(dist.join("texts-fi.json"), "{}").expect("write");
    let built = consent(
        dir.path(),
        &[
            "banner",
            "build",
            example,
            "--out",
            out.to_str().expect("utf-8"),
            "--dist",
            dist.to_str().expect("utf-8"),
        ],
    );
    assert!(built.status.success(), "{}", text(&built));
    let config = consent_core::Config::from_json(&std::fs::read_to_string(example).expect("read"))
        .expect("valid");
    for (name, bytes) in consent_core::bundle::files(&config).expect("compiles") {
        assert_eq!(
            std::fs::read(out.join(&name)).expect(&name),
            bytes,
            "{name}"
        );
    }
    let policy = std::fs::read(out.join("policy.bin")).expect("policy");
    let parsed = consent_core::compiled::CompiledPolicy::parse(&policy).expect("parses");
    assert_eq!(parsed.fingerprint(), config.fingerprint());
    assert_eq!(
        std::fs::read_to_string(out.join("consent.js")).expect("copied"),
        "// the banner"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"}, {"id": "ads"}]}"#).expect("write");
    let nothing = dir.path().join("nothing");
    let refused = consent(
        dir.path(),
        &[
            "banner",
            "build",
            bad.to_str().expect("utf-8"),
            "--out",
            nothing.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("categories[1].title: missing"),
        "{}",
        text(&refused)
    );
    assert!(!nothing.exists(), "a config with problems compiles nothing");
    // A config that cannot be read says why, as the other commands do.
    for config in ["/nonexistent.json", dir.path().to_str().expect("utf-8")] {
        let unread = consent(
            dir.path(),
            &[
                "banner",
                "build",
                config,
                "--out",
                nothing.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(unread.status.code(), Some(1));
        let why = consent(dir.path(), &["validate", config]);
        let reason = text(&why)
            .rsplit(": ")
            .next()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        assert!(reason.contains("os error"), "{}", text(&why));
        assert!(
            text(&unread).starts_with(&format!("error: cannot read {config}"))
                && text(&unread).contains(&reason),
            "{}",
            text(&unread)
        );
    }
    assert!(!nothing.exists());
}

/// The names under `dir` (recursively, as `sub/name`) with their bytes, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().expect("type").is_dir() {
            for (sub, bytes) in tree(&entry.path()) {
                all.push((format!("{name}/{sub}"), bytes));
            }
        } else {
            all.push((name, std::fs::read(entry.path()).expect("read")));
        }
    }
    all.sort();
    all
}

/// A staging directory of the same name as this build's (left by a build killed in another
/// container, where every process is pid 1) neither stops the build nor is removed by it.
#[test]
fn banner_build_passes_over_a_staging_directory_it_did_not_make() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("site")).expect("site");
    // The shell makes the directory under its own pid, then becomes `consent` (same pid).
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"for n in "" -0; do mkdir "site/.consent-build-$$$n" && echo theirs > "site/.consent-build-$$$n/x"; done && exec "$0" banner build "$1" --out site"#)
        .arg(env!("CARGO_BIN_EXE_consent"))
        .arg(EXAMPLE)
        .current_dir(d)
        .output()
        .expect("run consent");
    assert!(out.status.success(), "{}", text(&out));
    let theirs: Vec<String> = names(&d.join("site"))
        .into_iter()
        .filter(|n| n.starts_with(".consent-build-"))
        .collect();
    assert_eq!(theirs.len(), 2, "{theirs:?}");
    for name in theirs {
        let kept = d.join("site").join(name).join("x");
        assert_eq!(std::fs::read_to_string(kept).expect("read"), "theirs\n");
    }
    assert!(d.join("site/policy.bin").is_file());
}

/// An `--out` that is a file, or a symlink to nothing, is named as what it is, not as the
/// system's "File exists", and left as it was.
#[test]
fn banner_build_into_something_not_a_directory_says_what_is_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("a-file"), "kept").expect("write");
    std::os::unix::fs::symlink(d.join("nothing"), d.join("dangling")).expect("symlink");
    for (out, want) in [
        ("a-file", "not a directory"),
        ("dangling", "a symlink to nothing"),
    ] {
        let got = consent(d, &["banner", "build", EXAMPLE, "--out", out]);
        assert_eq!(got.status.code(), Some(1), "{out}: {}", text(&got));
        assert!(
            text(&got).contains(out) && text(&got).contains(want),
            "{out}: {}",
            text(&got)
        );
    }
    assert_eq!(std::fs::read(d.join("a-file")).expect("read"), b"kept");
    assert!(!d.join("nothing").exists());
}

/// A config kept under a name the build writes, in the directory it writes to (reached
/// directly, or through a symlink), is never replaced by the build: nothing is.
#[test]
fn banner_build_never_writes_over_its_own_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = std::fs::read(Path::new(EXAMPLE)).expect("example");
    let site = d.join("site");
    std::fs::create_dir(&site).expect("site");
    std::fs::write(site.join("texts-fi.json"), &config).expect("write");
    std::os::unix::fs::symlink(site.join("texts-fi.json"), d.join("config.json")).expect("symlink");
    for given in ["site/texts-fi.json", "config.json"] {
        let out = consent(d, &["banner", "build", given, "--out", "site"]);
        assert_eq!(out.status.code(), Some(1), "{given}: {}", text(&out));
        assert!(
            text(&out).contains("texts-fi.json") && text(&out).contains("config"),
            "{given}: {}",
            text(&out)
        );
        assert_eq!(
            std::fs::read(site.join("texts-fi.json")).expect("read"),
            config
        );
        assert_eq!(names(&site), ["texts-fi.json"], "{given}");
    }
}

#[test]
fn banner_build_writes_all_of_a_build_or_nothing_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let example = EXAMPLE;
    let build = |out: &Path, dist: &Path| {
        consent(
            d,
            &[
                "banner",
                "build",
                example,
                "--out",
                out.to_str().expect("utf-8"),
                "--dist",
                dist.to_str().expect("utf-8"),
            ],
        )
    };
    // A site that keeps the banner where it serves it, and builds into the same directory.
    let site = d.join("site");
    std::fs::create_dir(&site).expect("site");
    std::fs::write(site.join("consent.js"), "// the banner").expect("write");
    std::fs::write(site.join("consent_bg.wasm"), b"\0asm the module").expect("write");
    std::fs::write(site.join("index.html"), "<p>the site's own page</p>").expect("write");
    let built = build(&site, &site);
    assert!(built.status.success(), "{}", text(&built));
    assert_eq!(
        std::fs::read(site.join("consent.js")).expect("read"),
        b"// the banner",
        "the banner copied over itself is kept whole"
    );
    assert_eq!(
        std::fs::read(site.join("consent_bg.wasm")).expect("read"),
        b"\0asm the module"
    );
    assert!(site.join("policy.bin").is_file());
    let before = tree(&site);
    assert!(
        before.iter().all(|(name, _)| !name.starts_with('.')),
        "no staging left behind: {:?}",
        before.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );

    // A banner that cannot be read, into a new directory: nothing at all.
    let fresh = d.join("fresh");
    let missing = build(&fresh, &d.join("no-dist"));
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(text(&missing).contains("no-dist"), "{}", text(&missing));
    assert!(!fresh.exists(), "half a build: {:?}", tree(&fresh));

    // Into the earlier build: it stays as it was, every file of it.
    let missing = build(&site, &d.join("no-dist"));
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert_eq!(tree(&site), before);

    // A directory where a compiled file goes: refused before anything is replaced.
    let blocked = d.join("blocked");
    std::fs::create_dir_all(blocked.join("texts-sv.json")).expect("dir");
    std::fs::write(blocked.join("policy.bin"), "CPOL older").expect("write");
    let refused = build(&blocked, &site);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("texts-sv.json"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        tree(&blocked),
        [("policy.bin".to_owned(), b"CPOL older".to_vec())]
    );

    // --out naming a file: refused, the file kept.
    let file = d.join("file");
    std::fs::write(&file, "keep me").expect("write");
    let refused = build(&file, &site);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("file"), "{}", text(&refused));
    assert_eq!(std::fs::read(&file).expect("read"), b"keep me");
}

#[test]
fn every_command_reads_a_config_file_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let example = consent_core::EXAMPLE_CONFIG.as_bytes().to_vec();
    let path = |name: &str| d.join(name).to_str().expect("utf-8").to_owned();
    let empty = &path("empty");
    std::fs::create_dir(empty).expect("dist");
    let commands = |config: &str, out: &str| -> Vec<Vec<String>> {
        [
            vec!["validate", config],
            vec!["banner", "build", config, "--out", out, "--dist", empty],
            vec!["declaration", "--lang", "en", config],
        ]
        .iter()
        .map(|args| args.iter().map(|&a| a.to_owned()).collect())
        .collect()
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        consent(d, &args)
    };
    // With the byte order mark an editor on Windows writes: the same config, the same build.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&example);
    std::fs::write(d.join("bom.json"), &bom).expect("write");
    std::fs::write(d.join("plain.json"), &example).expect("write");
    for (with, without) in commands(&path("bom.json"), &path("bom-out"))
        .iter()
        .zip(commands(&path("plain.json"), &path("plain-out")))
    {
        let (with, without) = (run(with), run(&without));
        assert!(with.status.success(), "{}", text(&with));
        assert_eq!(
            String::from_utf8_lossy(&with.stdout).replace("bom", "plain"),
            String::from_utf8_lossy(&without.stdout)
        );
    }
    assert_eq!(tree(&d.join("bom-out")), tree(&d.join("plain-out")));

    // Not UTF-8 (Latin-1 from an old editor, UTF-16 from Notepad): where, never garbled text.
    let text_of = String::from_utf8(example.clone()).expect("utf-8");
    let at = text_of.find("Klinikan").expect("in the example");
    let line = 1 + text_of[..at].matches('\n').count();
    let column = at - text_of[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    let mut latin1 = example.clone();
    latin1[at] = 0xC4; // 'Ä' in Latin-1, then 'l': not UTF-8
    std::fs::write(d.join("latin1.json"), &latin1).expect("write");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text_of.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(d.join("utf16.json"), &utf16).expect("write");
    for (name, want) in [
        (
            "latin1.json",
            format!("invalid UTF-8 at line {line} column {column}"),
        ),
        ("utf16.json", "UTF-16".to_owned()),
    ] {
        for args in commands(&path(name), &path("not-out")) {
            let o = run(&args);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
            let t = text(&o);
            assert!(t.contains(name) && t.contains(&want), "{args:?}: {t}");
            assert!(!t.contains("panicked"), "{t}");
        }
        assert!(!d.join("not-out").exists());
    }
}

#[test]
fn a_config_that_gives_a_field_twice_is_refused_with_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let example = consent_core::EXAMPLE_CONFIG.to_owned();
    // The first service's cookies given twice: the declaration would lose the first list.
    let at = example.find("\"cookies\": [").expect("a cookie list");
    let twice = format!("{}\"cookies\": [], {}", &example[..at], &example[at..]);
    let line = 1 + example[..at].matches('\n').count();
    let path = d.join("twice.json");
    std::fs::write(&path, twice).expect("write");
    let path = path.to_str().expect("utf-8");
    for args in [
        vec!["validate", path],
        vec!["declaration", "--lang", "en", path],
        vec!["banner", "build", path, "--out", "out"],
    ] {
        let o = consent(d, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("twice.json")
                && t.contains(&format!("duplicate key \"cookies\" at line {line} column")),
            "{args:?}: {t}"
        );
    }
    assert!(!d.join("out").exists());
}

#[test]
fn a_config_file_far_larger_than_any_config_is_refused_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let example = consent_core::EXAMPLE_CONFIG.to_owned();
    // 50 MB: the example padded with blanks (valid JSON), a file that is not the config.
    let big = d.join("big.json");
    let padded = format!(
        "{}{}}}",
        &example[..example.len() - 2],
        " ".repeat(50 << 20)
    );
    std::fs::write(&big, padded).expect("write");
    let mut files = vec![big.to_str().expect("utf-8").to_owned()];
    // And a file that never ends.
    #[cfg(target_os = "linux")]
    files.push("/dev/zero".to_owned());
    for config in &files {
        for args in [
            vec!["validate", config.as_str()],
            vec!["banner", "build", config, "--out", "out"],
            vec!["declaration", config],
        ] {
            let o = consent(d, &args);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
            let t = text(&o);
            assert!(
                t.contains(config.as_str()) && t.contains("larger than"),
                "{args:?}: {t}"
            );
        }
    }
    assert!(!d.join("out").exists());
}

/// A pipe whose reader has gone, as `consent ... | head -1` leaves it once `head` is done:
/// the writing end of the standard input of a `true` that has exited.
fn pipe_without_reader() -> std::process::Stdio {
    let mut reader = Command::new("true")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("true");
    let writer = reader.stdin.take().expect("its standard input");
    reader.wait().expect("true exits");
    std::process::Stdio::from(writer)
}

#[tokio::test]
async fn output_to_a_reader_that_went_away_ends_quietly_never_in_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    let example = EXAMPLE;
    let list = d.join("list.csv");
    std::fs::write(&list, "email\nmaija@example.fi\n").expect("write");
    let id = "01".repeat(16);
    for args in [
        &["export", &id][..],
        &["stats", "--config", EXAMPLE],
        &["verify"],
        &["key", "list"],
        &["site-id"],
        &["validate", example],
        &["declaration", example],
        &["request", "list"],
        &["market", "bulk", list.to_str().expect("utf-8")],
        &[
            "market",
            "check",
            "--contact",
            "maija@example.fi",
            "--channel",
            "email",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_consent"))
            .args(args)
            .current_dir(d)
            .env("CONSENT_DB", d.join("consent.db"))
            .env("CONSENT_KEY_FILE", d.join("consent.key"))
            .env("RUST_BACKTRACE", "1")
            .stdout(pipe_without_reader())
            .output()
            .expect("run consent");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        // As a command killed by SIGPIPE ends; never 0, which `market check` would have a
        // script read as "yes, may market".
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
    }
}

#[test]
fn site_id_follows_the_key_and_binds_tokens_to_the_site() {
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let id = |dir: &Path| {
        let out = consent(dir, &["site-id"]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    // Made with the key on first use, then stable for that key; another key, another id.
    let first = id(a.path());
    assert!(a.path().join("consent.key").exists());
    assert_eq!(first.len(), 16, "{first}");
    assert!(first.bytes().all(|c| c.is_ascii_hexdigit()), "{first}");
    assert_eq!(id(a.path()), first);
    let other = id(b.path());
    assert_ne!(other, first);
    // The id is a valid site for a config, and tokens made under one site's config do not
    // apply under the other's, even without a key.
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let ours = config.clone().with_site(&first).expect("a valid site id");
    let theirs = config.with_site(&other).expect("a valid site id");
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(&theirs, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::En,
        fresh_id: ConsentId::from_bytes([7; 16]),
    };
    let d = policy::decide(&theirs, &before, Action::AcceptAll, ctx).expect("in range");
    let token = consent_core::Token::unsigned(*d.state()).to_string();
    let here = policy::evaluate(&ours, Some(&token), None, now, Signals::default());
    let analytics = ours.category_index("analytics").expect("in the example");
    assert_eq!(here.status(), policy::StoredStatus::OlderRevision);
    assert!(here.show_banner(), "another site's token asks again");
    assert!(!here.allows_category(analytics));
    let there = policy::evaluate(&theirs, Some(&token), None, now, Signals::default());
    assert!(!there.show_banner());
    assert!(there.allows_category(analytics));
}

#[test]
fn declaration_prints_the_cores_rendering_and_explains_bad_input() {
    use consent_core::declaration::{Declaration, Format};
    let dir = tempfile::tempdir().expect("tempdir");
    let example = EXAMPLE;
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    for (lang, format) in [
        ("fi", Format::Html),
        ("sv", Format::Markdown),
        ("en", Format::Json),
    ] {
        let out = consent(
            dir.path(),
            &[
                "declaration",
                "--lang",
                lang,
                "--format",
                format.as_str(),
                example,
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
        let want = Declaration::new(&config, lang.parse().expect("lang"), None)
            .expect("offered")
            .render(format);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            want.trim_end()
        );
        assert!(out.stderr.is_empty(), "{}", text(&out));
    }
    // Without --lang: the config's default language, Finnish.
    let out = consent(dir.path(), &["declaration", example]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("<h2>Evästeet</h2>"));

    // A config without revision_date takes --date, and says so when there is none.
    let undated = dir.path().join("undated.json");
    std::fs::write(
        &undated,
        r#"{"revision": 4, "privacy_notice": "/p", "languages": ["fi"], "categories": [{"id": "necessary"}]}"#,
    )
    .expect("write");
    let undated = undated.to_str().expect("utf-8");
    let out = consent(
        dir.path(),
        &[
            "declaration",
            "--format",
            "md",
            "--date",
            "2026-01-15",
            undated,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("*Evästekäytännön versio 4, päivitetty 15.1.2026.*"),
        "{}",
        text(&out)
    );
    let out = consent(dir.path(), &["declaration", "--format", "md", undated]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("*Evästekäytännön versio 4.*"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no revision_date"),
        "{}",
        text(&out)
    );

    // A language the config does not offer, a bad date or format: usage errors, exit 2.
    let out = consent(dir.path(), &["declaration", "--lang", "sv", undated]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("language sv is not one of the config's languages (fi)"),
        "{}",
        text(&out)
    );
    let out = consent(
        dir.path(),
        &["declaration", "--date", "2026-13-01", undated],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("expected a date as YYYY-MM-DD"),
        "{}",
        text(&out)
    );
    let out = consent(dir.path(), &["declaration", "--format", "pdf", undated]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("expected html, md (or markdown) or json"),
        "{}",
        text(&out)
    );

    // An invalid config: every problem with its path, exit 1 as `validate`.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary", "services": [{"id": "x", "name": "X", "provider": "P", "purpose": {"fi": "a", "sv": "b", "en": "c"}, "transfer": {"outside_eea": true}}]}]}"#).expect("write");
    let out = consent(dir.path(), &["declaration", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("categories[0].services[0].transfer.safeguard: not allowed"),
        "{}",
        text(&out)
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn verify_names_the_first_broken_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1, 2, 3, 4]).await;
    let out = consent(dir.path(), &["verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("chain verified: 4 records (0 erased)"));
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    conn.execute(
        "UPDATE decisions SET record = replace(record, '\"en\"', '\"fi\"') WHERE seq = 3",
        [],
    )
    .expect("tamper");
    let out = consent(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("record 3 does not match its digest: edited"),
        "{}",
        text(&out)
    );
}

/// A value no code path writes (an action this version does not know, a time written as text)
/// is a break of the log like any other edit: exit 1, naming the record, not 3, which says
/// the log could not be opened.
#[tokio::test]
async fn verify_exits_1_on_a_value_it_cannot_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1, 2, 3]).await;
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    for edit in [
        "UPDATE decisions SET action = 'accept_everything' WHERE seq = 2",
        "UPDATE decisions SET action = 'accept_all', time = 'yesterday' WHERE seq = 2",
    ] {
        conn.execute(edit, []).expect("tamper");
        let out = consent(dir.path(), &["verify"]);
        assert_eq!(out.status.code(), Some(1), "{edit}: {}", text(&out));
        assert!(
            text(&out).contains("chain broken") && text(&out).contains("record 2"),
            "{edit}: {}",
            text(&out)
        );
    }
    // A file that is no database at all is a log that cannot be opened.
    drop(conn);
    let other = dir.path().join("other.db");
    std::fs::write(
        &other,
        "not a database, but long enough to have a header ".repeat(4),
    )
    .expect("write");
    let out = consent(
        dir.path(),
        &[
            "verify",
            "--db",
            other.to_str().expect("utf-8"),
            "--without-head-file",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[tokio::test]
async fn verify_checks_the_head_file_and_never_creates_a_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1, 2, 3]).await;
    let out = consent(dir.path(), &["verify"]);
    assert!(
        out.status.success() && text(&out).contains("record 3 confirmed"),
        "{}",
        text(&out)
    );
    // The last record deleted: the database's own signed head names it.
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    conn.execute("DELETE FROM decisions WHERE seq = 3", [])
        .expect("tamper");
    let out = consent(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("records 3..=3 were removed"),
        "{}",
        text(&out)
    );
    // A removed head file is reported, not taken as "no head file yet".
    std::fs::remove_file(dir.path().join("consent.db.head")).expect("remove");
    let out = consent(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("head file"), "{}", text(&out));
    // A mistyped --db is an error, and creates nothing.
    let typo = dir.path().join("consnet.db");
    let out = consent(
        dir.path(),
        &["verify", "--db", typo.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("consnet.db"), "{}", text(&out));
    assert!(!typo.exists());
    for read_only in [
        &["stats", "--config", EXAMPLE][..],
        &["export", &"01".repeat(16)],
    ] {
        let other = tempfile::tempdir().expect("tempdir");
        let out = consent(other.path(), read_only);
        assert_eq!(out.status.code(), Some(3), "{read_only:?}: {}", text(&out));
        assert!(!other.path().join("consent.db").exists(), "{read_only:?}");
        assert!(!other.path().join("consent.key").exists(), "{read_only:?}");
    }
}

/// A log written before the keyed chain: `verify` checks it, says what its plain links cannot
/// prove, and does not ask for a head file no version wrote.
#[tokio::test]
async fn verify_on_a_log_from_before_the_keyed_chain_says_what_it_proves() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1, 2]).await;
    // As the previous version left it: plain SHA-256 links, no chain_head, no head file.
    let db = dir.path().join("consent.db");
    let conn = rusqlite::Connection::open(&db).expect("open");
    support::sqlite::relink_with_plain_hashes(&conn);
    conn.execute_batch("DROP TABLE chain_head").expect("drop");
    drop(conn);
    std::fs::remove_file(dir.path().join("consent.db.head")).expect("remove the head file");
    let out = consent(dir.path(), &["verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("records 1..=2 were linked without a key"),
        "{}",
        text(&out)
    );
}

/// A keyed log passed off as one from before the keyed chain: every record relinked with plain
/// hashes (which needs no key), `chain_head` and the head file removed. A version before the
/// keyed chain never wrote an erasure entry, so the log's own erasure entries give it away.
#[tokio::test]
async fn verify_names_a_keyed_log_relinked_as_one_from_before_the_keyed_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1, 2, 3]).await;
    let out = consent(dir.path(), &["erase", &"02".repeat(16)]);
    assert!(out.status.success(), "{}", text(&out));
    let db = dir.path().join("consent.db");
    let conn = rusqlite::Connection::open(&db).expect("open");
    // In a plain prefix, content removed by hand passes for an old erasure: record 3 goes.
    conn.execute(
        "UPDATE decisions SET record = NULL, consent_id = NULL WHERE seq = 3",
        [],
    )
    .expect("tamper");
    support::sqlite::relink_with_plain_hashes(&conn);
    conn.execute_batch("DROP TABLE chain_head").expect("drop");
    drop(conn);
    std::fs::remove_file(dir.path().join("consent.db.head")).expect("remove the head file");
    let out = consent(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("record 4, an erasure entry, is linked without a key"),
        "{}",
        text(&out)
    );
}

/// What a file holds (its SHA-256, in hex) and when it was last written; `None` when it is
/// not there.
fn state_of(path: &Path) -> Option<(String, std::time::SystemTime)> {
    use sha2::Digest as _;
    let bytes = std::fs::read(path).ok()?;
    let written = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some((sha, written))
}

/// A log file and its `-wal` and `-journal` files, as [`state_of`] sees them.
fn log_files(db: &Path) -> Vec<Option<(String, std::time::SystemTime)>> {
    ["", "-wal", "-journal"]
        .iter()
        .map(|suffix| {
            let mut path = db.as_os_str().to_owned();
            path.push(suffix);
            state_of(Path::new(&path))
        })
        .collect()
}

/// Whether SQLite keeps anything beside the log (`-wal`, `-shm`, `-journal`).
fn beside(db: &Path) -> Vec<String> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| {
            let mut path = db.as_os_str().to_owned();
            path.push(suffix);
            Path::new(&path).exists().then(|| (*suffix).to_owned())
        })
        .collect()
}

/// A copy of the log in `dir` at `name`, as the server leaves its file (in WAL mode, the
/// write-ahead log folded in), with a copy of its head file beside it, made read-only
/// (mode 0444; the tests run as root, whom that does not stop, so they compare bytes too).
fn evidence_copy(dir: &Path, name: &str, edit: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let copy = dir.join(name);
    let conn = rusqlite::Connection::open(dir.join("consent.db")).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    std::fs::copy(dir.join("consent.db"), &copy).expect("copy");
    drop(conn);
    if !edit.is_empty() {
        rusqlite::Connection::open(&copy)
            .expect("open the copy")
            .execute_batch(edit)
            .expect("edit the copy");
    }
    assert_eq!(beside(&copy), Vec::<String>::new(), "a copy on its own");
    let header = std::fs::read(&copy).expect("read");
    assert_eq!(
        header.get(18),
        Some(&2),
        "a WAL-mode file, as the server leaves it"
    );
    std::fs::copy(dir.join("consent.db.head"), backup_head(&copy)).expect("head file");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    copy
}

fn backup_head(copy: &Path) -> std::path::PathBuf {
    consent_server::store::backup::head_file_of(copy)
}

/// The commands that only read open the log read-only: a read-only copy handed over as
/// evidence is read as it is, and left as it was, byte for byte, with nothing made beside it;
/// a copy behind the key file (rotated since) is read under the key that signed its head,
/// not rotated.
#[tokio::test]
async fn read_only_commands_leave_a_read_only_copy_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1, 2, 3]).await;
    let good = evidence_copy(d, "evidence.db", "");
    let cut = evidence_copy(d, "cut.db", "DELETE FROM decisions WHERE seq = 3");
    let id = "02".repeat(16);
    let check = |copy: &Path, args: &[&str]| {
        let before = log_files(copy);
        let mut all = args.to_vec();
        all.extend(["--db", copy.to_str().expect("utf-8")]);
        let out = consent(d, &all);
        assert_eq!(
            log_files(copy),
            before,
            "{all:?} changed the log: {}",
            text(&out)
        );
        assert_eq!(
            beside(copy),
            Vec::<String>::new(),
            "{all:?}: {}",
            text(&out)
        );
        out
    };
    let out = check(&good, &["verify"]);
    assert!(
        out.status.success()
            && text(&out).contains("chain verified: 3 records")
            && text(&out).contains("record 3 confirmed"),
        "{}",
        text(&out)
    );
    for args in [
        &["export", &id][..],
        &["stats", "--config", EXAMPLE],
        &["request", "list"],
    ] {
        let out = check(&good, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let market = [
        "market",
        "check",
        "--contact",
        "maija@example.fi",
        "--channel",
        "email",
    ];
    let out = check(&good, &market);
    assert!(
        text(&out).contains("no decision recorded"),
        "{}",
        text(&out)
    );
    let out = check(&cut, &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("records 3..=3 were removed"),
        "{}",
        text(&out)
    );

    // The key file rotated since the copy was made: the copy is verified under the key that
    // signed its head, and says so, rather than have a rotation appended to it.
    let out = consent(d, &["key", "rotate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = check(&good, &["verify"]);
    assert!(
        out.status.success()
            && text(&out).contains("chain verified: 3 records")
            && text(&out).contains("under the retired key of epoch 0"),
        "{}",
        text(&out)
    );

    // The live log, open in another process: read beside its writer, its files unchanged.
    let store = SqliteStore::open(d.join("consent.db"), key(d).log_keys()).expect("open");
    let live = d.join("consent.db");
    assert!(beside(&live).contains(&"-wal".to_owned()));
    let before = log_files(&live);
    let out = consent(d, &["verify"]);
    assert_eq!(log_files(&live), before, "{}", text(&out));
    assert!(
        out.status.success() && text(&out).contains("chain verified: 4 records"),
        "{}",
        text(&out)
    );
    drop(store);
}

/// A copy of a log from before the keyed chain (no `chain_head`) is verified as it is, with
/// the head its first writer would sign, and gets no `chain_head`; a log from before the
/// register's tables is refused by a command that only reads, which says what upgrades it.
#[tokio::test]
async fn read_only_commands_read_an_older_log_as_it_is_or_say_what_upgrades_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1, 2]).await;
    let conn = rusqlite::Connection::open(d.join("consent.db")).expect("open");
    support::sqlite::relink_with_plain_hashes(&conn);
    conn.execute_batch("DROP TABLE chain_head").expect("drop");
    drop(conn);
    let old = evidence_copy(d, "old.db", "");
    std::fs::remove_file(backup_head(&old)).expect("no head file then");
    let before = log_files(&old);
    let out = consent(d, &["verify", "--db", old.to_str().expect("utf-8")]);
    assert!(
        out.status.success() && text(&out).contains("records 1..=2 were linked without a key"),
        "{}",
        text(&out)
    );
    assert_eq!(log_files(&old), before, "{}", text(&out));
    assert_eq!(beside(&old), Vec::<String>::new());

    let older = evidence_copy(d, "older.db", "DROP TABLE outbox");
    let before = log_files(&older);
    let out = consent(d, &["verify", "--db", older.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("outbox table") && text(&out).contains("consent serve"),
        "{}",
        text(&out)
    );
    assert_eq!(log_files(&older), before);
}

#[tokio::test]
async fn export_and_erase_a_consent_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[7, 8, 7]).await;
    let id = "07".repeat(16);
    let out = consent(dir.path(), &["export", &id]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["records"].as_array().map(Vec::len), Some(2));
    let out = consent(dir.path(), &["erase", &id]);
    assert!(
        out.status.success() && text(&out).contains("erased the personal fields of 2 records"),
        "{}",
        text(&out)
    );
    assert_eq!(consent(dir.path(), &["export", &id]).status.code(), Some(1));
    assert!(consent(dir.path(), &["verify"]).status.success());
    let out = consent(dir.path(), &["erase", "not-an-id"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("invalid consent id"));
    let out = consent(
        dir.path(),
        &["stats", "--config", EXAMPLE, "--format", "csv"],
    );
    assert!(text(&out).contains(",accept_all,1,3"), "{}", text(&out));
}

#[test]
fn an_unreachable_log_exits_3() {
    let out = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args([
            "verify",
            "--db",
            "/nonexistent-dir/consent.db",
            "--key-file",
            "/nonexistent-dir/k",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("/nonexistent-dir/consent.db"));
}

/// A `--db` that is a directory, or a file that is no database (the key file, the config),
/// is named, with what is wrong with it; the log cannot be opened (exit code 3), and the file
/// is left as it was.
#[tokio::test]
async fn a_log_that_is_no_database_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    std::fs::create_dir(d.join("a-dir")).expect("dir");
    std::fs::write(
        d.join("notes.txt"),
        "not a database, but long enough to be read as one",
    )
    .expect("write");
    let id = "01".repeat(16);
    for (db, want) in [("a-dir", "a directory"), ("notes.txt", "not a database")] {
        for args in [
            &["verify"][..],
            &["export", &id],
            &["stats", "--config", EXAMPLE],
            &["erase", &id],
        ] {
            let out = consent(d, &[args, &["--db", db]].concat());
            assert_eq!(out.status.code(), Some(3), "{db} {args:?}: {}", text(&out));
            assert!(
                text(&out).contains(db) && text(&out).contains(want),
                "{db} {args:?}: {}",
                text(&out)
            );
        }
    }
    let out = consent(d, &["backup", "copy.db", "--db", "a-dir"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("a-dir: a directory"), "{}", text(&out));
    assert!(!d.join("copy.db").exists());
    assert!(d.join("a-dir").is_dir());
    assert_eq!(names(&d.join("a-dir")), Vec::<String>::new());
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).expect("read"),
        "not a database, but long enough to be read as one"
    );
}

#[test]
fn serve_refuses_a_public_address_without_an_admin_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("CONSENT_DB", dir.path().join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.path().join("consent.key"))
        .env_remove("CONSENT_ADMIN_TOKEN")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("without an admin token"),
        "{}",
        text(&out)
    );
}

/// `consent serve` with `args` exits with `code` before it starts anything (no log), saying
/// each of `said`.
fn refused_before_start(dir: &Path, args: &[&str], code: i32, said: &[&str]) {
    let out = serve_refusal(dir, args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
    assert!(
        said.iter().all(|s| text(&out).contains(s)),
        "{args:?}: {}",
        text(&out)
    );
    assert!(!dir.join("consent.db").exists(), "{args:?}");
}

/// A timeout past what a clock can add (every connection's deadline overflowed, panicking
/// the task that served it) is refused before anything starts, as is one of no time at all.
#[test]
fn serve_refuses_a_timeout_out_of_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    for option in ["--header-timeout", "--request-timeout"] {
        for value in ["18446744073709551615", "0"] {
            refused_before_start(dir.path(), &[option, value], 2, &[option, "86400"]);
        }
    }
}

/// A `--dist` or `--playground` that is not a directory (a typo, a build not made yet) is
/// refused before anything starts: the server served every page's banner files as 404s.
#[test]
fn serve_refuses_a_dist_that_is_no_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("consent.js");
    std::fs::write(&file, "// a file, not the dist/ directory").expect("write");
    let missing = dir.path().join("wasm/dist");
    for option in ["--dist", "--playground"] {
        for path in [&missing, &file] {
            let path = path.to_str().expect("utf-8");
            refused_before_start(dir.path(), &[option, path], 1, &[option, path]);
        }
    }
}

/// A database rolled back to an older copy ends before the head file the server kept: `serve`
/// refuses to start on it (issue 15), naming the head file, rather than sign a fork of the
/// chain over the records the copy lost.
#[tokio::test]
async fn serve_refuses_a_log_rolled_back_before_its_head_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("consent.db");
    log_with(dir.path(), &[1, 2]).await;
    let older = dir.path().join("older.db");
    rusqlite::Connection::open(&db)
        .expect("open")
        .execute("VACUUM INTO ?1", [older.to_str().expect("utf-8")])
        .expect("copy");
    log_with(dir.path(), &[3, 4]).await;
    for wal in ["consent.db-wal", "consent.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(wal));
    }
    std::fs::rename(&older, &db).expect("roll back");
    let mut child = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CONSENT_DB", &db)
        .env("CONSENT_KEY_FILE", dir.path().join("consent.key"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().expect("kill");
            panic!("serve started on a rolled-back log");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let head_file = dir.path().join("consent.db.head");
    for said in [
        head_file.to_str().expect("utf-8"),
        "ends before record 4",
        "rolled back",
    ] {
        assert!(text(&out).contains(said), "{said}: {}", text(&out));
    }
    // Nothing was written to the rolled-back copy.
    let conn = rusqlite::Connection::open(&db).expect("open");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 2);
}

/// `consent serve` with its files in `dir` (and `args`), expected to refuse to start: its
/// output once it exited, or once killed (no exit code) after 30 s.
fn serve_refusal(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("CONSENT_DB", dir.join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.join("consent.key"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().expect("kill");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// A log whose last record is not the one its signed head names (a row added past the head,
/// or the last rows deleted, by someone with write access) takes no append: `serve` refuses
/// to start on it, naming the problem and `consent verify`, instead of answering every
/// decision with a 500.
#[tokio::test]
async fn serve_refuses_a_log_edited_at_its_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1, 2, 3]).await;
    let db = d.join("consent.db");
    let count = || -> i64 {
        rusqlite::Connection::open(&db)
            .expect("open")
            .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
            .expect("count")
    };
    for (edit, said, rows) in [
        (
            "INSERT INTO decisions SELECT 4, time, consent_id, record, digest, link, action,
             revision, granted, kind, contact FROM decisions WHERE seq = 3",
            "the log's last record is 4, but its signed head names record 3",
            4,
        ),
        (
            "DELETE FROM decisions WHERE seq >= 3",
            "the log's last record is 2, but its signed head names record 3",
            2,
        ),
    ] {
        rusqlite::Connection::open(&db)
            .expect("open")
            .execute_batch(edit)
            .expect("tamper");
        let out = serve_refusal(d, &[]);
        assert_eq!(out.status.code(), Some(1), "{edit}: {}", text(&out));
        for want in [said, "consent verify"] {
            assert!(text(&out).contains(want), "{want}: {}", text(&out));
        }
        assert_eq!(count(), rows, "nothing written: {edit}");
    }
}

/// The same on PostgreSQL, where a row added past the head collides with every append.
#[tokio::test]
async fn serve_refuses_a_postgresql_log_edited_at_its_end() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let url = cluster.url("consent");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let store = PgStore::connect(&url, key(d).log_keys())
        .await
        .expect("connect");
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let state = consent_core::doc_state();
    for _ in 0..2 {
        store
            .append(DecisionRecord::new(&config, &state, None, Channel::Banner))
            .await
            .expect("append");
    }
    drop(store);
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let head = d.join("consent.head");
    let args = [
        "--postgres",
        &url,
        "--head-file",
        head.to_str().expect("utf-8"),
    ];
    // A server starts on the intact log (and writes its head file).
    let (mut child, _) = support::serve::start(d, &["--postgres", &url]).await;
    child.kill().await.expect("kill");
    for (edit, said) in [
        (
            "INSERT INTO decisions SELECT 3, time, consent_id, record, digest, link, action,
             revision, granted, kind, contact FROM decisions WHERE seq = 2",
            "the log's last record is 3, but its signed head names record 2",
        ),
        (
            "DELETE FROM decisions WHERE seq >= 2",
            "the log's last record is 1, but its signed head names record 2",
        ),
    ] {
        admin.batch_execute(edit).await.expect("tamper");
        let out = serve_refusal(d, &args);
        assert_eq!(out.status.code(), Some(1), "{edit}: {}", text(&out));
        for want in [said, "consent verify"] {
            assert!(text(&out).contains(want), "{want}: {}", text(&out));
        }
    }
}

#[tokio::test]
async fn the_same_commands_work_on_postgresql() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let url = cluster.url("consent");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = PgStore::connect(&url, key(dir.path()).log_keys())
        .await
        .expect("connect");
    append_decisions(&store, Action::RejectAll, Lang::Sv, &[3, 4, 3]).await;
    // Where the head file goes with PostgreSQL unless --head-file says otherwise.
    std::fs::create_dir(dir.path().join("consent-data")).expect("data dir");
    keep_head(&dir.path().join("consent-data/consent.head"), &store);
    drop(store);
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--postgres", &url]);
        consent(dir.path(), &all)
    };
    let out = run(&["verify"]);
    assert!(
        out.status.success() && text(&out).contains("chain verified: 3 records"),
        "{}",
        text(&out)
    );
    let out = run(&["erase", &"03".repeat(16)]);
    assert!(
        text(&out).contains("erased the personal fields of 2 records"),
        "{}",
        text(&out)
    );
    // The schema's `IF NOT EXISTS` on a log that has it all is not news: PostgreSQL's
    // notices ("column \"kind\" ... already exists, skipping") are not logged at each start.
    assert!(!text(&out).contains("NOTICE"), "{}", text(&out));
    assert!(run(&["verify"]).status.success());
    let out = run(&["key", "rotate"]);
    assert!(
        out.status.success() && text(&out).contains("records the rotation at record 5"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("NOTICE"), "{}", text(&out));
    let out = run(&["verify"]);
    assert!(
        out.status.success() && text(&out).contains("record 5: the key was rotated to epoch 1"),
        "{}",
        text(&out)
    );
    assert!(
        !dir.path().join("consent.db").exists(),
        "no SQLite file when --postgres is given"
    );
    drop(cluster);
    let out = run(&["verify"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "an unreachable PostgreSQL: {}",
        text(&out)
    );
}

/// The commands that only read need only `SELECT` on PostgreSQL: every transaction of their
/// sessions is read-only, and the log is left as it was.
#[tokio::test]
async fn read_only_commands_need_only_select_on_postgresql() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let url = cluster.url("consent");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = PgStore::connect(&url, key(dir.path()).log_keys())
        .await
        .expect("connect");
    append_decisions(&store, Action::AcceptAll, Lang::Fi, &[5, 6]).await;
    let head_file = dir.path().join("consent.head");
    keep_head(&head_file, &store);
    drop(store);
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    admin
        .batch_execute(
            "CREATE ROLE auditor LOGIN;
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO auditor;",
        )
        .await
        .expect("a role that may only read");
    let log = "SELECT (SELECT string_agg(seq || ':' || encode(link, 'hex'), ',' ORDER BY seq)
                       FROM decisions) || ' ' || (SELECT seq || ':' || encode(mac, 'hex')
                       FROM chain_head)";
    let before: String = admin.query_one(log, &[]).await.expect("log").get(0);
    let auditor = url.replace("user=postgres", "user=auditor");
    let head = head_file.to_str().expect("utf-8");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--postgres", &auditor, "--head-file", head]);
        consent(dir.path(), &all)
    };
    let out = run(&["verify"]);
    assert!(
        out.status.success()
            && text(&out).contains("chain verified: 2 records")
            && text(&out).contains("record 2 confirmed"),
        "{}",
        text(&out)
    );
    for args in [
        &["export", &"05".repeat(16)][..],
        &["stats", "--config", EXAMPLE],
        &["request", "list"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let after: String = admin.query_one(log, &[]).await.expect("log").get(0);
    assert_eq!(after, before);
}

/// `consent` in `dir` as a newcomer runs it: no file named by the environment.
fn consent_bare(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(args)
        .current_dir(dir)
        .env_remove("CONSENT_DB")
        .env_remove("CONSENT_KEY_FILE")
        .env_remove("CONSENT_HEAD_FILE")
        .env_remove("CONSENT_DATA_DIR")
        .env_remove("CONSENT_POSTGRES")
        .output()
        .expect("run consent")
}

/// The names directly in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn files_go_to_a_data_directory_and_old_ones_are_not_passed_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = [
        "market",
        "record",
        "--contact",
        "maija@example.fi",
        "--channel",
        "email",
        "--kind",
        "consent",
        "--via",
        "phone",
        "--staff",
        "desk-1",
    ];
    let out = consent_bare(dir.path(), &first);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(names(dir.path()), ["consent-data"]);
    let data = dir.path().join("consent-data");
    assert_eq!(
        names(&data)
            .into_iter()
            .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
            .collect::<Vec<_>>(),
        ["consent.db", "consent.db.head", "consent.key"]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&data).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}: the directory holds the key");
    }
    let id = consent_bare(dir.path(), &["site-id"]);
    assert!(id.status.success(), "{}", text(&id));
    assert_eq!(
        names(dir.path()),
        ["consent-data"],
        "the same key, no new one"
    );
    // The same files through --data-dir (or CONSENT_DATA_DIR), and --db still names one.
    let other = tempfile::tempdir().expect("tempdir");
    let out = consent_bare(
        other.path(),
        &["site-id", "--data-dir", data.to_str().expect("utf-8")],
    );
    assert_eq!(out.stdout, id.stdout);
    assert!(names(other.path()).is_empty());
    let out = consent_bare(
        other.path(),
        &[
            "verify",
            "--db",
            data.join("consent.db").to_str().expect("utf-8"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "no key in the default place: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("consent-data/consent.key"),
        "{}",
        text(&out)
    );

    // A key left in the working directory by an earlier version: refused, not replaced by a
    // new one, and what to do is said.
    let old = tempfile::tempdir().expect("tempdir");
    std::fs::copy(data.join("consent.key"), old.path().join("consent.key")).expect("copy");
    let out = consent_bare(old.path(), &["site-id"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("consent.key is in the working directory")
            && text(&out).contains("--data-dir ."),
        "{}",
        text(&out)
    );
    assert_eq!(names(old.path()), ["consent.key"]);
    let out = consent_bare(old.path(), &["site-id", "--data-dir", "."]);
    assert_eq!(out.stdout, id.stdout, "{}", text(&out));
}

#[test]
fn serve_on_a_busy_port_says_how_to_choose_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = consent(dir.path(), &["serve", "--listen", &addr]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains(&format!("cannot listen on {addr}")), "{t}");
    assert!(t.contains("choose another address with --listen"), "{t}");
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CONSENT_DB", dir.path().join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.path().join("consent.key"))
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("read");
        let listening = line.contains("listening on http://");
        seen.push(line);
        if listening {
            break;
        }
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    let all = seen.join("\n");
    assert!(all.contains("listening on http://"), "{all}");
    assert!(all.contains("INFO"), "{all}");
    assert!(!all.contains('\u{1b}'), "ANSI codes in a pipe: {all:?}");
}

/// systemd (and Docker) stop a service with SIGTERM: the server finishes and exits 0 instead
/// of being killed by the signal.
#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CONSENT_DB", dir.path().join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.path().join("consent.key"))
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    assert!(
        lines.any(|l| l.expect("read").contains("listening on http://")),
        "the server exited before listening"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("stopping")), "{rest:?}");
}

/// `serve` refuses a config whose `site` is not its own site id (exit 2, naming both and the
/// command that prints it); with its own id, or with none, it starts.
#[tokio::test]
async fn serve_refuses_a_config_made_for_another_site() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let ours = key(d).site_id();
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let theirs = "0123456789abcdef";
    assert_ne!(ours, theirs);
    let write = |name: &str, site: &str| {
        let mut json: serde_json::Value =
            serde_json::from_str(consent_core::EXAMPLE_CONFIG).expect("example");
        json["site"] = site.into();
        // Still a config the core takes.
        assert!(config.clone().with_site(site).is_ok());
        std::fs::write(d.join(name), json.to_string()).expect("write");
    };
    write("theirs.json", theirs);
    write("ours.json", &ours);
    // Refused at once; a server that started instead is killed after the wait.
    let refused = tokio::process::Command::new(env!("CARGO_BIN_EXE_consent"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "theirs.json",
        ])
        .current_dir(d)
        .env("CONSENT_DB", d.join("consent.db"))
        .env("CONSENT_KEY_FILE", d.join("consent.key"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), refused)
        .await
        .expect("serve exits instead of starting")
        .expect("run consent");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("theirs.json")
            && said.contains(theirs)
            && said.contains(&ours)
            && said.contains("consent site-id"),
        "{said}"
    );
    let ours_json = d.join("ours.json");
    for config in [&["--config", ours_json.to_str().expect("utf-8")][..], &[]] {
        let (mut child, _) = support::serve::start(d, config).await;
        child.kill().await.expect("kill");
    }
}

/// A missing log is an error for every command that does not record, and the error says why
/// no new one was made, in words that fit the command: erase, purge and key rotate write.
#[test]
fn a_missing_log_is_named_in_words_that_fit_the_command() {
    let id = "01".repeat(16);
    for (args, reads) in [
        (&["verify"][..], true),
        (&["export", &id], true),
        (&["erase", &id], false),
        (&["purge", "--retention-days", "400"], false),
        (&["key", "rotate"], false),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = consent(dir.path(), args);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {said}");
        assert!(said.contains("no decision log at"), "{args:?}: {said}");
        assert_eq!(
            said.contains("a read-only command never creates one"),
            reads,
            "{args:?}: {said}"
        );
        assert_eq!(
            said.contains("erases, purges or rotates the key"),
            !reads,
            "{args:?}: {said}"
        );
        assert!(!dir.path().join("consent.db").exists(), "{args:?}");
    }
}

/// The log does not say which categories the site has: `stats` takes them from the site's
/// config, and without one refuses (exit 2) instead of reporting the example clinic's.
#[tokio::test]
async fn stats_needs_the_sites_config_for_its_categories() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1, 2, 3]).await;
    let out = consent(dir.path(), &["stats", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert!(text(&out).contains("--config"), "{}", text(&out));
    // An analytics-only site: its categories, no `marketing` at 0 %.
    let mut site: serde_json::Value =
        serde_json::from_str(consent_core::EXAMPLE_CONFIG).expect("example");
    site["categories"]
        .as_array_mut()
        .expect("categories")
        .retain(|c| c["id"] != "marketing");
    let path = dir.path().join("site.json");
    std::fs::write(&path, site.to_string()).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(["stats", "--format", "json"])
        .current_dir(dir.path())
        .env("CONSENT_DB", dir.path().join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.path().join("consent.key"))
        .env("CONSENT_CONFIG", &path)
        .output()
        .expect("run consent");
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let acceptance = json["acceptance"].as_object().expect("acceptance");
    assert!(acceptance.contains_key("analytics"), "{json}");
    assert!(!acceptance.contains_key("marketing"), "{json}");
}

#[tokio::test]
async fn stats_prints_a_table_by_default_and_json_or_csv_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1, 2, 3]).await;
    let out = consent(dir.path(), &["stats", "--config", EXAMPLE]);
    assert!(out.status.success(), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("3 decisions\n"), "{table}");
    assert!(table.contains("accept_all          3"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("all ") && l.ends_with("100%")),
        "{table}"
    );
    let out = consent(
        dir.path(),
        &["stats", "--config", EXAMPLE, "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["total"], 3);
    assert_eq!(json["acceptance"]["marketing"], 1.0);
    let out = consent(
        dir.path(),
        &["stats", "--config", EXAMPLE, "--format", "csv"],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("day,action,revision,count\n"),
        "{}",
        text(&out)
    );
}

#[test]
fn declaration_takes_markdown_and_names_the_configs_languages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = EXAMPLE;
    let md = consent(dir.path(), &["declaration", "--format", "md", example]);
    let markdown = consent(
        dir.path(),
        &["declaration", "--format", "markdown", example],
    );
    assert!(markdown.status.success(), "{}", text(&markdown));
    assert_eq!(markdown.stdout, md.stdout);
    let html = consent(dir.path(), &["declaration", "--format", "html", example]);
    let default = consent(dir.path(), &["declaration", example]);
    assert_eq!(default.stdout, html.stdout, "html is the default");
    let out = consent(dir.path(), &["declaration", "--lang", "de", example]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("language de is not one of the config's languages (fi, sv, en)"),
        "{}",
        text(&out)
    );
    assert!(out.stdout.is_empty());
}

/// A log under steady appends from another thread is copied while they go on; the copy
/// verifies with its own head file and holds every record acknowledged before the backup
/// started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_log_under_write_load_verifies() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        SqliteStore::open(dir.path().join("consent.db"), key(dir.path()).log_keys()).expect("open");
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
        tokio::spawn(async move {
            let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
            let now = time::OffsetDateTime::now_utc();
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let mut id = [0u8; 16];
                id[8..].copy_from_slice(&n.to_be_bytes());
                let before = policy::evaluate(&config, None, None, now, Signals::default());
                let ctx = Context {
                    now,
                    signals: Signals::default(),
                    lang: Lang::Fi,
                    fresh_id: ConsentId::from_bytes(id),
                };
                let d = policy::decide(&config, &before, Action::AcceptAll, ctx).expect("in range");
                let record = DecisionRecord::new(&config, d.state(), None, Channel::Banner);
                store.append(record).await.expect("append");
                acked.store(n, Ordering::SeqCst);
            }
        })
    };
    while acked.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let copy = dir.path().join("backup").join("copy.db");
    std::fs::create_dir(copy.parent().expect("parent")).expect("mkdir");
    let before = acked.load(Ordering::SeqCst);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consent"))
        .arg("backup")
        .arg(&copy)
        .env("CONSENT_DB", dir.path().join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.path().join("consent.key"))
        .output()
        .await
        .expect("run consent backup");
    let during = acked.load(Ordering::SeqCst) - before;
    stop.store(true, Ordering::SeqCst);
    writer.await.expect("writer");
    assert!(out.status.success(), "{}", text(&out));
    assert!(during > 0, "the log was written to while the backup ran");
    assert!(copy.with_extension("db.head").exists(), "{}", text(&out));
    assert_eq!(
        names(copy.parent().expect("parent")),
        ["copy.db", "copy.db.head"]
    );

    let copy_arg = copy.to_str().expect("utf-8");
    let out = consent(dir.path(), &["verify", "--db", copy_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    let records: u64 = t
        .split("chain verified: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{t}"));
    assert!(records >= before, "{records} < {before} acknowledged: {t}");
    assert!(t.contains(&format!("record {records} confirmed")), "{t}");
    // The last record acknowledged before the backup started is in the copy.
    let mut last = [0u8; 16];
    last[8..].copy_from_slice(&before.to_be_bytes());
    let id = ConsentId::from_bytes(last).to_string();
    let out = consent(dir.path(), &["export", &id, "--db", copy_arg]);
    assert!(out.status.success(), "{}", text(&out));

    // Never over a file; PostgreSQL is pg_dump's; a missing log is exit 3 and creates nothing.
    let out = consent(dir.path(), &["backup", copy_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("exists already"), "{}", text(&out));
    let out = consent(
        dir.path(),
        &["backup", "x.db", "--postgres", "host=/nowhere"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
    let missing = dir.path().join("missing.db");
    let out = consent(
        dir.path(),
        &["backup", "y.db", "--db", missing.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("missing.db"), "{}", text(&out));
    assert!(!missing.exists() && !dir.path().join("y.db").exists());
}

/// An application gating with consent-gate reads the key file the real `consent key rotate`
/// wrote (a keyring) as `consent serve` does: a cookie signed under a retired key counts until
/// a rotation with `--revoke-tokens` revokes that key. It had only a `SigningKey` of the
/// file's bytes, which after a rotation were the keyring's text.
#[tokio::test]
async fn consent_gate_reads_a_rotated_key_file_as_the_server_does() {
    use consent_core::policy::StoredStatus;
    use consent_core::{Gate, SigningKey, Token, TokenError};

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let now = time::OffsetDateTime::now_utc();
    let token = |k: &SigningKey| {
        let before = policy::evaluate(&config, None, None, now, Signals::default());
        let ctx = Context {
            now,
            signals: Signals::default(),
            lang: Lang::En,
            fresh_id: ConsentId::from_bytes([9; 16]),
        };
        let d = policy::decide(&config, &before, Action::AcceptAll, ctx).expect("in range");
        Token::signed(*d.state(), k).to_string()
    };
    let status = |t: &str| {
        let keys = consent_gate::read_key_file(&d.join("consent.key")).expect("a key file");
        let gate = Gate::with_keys(&config, keys);
        gate.check(Some(&format!("consent={t}")), None, now)
            .status()
    };
    let epoch0 = token(key(d).token_key());
    let out = consent(d, &["key", "rotate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        std::fs::read(d.join("consent.key"))
            .expect("read")
            .starts_with(b"consent-keyring-v1")
    );
    let epoch1 = token(key(d).token_key());
    assert_eq!(status(&epoch0), StoredStatus::Valid);
    assert_eq!(status(&epoch1), StoredStatus::Valid);
    assert!(
        key(d).resign_token(&epoch0).is_some(),
        "the server accepts it too"
    );

    let out = consent(d, &["key", "rotate", "--revoke-tokens"]);
    assert!(out.status.success(), "{}", text(&out));
    let revoked = StoredStatus::Malformed(TokenError::BadSignature);
    assert_eq!(status(&epoch1), revoked);
    assert!(key(d).token_keys().parse_verified(&epoch1).is_err());
    assert_eq!(
        status(&epoch0),
        StoredStatus::Valid,
        "epoch 0 was not revoked"
    );
}

#[tokio::test]
async fn key_rotate_records_the_rotation_and_verify_follows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = consent(dir.path(), &["key", "rotate"]);
    assert!(!out.status.success(), "nothing to rotate: {}", text(&out));
    assert!(!dir.path().join("consent.key").exists(), "{}", text(&out));
    log_with(dir.path(), &[1, 2]).await;
    let old = key(dir.path()).id().to_string();

    let out = consent(dir.path(), &["key", "rotate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("the log records the rotation at record 3"),
        "{}",
        text(&out)
    );
    let new = key(dir.path()).id().to_string();
    assert_ne!(old, new);
    let out = consent(dir.path(), &["key", "list"]);
    let listed = text(&out);
    assert!(
        listed.contains(&format!("epoch 0  id {old}  retired  tokens accepted"))
            && listed.contains(&format!("epoch 1  id {new}  current  tokens accepted")),
        "{listed}"
    );
    assert!(!listed.contains("secret"), "{listed}");

    // The new key signs what comes next; verify follows the rotation.
    let out = consent(
        dir.path(),
        &[
            "market",
            "record",
            "--contact",
            "maija@example.fi",
            "--channel",
            "email",
            "--kind",
            "objection",
            "--via",
            "phone",
            "--staff",
            "desk-1",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = consent(dir.path(), &["verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("chain verified: 4 records")
            && text(&out).contains("record 3: the key was rotated to epoch 1"),
        "{}",
        text(&out)
    );

    // A rotation rewritten by someone without the old key names a key of their own.
    let forged = consent_server::store::rotation::Rotation {
        from: old.parse().expect("id"),
        to: "00112233445566778899aabbccddeeff".parse().expect("id"),
        epoch: 1,
    };
    let json = serde_json::to_string(&forged).expect("json");
    let digest = consent_server::store::rotation::Rotation::digest_of(&json);
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    conn.execute(
        "UPDATE decisions SET record = ?1, digest = ?2, granted = ?3 WHERE seq = 3",
        rusqlite::params![json, &digest.as_bytes()[..], forged.to.to_string()],
    )
    .expect("tamper");
    let out = consent(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "record 3, a key rotation, is not linked under the key the log was under: forged"
        ),
        "{}",
        text(&out)
    );
    // A leaked key must be replaceable at once, so a rotation does not wait for an intact
    // log; verify still names the break after it.
    let out = consent(dir.path(), &["key", "rotate", "--revoke-tokens"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = consent(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("record 3, a key rotation"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn a_damaged_key_file_is_named_and_never_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    let key_file = d.join("consent.key");
    let good = std::fs::read(&key_file).expect("key");
    let id = "01".repeat(16);
    let commands: [&[&str]; 6] = [
        &["site-id"],
        &["key", "list"],
        &["verify"],
        &["export", &id],
        &["erase", &id],
        &[
            "market",
            "check",
            "--contact",
            "maija@example.fi",
            "--channel",
            "email",
        ],
    ];
    let ssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";
    let keyring = format!(
        "consent-keyring-v1\r\nepoch=0 tokens=accepted secret={}\r\n",
        good.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    // A key cut short, its first byte made one that no text holds: five random bytes are
    // printable ASCII now and then (about one file in 115), and are refused as text instead.
    let mut cut = good[..5].to_vec();
    cut[0] = 0xff;
    for (damage, bytes, want) in [
        ("cut short", cut, "5 bytes, need at least 32"),
        ("empty", Vec::new(), "0 bytes, need at least 32"),
        (
            "another format",
            ssh.as_bytes().to_vec(),
            "not a server key",
        ),
        (
            "hex digits",
            b"0123456789abcdef".repeat(4),
            "not a server key",
        ),
        // A line end added after the key (by an editor, `echo`, a secret store) made it
        // another key: the log's heads then read as "edited", the site id changed.
        (
            "a line end added",
            [&good[..], b"\n"].concat(),
            "a line end after the key",
        ),
        (
            "a Windows line end added",
            [&good[..], b"\r\n"].concat(),
            "a line end after the key",
        ),
        (
            "a keyring cut in a secret",
            keyring.as_bytes()[..keyring.len() - 20].to_vec(),
            "line 2",
        ),
    ] {
        std::fs::write(&key_file, &bytes).expect("write");
        for args in commands {
            let out = consent(d, args);
            assert!(!out.status.success(), "{damage}: {args:?}: {}", text(&out));
            let t = text(&out);
            assert!(
                t.contains(&key_file.display().to_string()) && t.contains(want),
                "{damage}: {args:?}: {t}"
            );
            assert!(!t.contains("panicked"), "{t}");
            assert_eq!(
                std::fs::read(&key_file).expect("key"),
                bytes,
                "{damage}: {args:?}"
            );
        }
    }
    // A keyring written with Windows line ends is the same keyring.
    std::fs::write(&key_file, &keyring).expect("write");
    let out = consent(d, &["verify"]);
    assert!(out.status.success(), "{}", text(&out));

    // A directory where the key file goes, and a file where the data directory goes.
    std::fs::remove_file(&key_file).expect("remove");
    std::fs::create_dir(&key_file).expect("dir");
    for args in commands {
        let out = consent(d, args);
        assert!(!out.status.success(), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains(&key_file.display().to_string()),
            "{args:?}: {}",
            text(&out)
        );
        assert!(key_file.is_dir());
    }
    let file = d.join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    for args in commands {
        let out = Command::new(env!("CARGO_BIN_EXE_consent"))
            .args(args)
            .current_dir(d)
            .env_remove("CONSENT_DB")
            .env_remove("CONSENT_KEY_FILE")
            .env_remove("CONSENT_HEAD_FILE")
            .env("CONSENT_DATA_DIR", &file)
            .output()
            .expect("run consent");
        assert!(!out.status.success(), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("data directory") && text(&out).contains("not-a-dir"),
            "{args:?}: {}",
            text(&out)
        );
        assert_eq!(std::fs::read(&file).expect("read"), b"x");
    }
}

#[tokio::test]
async fn a_lost_key_file_is_never_made_anew_beside_its_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    let key_file = d.join("consent.key");
    std::fs::remove_file(&key_file).expect("remove");
    let id = "01".repeat(16);
    let record: &[&str] = &[
        "market",
        "record",
        "--contact",
        "maija@example.fi",
        "--channel",
        "email",
        "--kind",
        "objection",
        "--via",
        "phone",
        "--staff",
        "desk-1",
    ];
    for args in [&["site-id"][..], &["erase", &id], &["purge"], record] {
        let out = consent(d, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("consent.key is missing") && text(&out).contains("backup"),
            "{args:?}: {}",
            text(&out)
        );
        assert!(!key_file.exists(), "{args:?} made a new key beside the log");
    }
    let out = consent(d, &["key", "rotate"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        !key_file.exists(),
        "key rotate made a new key beside the log"
    );
    // Its head file alone says a log was there (a PostgreSQL log, one moved away).
    std::fs::rename(d.join("consent.db"), d.join("moved.db")).expect("move");
    let out = consent(d, &["site-id"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!key_file.exists());
    // A new site starts with a new key.
    let fresh = tempfile::tempdir().expect("tempdir");
    let out = consent(fresh.path(), &["site-id"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(fresh.path().join("consent.key").exists());
}

#[test]
fn erase_and_purge_never_start_a_log() {
    // A mistyped --db: "no records" from a new empty log would read as nothing to erase,
    // while the real log keeps them.
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for args in [&["erase", &"01".repeat(16)][..], &["purge"]] {
        let out = consent(d, args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("consent.db"),
            "{args:?}: {}",
            text(&out)
        );
        assert!(names(d).is_empty(), "{args:?}: {:?}", names(d));
    }
}

#[tokio::test]
async fn purge_with_a_retention_before_the_calendar_purges_nothing_never_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1, 2]).await;
    let max = u32::MAX.to_string();
    let out = consent(d, &["purge", "--retention-days", &max]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("purged 0 records"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
    let out = consent(d, &["export", &"01".repeat(16)]);
    assert!(text(&out).contains("accept_all"), "{}", text(&out));
    assert!(consent(d, &["verify"]).status.success());
}

#[tokio::test]
async fn a_command_that_writes_refuses_a_log_under_a_key_the_file_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with(dir.path(), &[1]).await;
    // Another key file: a key which never signed this log.
    std::fs::write(dir.path().join("consent.key"), [0xa5; 32]).expect("write");
    let out = consent(dir.path(), &["erase", &"01".repeat(16)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("is not signed under any key of")
            && text(&out).contains("start a new log"),
        "{}",
        text(&out)
    );
    let out = consent(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// A log that cannot be opened is named with its cause once: the store's error names its
/// cause and hands it on as its source too, and the chain printed both (three times).
#[test]
fn an_error_names_each_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("x.db");
    std::fs::create_dir(&db).expect("a directory where the log should be");
    std::fs::write(dir.path().join("consent.key"), [7u8; 32]).expect("key");
    let out = consent(
        dir.path(),
        &[
            "market",
            "--db",
            db.to_str().expect("utf-8"),
            "record",
            "--contact",
            "a@b.fi",
            "--channel",
            "email",
            "--kind",
            "consent",
            "--via",
            "web_form",
        ],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert_eq!(said.matches("x.db").count(), 1, "{said}");
    assert!(said.contains("x.db: a directory, not a log file"), "{said}");
}
