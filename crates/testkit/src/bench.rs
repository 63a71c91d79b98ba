//! Small helpers the benchmark binaries share: settings from the
//! environment, CPU time read from `/proc`, quantiles, and a raised file
//! descriptor limit for thousands of sockets.

use std::time::Duration;

/// `name` parsed from the environment, or `default` when unset or not a
/// number.
pub fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Reads a `/proc/.../stat` file: the process or thread name and its CPU
/// seconds (fields 14 and 15, utime and stime in clock ticks). `None` once
/// the process or thread has gone.
pub fn read_stat(path: &str) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let (head, rest) = stat.rsplit_once(") ")?;
    let name = head.split_once(" (").map_or("?", |(_, n)| n).to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf reads a constant and takes no pointers.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((name, (ticks(11) + ticks(12)) / hz))
}

/// CPU seconds (user + system) this process has used.
pub fn own_cpu_seconds() -> f64 {
    read_stat("/proc/self/stat").map_or(0.0, |(_, cpu)| cpu)
}

/// CPU seconds (user + system) process `pid` has used; 0 once it is gone.
pub fn process_cpu_seconds(pid: u32) -> f64 {
    read_stat(&format!("/proc/{pid}/stat")).map_or(0.0, |(_, cpu)| cpu)
}

/// The `q` quantile (0.0 to 1.0) of already sorted durations; zero for none.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Raises this process's open-file limit to its hard limit (capped at a
/// million), so a run can hold thousands of sockets.
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls on a stack value.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max.min(1_048_576);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
