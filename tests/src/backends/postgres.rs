//! A throwaway PostgreSQL cluster (`backends.md` §5, option A) on 127.0.0.1 and a free port:
//! trust authentication, fsync off, removed on drop. Starting it panics with the reason when
//! PostgreSQL is missing or fails; a test never skips. `scripts/install-peers` installs Debian's
//! `postgresql` package when `initdb` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{free_port, run_output};

/// A running throwaway cluster; stopped on drop.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// Starts a cluster with superuser `kes` and a database `kes`, or panics saying why.
    pub fn start() -> Postgres {
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
        let cluster = Postgres {
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
        cluster.launch();
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

    /// Starts the stopped server again on the same port and data directory.
    pub fn restart(&self) {
        self.launch();
    }

    fn launch(&self) {
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-w", "-o", &opts, "start"],
        );
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// The connection URL of database `kes` as superuser `kes`.
    pub fn url(&self) -> String {
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

    /// Stops the server at once (`-m immediate`), as a crash or outage would.
    pub fn stop(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Whether the server is running.
    pub fn running(&self) -> bool {
        self.dir.path().join("data").join("postmaster.pid").exists()
    }
}

impl Drop for Postgres {
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
