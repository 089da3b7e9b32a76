//! `exportgate serve` (the HTTP API, review workflow and web page of `exportgate-server`) and
//! `exportgate keys` (API keys, stored hashed in the server's database).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use exportgate_server::auth::Role;

use crate::user;

/// The database from `--db` (`sqlite://PATH`, a path, or a `postgres://` URL, which is
/// passed on as a path), else `$EXPORTGATE_DB` (the same forms), else the SQLite file in the
/// user's data directory.
pub fn db_path(db: Option<&str>) -> anyhow::Result<PathBuf> {
    match db {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(PathBuf::from(url))
        }
        Some(url) => {
            let p = url.strip_prefix("sqlite://").unwrap_or(url);
            if p.is_empty() {
                return Err(user("give a file path after `sqlite://`"));
            }
            Ok(PathBuf::from(p))
        }
        // `$EXPORTGATE_DB` as every other command reads it: a PostgreSQL URL there is that
        // database, not the default SQLite file.
        None => match crate::db::DbUrl::resolve(None)? {
            Some(crate::db::DbUrl::Sqlite(p)) => Ok(p),
            Some(crate::db::DbUrl::Postgres(url)) => Ok(PathBuf::from(url)),
            None => Err(user("no data directory; give `--db sqlite://PATH`")),
        },
    }
}

/// What `exportgate serve` was asked for, as parsed from its flags.
pub struct ServeOptions<'a> {
    pub addr: SocketAddr,
    pub db: Option<&'a str>,
    pub lists: Vec<PathBuf>,
    pub screened_externally: bool,
    pub max_list_age_days: u32,
    pub limits: exportgate_server::ServeLimits,
    pub replay_every: Option<u64>,
    pub policy: Option<PathBuf>,
}

/// Run the server until interrupted.
pub fn serve(options: ServeOptions<'_>) -> anyhow::Result<ExitCode> {
    let ServeOptions {
        addr,
        db,
        lists,
        screened_externally,
        max_list_age_days,
        limits,
        replay_every,
        policy,
    } = options;
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
    exportgate_server::serve_with_replay(
        config,
        workers,
        limits,
        replay_every.map(std::time::Duration::from_secs),
    )
    .map_err(|e| user(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

fn open(db: &Path) -> anyhow::Result<exportgate_server::db::ServerDb> {
    let postgres = exportgate_server::db::is_postgres(db);
    if !postgres {
        if let Some(dir) = db.parent() {
            if !dir.as_os_str().is_empty() {
                exportgate_store::sqlite::create_private_dir(dir)?;
            }
        }
    }
    let shown = exportgate_store::redact(&db.to_string_lossy());
    exportgate_server::db::ServerDb::open(db)
        .map_err(|e| anyhow::anyhow!("database `{shown}`: {e}"))
}

/// `exportgate keys create`: print the new key once.
pub fn keys_create(
    db: Option<&str>,
    role: &str,
    name: &str,
    expires: Option<chrono::NaiveDate>,
) -> anyhow::Result<ExitCode> {
    let role = Role::parse(role).ok_or_else(|| {
        user(format!(
            "unknown role `{role}`; use submitter, reviewer or admin"
        ))
    })?;
    let name = exportgate_server::ledger_api::key_name(name)
        .map_err(|e| user(format!("--name: {}", e.message)))?;
    let expires = expires
        .map(|d| exportgate_server::db::key_expiry(d, chrono::Utc::now()))
        .transpose()
        .map_err(|e| user(format!("--expires: {e}")))?;
    let conn = open(&db_path(db)?)?;
    let (record, key) =
        exportgate_server::db::create_key_expiring(&conn, &name, role, expires).map_err(user)?;
    eprintln!(
        "created {} key `{}` for {} (user {} `{}`; shown once, only its hash is stored)",
        record.role.as_str(),
        record.id,
        record.name,
        record.user_id,
        record.user
    );
    outln!("{key}")?;
    Ok(ExitCode::SUCCESS)
}

/// `exportgate keys list`.
pub fn keys_list(db: Option<&str>) -> anyhow::Result<ExitCode> {
    let conn = open(&db_path(db)?)?;
    let keys = exportgate_server::db::list_keys(&conn)?;
    let now = chrono::Utc::now();
    outln!(
        "{:<14} {:<10} {:<26} {:<10} {:<26} {:<6} NAME",
        "ID",
        "ROLE",
        "CREATED",
        "STATE",
        "EXPIRES",
        "USER"
    )?;
    for k in keys {
        outln!(
            "{:<14} {:<10} {:<26} {:<10} {:<26} {:<6} {}",
            k.id,
            k.role.as_str(),
            k.created_at.chars().take(25).collect::<String>(),
            if k.revoked_at.is_some() {
                "revoked"
            } else if k.expired(now) {
                "expired"
            } else {
                "active"
            },
            k.expires_at
                .as_deref()
                .map_or_else(|| "-".to_string(), |t| t.chars().take(25).collect()),
            k.user_id,
            k.name
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `exportgate keys revoke ID`: an unknown or already revoked id is the user's error (exit 2).
pub fn keys_revoke(db: Option<&str>, id: &str) -> anyhow::Result<ExitCode> {
    let conn = open(&db_path(db)?)?;
    if !exportgate_server::db::revoke_key(&conn, id)? {
        return Err(user(format!(
            "no active key `{id}`; see `exportgate keys list`"
        )));
    }
    eprintln!("revoked key `{id}`: every server refuses it within a second");
    Ok(ExitCode::SUCCESS)
}
