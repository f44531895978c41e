//! SQL keystores: SQLite and PostgreSQL through sqlx (`kes-formats.md` §5.9).
//!
//! One table, `name TEXT PRIMARY KEY, value BLOB/BYTEA NOT NULL, created_at`, holds the value
//! text per name. The connection pool and the table are created on first use, not in the
//! constructor, so a store can be built outside a runtime and a server whose database is down
//! still starts and reports the keystore as unreachable. Every operation, including that first
//! connection, is bounded by [`SqlKeyStore::timeout`]: a dead database gives
//! [`Error::Unreachable`], never a hang.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;
// Statements are built from fixed text and a table name checked by `valid_table_name`.
use sqlx::AssertSqlSafe;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::{Error, KeyStore, Status};

/// The table used when none is configured.
pub const DEFAULT_TABLE: &str = "kes_keys";

/// How long one operation (including connecting) may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A keystore that keeps each value in one row of a SQL table.
pub struct SqlKeyStore {
    backend: Backend,
    table: String,
    timeout: Duration,
}

enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite {
        options: sqlx::sqlite::SqliteConnectOptions,
        pool: OnceCell<sqlx::SqlitePool>,
    },
    #[cfg(feature = "postgres")]
    Postgres {
        options: sqlx::postgres::PgConnectOptions,
        pool: OnceCell<sqlx::PgPool>,
    },
}

/// Never prints connection options: a PostgreSQL URL may carry a password.
impl fmt::Debug for SqlKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("SqlKeyStore");
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { options, .. } => {
                s.field("backend", &"sqlite")
                    .field("path", &options.get_filename());
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres { options, .. } => {
                s.field("backend", &"postgres")
                    .field("host", &options.get_host())
                    .field("database", &options.get_database());
            }
        }
        s.field("table", &self.table)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Whether `table` is a plain SQL identifier (it is interpolated into statements, quoted).
pub fn valid_table_name(table: &str) -> bool {
    let mut chars = table.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && table.len() <= 63
}

impl SqlKeyStore {
    /// A store in the SQLite database file `path` (created if missing, WAL journal), table
    /// [`DEFAULT_TABLE`]. Nothing is opened until the first operation.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(path: &std::path::Path) -> SqlKeyStore {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(DEFAULT_TIMEOUT);
        SqlKeyStore {
            backend: Backend::Sqlite {
                options,
                pool: OnceCell::new(),
            },
            table: DEFAULT_TABLE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A store in the PostgreSQL database at `url` (`postgres://…`), in `table`. Fails with
    /// [`Error::Unavailable`] if the URL or the table name is invalid; the message never
    /// contains the URL. Nothing is connected until the first operation.
    #[cfg(feature = "postgres")]
    pub fn postgres(url: &str, table: &str) -> Result<SqlKeyStore, Error> {
        if !valid_table_name(table) {
            return Err(Error::Unavailable(format!(
                "postgres: invalid table name '{table}'"
            )));
        }
        let options: sqlx::postgres::PgConnectOptions = url
            .parse()
            .map_err(|err| Error::Unavailable(format!("postgres: invalid url: {err}")))?;
        Ok(SqlKeyStore {
            backend: Backend::Postgres {
                options,
                pool: OnceCell::new(),
            },
            table: table.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same store with every operation bounded by `timeout` instead of [`DEFAULT_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> SqlKeyStore {
        self.timeout = timeout;
        self
    }

    /// The bound on every operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `op` within the timeout; an elapsed timeout is [`Error::Unreachable`].
    async fn bounded<T>(&self, op: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result,
            Err(_) => Err(Error::Unreachable(format!(
                "{}: no answer within {:?}",
                self.name(),
                self.timeout
            ))),
        }
    }

    fn name(&self) -> &'static str {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { .. } => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres { .. } => "postgres",
        }
    }

    fn error(&self, err: sqlx::Error) -> Error {
        let name = self.name();
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Error::Unreachable(format!("{name}: {err}")),
            other => Error::Unavailable(format!("{name}: {other}")),
        }
    }
}

/// The statements of one dialect, with the table name filled in.
struct Statements {
    schema: String,
    insert: String,
    select: String,
    delete: String,
    list: String,
}

impl Statements {
    fn new(table: &str, value_type: &str, time_type: &str, now: &str, collate: &str) -> Self {
        let t = format!("\"{table}\"");
        Statements {
            schema: format!(
                "CREATE TABLE IF NOT EXISTS {t} (name TEXT PRIMARY KEY, \
                 value {value_type} NOT NULL, created_at {time_type} NOT NULL DEFAULT {now})"
            ),
            insert: format!("INSERT INTO {t} (name, value) VALUES ($1, $2)"),
            select: format!("SELECT value FROM {t} WHERE name = $1"),
            delete: format!("DELETE FROM {t} WHERE name = $1"),
            // substr instead of LIKE: no wildcards to escape, case-sensitive in SQLite too.
            list: format!(
                "SELECT name FROM {t} WHERE substr(name, 1, length($1)) = $1 \
                 ORDER BY name{collate}"
            ),
        }
    }
}

/// Opens a pool to `options` and creates the table (`schema`) if it is missing.
async fn connect<DB: sqlx::Database>(
    options: <DB::Connection as sqlx::Connection>::Options,
    timeout: Duration,
    schema: &str,
) -> Result<sqlx::Pool<DB>, sqlx::Error>
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .acquire_timeout(timeout)
        .connect_with(options)
        .await?;
    sqlx::query(AssertSqlSafe(schema.to_owned()))
        .execute(&pool)
        .await?;
    Ok(pool)
}

/// Implements one operation for both backends: `$body` is generic over the pool type.
macro_rules! with_pool {
    ($self:ident, |$pool:ident, $sql:ident| $body:expr) => {{
        match &$self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite { options, pool } => {
                let $sql = sqlite_statements(&$self.table);
                let $pool = pool
                    .get_or_try_init(|| connect(options.clone(), $self.timeout, &$sql.schema))
                    .await
                    .map_err(|err| $self.error(err))?;
                $body
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres { options, pool } => {
                let $sql = postgres_statements(&$self.table);
                let $pool = pool
                    .get_or_try_init(|| connect(options.clone(), $self.timeout, &$sql.schema))
                    .await
                    .map_err(|err| $self.error(err))?;
                $body
            }
        }
    }};
}

#[cfg(feature = "sqlite")]
fn sqlite_statements(table: &str) -> Statements {
    Statements::new(table, "BLOB", "TEXT", "CURRENT_TIMESTAMP", "")
}

#[cfg(feature = "postgres")]
fn postgres_statements(table: &str) -> Statements {
    // COLLATE "C": byte order, whatever the database's collation is.
    Statements::new(table, "BYTEA", "TIMESTAMPTZ", "now()", " COLLATE \"C\"")
}

#[async_trait]
impl KeyStore for SqlKeyStore {
    async fn status(&self) -> Result<Status, Error> {
        let start = Instant::now();
        self.bounded(async {
            with_pool!(self, |pool, _sql| {
                sqlx::query("SELECT 1")
                    .execute(pool)
                    .await
                    .map_err(|err| self.error(err))?;
            });
            Ok(())
        })
        .await?;
        Ok(Status {
            latency: start.elapsed(),
        })
    }

    async fn create(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        self.bounded(async {
            with_pool!(self, |pool, sql| {
                sqlx::query(AssertSqlSafe(sql.insert))
                    .bind(name)
                    .bind(value)
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(|err| match err.as_database_error() {
                        Some(db) if db.is_unique_violation() => Error::AlreadyExists,
                        _ => self.error(err),
                    })
            })
        })
        .await
    }

    async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.bounded(async {
            with_pool!(self, |pool, sql| {
                sqlx::query_scalar::<_, Vec<u8>>(AssertSqlSafe(sql.select))
                    .bind(name)
                    .fetch_optional(pool)
                    .await
                    .map_err(|err| self.error(err))?
                    .map(Zeroizing::new)
                    .ok_or(Error::NotFound)
            })
        })
        .await
    }

    async fn delete(&self, name: &str) -> Result<(), Error> {
        self.bounded(async {
            with_pool!(self, |pool, sql| {
                let done = sqlx::query(AssertSqlSafe(sql.delete))
                    .bind(name)
                    .execute(pool)
                    .await
                    .map_err(|err| self.error(err))?;
                match done.rows_affected() {
                    0 => Err(Error::NotFound),
                    _ => Ok(()),
                }
            })
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.bounded(async {
            with_pool!(self, |pool, sql| {
                sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.list))
                    .bind(prefix)
                    .fetch_all(pool)
                    .await
                    .map_err(|err| self.error(err))
            })
        })
        .await
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::sync::Arc;

    use super::SqlKeyStore;
    use crate::KeyStore;

    #[tokio::test]
    async fn sqlite_conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlKeyStore::sqlite(&dir.path().join("keys.db"));
        crate::conformance::run(&store).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_concurrent_creates() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqlKeyStore::sqlite(&dir.path().join("keys.db")));
        crate::conformance::concurrent_creates(store, 32)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn sqlite_keys_survive_reopen_and_wal_is_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.db");
        SqlKeyStore::sqlite(&path).create("k", b"v").await.unwrap();
        let store = SqlKeyStore::sqlite(&path);
        assert_eq!(store.get("k").await.unwrap().as_slice(), b"v");
        assert!(dir.path().join("keys.db-wal").exists());
    }

    #[tokio::test]
    async fn list_treats_like_wildcards_literally() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlKeyStore::sqlite(&dir.path().join("keys.db"));
        for name in ["a_b", "axb", "A_b", "a%"] {
            store.create(name, b"v").await.unwrap();
        }
        assert_eq!(store.list("a_").await.unwrap(), ["a_b"]);
        assert_eq!(store.list("a%").await.unwrap(), ["a%"]);
        assert_eq!(store.list("a").await.unwrap(), ["a%", "a_b", "axb"]);
    }

    #[tokio::test]
    async fn unwritable_path_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlKeyStore::sqlite(&dir.path().join("missing-dir").join("keys.db"));
        let err = store.status().await.unwrap_err();
        assert!(matches!(
            err,
            crate::Error::Unavailable(_) | crate::Error::Unreachable(_)
        ));
    }

    #[test]
    fn table_names() {
        assert!(super::valid_table_name("kes_keys"));
        assert!(super::valid_table_name("_t1"));
        for bad in ["", "1t", "a-b", "a\"b", "a b", &"t".repeat(64)] {
            assert!(!super::valid_table_name(bad), "{bad}");
        }
    }
}

#[cfg(all(test, feature = "postgres"))]
mod postgres_tests {
    use std::time::{Duration, Instant};

    use super::SqlKeyStore;
    use crate::{Error, KeyStore};

    #[test]
    fn debug_and_errors_hide_the_password() {
        let store =
            SqlKeyStore::postgres("postgres://kes:hunter2@127.0.0.1:1/kes", "kes_keys").unwrap();
        assert!(!format!("{store:?}").contains("hunter2"));
        let err =
            SqlKeyStore::postgres("postgres://kes:hunter2@127.0.0.1:1/kes", "a;b").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }

    #[tokio::test]
    async fn dead_server_is_unreachable_fast() {
        // Port 1 on loopback: connection refused.
        let store = SqlKeyStore::postgres("postgres://kes@127.0.0.1:1/kes", "kes_keys")
            .unwrap()
            .with_timeout(Duration::from_millis(500));
        let start = Instant::now();
        let err = store.get("k").await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let (port, _held) = crate::test_util::silent_port().await;
        let store = SqlKeyStore::postgres(&format!("postgres://kes@127.0.0.1:{port}/kes"), "t")
            .unwrap()
            .with_timeout(Duration::from_millis(300));
        let start = Instant::now();
        let err = store.status().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
