//! Benchmarks for KES-compatible servers: a load generator ([`load`]), `/proc` readers
//! ([`procfs`]) and the comparison driver that writes `BENCHMARKS.md` ([`driver`], [`report`]).

pub mod driver;
pub mod load;
pub mod procfs;
pub mod report;

/// Runs a binary's `run` future on a multi-threaded runtime: exits 0 on success, prints
/// `<name>: <error>` and exits 1 otherwise.
pub fn main_with(
    name: &str,
    run: impl std::future::Future<Output = Result<(), load::BoxError>>,
) -> std::process::ExitCode {
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(load::BoxError::from)
        .and_then(|runtime| runtime.block_on(run));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{name}: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
