//! Process figures for `/v1/status` and `/v1/metrics`, read from the Linux `/proc` file system
//! (zero where it is not available).

use std::fs;

/// Logical CPUs of the machine.
pub fn num_cpu() -> usize {
    fs::read_to_string("/proc/cpuinfo")
        .map(|s| s.lines().filter(|l| l.starts_with("processor")).count())
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or_else(num_cpu_used)
}

/// CPUs this process may run on.
pub fn num_cpu_used() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// OS threads of this process.
pub fn num_threads() -> u64 {
    status_field("Threads:").unwrap_or(0)
}

/// Bytes of the process's data segment (heap and anonymous mappings) in use.
pub fn heap_used() -> u64 {
    status_field("VmData:").map_or(0, |kib| kib * 1024)
}

/// Bytes of the main thread's stack.
pub fn stack_used() -> u64 {
    status_field("VmStk:").map_or(0, |kib| kib * 1024)
}

fn status_field(name: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// The operating system and architecture in Go's GOOS/GOARCH spelling.
pub fn os_arch() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    (std::env::consts::OS, arch)
}
