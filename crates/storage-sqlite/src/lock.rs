//! Who has a database file open: an OS file lock on `<db>.lock` beside it.
//!
//! Every [`SqliteStore::open`](super::SqliteStore::open) of a file (the
//! server, every CLI command) holds a *shared* lock for as long as the
//! store lives; a restore takes an *exclusive* one, so it cannot replace the
//! file under a running server or import, and no store opens the file while
//! a restore swaps it. The lock belongs to the open file handle: the kernel
//! drops it when the process ends in any way, `kill -9` included, so a
//! crashed server never leaves a stale lock behind (the `.lock` file itself
//! stays; its existence means nothing).
//!
//! The lock is advisory (`flock` on Unix, `LockFileEx` on Windows, via
//! fs4): it keeps aanwezig processes apart, not other programs.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct DatabaseLock {
    _file: File,
}

/// Why a lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another handle holds a lock that conflicts.
    Busy(PathBuf),
    /// The lock file could not be created or locked.
    Io(PathBuf, io::Error),
}

/// The lock file of the database at `db`: its file name plus `.lock`.
pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

fn open_lock_file(path: &Path) -> Result<File, LockError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| LockError::Io(path.to_owned(), e))
}

fn outcome(
    path: PathBuf,
    file: File,
    r: Result<(), fs4::TryLockError>,
) -> Result<DatabaseLock, LockError> {
    match r {
        Ok(()) => Ok(DatabaseLock { _file: file }),
        Err(fs4::TryLockError::WouldBlock) => Err(LockError::Busy(path)),
        Err(fs4::TryLockError::Error(e)) => Err(LockError::Io(path, e)),
    }
}

impl DatabaseLock {
    /// A shared lock on `db`'s lock file, without waiting: [`LockError::Busy`]
    /// while a restore holds the exclusive one.
    pub(crate) fn shared(db: &Path) -> Result<DatabaseLock, LockError> {
        let path = lock_path(db);
        let file = open_lock_file(&path)?;
        // Called through the trait: std's `File::try_lock_shared` (newer
        // than the workspace's minimum Rust) would shadow the method form.
        let r = fs4::FileExt::try_lock_shared(&file);
        outcome(path, file, r)
    }

    /// The exclusive lock on `db`'s lock file, without waiting:
    /// [`LockError::Busy`] while any store has the database open.
    pub(crate) fn exclusive(db: &Path) -> Result<DatabaseLock, LockError> {
        let path = lock_path(db);
        let file = open_lock_file(&path)?;
        let r = fs4::FileExt::try_lock(&file);
        outcome(path, file, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_locks_coexist_and_exclude_the_exclusive_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("school.db");
        assert_eq!(lock_path(&db), dir.path().join("school.db.lock"));
        let a = DatabaseLock::shared(&db).unwrap();
        let b = DatabaseLock::shared(&db).unwrap();
        assert!(matches!(
            DatabaseLock::exclusive(&db),
            Err(LockError::Busy(_))
        ));
        drop(a);
        assert!(matches!(
            DatabaseLock::exclusive(&db),
            Err(LockError::Busy(_))
        ));
        drop(b);
        let x = DatabaseLock::exclusive(&db).unwrap();
        assert!(matches!(DatabaseLock::shared(&db), Err(LockError::Busy(_))));
        drop(x);
        DatabaseLock::shared(&db).unwrap();
    }
}
