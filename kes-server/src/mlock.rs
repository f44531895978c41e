//! Keeps the server's memory, and with it every key, out of swap, as upstream's `kes server`
//! does on Linux (`mlockall`).

/// Locks the process's pages into RAM as they are touched, now and later, so that keys are
/// never written to swap. Only done where it cannot fail later: with `CAP_IPC_LOCK` or an
/// unlimited `RLIMIT_MEMLOCK` (under a finite limit, growing past it would make allocations
/// fail). Returns whether memory is locked.
#[cfg(target_os = "linux")]
pub fn lock_memory() -> bool {
    use rustix::mm::{MlockAllFlags, mlockall};
    if !can_lock_all() {
        return false;
    }
    // ONFAULT: pages are locked when first used, so reserved but unused memory (thread
    // stacks, allocator arenas) is not made resident.
    mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT).is_ok()
}

/// Memory is not locked on other systems.
#[cfg(not(target_os = "linux"))]
pub fn lock_memory() -> bool {
    false
}

#[cfg(target_os = "linux")]
fn can_lock_all() -> bool {
    use rustix::process::{Resource, getrlimit};
    const CAP_IPC_LOCK: u32 = 14;
    let ipc_lock = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let caps = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(caps.trim(), 16).ok()
        })
        .is_some_and(|caps| (caps >> CAP_IPC_LOCK) & 1 == 1);
    ipc_lock || getrlimit(Resource::Memlock).current.is_none()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Kilobytes of locked memory (`VmLck`) of this process.
    fn locked_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmLck:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn locks_exactly_when_it_cannot_fail_later() {
        let locked = lock_memory();
        assert_eq!(locked, can_lock_all());
        if locked {
            let touched = vec![1u8; 1 << 20];
            assert!(locked_kib() >= 1024, "VmLck {} kB", locked_kib());
            drop(touched);
        }
    }
}
