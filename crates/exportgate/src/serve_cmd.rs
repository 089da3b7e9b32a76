//! `exportgate serve` (the HTTP API, review workflow and web page of `exportgate-server`) and
//! `exportgate keys` (API keys, stored hashed in the server's database).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use exportgate_server::auth::Role;

use crate::user;

/// The database file from `--db` (`sqlite://PATH` or a path), else the default database.
pub fn db_path(db: Option<&str>) -> anyhow::Result<PathBuf> {
    match db {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Err(user(
                "the server keeps keys and cases in SQLite only for now; give `--db sqlite://PATH`",
            ))
        }
        Some(url) => {
            let p = url.strip_prefix("sqlite://").unwrap_or(url);
            if p.is_empty() {
                return Err(user("give a file path after `sqlite://`"));
            }
            Ok(PathBuf::from(p))
        }
        None => {
            crate::default_db().ok_or_else(|| user("no data directory; give `--db sqlite://PATH`"))
        }
    }
}

/// Run the server until interrupted.
pub fn serve(
    addr: SocketAddr,
    db: Option<&str>,
    lists: Vec<PathBuf>,
    screened_externally: bool,
    max_list_age_days: u32,
    limits: exportgate_server::ServeLimits,
    policy: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let config = exportgate_server::Config {
        addr,
        db: db_path(db)?,
        lists,
        screened_externally,
        max_list_age_days,
        policy,
    };
    exportgate_server::init_tracing();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    exportgate_server::serve_with(config, workers, limits).map_err(|e| user(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

fn open(db: &Path) -> anyhow::Result<rusqlite::Connection> {
    if let Some(dir) = db.parent() {
        if !dir.as_os_str().is_empty() {
            exportgate_store::sqlite::create_private_dir(dir)?;
        }
    }
    exportgate_server::db::open(db).map_err(|e| user(format!("database `{}`: {e}", db.display())))
}

/// `exportgate keys create`: print the new key once.
pub fn keys_create(db: Option<&str>, role: &str, name: &str) -> anyhow::Result<ExitCode> {
    let role = Role::parse(role).ok_or_else(|| {
        user(format!(
            "unknown role `{role}`; use submitter, reviewer or admin"
        ))
    })?;
    let name = exportgate_server::ledger_api::key_name(name)
        .map_err(|e| user(format!("--name: {}", e.message)))?;
    let conn = open(&db_path(db)?)?;
    let (record, key) = exportgate_server::db::create_key(&conn, &name, role).map_err(user)?;
    eprintln!(
        "created {} key `{}` for {} (user {} `{}`; shown once, only its hash is stored)",
        record.role.as_str(),
        record.id,
        record.name,
        record.user_id,
        record.user
    );
    println!("{key}");
    Ok(ExitCode::SUCCESS)
}

/// `exportgate keys list`.
pub fn keys_list(db: Option<&str>) -> anyhow::Result<ExitCode> {
    let conn = open(&db_path(db)?)?;
    let keys = exportgate_server::db::list_keys(&conn)?;
    println!(
        "{:<14} {:<10} {:<26} {:<10} {:<6} NAME",
        "ID", "ROLE", "CREATED", "STATE", "USER"
    );
    for k in keys {
        println!(
            "{:<14} {:<10} {:<26} {:<10} {:<6} {}",
            k.id,
            k.role.as_str(),
            k.created_at.chars().take(25).collect::<String>(),
            if k.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            },
            k.user_id,
            k.name
        );
    }
    Ok(ExitCode::SUCCESS)
}
