//! A throw-away PostgreSQL cluster per test, on a unix socket in its own temp dir.
//!
//! 1. The server binaries are found under `/usr/lib/postgresql/<major>/bin` (the newest
//!    major), or in `CONSENT_PG_BIN`. Without them the tests fail and say to run
//!    `scripts/setup.sh`, unless `CONSENT_SKIP_POSTGRES=1` (see [`skip`]).
//! 2. `initdb` runs once per major version into a template under Cargo's
//!    `CARGO_TARGET_TMPDIR`, reused by later runs; each cluster is a copy of it (a copy takes
//!    a tenth of what `initdb` takes). As root, `initdb` and `pg_ctl` run as the `postgres`
//!    user through `runuser`, since PostgreSQL refuses to run as root.
//! 3. A cluster listens on no TCP address, only on a socket in its temp dir, so parallel
//!    tests never compete for ports; it runs with `fsync = on`, since durability is what the
//!    store tests check.
//! 4. `pg_ctl -w` waits for start and stop with a time limit; dropping the [`Cluster`] stops
//!    it (`-m immediate`) and removes its directory.
//!
//! Caveats: a test process killed with SIGKILL leaves its clusters running (and their
//! directories in the temp dir).

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const MISSING: &str = "PostgreSQL server binaries (initdb, pg_ctl) not found under \
    /usr/lib/postgresql/*/bin or CONSENT_PG_BIN: run scripts/setup.sh to install Debian's \
    postgresql package, or set CONSENT_SKIP_POSTGRES=1 to skip the PostgreSQL tests";

/// Seconds `pg_ctl` waits for the server to start or stop.
const PG_CTL_WAIT: &str = "60";

/// Whether to skip a PostgreSQL test: only when the binaries are missing and
/// `CONSENT_SKIP_POSTGRES=1` says so (it prints a line). Missing binaries otherwise fail the
/// test with a message that says what to do.
pub fn skip() -> bool {
    if bin_dir().is_some() {
        return false;
    }
    if std::env::var("CONSENT_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("skipping: PostgreSQL is not installed and CONSENT_SKIP_POSTGRES=1");
        return true;
    }
    panic!("{MISSING}");
}

/// The newest installed server's `bin` directory.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CONSENT_PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|d| d.join("initdb").is_file());
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let major: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let bin = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Runs a server program, as the `postgres` user when we are root, and fails the test with
/// its output when it fails.
fn run(bin: &Path, program: &str, args: &[&str]) -> Output {
    let output = pg_command(bin, program, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn pg_command(bin: &Path, program: &str, args: &[&str]) -> Command {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    };
    cmd.args(args);
    cmd
}

/// Copies a directory with its owners and modes.
fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("run cp");
    assert!(
        status.success(),
        "cp -a {} {} failed",
        from.display(),
        to.display()
    );
}

/// A freshly initialised data directory to copy, made once per major version.
fn template(bin: &Path) -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let major = bin
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| "x".into(), |n| n.to_string_lossy().into_owned());
        let target =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("postgres-{major}-template"));
        if target.join("PG_VERSION").is_file() {
            return target;
        }
        // initdb in a fresh temp dir the postgres user owns, then move the result into place
        // with a rename, so a concurrent test process never sees half a template.
        let work = tempfile::Builder::new()
            .prefix("consent-pg-initdb-")
            .tempdir()
            .expect("temp dir");
        give_to_postgres(work.path());
        let data = work.path().join("data");
        let data_arg = data.to_str().expect("utf-8 temp path");
        run(
            bin,
            "initdb",
            &[
                "-D",
                data_arg,
                "--auth=trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("open postgresql.conf");
        conf.write_all(
            b"\n# consent tests\nlisten_addresses = ''\nfsync = on\nsynchronous_commit = on\n\
              shared_buffers = 32MB\nmax_connections = 40\n",
        )
        .expect("write postgresql.conf");
        let staging = target.with_extension(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("target tmp dir");
        copy_dir(&data, &staging);
        if std::fs::rename(&staging, &target).is_err() {
            // Another test process made it first.
            let _ = std::fs::remove_dir_all(&staging);
            assert!(
                target.join("PG_VERSION").is_file(),
                "no template at {}",
                target.display()
            );
        }
        target
    })
}

/// As root, hands a directory to the `postgres` user (who runs the server); otherwise the
/// server runs as us and it is ours already.
fn give_to_postgres(dir: &Path) {
    if !is_root() {
        return;
    }
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(dir)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown postgres {} failed", dir.display());
}

/// A running throw-away cluster, stopped and removed on drop.
pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts a new cluster with an empty database `consent`.
    pub fn start_new() -> Self {
        let bin = bin_dir().expect(MISSING);
        let template = template(&bin);
        let dir = tempfile::Builder::new()
            .prefix("consent-pg-")
            .tempdir()
            .expect("temp dir");
        give_to_postgres(dir.path());
        let data = dir.path().join("data");
        copy_dir(template, &data);
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("open postgresql.conf");
        writeln!(conf, "unix_socket_directories = '{}'", dir.path().display())
            .expect("write postgresql.conf");
        let cluster = Self { bin, dir };
        cluster.start();
        run(
            &cluster.bin,
            "createdb",
            &["-h", cluster.socket_dir(), "-U", "postgres", "consent"],
        );
        cluster
    }

    /// The directory holding the server's socket.
    pub fn socket_dir(&self) -> &str {
        self.dir.path().to_str().expect("utf-8 temp path")
    }

    /// A connection string for a database of this cluster.
    pub fn url(&self, dbname: &str) -> String {
        format!("host={} user=postgres dbname={dbname}", self.socket_dir())
    }

    fn data(&self) -> String {
        format!("{}/data", self.socket_dir())
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start(&self) {
        let log = format!("{}/postgres.log", self.socket_dir());
        let data = self.data();
        let output = pg_command(
            &self.bin,
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-t", PG_CTL_WAIT, "start"],
        )
        .output()
        .expect("run pg_ctl");
        if !output.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "pg_ctl start failed ({}): {}\n--- postgres.log ---\n{log}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// Stops the server at once, as a crash would (`pg_ctl -m immediate`): the next start
    /// recovers from the WAL.
    pub fn stop(&self) {
        run(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-m",
                "immediate",
                "-w",
                "-t",
                PG_CTL_WAIT,
                "stop",
            ],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Already stopped is fine: ignore the status.
        let _ = pg_command(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-m",
                "immediate",
                "-w",
                "-t",
                PG_CTL_WAIT,
                "stop",
            ],
        )
        .output();
    }
}
