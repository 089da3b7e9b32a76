//! Issue 15 item 11: the ledger file and its `-wal`/`-shm` are created 0600 in a 0700 directory.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use exportgate_store::sqlite::SqliteStore;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn issue15_item11_database_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new").join("dir");
    let db = dir.join("ledger.sqlite");
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(mode(&dir), 0o700, "directory");
    assert_eq!(mode(&tmp.path().join("new")), 0o700, "parent directory");
    assert_eq!(mode(&db), 0o600, "database");
    // WAL mode: the -wal and -shm files exist while the store is open.
    for ext in ["-wal", "-shm"] {
        let p = dir.join(format!("ledger.sqlite{ext}"));
        assert_eq!(mode(&p), 0o600, "{ext}");
    }
    drop(store);
}
