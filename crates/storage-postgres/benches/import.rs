//! Import and load speed of the PostgreSQL store: a full school year of
//! the demo school (`aanwezig-demo`, the generator of `crates/bench`) for
//! 20,000 students, about 27 million registrations.
//!
//! `cargo bench -p aanwezig-storage-postgres --bench import`
//!
//! - `pg_import/full_year_20000`: every registration into a fresh database
//!   (students stored before the timer starts), through `import_bundle`
//!   in batches of `BATCH_ROWS`, generated while they are written so that
//!   the records are never all in memory at once.
//! - `pg_load/lessons_stream_20000`: the whole school read back for the
//!   engine.
//!
//! Throughput is reported in records per second. The server is
//! `AANWEZIG_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! each run creates and drops its own database. `AANWEZIG_BENCH_STUDENTS`
//! sets another number of students; with `AANWEZIG_BENCH_ONCE` set, each
//! is timed once instead of criterion's ten samples.
#![expect(clippy::unwrap_used, reason = "a benchmark: a failure is a failed run")]

use std::time::{Duration, Instant};

use aanwezig_domain::{Calendar, NumbersGiven};
use aanwezig_storage::prelude::*;
use aanwezig_storage::{
    ImportBundle, ImportSource, RecordBatches, Store, StoredStudent, BATCH_ROWS,
};
use aanwezig_storage_postgres::PgStore;
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::StreamExt;
use sqlx::{Connection, PgConnection};

fn server_url() -> String {
    std::env::var("AANWEZIG_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn students_wanted() -> usize {
    std::env::var("AANWEZIG_BENCH_STUDENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

/// `url` with its database replaced by `db`.
fn url_of(url: &str, db: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{base}/{db}")
}

async fn admin(sql: &str) {
    let mut conn = PgConnection::connect(&server_url()).await.unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// A fresh database with the students stored.
async fn fresh(name: &str, students: &[StoredStudent]) -> PgStore {
    admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    admin(&format!("CREATE DATABASE {name}")).await;
    let store = PgStore::connect(&url_of(&server_url(), name))
        .await
        .unwrap();
    store.upsert_students(students).await.unwrap();
    store
}

/// The demo school's registrations as batches, made as they are taken.
fn batches<'a>(demo: &'a aanwezig_demo::DemoSchool, cal: &'a Calendar) -> RecordBatches<'a> {
    let mut students = 0..demo.students.len();
    let mut pending = Vec::with_capacity(BATCH_ROWS);
    futures::stream::poll_fn(move |_| {
        for s in students.by_ref() {
            pending.extend(demo.records(cal, s));
            if pending.len() >= BATCH_ROWS {
                return std::task::Poll::Ready(Some(Ok(std::mem::take(&mut pending))));
            }
        }
        if pending.is_empty() {
            std::task::Poll::Ready(None)
        } else {
            std::task::Poll::Ready(Some(Ok(std::mem::take(&mut pending))))
        }
    })
    .boxed()
}

async fn import_all(store: &PgStore, demo: &aanwezig_demo::DemoSchool, cal: &Calendar) -> u64 {
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 8, 0, 0).single().unwrap();
    let bundle = ImportBundle {
        calendar: None,
        policy: None,
        timetable: None,
        students: &[],
        student_numbers: NumbersGiven::NONE,
        registrations: vec![(
            batches(demo, cal),
            ImportSource {
                file_name: "jaar.csv".to_owned(),
                sha256: "0".repeat(64),
                imported_by: "bench".to_owned(),
                at,
            },
        )],
        absences_only: None,
        by: "bench",
        at,
    };
    let done = store.import_bundle(bundle, &|_, _| {}).await.unwrap();
    done.registrations[0].inserted
}

fn bench(c: &mut Criterion) {
    let cal = aanwezig_demo::demo_calendar().unwrap();
    let n_students = students_wanted();
    let demo = aanwezig_demo::generate(
        &cal,
        &aanwezig_demo::DemoConfig {
            students: n_students,
            seed: 7,
            until: None,
        },
    );
    let rows = demo.total_registrations();
    let students: Vec<StoredStudent> = demo
        .students
        .iter()
        .map(|s| StoredStudent {
            student: s.clone(),
            left_on: None,
        })
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();

    if std::env::var_os("AANWEZIG_BENCH_ONCE").is_some() {
        // One timed run of each, without criterion's ten samples: a full
        // year of 20,000 students takes minutes per import.
        rt.block_on(async {
            let store = fresh("aanwezig_bench_import", &students).await;
            let start = Instant::now();
            let inserted = import_all(&store, &demo, &cal).await;
            let took = start.elapsed();
            assert_eq!(inserted, rows);
            println!(
                "pg_import/full_year/{n_students}: {rows} rows in {took:.2?}: {:.0} rows/s",
                rows as f64 / took.as_secs_f64()
            );
            sqlx::query("VACUUM ANALYZE")
                .execute(store.pool())
                .await
                .unwrap();
            for round in 1..=3 {
                let start = Instant::now();
                let mut lessons = 0u64;
                let mut stream = store.lessons_stream();
                while let Some(student) = stream.next().await {
                    lessons += student.unwrap().1.len() as u64;
                }
                let took = start.elapsed();
                assert_eq!(lessons, rows);
                println!(
                    "pg_load/lessons_stream/{n_students} (run {round}): {rows} rows in {took:.2?}: \
                     {:.0} rows/s",
                    rows as f64 / took.as_secs_f64()
                );
            }
            store.close().await;
            admin("DROP DATABASE IF EXISTS aanwezig_bench_import WITH (FORCE)").await;
        });
        return;
    }

    let mut group = c.benchmark_group("pg_import");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .throughput(Throughput::Elements(rows));
    group.bench_function(BenchmarkId::new("full_year", n_students), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let store = fresh("aanwezig_bench_import", &students).await;
                    let start = Instant::now();
                    let inserted = import_all(&store, &demo, &cal).await;
                    total += start.elapsed();
                    assert_eq!(inserted, rows);
                    store.close().await;
                }
                total
            })
        })
    });
    group.finish();

    // One database with the whole year, read back for the engine.
    let store = rt.block_on(async {
        let store = fresh("aanwezig_bench_load", &students).await;
        import_all(&store, &demo, &cal).await;
        sqlx::query("VACUUM ANALYZE")
            .execute(store.pool())
            .await
            .unwrap();
        store
    });
    drop(demo);
    let mut group = c.benchmark_group("pg_load");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(rows));
    group.bench_function(BenchmarkId::new("lessons_stream", n_students), |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut lessons = 0u64;
                let mut stream = store.lessons_stream();
                while let Some(student) = stream.next().await {
                    lessons += student.unwrap().1.len() as u64;
                }
                assert_eq!(lessons, rows);
            })
        })
    });
    group.finish();
    rt.block_on(async {
        store.close().await;
        admin("DROP DATABASE IF EXISTS aanwezig_bench_import WITH (FORCE)").await;
        admin("DROP DATABASE IF EXISTS aanwezig_bench_load WITH (FORCE)").await;
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
