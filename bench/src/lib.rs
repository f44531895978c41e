//! Benchmarks for KES-compatible servers: a load generator ([`load`]), `/proc` readers
//! ([`procfs`]) and the comparison driver that writes `BENCHMARKS.md` ([`driver`], [`report`]).

pub mod driver;
pub mod load;
pub mod procfs;
pub mod report;
