//! The conformance suite every [`KeyStore`] backend must pass.
//!
//! [`run`] expects an empty store and leaves it empty. It returns the first violated
//! expectation as an error text, so a backend's test reads `conformance::run(&store).await.unwrap()`.

use std::sync::Arc;

use crate::{Error, KeyStore};

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Runs every check against `store`.
pub async fn run(store: &dyn KeyStore) -> Result<(), String> {
    status(store).await?;
    create_get_delete(store).await?;
    create_never_overwrites(store).await?;
    not_found(store).await?;
    values_round_trip(store).await?;
    list_by_prefix(store).await?;
    Ok(())
}

/// Runs the concurrency check: `n` concurrent creates of one name, exactly one succeeds.
pub async fn concurrent_creates(store: Arc<dyn KeyStore>, n: usize) -> Result<(), String> {
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store
                .create("conformance-race", format!("value-{i}").as_bytes())
                .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.map_err(|err| err.to_string())? {
            Ok(()) => won += 1,
            Err(Error::AlreadyExists) => {}
            Err(err) => return Err(format!("concurrent create failed: {err}")),
        }
    }
    ensure!(
        won == 1,
        "{won} of {n} concurrent creates succeeded, want exactly 1"
    );
    store
        .delete("conformance-race")
        .await
        .map_err(|err| err.to_string())
}

async fn status(store: &dyn KeyStore) -> Result<(), String> {
    store
        .status()
        .await
        .map(drop)
        .map_err(|err| format!("status of a healthy store failed: {err}"))
}

async fn create_get_delete(store: &dyn KeyStore) -> Result<(), String> {
    let e = |err: Error| err.to_string();
    store.create("conformance-a", b"value-a").await.map_err(e)?;
    let value = store.get("conformance-a").await.map_err(e)?;
    ensure!(value.as_slice() == b"value-a", "get returned other bytes");
    store.delete("conformance-a").await.map_err(e)?;
    ensure!(
        matches!(store.get("conformance-a").await, Err(Error::NotFound)),
        "get after delete must be NotFound"
    );
    Ok(())
}

async fn create_never_overwrites(store: &dyn KeyStore) -> Result<(), String> {
    let e = |err: Error| err.to_string();
    store.create("conformance-b", b"first").await.map_err(e)?;
    ensure!(
        matches!(
            store.create("conformance-b", b"second").await,
            Err(Error::AlreadyExists)
        ),
        "second create must be AlreadyExists"
    );
    let value = store.get("conformance-b").await.map_err(e)?;
    ensure!(value.as_slice() == b"first", "create overwrote a key");
    store.delete("conformance-b").await.map_err(e)
}

async fn not_found(store: &dyn KeyStore) -> Result<(), String> {
    ensure!(
        matches!(store.get("conformance-missing").await, Err(Error::NotFound)),
        "get of a missing key must be NotFound"
    );
    ensure!(
        matches!(
            store.delete("conformance-missing").await,
            Err(Error::NotFound)
        ),
        "delete of a missing key must be NotFound"
    );
    Ok(())
}

async fn values_round_trip(store: &dyn KeyStore) -> Result<(), String> {
    let e = |err: Error| err.to_string();
    let value: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    store.create("conformance-bytes", &value).await.map_err(e)?;
    let got = store.get("conformance-bytes").await.map_err(e)?;
    ensure!(got.as_slice() == value.as_slice(), "binary value changed");
    store.delete("conformance-bytes").await.map_err(e)
}

async fn list_by_prefix(store: &dyn KeyStore) -> Result<(), String> {
    let e = |err: Error| err.to_string();
    let mut names: Vec<String> = (0..150)
        .map(|i| format!("conformance-list-{i:03}"))
        .collect();
    names.push("conformance-other".to_owned());
    for name in names.iter().rev() {
        store.create(name, name.as_bytes()).await.map_err(e)?;
    }
    let all = store.list("").await.map_err(e)?;
    ensure!(all == names, "list(\"\") = {all:?}, want every name sorted");
    let listed = store.list("conformance-list-1").await.map_err(e)?;
    let want: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("conformance-list-1"))
        .collect();
    ensure!(
        listed.iter().eq(want.iter().copied()),
        "list(prefix) = {listed:?}, want {want:?}"
    );
    ensure!(
        store.list("zzz").await.map_err(e)?.is_empty(),
        "list of an unused prefix must be empty"
    );
    for name in &names {
        store.delete(name).await.map_err(e)?;
    }
    ensure!(
        store.list("").await.map_err(e)?.is_empty(),
        "store must be empty after the suite"
    );
    Ok(())
}
