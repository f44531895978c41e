//! `kes-bench`: runs the same loads against our `kes` and the upstream Go KES, alternately, and
//! writes `BENCHMARKS.md`, `bench/results.json` and `bench/benchmarks.png`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kes_bench::driver::{self, Plan, Results};
use kes_bench::load::{BoxError, Op};
use kes_bench::report;

/// Compares our server with upstream KES v0.24.0 (see BENCHMARKS.md).
#[derive(Debug, Parser)]
#[command(name = "kes-bench", version)]
struct Args {
    /// Our `kes` binary (a release build).
    #[arg(long)]
    ours: Option<PathBuf>,
    /// The upstream `kes` binary [default: ~/.cache/kes-rs/go/bin/kes].
    #[arg(long)]
    upstream: Option<PathBuf>,
    /// Pairs of sessions (ours, upstream).
    #[arg(long, default_value_t = 3)]
    pairs: usize,
    /// Warm-up seconds per load.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Measured seconds per load.
    #[arg(long, default_value_t = 4.0)]
    duration: f64,
    /// Connection counts for generate and decrypt.
    #[arg(long, default_value = "1,16,64", value_delimiter = ',')]
    connections: Vec<usize>,
    /// The repository root (BENCHMARKS.md and bench/ are written there).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Only rewrite BENCHMARKS.md and the chart from bench/results.json.
    #[arg(long)]
    report_only: bool,
    /// Also keep this run as the "before" baseline (bench/results-before.json).
    #[arg(long)]
    baseline: bool,
}

fn read(path: &std::path::Path) -> Option<Results> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

async fn run(args: Args) -> Result<(), BoxError> {
    let dir = args.root.join("bench");
    let results_path = dir.join("results.json");
    let results = if args.report_only {
        read(&results_path).ok_or("bench/results.json is missing or unreadable")?
    } else {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let upstream = args
            .upstream
            .clone()
            .unwrap_or_else(|| home.join(".cache/kes-rs/go/bin/kes"));
        let ours = args.ours.clone().ok_or("--ours is required")?;
        for bin in [&ours, &upstream] {
            if !bin.is_file() {
                return Err(format!("{} is missing", bin.display()).into());
            }
        }
        let mut loads = Vec::new();
        for op in [Op::Generate, Op::Decrypt] {
            for &c in &args.connections {
                loads.push((op, c));
            }
        }
        loads.push((Op::Mix, 16));
        let plan = Plan {
            ours,
            upstream,
            pairs: args.pairs,
            loads,
            warmup: Duration::from_secs_f64(args.warmup),
            duration: Duration::from_secs_f64(args.duration),
        };
        let results = driver::run(&plan).await?;
        std::fs::write(&results_path, serde_json::to_vec_pretty(&results)?)?;
        if args.baseline {
            std::fs::copy(&results_path, dir.join("results-before.json"))?;
        }
        results
    };
    let before = read(&dir.join("results-before.json"));
    let chart = dir.join("benchmarks.png");
    if let Err(err) = report::chart(&results, &chart) {
        eprintln!("kes-bench: no chart: {err}");
    }
    let md = report::markdown(&results, before.as_ref(), "bench/benchmarks.png");
    report::write_markdown(&args.root.join("BENCHMARKS.md"), &md)?;
    for f in report::figures(&results) {
        let (med, lo, hi) = f.ratio();
        println!("{:<42} {med:>6.2}  ({lo:.2}–{hi:.2})", f.name);
    }
    Ok(())
}

fn main() -> ExitCode {
    kes_bench::main_with("kes-bench", run(Args::parse()))
}
