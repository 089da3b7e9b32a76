//! `serve`'s lists watcher: the lists imported into the database (SQLite or a PostgreSQL
//! database several servers share) are re-read when a source gets a new version, so a list
//! imported or updated through the CLI or any server applies on every server within a second.
//!
//! Every [`LISTS_EVERY`] a thread asks the database for the newest version id of each source
//! (one small indexed query, no entries read) and, when that differs from the lists in force,
//! rebuilds the screener from the versions now in force and swaps it in whole
//! ([`exportgate_lists::source::ScreeningSource::refresh`]). Requests never wait on the
//! rebuild: they keep screening against the previous lists until the swap. Lists given with
//! `--lists FILE` never change, and no thread is started for them.

use std::time::Duration;

use exportgate_lists::source::ListsWatch;

use crate::Shared;

/// How often the lists' newest version ids are compared.
pub const LISTS_EVERY: Duration = Duration::from_millis(100);

/// Starts the watcher thread when the lists come from the database; runs until the process
/// ends. A failed round is logged and retried on a new connection; the lists in force stay.
pub fn spawn(state: Shared) {
    let Some(db) = state.source.database().cloned() else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("watch-lists".into())
        .spawn(move || {
            let mut watch = ListsWatch::new(&db);
            loop {
                std::thread::sleep(LISTS_EVERY);
                let started = std::time::Instant::now();
                match state.source.refresh(&mut watch) {
                    Ok(true) => tracing::info!(
                        millis = started.elapsed().as_millis() as u64,
                        lists = ?state.source.list_inputs().iter().map(|l| format!("{} v{}", l.source, l.version)).collect::<Vec<_>>(),
                        "the lists in force changed in the database: reloaded"
                    ),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the lists watcher failed; the lists in force are kept")
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the lists watcher");
    }
}
