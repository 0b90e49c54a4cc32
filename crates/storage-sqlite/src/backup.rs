//! Backup and restore of the SQLite file.
//!
//! # Backup
//!
//! `VACUUM INTO` on a reader connection: under WAL it reads one snapshot
//! (every transaction committed before it began, nothing after, nothing
//! half-written) while the writer goes on, and writes a compact single file
//! in rollback-journal mode. Copying the live file instead is not safe: the
//! main file and its `-wal` change under the copy (issue 8 measured 11
//! corrupt copies in 60 under load). The online backup API would serve as
//! well, but sqlx does not expose it and this workspace forbids `unsafe`.
//!
//! The copy goes to a temporary file beside the target, is checked like a
//! restore would check it, flushed to disk and only then renamed into place,
//! so a backup file is complete or absent.
//!
//! # Restore
//!
//! Under the exclusive [lock](super::lock): the backup is copied to a
//! temporary file beside the database, that copy is checked
//! (`integrity_check`, aanwezig's migration table, a schema this program
//! knows), brought up to date with the pending migrations, flushed, and
//! only then swapped in by renames. The replaced database (with its `-wal`,
//! if a crash left one) is kept as `<db>.voor-herstel-<timestamp>`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use crate::lock::{DatabaseLock, LockError};
use crate::{SqliteStore, MIGRATOR};
use aanwezig_storage::backup::{Backup, BackupError, BackupInfo, RestoreReport};
use aanwezig_storage::codec::{parse_instant, to_u64};
use aanwezig_storage::error::StoreError;

/// Tables every aanwezig database has had since its first migration.
const CORE_TABLES: [&str; 3] = ["students", "registrations", "changes"];

/// Side files SQLite may keep next to a database.
const SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// The folder a file is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "aanwezig.db".to_owned())
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// An empty temporary file in `dir`, removed when dropped unless persisted.
fn temp_in(dir: &Path, name: &str, what: &str) -> Result<tempfile::TempPath, BackupError> {
    tempfile::Builder::new()
        .prefix(&format!(".{name}.{what}-"))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map(tempfile::NamedTempFile::into_temp_path)
        .map_err(|e| BackupError::io(dir, e))
}

/// Flushes a file's contents to disk.
fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| BackupError::io(path, e))
}

/// Flushes a folder's entries (a rename) to disk. Windows cannot open a
/// folder as a file and orders renames itself.
fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        sync_file(dir)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Gives the restored file the replaced database's permissions and, where
/// the process may (as root), its owner: a restore run by an administrator
/// must leave a file the server's account can still open. The temporary
/// file starts private (0600), which is what backups keep.
fn keep_access(file: &Path, old: &std::fs::Metadata) -> Result<(), BackupError> {
    std::fs::set_permissions(file, old.permissions()).map_err(|e| BackupError::io(file, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root may give a file away; for anyone else the file is
        // already theirs, as the old one most likely was.
        let _ = std::os::unix::fs::chown(file, Some(old.uid()), Some(old.gid()));
    }
    Ok(())
}

fn damaged(path: &Path, detail: impl ToString) -> BackupError {
    BackupError::Damaged {
        path: path.to_owned(),
        detail: detail.to_string(),
    }
}

fn not_aanwezig(path: &Path, detail: impl ToString) -> BackupError {
    BackupError::NotAanwezig {
        path: path.to_owned(),
        detail: detail.to_string(),
    }
}

/// One connection to a file that must exist, with no pragmas of its own
/// beyond sqlx's defaults. Any failure to open or read it is damage: the
/// callers only open files they just wrote or copied.
async fn connect_file(path: &Path) -> Result<SqliteConnection, BackupError> {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .foreign_keys(false)
        .connect()
        .await
        .map_err(|e| damaged(path, e))
}

/// Whether the database on `conn` has a table `name`.
async fn has_table(conn: &mut SqliteConnection, name: &str) -> Result<bool, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
    Ok(n > 0)
}

/// The rows of a table (0 when an older schema has no such table).
async fn count(conn: &mut SqliteConnection, table: &str) -> Result<u64, BackupError> {
    if !has_table(conn, table).await.map_err(StoreError::from)? {
        return Ok(0);
    }
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{table}\""))
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::from)?;
    Ok(to_u64(n)?)
}

/// Checks that the database on `conn` (the file `path`) is undamaged, is
/// aanwezig's, and has a schema this program knows; returns its schema
/// version.
async fn check(conn: &mut SqliteConnection, path: &Path) -> Result<i64, BackupError> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| damaged(path, e))?;
    if problems != ["ok"] {
        let shown: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
        return Err(damaged(path, shown.join("; ")));
    }
    if !has_table(conn, "_sqlx_migrations")
        .await
        .map_err(|e| damaged(path, e))?
    {
        return Err(not_aanwezig(path, "no migration table"));
    }
    let applied: Vec<(i64, bool, Vec<u8>)> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| not_aanwezig(path, e))?;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    // The first migration is the fingerprint of an aanwezig database.
    let first = MIGRATOR.iter().next();
    let first_matches = match (first, applied.first()) {
        (Some(m), Some((v, _, sum))) => *v == m.version && sum.as_slice() == &*m.checksum,
        _ => false,
    };
    if !first_matches {
        return Err(not_aanwezig(path, "its first migration is not aanwezig's"));
    }
    let newest = applied.last().map_or(0, |(v, _, _)| *v);
    if newest > known {
        return Err(BackupError::Newer {
            path: path.to_owned(),
            found: newest,
            known,
        });
    }
    for (version, success, checksum) in &applied {
        if !success {
            return Err(damaged(path, format!("migration {version} did not finish")));
        }
        let ours = MIGRATOR.iter().find(|m| m.version == *version);
        if ours.is_none_or(|m| checksum.as_slice() != &*m.checksum) {
            return Err(BackupError::Mismatch {
                path: path.to_owned(),
                version: *version,
            });
        }
    }
    for table in CORE_TABLES {
        if !has_table(conn, table).await.map_err(|e| damaged(path, e))? {
            return Err(not_aanwezig(path, format!("no table {table}")));
        }
    }
    Ok(newest)
}

/// What the database on `conn` holds.
async fn describe(
    conn: &mut SqliteConnection,
    path: &Path,
    schema_version: i64,
) -> Result<BackupInfo, BackupError> {
    let last: Option<String> = sqlx::query_scalar("SELECT max(at) FROM changes")
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::from)?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| BackupError::io(path, e))?
        .len();
    Ok(BackupInfo {
        path: path.to_owned(),
        bytes,
        schema_version,
        students: count(conn, "students").await?,
        registrations: count(conn, "registrations").await?,
        users: count(conn, "users").await?,
        cases: count(conn, "cases").await?,
        meldingen: count(conn, "meldingen").await?,
        audit_entries: count(conn, "audit_log").await?,
        last_change: last.as_deref().map(parse_instant).transpose()?,
    })
}

/// The work of [`check_file`] on its connection.
async fn check_on(
    conn: &mut SqliteConnection,
    path: &Path,
    migrate: bool,
) -> Result<(BackupInfo, usize), BackupError> {
    let version = check(conn, path).await?;
    let info = describe(conn, path, version).await?;
    let mut applied = 0;
    if migrate {
        applied = MIGRATOR.iter().filter(|m| m.version > version).count();
        MIGRATOR.run_direct(conn).await.map_err(StoreError::from)?;
    }
    sqlx::query("PRAGMA journal_mode = DELETE")
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from)?;
    Ok((info, applied))
}

/// Checks the file at `path` and says what it holds; with `migrate`, first
/// runs the pending migrations. Leaves the file a single file in
/// rollback-journal mode (no `-wal` beside it).
async fn check_file(path: &Path, migrate: bool) -> Result<(BackupInfo, usize), BackupError> {
    let mut conn = connect_file(path).await?;
    let result = check_on(&mut conn, path, migrate).await;
    // Closing cleanly is part of leaving one file behind; a failure to
    // close after a failed check changes nothing about that failure.
    let closed = conn.close().await.map_err(StoreError::from);
    let (mut info, applied) = result?;
    closed?;
    // The size after the journal mode switch.
    info.bytes = std::fs::metadata(path)
        .map_err(|e| BackupError::io(path, e))?
        .len();
    Ok((info, applied))
}

/// A name beside `db` that is not taken: `<db>.voor-herstel-<stamp>`, with
/// `-2`, `-3`, … when two restores share a second.
fn aside_name(db: &Path, at: DateTime<Utc>) -> PathBuf {
    let base = format!(".voor-herstel-{}", at.format("%Y%m%dT%H%M%SZ"));
    let mut candidate = with_suffix(db, &base);
    let mut n = 2;
    while candidate.exists() {
        candidate = with_suffix(db, &format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

impl SqliteStore {
    /// Checks a backup file without changing it: that it is an undamaged
    /// SQLite database, aanwezig's, with a schema this program knows; and
    /// says what it holds. The check runs on a temporary copy beside
    /// `path`, so the file itself is never opened for writing.
    pub async fn verify_backup(path: &Path) -> Result<BackupInfo, BackupError> {
        let temp = temp_in(parent_dir(path), &file_name(path), "controle")?;
        std::fs::copy(path, &temp).map_err(|e| BackupError::io(path, e))?;
        let (mut info, _) = check_file(&temp, false).await.map_err(|e| e.about(path))?;
        info.path = path.to_owned();
        info.bytes = std::fs::metadata(path)
            .map_err(|e| BackupError::io(path, e))?
            .len();
        Ok(info)
    }

    /// Replaces the database at `db` with the backup at `backup`.
    ///
    /// Refused with [`BackupError::InUse`] while any store has `db` open
    /// (the server, another command), and with [`BackupError::Damaged`],
    /// [`BackupError::NotAanwezig`], [`BackupError::Newer`] or
    /// [`BackupError::Mismatch`] when the backup fails its check; in every
    /// refusal nothing is changed. Otherwise the pending migrations run on
    /// the restored copy, and the database it replaced is kept as
    /// `<db>.voor-herstel-<at>` (UTC, `YYYYMMDDTHHMMSSZ`).
    pub async fn restore(
        db: &Path,
        backup: &Path,
        at: DateTime<Utc>,
    ) -> Result<RestoreReport, BackupError> {
        let _lock = DatabaseLock::exclusive(db).map_err(|e| match e {
            LockError::Busy(p) => BackupError::InUse(p),
            LockError::Io(p, e) => BackupError::io(&p, e),
        })?;
        let dir = parent_dir(db);
        let temp = temp_in(dir, &file_name(db), "herstel")?;
        std::fs::copy(backup, &temp).map_err(|e| BackupError::io(backup, e))?;
        let (mut info, migrations_applied) =
            check_file(&temp, true).await.map_err(|e| e.about(backup))?;
        info.path = backup.to_owned();
        info.bytes = std::fs::metadata(backup)
            .map_err(|e| BackupError::io(backup, e))?
            .len();
        sync_file(&temp)?;

        if let Ok(meta) = std::fs::metadata(db) {
            keep_access(&temp, &meta)?;
        }
        let previous = if db.exists() {
            let aside = aside_name(db, at);
            std::fs::rename(db, &aside).map_err(|e| BackupError::io(db, e))?;
            // A `-wal` left by a crash holds commits of the old database:
            // it goes with it, and must not be read as the new one's.
            for side in SIDE_FILES {
                let from = with_suffix(db, side);
                if from.exists() {
                    let to = with_suffix(&aside, side);
                    std::fs::rename(&from, &to).map_err(|e| BackupError::io(&from, e))?;
                }
            }
            Some(aside)
        } else {
            None
        };
        temp.persist(db).map_err(|e| BackupError::io(db, e.error))?;
        sync_dir(dir)?;
        Ok(RestoreReport {
            backup: info,
            previous,
            migrations_applied,
        })
    }
}

#[async_trait]
impl Backup for SqliteStore {
    async fn backup_to(&self, dest: &Path, overwrite: bool) -> Result<BackupInfo, BackupError> {
        if self.lock.is_none() {
            // SQLite opens the INTO file with the source's flags: from an
            // in-memory database it would "write" an in-memory copy.
            return Err(StoreError::Config(
                "an in-memory database has no file to back up".to_owned(),
            )
            .into());
        }
        if !overwrite && dest.exists() {
            return Err(BackupError::Exists(dest.to_owned()));
        }
        let dir = parent_dir(dest);
        let temp = temp_in(dir, &file_name(dest), "backup")?;
        let target = temp.to_str().ok_or_else(|| {
            BackupError::io(
                dest,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the backup path must be valid UTF-8",
                ),
            )
        })?;
        // A reader connection: under WAL the snapshot does not hold up the
        // writer.
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.reader)
            .await
            .map_err(StoreError::from)?;
        let (mut info, _) = check_file(&temp, false).await.map_err(|e| e.about(dest))?;
        sync_file(&temp)?;
        if overwrite {
            temp.persist(dest)
                .map_err(|e| BackupError::io(dest, e.error))?;
        } else {
            temp.persist_noclobber(dest).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    BackupError::Exists(dest.to_owned())
                } else {
                    BackupError::io(dest, e.error)
                }
            })?;
        }
        sync_dir(dir)?;
        info.path = dest.to_owned();
        Ok(info)
    }
}
