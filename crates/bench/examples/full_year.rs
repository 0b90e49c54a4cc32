//! One run of all rules on all days for a school of N students (default
//! 100,000), for measuring time and peak memory outside criterion:
//!
//! `/usr/bin/time -v cargo run --release -p aanwezig-bench --example full_year -- 100000`

use std::time::Instant;

use aanwezig_domain::Engine;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let cal = aanwezig_bench::calendar();
    let policy = aanwezig_bench::policy();
    let t = Instant::now();
    let school = aanwezig_bench::school(&cal, n);
    println!(
        "generated {n} students, {} registrations in {:.2?}",
        school.registration_count(),
        t.elapsed()
    );
    let engine = Engine::new(&cal, &policy);
    for round in 1..=3 {
        let t = Instant::now();
        let evaluations = school.evaluate_all(&engine, None);
        let signals: usize = evaluations.iter().map(|e| e.signals.len()).sum();
        println!(
            "round {round}: all rules on all {} school days: {signals} signals in {:.2?}",
            cal.len(),
            t.elapsed()
        );
    }
}
