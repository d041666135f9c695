//! The `consent` command as the integration tests run it: in a directory of its own, on that
//! directory's log and key file, whatever the environment running the tests says of them.

use std::path::Path;
use std::process::{Command, Output};

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Channel, Config, ConsentId, DecisionRecord, Lang};
use consent_server::ServerKey;
use consent_server::store::sqlite::SqliteStore;
use consent_server::store::{Log, Store};

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

/// The key the `consent` command uses in `dir`.
pub fn key(dir: &Path) -> ServerKey {
    ServerKey::load_or_create(&dir.join("consent.key")).expect("key")
}

/// Writes the head file a server keeps, for a log written through the library.
pub fn keep_head(path: &Path, store: &impl Store) {
    if let Some(head) = *store.heads().borrow() {
        consent_server::store::chain::write_head(path, &head).expect("head file");
    }
}

/// One decision of the example clinic, `action` made now in `lang` by consent id `[id; 16]`,
/// appended to `store` for each `id` of `ids`, in order.
pub async fn append_decisions(store: &impl Log, action: Action, lang: Lang, ids: &[u8]) {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let now = time::OffsetDateTime::now_utc();
    for &id in ids {
        let before = policy::evaluate(&config, None, None, now, Signals::default());
        let ctx = Context {
            now,
            signals: Signals::default(),
            lang,
            fresh_id: ConsentId::from_bytes([id; 16]),
        };
        let d = policy::decide(&config, &before, action, ctx).expect("in range");
        let record = DecisionRecord::new(&config, d.state(), None, Channel::Banner);
        store.append(record).await.expect("append");
    }
}

/// A log in `dir`, as the `consent` command finds it there (its key and head file too), of
/// one "Accept all" made now by each consent id `[id; 16]` of `ids`, in order.
pub async fn log_with(dir: &Path, ids: &[u8]) {
    let store = SqliteStore::open(dir.join("consent.db"), key(dir).log_keys()).expect("open");
    append_decisions(&store, Action::AcceptAll, Lang::En, ids).await;
    keep_head(&dir.join("consent.db.head"), &store);
}
