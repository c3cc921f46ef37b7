//! CPU accounting shared by the benchmark examples: `utime + stime` of this process and of the
//! PostgreSQL backends serving one database, from `/proc`. Each example uses what it needs.

#![allow(dead_code)]

use std::{collections::HashMap, time::Instant};

pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `utime + stime` in ticks of `/proc/<pid>/stat`.
pub fn proc_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may contain spaces; fields restart after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// The PostgreSQL server processes serving database `db`, with their CPU ticks.
pub fn pg_backends(db: &str) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    let needle = format!(" {db} ");
    for entry in dir.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.starts_with("postgres: ") && cmd.contains(&needle) {
            if let Some(t) = proc_ticks(&pid) {
                out.insert(pid, t);
            }
        }
    }
    out
}

/// CPU seconds spent so far: this process, and the PostgreSQL backends of the bench database.
#[derive(Clone)]
pub struct Cpu {
    hz: f64,
    pg_db: Option<String>,
    own: u64,
    pg: HashMap<String, u64>,
    wall: Instant,
}

impl Cpu {
    pub fn now(hz: f64, pg_db: Option<&str>) -> Cpu {
        Cpu {
            hz,
            pg_db: pg_db.map(str::to_owned),
            own: proc_ticks("self").unwrap_or(0),
            pg: pg_db.map(pg_backends).unwrap_or_default(),
            wall: Instant::now(),
        }
    }

    /// (own CPU s, PostgreSQL backend CPU s, wall s) since `self`.
    pub fn since(&self) -> Spent {
        let end = Cpu::now(self.hz, self.pg_db.as_deref());
        let pg: u64 = end
            .pg
            .iter()
            .map(|(pid, t)| t.saturating_sub(self.pg.get(pid).copied().unwrap_or(0)))
            .sum();
        Spent {
            own: (end.own - self.own) as f64 / self.hz,
            pg: pg as f64 / self.hz,
            wall: self.wall.elapsed().as_secs_f64(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Spent {
    pub own: f64,
    pub pg: f64,
    pub wall: f64,
}

impl Spent {
    /// CPU milliseconds per 1,000 of `n` (own, pg).
    pub fn per_k(&self, n: usize) -> (f64, f64) {
        let k = n as f64 / 1000.0;
        (self.own * 1000.0 / k, self.pg * 1000.0 / k)
    }
}
