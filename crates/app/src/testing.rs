//! Test fixtures of the use cases' unit tests.

use aanwezig_domain::{Student, StudentId};
use aanwezig_storage::{AuditFilter, Store};
use aanwezig_storage_sqlite::SqliteStore;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 14, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn student(class: &str) -> Student {
    Student {
        id: StudentId::parse("123456").expect("valid"),
        name: "Leerling".to_owned(),
        class: class.to_owned(),
        mentor: "m".to_owned(),
        date_of_birth: ymd(2012, 1, 1),
        bsn: None,
        onderwijsnummer: None,
    }
}

pub async fn store() -> SqliteStore {
    SqliteStore::open_in_memory()
        .await
        .expect("in-memory store")
}

pub async fn audit_is_empty(store: &dyn Store) -> bool {
    store
        .audit_log(&AuditFilter::default())
        .await
        .expect("audit log")
        .is_empty()
}
