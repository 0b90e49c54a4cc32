//! The canonical registrations CSV into SQLite, end to end: parse, validate
//! every row, and insert in one transaction into a fresh database file.
//!
//! `cargo bench -p aanwezig-bench --bench import`

use aanwezig_storage::prelude::*;
use std::time::Duration;

use aanwezig_storage::{ImportSource, Store, StoredStudent};
use aanwezig_storage_sqlite::SqliteStore;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn csv_into_sqlite(c: &mut Criterion) {
    let cal = aanwezig_bench::calendar();
    let policy = aanwezig_bench::policy();
    let demo = aanwezig_demo::generate(
        &cal,
        &aanwezig_demo::DemoConfig {
            students: 2_000,
            seed: 7,
            until: None,
        },
    );
    let mut csv = Vec::new();
    demo.write_registrations_csv(&cal, &mut csv, |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    let rows: u64 = demo.registrations.iter().map(|r| r.len() as u64).sum();
    let students: Vec<StoredStudent> = demo
        .students
        .iter()
        .map(|s| StoredStudent {
            student: s.clone(),
            left_on: None,
        })
        .collect();
    let ids: std::collections::HashSet<String> =
        demo.students.iter().map(|s| s.id.to_string()).collect();
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let at = DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap_or_default();

    let mut group = c.benchmark_group("import_csv");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    group.throughput(Throughput::Elements(rows));
    group.bench_function("registrations_2000_students_full_year", |b| {
        b.iter_with_setup(
            || {
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                let store = rt
                    .block_on(SqliteStore::open(
                        &dir.path().join("bench.db").to_string_lossy(),
                        true,
                    ))
                    .unwrap_or_else(|e| panic!("{e}"));
                rt.block_on(store.upsert_students(&students))
                    .unwrap_or_else(|e| panic!("{e}"));
                (dir, store)
            },
            |(dir, store)| {
                let records = aanwezig_import::read_registrations(
                    &csv[..],
                    "registrations.csv",
                    &cal,
                    &policy,
                    |id| ids.contains(id),
                )
                .unwrap_or_else(|e| panic!("{e}"));
                let source = ImportSource {
                    file_name: "registrations.csv".into(),
                    sha256: String::new(),
                    imported_by: "bench".into(),
                    at,
                };
                rt.block_on(store.import_registrations(&records, &source, &|_| {}))
                    .unwrap_or_else(|e| panic!("{e}"));
                rt.block_on(store.close());
                drop(dir);
            },
        );
    });
    group.finish();
}

criterion_group!(benches, csv_into_sqlite);
criterion_main!(benches);
