//! Audit log speed of the SQLite store on a real file: the web app writes
//! one entry per student page view, so the write must be cheap, and the
//! dossier shows a student's newest entries, so that read must stay fast
//! on a large log.
//!
//! `cargo bench -p aanwezig-storage --bench audit`
//!
//! - `audit/insert`: one `Store::audit` call on a log of 1,000,000 entries.
//! - `audit/student_newest_50` and `audit/user_newest_50`: the 50 newest
//!   entries of one student (500 of theirs in the log) or one user
//!   (10,000 of theirs).

use aanwezig_storage::prelude::*;
use std::time::Duration;

use aanwezig_domain::StudentId;
use aanwezig_storage::{AuditAction, AuditEntry, AuditFilter, Store};
use aanwezig_storage_sqlite::SqliteStore;
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use sqlx::Connection;

const ENTRIES: u32 = 1_000_000;

/// Fills the log in one statement, far faster than a million `audit`
/// calls: `ENTRIES` reads, one per second from 1 Sep 2025, by 100 users
/// about 2,000 students.
const FILL: &str = "
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
INSERT INTO audit_log (at, username, action, student, detail)
SELECT strftime('%Y-%m-%dT%H:%M:%S.000000000Z', '2025-09-01', '+' || i || ' seconds'),
       'user' || (i % 100), 'read', CAST(100000 + i % 2000 AS TEXT), 'dossier bekeken'
FROM n";

fn bench_audit(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.db");
    let path = path.to_str().expect("utf-8 path");
    let store = rt.block_on(async {
        let store = SqliteStore::open(path, true).await.expect("open");
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .expect("raw connection");
        sqlx::query(FILL)
            .bind(ENTRIES)
            .execute(&mut conn)
            .await
            .expect("fill");
        conn.close().await.expect("close");
        store
    });

    let student = StudentId::parse("100042").expect("student number");
    let mut entry = AuditEntry {
        at: Utc
            .with_ymd_and_hms(2026, 1, 1, 8, 0, 0)
            .single()
            .expect("instant"),
        username: "user7".to_owned(),
        action: AuditAction::Read,
        student: Some(student.clone()),
        detail: "dossier bekeken".to_owned(),
    };

    let mut group = c.benchmark_group("audit");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("insert", |b| {
        b.iter(|| {
            entry.at += chrono::Duration::milliseconds(1);
            rt.block_on(store.audit(&entry)).expect("audit");
        })
    });
    let by_student = AuditFilter {
        student: Some(student),
        username: None,
        limit: 50,
    };
    group.bench_function("student_newest_50", |b| {
        b.iter(|| {
            let log = rt.block_on(store.audit_log(&by_student)).expect("read");
            assert_eq!(log.len(), 50);
            log
        })
    });
    let by_user = AuditFilter {
        student: None,
        username: Some("user3".to_owned()),
        limit: 50,
    };
    group.bench_function("user_newest_50", |b| {
        b.iter(|| {
            let log = rt.block_on(store.audit_log(&by_user)).expect("read");
            assert_eq!(log.len(), 50);
            log
        })
    });
    group.finish();
    rt.block_on(store.close());
}

criterion_group!(benches, bench_audit);
criterion_main!(benches);
