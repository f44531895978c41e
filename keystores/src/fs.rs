//! The file-system keystore: one file per key, named by the key name, as upstream KES lays it out.
//!
//! A create writes the value to a temporary file in the same directory, syncs it, and then
//! hard-links it to the key name. The link fails if the name exists, so a create is exclusive,
//! and a crash leaves either no key file or a complete one — never a partial or empty one.
//! Leftover temporary files (names starting with `.`) are not keys: they are skipped by `list`
//! and removed when the store is opened.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::{Error, KeyStore, Status};

/// The largest value `get` reads, as upstream (1 MiB).
const MAX_VALUE_SIZE: u64 = 1 << 20;

/// Prefix of temporary files; `.` never occurs in a valid key name.
const TEMP_PREFIX: &str = ".kes-tmp-";

/// A keystore that keeps each key in its own file (mode 0600) inside one directory.
#[derive(Debug, Clone)]
pub struct FsKeyStore {
    dir: Arc<PathBuf>,
}

impl FsKeyStore {
    /// Opens the store at `dir`, creating the directory (mode 0700) if it does not exist.
    /// Fails if `dir` exists and is not a directory.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<FsKeyStore> {
        let dir = dir.into();
        match fs::metadata(&dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(io::Error::other(format!(
                    "fs: '{}' is not a directory",
                    dir.display()
                )));
            }
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&dir)?;
            }
            Err(err) => return Err(err),
        }
        remove_stale_temp_files(&dir)?;
        Ok(FsKeyStore { dir: Arc::new(dir) })
    }

    /// The directory holding the key files.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn file(&self, name: &str) -> Result<PathBuf, Error> {
        if is_valid_file_name(name) {
            Ok(self.dir.join(name))
        } else {
            Err(Error::InvalidName(name.to_owned()))
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Path) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let dir = Arc::clone(&self.dir);
        tokio::task::spawn_blocking(move || f(&dir))
            .await
            .map_err(|err| Error::Unavailable(format!("fs: task failed: {err}")))?
    }
}

/// The file-system name rule, on top of the API name rule: no empty name, no path separators,
/// no dots (so neither `..` nor hidden or temporary files).
pub fn is_valid_file_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\', '.'])
}

fn remove_stale_temp_files(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn io_error(op: &str, err: io::Error) -> Error {
    Error::Unavailable(format!("fs: failed to {op}: {err}"))
}

fn create_file(dir: &Path, path: &Path, value: &[u8]) -> Result<(), Error> {
    if path.exists() {
        return Err(Error::AlreadyExists);
    }
    let temp = dir.join(temp_name());
    let result = write_synced(&temp, value).and_then(|()| match fs::hard_link(&temp, path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Err(Error::AlreadyExists),
        Err(err) => Err(io_error("create key file", err)),
    });
    // The temporary name is removed in every case; the key (if linked) keeps its own name.
    let removed = fs::remove_file(&temp).map_err(|err| io_error("remove temporary file", err));
    result?;
    removed?;
    sync_dir(dir)
}

fn write_synced(path: &Path, value: &[u8]) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| io_error("create temporary file", err))?;
    file.write_all(value)
        .and_then(|()| file.sync_all())
        .map_err(|err| io_error("write key file", err))
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|err| io_error("sync directory", err))
}

fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(Error::NotFound),
        Err(err) => return Err(io_error("open key file", err)),
    };
    let mut value = Zeroizing::new(Vec::new());
    file.take(MAX_VALUE_SIZE)
        .read_to_end(&mut value)
        .map_err(|err| io_error("read key file", err))?;
    Ok(value)
}

/// A name unique among this process's concurrent creates, and unlikely to clash with another
/// process sharing the directory (the process id and clock are part of it).
fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{TEMP_PREFIX}{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[async_trait]
impl KeyStore for FsKeyStore {
    async fn status(&self) -> Result<Status, Error> {
        let start = Instant::now();
        self.blocking(|dir| match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => Err(Error::Unavailable(format!(
                "fs: '{}' is not a directory",
                dir.display()
            ))),
            Err(err) => Err(Error::Unreachable(format!("fs: {err}"))),
        })
        .await?;
        Ok(Status {
            latency: start.elapsed(),
        })
    }

    async fn create(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        let path = self.file(name)?;
        let value = Zeroizing::new(value.to_vec());
        self.blocking(move |dir| create_file(dir, &path, &value))
            .await
    }

    async fn get(&self, name: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        let path = self.file(name)?;
        self.blocking(move |_| read_file(&path)).await
    }

    async fn delete(&self, name: &str) -> Result<(), Error> {
        let path = self.file(name)?;
        self.blocking(move |dir| match fs::remove_file(&path) {
            Ok(()) => sync_dir(dir),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Err(Error::NotFound),
            Err(err) => Err(io_error("delete key file", err)),
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let prefix = prefix.to_owned();
        self.blocking(move |dir| {
            let entries = fs::read_dir(dir).map_err(|err| io_error("list directory", err))?;
            let mut names = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|err| io_error("list directory", err))?;
                if let Ok(name) = entry.file_name().into_string()
                    && is_valid_file_name(&name)
                    && name.starts_with(&prefix)
                {
                    names.push(name);
                }
            }
            names.sort_unstable();
            Ok(names)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsKeyStore::open(dir.path().join("keys")).unwrap();
        crate::conformance::run(&store).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_creates() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FsKeyStore::open(dir.path()).unwrap());
        crate::conformance::concurrent_creates(store, 32)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn files_are_private_and_exact() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsKeyStore::open(dir.path()).unwrap();
        store.create("my-key", b"value").await.unwrap();
        let path = dir.path().join("my-key");
        assert_eq!(fs::read(&path).unwrap(), b"value");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["my-key"], "no temporary file may remain");
    }

    #[test]
    fn created_directory_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("keys");
        FsKeyStore::open(&path).unwrap();
        for dir in [path.parent().unwrap(), &path] {
            assert_eq!(
                fs::metadata(dir).unwrap().permissions().mode() & 0o777,
                0o700,
                "{}",
                dir.display()
            );
        }
    }

    #[tokio::test]
    async fn reads_files_written_by_others() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("upstream-key"), b"stored").unwrap();
        let store = FsKeyStore::open(dir.path()).unwrap();
        assert_eq!(&*store.get("upstream-key").await.unwrap(), b"stored");
    }

    #[tokio::test]
    async fn stale_temporary_files_are_removed_and_never_listed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".kes-tmp-0011"), b"partial").unwrap();
        let store = FsKeyStore::open(dir.path()).unwrap();
        assert!(!dir.path().join(".kes-tmp-0011").exists());
        fs::write(dir.path().join(".kes-tmp-0022"), b"partial").unwrap();
        assert!(store.list("").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn rejects_names_that_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsKeyStore::open(dir.path().join("keys")).unwrap();
        for name in ["", "..", "../x", "a/b", "a\\b", ".hidden", "a.b"] {
            assert!(matches!(
                store.create(name, b"v").await,
                Err(Error::InvalidName(_))
            ));
            assert!(matches!(store.get(name).await, Err(Error::InvalidName(_))));
            assert!(matches!(
                store.delete(name).await,
                Err(Error::InvalidName(_))
            ));
        }
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn fs_name_vectors() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/kes.json");
        let text = fs::read_to_string(path).expect("test vectors ../shared/vectors/kes.json");
        let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cases = vectors["names"]["fs_name"].as_array().unwrap();
        assert!(!cases.is_empty());
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let valid = case["valid"].as_bool().unwrap();
            assert_eq!(is_valid_file_name(name), valid, "{}", case["id"]);
        }
    }

    #[test]
    fn open_fails_on_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        assert!(FsKeyStore::open(&file).is_err());
    }
}
