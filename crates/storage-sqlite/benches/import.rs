//! Import and load speed of the SQLite store on a real file.
//!
//! `cargo bench -p aanwezig-storage --bench import`
//!
//! - `import/fresh`: 1,000,000 records (2,000 students × 500 lessons) into a
//!   new file database.
//! - `import/reimport_unchanged`: the same records again (nothing changes).
//! - `import/reimport_10pct_changed`: every tenth record differs from what
//!   is stored, so 100,000 updates and history rows per run (each run on a
//!   fresh copy of the seeded file).
//! - `load/registrations_all_*`: reading everything back for the engine.
//!
//! Throughput is reported in records per second.

use aanwezig_storage::prelude::*;
use std::time::{Duration, Instant};

use aanwezig_domain::{Category, RegistrationRecord, Student, StudentId};
use aanwezig_storage::{ImportSource, Store, StoredStudent};
use aanwezig_storage_sqlite::SqliteStore;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const STUDENTS: u32 = 2_000;

fn sid(n: u32) -> StudentId {
    StudentId::parse(&format!("{}", 100_000 + n)).expect("valid student number")
}

fn students() -> Vec<StoredStudent> {
    (0..STUDENTS)
        .map(|n| StoredStudent {
            student: Student {
                id: sid(n),
                name: format!("Leerling {n}"),
                class: format!("{}{}", 1 + n % 6, ["A", "B", "C"][n as usize % 3]),
                mentor: format!("mentor{}", n % 80),
                date_of_birth: NaiveDate::from_ymd_opt(2010, 1, 1).expect("date")
                    + chrono::Days::new(u64::from(n % 1500)),
                bsn: None,
                onderwijsnummer: None,
            },
            left_on: None,
        })
        .collect()
}

/// `days` weekdays from 1 Sep 2025 with `lessons` lessons each, for every
/// student, in (student, date, lesson) order as an export lists them.
/// About 88 % present, the rest spread over the absence categories.
fn records(days: usize, lessons: u8) -> Vec<RegistrationRecord> {
    let mut dates = Vec::with_capacity(days);
    let mut d = NaiveDate::from_ymd_opt(2025, 9, 1).expect("date");
    while dates.len() < days {
        if d.weekday().number_from_monday() <= 5 {
            dates.push(d);
        }
        d = d.succ_opt().expect("date");
    }
    let mut out = Vec::with_capacity(STUDENTS as usize * days * usize::from(lessons));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for n in 0..STUDENTS {
        let student = sid(n);
        for date in &dates {
            for lesson in 1..=lessons {
                // xorshift: cheap, deterministic variety.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let (category, code, late) = match x % 100 {
                    0..=87 => (Category::Present, None, 0),
                    88..=90 => (Category::ReportedSick, Some("Z"), 0),
                    91..=92 => (Category::Unknown, Some("O"), 0),
                    93..=94 => (Category::LateUnexcused, Some("L"), (x % 20) as u16 + 1),
                    95..=96 => (Category::Authorized, Some("V"), 0),
                    97 => (Category::Unauthorized, Some("S"), 0),
                    98 => (Category::ReportedOther, Some("A"), 0),
                    _ => (Category::NotAbsence, Some("H"), 0),
                };
                out.push(RegistrationRecord {
                    student: student.clone(),
                    date: *date,
                    lesson,
                    minutes: 50,
                    code: code.map(str::to_owned),
                    category,
                    minutes_late: late,
                    note: None,
                });
            }
        }
    }
    out
}

/// The records with every tenth one turned from its category into another.
fn ten_percent_changed(records: &[RegistrationRecord]) -> Vec<RegistrationRecord> {
    let mut out = records.to_vec();
    for r in out.iter_mut().step_by(10) {
        if r.category == Category::Unknown {
            r.category = Category::ReportedSick;
            r.code = Some("Z".to_owned());
        } else {
            r.category = Category::Unknown;
            r.code = Some("O".to_owned());
            r.minutes_late = 0;
        }
    }
    out
}

fn source(name: &str) -> ImportSource {
    ImportSource {
        file_name: name.to_owned(),
        sha256: "0".repeat(64),
        imported_by: "bench".to_owned(),
        at: Utc
            .with_ymd_and_hms(2025, 9, 1, 8, 0, 0)
            .single()
            .expect("instant"),
    }
}

async fn store_with(dir: &tempfile::TempDir, records: &[RegistrationRecord]) -> SqliteStore {
    let path = dir.path().join("bench.db");
    let store = SqliteStore::open(path.to_str().expect("utf-8 path"), true)
        .await
        .expect("open");
    store.upsert_students(&students()).await.expect("students");
    if !records.is_empty() {
        store
            .import_registrations(records, &source("seed.csv"), &|_| {})
            .await
            .expect("seed import");
    }
    store
}

fn bench_import(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let base = records(100, 5);
    let changed = ten_percent_changed(&base);
    let n = base.len() as u64;

    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(n));

    group.bench_function(BenchmarkId::new("fresh", n), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store = store_with(&dir, &[]).await;
                    let start = Instant::now();
                    let s = store
                        .import_registrations(&base, &source("fresh.csv"), &|_| {})
                        .await
                        .expect("import");
                    total += start.elapsed();
                    assert_eq!(s.inserted, n);
                    store.close().await;
                }
                total
            })
        })
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt.block_on(store_with(&dir, &base));
    group.bench_function(BenchmarkId::new("reimport_unchanged", n), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let s = store
                        .import_registrations(&base, &source("again.csv"), &|_| {})
                        .await
                        .expect("import");
                    assert_eq!(s.unchanged, n);
                }
                start.elapsed()
            })
        })
    });

    rt.block_on(store.close());

    // Each run starts from a copy of the seeded file, so that every run
    // changes exactly 10 % against the same 1,000,000 stored rows and an
    // empty history.
    let seed = dir.path().join("bench.db");
    group.bench_function(BenchmarkId::new("reimport_10pct_changed", n), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let run = tempfile::tempdir().expect("tempdir");
                    let path = run.path().join("run.db");
                    std::fs::copy(&seed, &path).expect("copy seed");
                    let store = SqliteStore::open(path.to_str().expect("utf-8 path"), false)
                        .await
                        .expect("open copy");
                    let start = Instant::now();
                    let s = store
                        .import_registrations(&changed, &source("changed.csv"), &|_| {})
                        .await
                        .expect("import");
                    total += start.elapsed();
                    assert_eq!(s.updated, n / 10);
                    store.close().await;
                }
                total
            })
        })
    });
    group.finish();
}

fn bench_load(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    // 1,000,000 and ~2,700,000 registrations (2,000 students × 193 days × 7).
    for (days, lessons) in [(100, 5), (193, 7)] {
        let records = records(days, lessons);
        let n = records.len() as u64;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = rt.block_on(store_with(&dir, &records));
        drop(records);
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::new("registrations_all", n), |b| {
            b.iter(|| {
                let all = rt.block_on(store.registrations_all()).expect("load");
                assert_eq!(all.len(), STUDENTS as usize);
                all
            })
        });
        rt.block_on(store.close());
    }
    group.finish();
}

criterion_group!(benches, bench_import, bench_load);
criterion_main!(benches);
