//! The SQL keystore against a real PostgreSQL: a throwaway cluster (`backends.md` §5, option A)
//! started by this test on 127.0.0.1 and a free port, trust authentication, fsync off, stopped
//! and removed afterwards. If PostgreSQL cannot be started the test fails; it never skips.
//! `scripts/install-peers` installs Debian's `postgresql` package when `initdb` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keystores::sql::SqlKeyStore;
use keystores::{Error, KeyStore};
use tests::TestServer;

/// A running throwaway cluster; stopped on drop.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// Starts a cluster with superuser `kes` and a database `kes`, or panics saying why.
    fn start() -> Cluster {
        let bin = postgres_bin();
        // initdb refuses to run as root: as root, the cluster belongs to the `postgres` user.
        let as_postgres = run_output(Command::new("id").arg("-u")).trim() == "0";
        let dir = tempfile::Builder::new()
            .prefix("kes-pg-")
            .tempdir()
            .unwrap();
        if as_postgres {
            let uid = run_output(Command::new("id").args(["-u", "postgres"]));
            let gid = run_output(Command::new("id").args(["-g", "postgres"]));
            std::os::unix::fs::chown(
                dir.path(),
                Some(uid.trim().parse().unwrap()),
                Some(gid.trim().parse().unwrap()),
            )
            .unwrap();
        }
        let port = free_port();
        let cluster = Cluster {
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = cluster.data();
        cluster.pg(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "kes", "--no-sync"],
        );
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off",
            cluster.dir.path().display()
        );
        let log = cluster.dir.path().join("log").display().to_string();
        cluster.pg(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-o", &opts, "start"],
        );
        cluster.pg(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "kes",
                "kes",
            ],
        );
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://kes@127.0.0.1:{}/kes?sslmode=disable", self.port)
    }

    /// Runs a PostgreSQL program (as `postgres` when we are root), panicking with its output
    /// if it fails.
    fn pg(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(&path);
            cmd
        } else {
            Command::new(&path)
        };
        cmd.args(args).current_dir(self.dir.path());
        let out = cmd
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", path.display()));
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
            panic!(
                "PostgreSQL could not be started: {program} {args:?} failed ({}):\n{}{}\nserver log:\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
        }
    }

    fn stop(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn running(&self) -> bool {
        self.dir.path().join("data").join("postmaster.pid").exists()
    }
}

impl Drop for Cluster {
    /// Stops a cluster still running (a failed test); never panics, it may run while unwinding.
    fn drop(&mut self) {
        if self.running() {
            let mut cmd = Command::new("runuser");
            if self.as_postgres {
                cmd.args(["-u", "postgres", "--"])
                    .arg(self.bin.join("pg_ctl"));
            } else {
                cmd = Command::new(self.bin.join("pg_ctl"));
            }
            let _ = cmd
                .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin`, or `$KES_PG_BIN`.
fn postgres_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("KES_PG_BIN") {
        return PathBuf::from(bin);
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb \
             (scripts/install-peers installs it; or set KES_PG_BIN)"
        ),
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn run_output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keystore() {
    let started = Instant::now();
    let cluster = Cluster::start();
    eprintln!("cluster up in {:?}", started.elapsed());

    // The conformance suite, on a fresh default table created at first use.
    let store = Arc::new(SqlKeyStore::postgres(&cluster.url(), "kes_keys").unwrap());
    keystores::conformance::run(store.as_ref()).await.unwrap();
    keystores::conformance::concurrent_creates(store.clone(), 32)
        .await
        .unwrap();

    // Byte order, whatever the database's collation; LIKE wildcards are plain characters.
    let other = SqlKeyStore::postgres(&cluster.url(), "other_keys").unwrap();
    for name in ["b", "B", "a-b", "a_b", "aB", "a%", "ab"] {
        other.create(name, name.as_bytes()).await.unwrap();
    }
    assert_eq!(
        other.list("").await.unwrap(),
        ["B", "a%", "a-b", "aB", "a_b", "ab", "b"]
    );
    assert_eq!(other.list("a_").await.unwrap(), ["a_b"]);
    assert_eq!(other.list("a%").await.unwrap(), ["a%"]);
    // Tables are separate, and a second store on the same table sees the keys.
    assert!(store.list("").await.unwrap().is_empty());
    let reopened = SqlKeyStore::postgres(&cluster.url(), "other_keys").unwrap();
    assert_eq!(reopened.get("aB").await.unwrap().as_slice(), b"aB");

    // The server end to end, from a config with `keystore.postgres`.
    let section = format!(
        "keystore:\n  postgres:\n    url: {}\n    table: server_keys\n",
        cluster.url()
    );
    let server = TestServer::start_with_keystore(tempfile::tempdir().unwrap(), &section, "").await;
    let c = server.admin_client();
    c.post("/v1/key/create/pg-key", "").await.ok();
    c.post("/v1/key/create/pg-key", "")
        .await
        .assert_error(400, "key already exists");
    let dek = c.post("/v1/key/generate/pg-key", "{}").await.ok();
    let body = serde_json::json!({"ciphertext": dek["ciphertext"]}).to_string();
    let plain = c.post("/v1/key/decrypt/pg-key", &body).await.ok();
    assert_eq!(plain["plaintext"], dek["plaintext"]);
    server.stop().await;

    // A dead server: every operation fails fast with Unreachable, never hangs.
    let timeout = Duration::from_millis(500);
    let store = SqlKeyStore::postgres(&cluster.url(), "kes_keys")
        .unwrap()
        .with_timeout(timeout);
    store.status().await.unwrap();
    cluster.stop();
    assert!(!cluster.running());
    for _ in 0..2 {
        let start = Instant::now();
        let err = store.get("k").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(start.elapsed() < timeout * 3, "{:?}", start.elapsed());
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
    }
    eprintln!("postgres test took {:?}", started.elapsed());
}
