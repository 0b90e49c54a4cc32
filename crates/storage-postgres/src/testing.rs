//! For tests of this crate and of the crates above it (cargo feature
//! `testing`): a database per test on the server `AANWEZIG_TEST_PG`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped when
//! the test ends. Test code: a failure to create one panics.
#![allow(clippy::unwrap_used)]

use sqlx::{Connection, PgConnection};

/// The server the tests create their databases on.
pub fn server_url() -> String {
    std::env::var("AANWEZIG_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database replaced by `db`.
pub fn url_of(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A database that lives as long as the guard: dropped (with every
/// connection to it) when the test ends, also when it failed.
pub struct TestDb {
    name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let name = format!("aanwezig_t_{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::connect(&server_url()).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        TestDb {
            url: url_of(&server_url(), &name),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on a
        // future: a thread of its own with a runtime of its own does it.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = PgConnection::connect(&server_url()).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("test database {} was not dropped: {dropped:?}", self.name);
        }
    }
}
