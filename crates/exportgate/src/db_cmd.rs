//! `exportgate db migrate`: bring a database (SQLite file or PostgreSQL) up to this build's
//! schema version (`exportgate_store::migrate`); every command also does so when it opens one.

use std::process::ExitCode;

use crate::db::{store_error, DbUrl};

/// Migrate the database at `url` and say what was done.
pub fn migrate(url: &DbUrl) -> anyhow::Result<ExitCode> {
    if let DbUrl::Sqlite(p) = url {
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            exportgate_store::sqlite::create_private_dir(dir).map_err(|e| {
                anyhow::anyhow!("cannot create the directory `{}`: {e}", dir.display())
            })?;
        }
    }
    let done = exportgate_store::migrate_url(&url.store_url()).map_err(store_error)?;
    if done.adopted {
        outln!("{url}: adopted the version tables of an older exportgate")?;
    }
    for (version, name) in &done.applied {
        outln!("{url}: applied migration {version} ({name})")?;
    }
    if done.applied.is_empty() {
        outln!("{url}: schema version {}, up to date", done.to)?;
    } else {
        outln!("{url}: schema version {} (was {})", done.to, done.from)?;
    }
    Ok(ExitCode::SUCCESS)
}
