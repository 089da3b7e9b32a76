//! `exportgate lists import|update|status`: the restricted-party lists in the database (an
//! SQLite file or PostgreSQL), and where that database is (`--db`, `$EXPORTGATE_DB`, or the user's data
//! directory). The CLI is the only place that reads the environment and the clock.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use exportgate_lists::{UpdateOutcome, UpdateSource};
use exportgate_screen::ListVersion;

use crate::{today, user};

/// The list database: `--db` (`sqlite://PATH`, a path, or a `postgres://` URL, passed on as
/// a path), else `$EXPORTGATE_DB` (the same), else `<data dir>/exportgate/exportgate.sqlite`.
pub fn db_path(db: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let url = match db.as_deref().map(|p| p.to_str()) {
        // A path that is not UTF-8 is an SQLite file.
        Some(None) => return Ok(db.unwrap_or_default()),
        Some(Some(text)) => crate::db::DbUrl::resolve(Some(text))?,
        None => crate::db::DbUrl::resolve(None)?,
    };
    match url {
        Some(crate::db::DbUrl::Postgres(u)) => Ok(PathBuf::from(u)),
        Some(crate::db::DbUrl::Sqlite(p)) => Ok(p),
        None => Err(user(
            "cannot find a data directory for the list database\n\nhint: pass --db PATH or set EXPORTGATE_DB",
        )),
    }
}

/// How the database is shown (a PostgreSQL URL without its password).
fn shown(db: &Path) -> String {
    exportgate_lists::ListsDb::from(db).to_string()
}

/// Creates the directory holding the database, for commands that write it (an SQLite file).
fn ensure_parent(db: &Path) -> anyhow::Result<()> {
    if exportgate_lists::ListsDb::from(db).is_postgres() {
        return Ok(());
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        exportgate_store::sqlite::create_private_dir(dir).map_err(|e| {
            user(format!(
                "cannot create the directory `{}` for the list database: {e}",
                dir.display()
            ))
        })?;
    }
    Ok(())
}

fn lists_error(e: exportgate_lists::ListsError) -> anyhow::Error {
    use exportgate_lists::ListsError as E;
    match e {
        E::Io { .. } | E::Parse(_) | E::Undetected(_) | E::UnknownSource(_) | E::Refused { .. } => {
            user(e.to_string())
        }
        other => anyhow::Error::new(other),
    }
}

fn describe(v: &ListVersion) -> String {
    format!(
        "{} ({}): {} entries, data date {}, imported {}, sha256 {}",
        v.source,
        v.format.name(),
        v.entry_count,
        v.data_date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "unknown".into()),
        v.imported_on,
        v.sha256
    )
}

pub fn import(
    db: Option<PathBuf>,
    path: &Path,
    source: Option<&str>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let db = db_path(db)?;
    ensure_parent(&db)?;
    let report =
        exportgate_lists::import_with(&db, path, source, today(), force).map_err(lists_error)?;
    if report.changed {
        outln!("imported {}", describe(&report.version))?;
    } else {
        outln!(
            "unchanged: the file is identical to the version in force, {}",
            describe(&report.version)
        )?;
    }
    outln!("database: {}", shown(&db))?;
    Ok(ExitCode::SUCCESS)
}

/// `--source NAME --url URL` pairs; a known source name keeps its format (and, for OFAC sets,
/// takes the address and alias files from beside the given URL).
fn sources(names: &[String], urls: &[String]) -> anyhow::Result<Vec<UpdateSource>> {
    if names.is_empty() && urls.is_empty() {
        return Ok(exportgate_lists::default_sources());
    }
    if names.len() != urls.len() {
        return Err(user(format!(
            "{} --source and {} --url given\n\nhint: give them in pairs: --source NAME --url URL",
            names.len(),
            urls.len()
        )));
    }
    let defaults = exportgate_lists::default_sources();
    names
        .iter()
        .zip(urls)
        .map(|(name, url)| {
            let sibling = |official: &Option<String>| {
                official.as_ref().map(|o| {
                    let file = o.rsplit('/').next().unwrap_or(o);
                    match url.rsplit_once('/') {
                        Some((dir, _)) => format!("{dir}/{file}"),
                        None => file.to_string(),
                    }
                })
            };
            if let Some(d) = defaults.iter().find(|d| d.source == *name) {
                return Ok(UpdateSource {
                    source: d.source.clone(),
                    format: d.format,
                    url: url.clone(),
                    add_url: sibling(&d.add_url),
                    alt_url: sibling(&d.alt_url),
                });
            }
            let format = exportgate_screen::Format::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = defaults.iter().map(|d| d.source.as_str()).collect();
                user(format!(
                    "unknown list source `{name}`\n\nhint: use one of: {}",
                    known.join(", ")
                ))
            })?;
            Ok(UpdateSource {
                source: name.clone(),
                format,
                url: url.clone(),
                add_url: None,
                alt_url: None,
            })
        })
        .collect()
}

pub fn update(db: Option<PathBuf>, names: &[String], urls: &[String]) -> anyhow::Result<ExitCode> {
    let srcs = sources(names, urls)?;
    let db = db_path(db)?;
    ensure_parent(&db)?;
    let outcomes = exportgate_lists::update(&db, &srcs, today()).map_err(lists_error)?;
    let mut failed = 0;
    for o in &outcomes {
        match o {
            UpdateOutcome::Updated { version } => outln!("updated {}", describe(version))?,
            UpdateOutcome::Unchanged { version } => outln!("unchanged {}", describe(version))?,
            UpdateOutcome::Failed {
                source,
                url,
                error,
                kept,
            } => {
                failed += 1;
                eprintln!("error: {source}: {error} ({url})");
                match kept {
                    Some(v) => eprintln!("  the previous version stays in force: {}", describe(v)),
                    None => eprintln!("  no version of `{source}` is stored yet"),
                }
            }
        }
    }
    if failed > 0 {
        return Err(user(format!(
            "{failed} of {} sources failed to update; the lists in force for them are unchanged",
            outcomes.len()
        )));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn status(db: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let db = db_path(db)?;
    if !exportgate_lists::ListsDb::from(db.as_path()).exists() {
        outln!("no lists imported ({} does not exist)", db.display())?;
        outln!("hint: run `exportgate lists import PATH` or `exportgate lists update`")?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows = exportgate_lists::status(&db).map_err(lists_error)?;
    outln!("database: {}", shown(&db))?;
    if rows.is_empty() {
        outln!("no lists imported")?;
        outln!("hint: run `exportgate lists import PATH` or `exportgate lists update`")?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{:<10} {:<18} {:<10} {:<10} {:>8}  {:<9} {:<64}  origin",
        "source",
        "format",
        "data date",
        "imported",
        "entries",
        "in force",
        "sha256"
    )?;
    for r in &rows {
        let v = &r.version;
        outln!(
            "{:<10} {:<18} {:<10} {:<10} {:>8}  {:<9} {:<64}  {}",
            v.source,
            v.format.name(),
            v.data_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "unknown".into()),
            v.imported_on.to_string(),
            v.entry_count,
            if r.in_force { "yes" } else { "no" },
            v.sha256,
            r.origin
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
