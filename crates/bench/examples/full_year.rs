//! One run of all rules on all days for a school of N students (default
//! 100,000), for measuring time and peak memory outside criterion:
//!
//! `/usr/bin/time -v cargo run --release -p aanwezig-bench --example full_year -- 100000`
//!
//! With `implied` after the number the school is what an absence-only
//! export gives (absences only, a timetable per class, `presence =
//! "implied"`); each step then also prints the process's peak and current
//! resident memory (Linux).

use std::time::Instant;

use aanwezig_domain::Engine;

/// `VmHWM` (peak) and `VmRSS` (now) of this process, in MiB.
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or_else(|| "?".to_owned(), |kb| format!("{} MiB", kb / 1024))
    };
    format!("peak {}, now {}", get("VmHWM:"), get("VmRSS:"))
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let implied = std::env::args().nth(2).as_deref() == Some("implied");
    let cal = aanwezig_bench::calendar();
    let t = Instant::now();
    let (policy, school, what) = if implied {
        (
            aanwezig_bench::implied_policy(),
            aanwezig_bench::absences_school(&cal, n),
            "absences only, with a timetable",
        )
    } else {
        (
            aanwezig_bench::policy(),
            aanwezig_bench::school(&cal, n),
            "every lesson",
        )
    };
    println!(
        "generated {n} students, {} registrations ({what}) in {:.2?}; {}",
        school.registration_count(),
        t.elapsed(),
        memory()
    );
    let engine = Engine::new(&cal, &policy);
    for round in 1..=3 {
        let t = Instant::now();
        let evaluations = school.evaluate_all(&engine, None);
        let signals: usize = evaluations.iter().map(|e| e.signals.len()).sum();
        println!(
            "round {round}: all rules on all {} school days: {signals} signals in {:.2?}; {}",
            cal.len(),
            t.elapsed(),
            memory()
        );
    }
}
