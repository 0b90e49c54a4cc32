//! Generates a demo school and reports how long it took.
//!
//! ```text
//! cargo run --release -p aanwezig-demo --example gen -- 100000
//! cargo run --release -p aanwezig-demo --example gen -- 2000 --seed 7 --until 2026-01-31 --csv /tmp/demo
//! /usr/bin/time -v target/release/examples/gen 100000     # peak memory
//! ```
//!
//! Arguments: number of students (default 100,000), `--seed N` (default
//! 2025), `--until YYYY-MM-DD` (default: the whole year) and `--csv DIR` to
//! also write `students.csv` and `registrations.csv` there. The calendar is
//! the demo's own: 2025–2026, region noord.
//!
//! Measured on 2 cores (release): 100,000 students (133 M registrations,
//! 1015 MiB) in 0.7–0.8 s with a peak RSS of 1050 MiB; 20,000 in 0.15 s;
//! 2,000 in 0.02 s. See the crate's README.md.

use std::error::Error;
use std::fs::File;
use std::time::Instant;

use aanwezig_demo::{demo_calendar, generate, DemoConfig, Pattern};
use aanwezig_domain::Category;
use chrono::NaiveDate;

fn main() -> Result<(), Box<dyn Error>> {
    let mut cfg = DemoConfig {
        students: 100_000,
        seed: 2025,
        until: None,
    };
    let mut csv_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => cfg.seed = args.next().ok_or("--seed needs a number")?.parse()?,
            "--until" => {
                let s = args.next().ok_or("--until needs a date")?;
                cfg.until = Some(NaiveDate::parse_from_str(&s, "%Y-%m-%d")?);
            }
            "--csv" => csv_dir = Some(args.next().ok_or("--csv needs a directory")?),
            n => cfg.students = n.replace('_', "").parse()?,
        }
    }

    let cal = demo_calendar()?;
    let threads = rayon::current_num_threads();
    let start = Instant::now();
    let school = generate(&cal, &cfg);
    let took = start.elapsed();

    let total = school.total_registrations();
    let bytes = total * std::mem::size_of::<aanwezig_domain::Registration>() as u64;
    println!(
        "{} students, {} school days, {} registrations ({:.0} MiB) in {:.2} s on {} threads",
        school.students.len(),
        cal.len(),
        total,
        bytes as f64 / (1024.0 * 1024.0),
        took.as_secs_f64(),
        threads,
    );
    for p in Pattern::ALL {
        let n = school.patterns().iter().filter(|x| **x == p).count();
        println!("  {:<22} {:>7}", p.as_str(), n);
    }
    let mut per_category = [0u64; 9];
    for r in school.registrations.iter().flatten() {
        per_category[r.category as usize] += 1;
    }
    let share = |n: u64| 100.0 * n as f64 / total.max(1) as f64;
    let attended: u64 = Category::ALL
        .into_iter()
        .filter(|c| c.is_attended())
        .map(|c| per_category[c as usize])
        .sum();
    println!("attendance rate {:.2} %", share(attended));
    for c in Category::ALL {
        println!(
            "  {:<22} {:>6.3} %",
            c.as_str(),
            share(per_category[c as usize])
        );
    }

    if let Some(dir) = csv_dir {
        std::fs::create_dir_all(&dir)?;
        let start = Instant::now();
        school.write_students_csv(File::create(format!("{dir}/students.csv"))?)?;
        school.write_registrations_csv(
            &cal,
            File::create(format!("{dir}/registrations.csv"))?,
            |_| {},
        )?;
        println!(
            "wrote {dir}/students.csv and {dir}/registrations.csv ({total} rows) in {:.2} s",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
