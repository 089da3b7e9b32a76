//! exportgate-lists: the I/O edge for restricted-party lists.
//!
//! Imports list files (format detected, or named with `--source`), keeps every imported
//! version in the database — an SQLite file or PostgreSQL, through the same functions
//! ([`db::ListsDb`]) — (source, data date, import date, entry count, SHA-256, entries), reports
//! `status`, downloads official files in `update`, and builds the in-memory
//! [`Screener`](exportgate_screen::Screener) from the versions in force.
//!
//! Invariants:
//! * an import is one transaction: a file that fails to read or parse leaves the lists in
//!   force unchanged;
//! * a failed download or parse in `update` keeps the previous version in force, and the
//!   outcome says so;
//! * the import date is always given by the caller; this crate never reads the clock;
//! * an import never goes backwards or shrinks sharply without `force` (issue 15 item 1): a
//!   file whose data date is older than the version in force for its source (or undated when
//!   that version is dated), that holds fewer entries than its own header declares, or more
//!   than [`MAX_SHRINK`] fewer than the version in force, is refused with the reason, and the
//!   lists in force are unchanged. `update` refuses such downloads too, keeping the previous
//!   version in force.

pub mod db;
pub mod source;

pub use db::ListsDb;
use db::{Conn, NewVersion};

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use exportgate_screen::parse::{self, parse_ofac_set, OfacFiles};
use exportgate_screen::{Format, ListEntry, ListVersion, ParseError, ParsedList, Screener};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Errors of the list store.
#[derive(Debug, thiserror::Error)]
pub enum ListsError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A list file is malformed (nothing was imported).
    #[error("{0}; the lists in force are unchanged")]
    Parse(#[from] ParseError),
    /// The format of a file could not be recognised.
    #[error("cannot tell the list format of `{0}`\n\nhint: name it with --source (one of: {formats})", formats = format_names())]
    Undetected(String),
    /// An unknown `--source` name.
    #[error("unknown list source `{0}`\n\nhint: use one of: {formats}", formats = format_names())]
    UnknownSource(String),
    /// The import would go backwards or shrink sharply; nothing was imported.
    #[error("refusing to import `{origin}` as list `{list}`: {reason}; the lists in force are unchanged\n\nhint: if this file is really meant to replace the version in force, import it with --force")]
    Refused {
        /// Path or URL of the file.
        origin: String,
        /// The list source.
        list: String,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error("list database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The PostgreSQL database failed.
    #[error("list database: {0}")]
    Postgres(#[from] postgres::Error),
    /// The database's schema could not be brought up to date (or is newer than this build).
    #[error("list database: {0}")]
    Schema(String),
    /// A stored entry could not be decoded.
    #[error("list database: stored entry {seq} of version {version} is unreadable: {message}")]
    Corrupt {
        /// Version id.
        version: i64,
        /// Entry sequence number.
        seq: i64,
        /// What is wrong.
        message: String,
    },
}

fn format_names() -> String {
    Format::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The largest share of entries a new version may lose against the version in force for its
/// source without `force`: 20 %.
pub const MAX_SHRINK: f64 = 0.20;

/// The entry count a file's header declares, where the format has one (the CSL JSON
/// `entryCount`).
fn declared_count(format: Format, bytes: &[u8]) -> Option<usize> {
    #[derive(Deserialize)]
    struct Header {
        #[serde(rename = "entryCount")]
        entry_count: Option<u64>,
    }
    match format {
        Format::CslJson | Format::CslCompactJson | Format::OtherCountriesJson => {
            serde_json::from_slice::<Header>(bytes)
                .ok()?
                .entry_count
                .and_then(|n| usize::try_from(n).ok())
        }
        _ => None,
    }
}

/// Why a new version must not replace the version in force without `force`, if it must not.
fn refusal(
    current: Option<&ListVersion>,
    parsed: &ParsedList,
    declared: Option<usize>,
) -> Option<String> {
    let n = parsed.entries.len();
    if let Some(d) = declared.filter(|d| n < *d) {
        return Some(format!(
            "the file holds {n} entries but its header declares {d}: it looks truncated"
        ));
    }
    let cur = current?;
    match (parsed.data_date, cur.data_date) {
        (Some(new), Some(old)) if new < old => {
            return Some(format!(
                "its data date {new} is older than {old}, the data date of the version in force \
                 (an import must not go backwards)"
            ))
        }
        (None, Some(old)) => {
            return Some(format!(
                "the file states no data date, and the version in force is dated {old}: it \
                 cannot be shown not to go backwards"
            ))
        }
        _ => {}
    }
    let floor = cur.entry_count as f64 * (1.0 - MAX_SHRINK);
    if (n as f64) < floor {
        let drop = 100.0 * (1.0 - n as f64 / cur.entry_count as f64);
        return Some(format!(
            "it holds {n} entries, {drop:.1} % fewer than the {} of the version in force (more \
             than {:.0} % fewer)",
            cur.entry_count,
            MAX_SHRINK * 100.0
        ));
    }
    None
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The version now in force for the source.
    pub version: ListVersion,
    /// False when the file was identical (same checksum) to the version in force, which
    /// stays in force.
    pub changed: bool,
}

/// One file to fetch in `update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateSource {
    /// Source name stored with the version (e.g. `csl`, `un`, `ofac-sdn`).
    pub source: String,
    /// Format of the file.
    pub format: Format,
    /// URL of the (primary) file.
    pub url: String,
    /// For OFAC sets: URLs of the address and alias files.
    pub add_url: Option<String>,
    /// See `add_url`.
    pub alt_url: Option<String>,
}

/// The official download locations. Pass others (a mirror, a test server) to [`update`].
pub fn default_sources() -> Vec<UpdateSource> {
    let ofac = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports";
    vec![
        UpdateSource {
            source: "csl".into(),
            format: Format::CslJson,
            url: "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json".into(),
            add_url: None,
            alt_url: None,
        },
        UpdateSource {
            source: "un".into(),
            format: Format::UnXml,
            url: "https://scsanctions.un.org/resources/xml/en/consolidated.xml".into(),
            add_url: None,
            alt_url: None,
        },
        UpdateSource {
            source: "ofac-sdn".into(),
            format: Format::OfacSdn,
            url: format!("{ofac}/SDN.CSV"),
            add_url: Some(format!("{ofac}/ADD.CSV")),
            alt_url: Some(format!("{ofac}/ALT.CSV")),
        },
        UpdateSource {
            source: "ofac-cons".into(),
            format: Format::OfacCons,
            url: format!("{ofac}/CONS_PRIM.CSV"),
            add_url: Some(format!("{ofac}/CONS_ADD.CSV")),
            alt_url: Some(format!("{ofac}/CONS_ALT.CSV")),
        },
    ]
}

/// The outcome of updating one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UpdateOutcome {
    /// A new version was stored and is in force.
    Updated {
        /// The new version.
        version: ListVersion,
    },
    /// The file was identical to the version in force.
    Unchanged {
        /// The version in force.
        version: ListVersion,
    },
    /// Download or parse failed; the previous version (if any) stays in force.
    Failed {
        /// Source name.
        source: String,
        /// URL tried.
        url: String,
        /// What went wrong.
        error: String,
        /// The version still in force, if there is one.
        kept: Option<ListVersion>,
    },
}

/// One stored version and whether it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionStatus {
    /// The version.
    pub version: ListVersion,
    /// Where it came from (path or URL).
    pub origin: String,
    /// True for the latest version of its source.
    pub in_force: bool,
}

fn read(path: &Path) -> Result<Vec<u8>, ListsError> {
    std::fs::read(path).map_err(|source| ListsError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// The stored source name for a parsed list.
fn source_name(format: Format, parsed: &ParsedList) -> String {
    match format {
        Format::CslJson | Format::CslCsv | Format::CslCompactJson => "csl".into(),
        Format::OfacSdn => "ofac-sdn".into(),
        Format::OfacCons => "ofac-cons".into(),
        Format::UnXml => "un".into(),
        Format::BisDpl => "dpl".into(),
        Format::FtmJson => "opensanctions".into(),
        Format::OtherCountriesJson => {
            let first = parsed
                .entries
                .first()
                .map(|e| e.list.as_str())
                .unwrap_or("other");
            first
                .split('-')
                .next()
                .unwrap_or("other")
                .to_ascii_lowercase()
        }
    }
}

/// OFAC sibling files: `sdn.csv` has `add.csv` and `alt.csv`; `cons_prim.csv` has
/// `cons_add.csv` and `cons_alt.csv` (any case).
fn ofac_siblings(path: &Path, format: Format) -> (Option<PathBuf>, Option<PathBuf>) {
    let dir = path.parent().unwrap_or(Path::new("."));
    let (add, alt) = match format {
        Format::OfacCons => ("cons_add.csv", "cons_alt.csv"),
        _ => ("add.csv", "alt.csv"),
    };
    let find = |name: &str| -> Option<PathBuf> {
        for cand in [name.to_string(), name.to_ascii_uppercase()] {
            let p = dir.join(&cand);
            if p.is_file() {
                return Some(p);
            }
        }
        None
    };
    (find(add), find(alt))
}

/// Imports a list file into the database at `db_path` as a new version, dated `today`.
/// `source` names the format (see [`Format::from_name`]); without it the format is
/// detected. For OFAC files, `add.csv`/`alt.csv` (or `cons_add.csv`/`cons_alt.csv`) beside
/// the primary file are joined in. A file identical to the version in force is not stored
/// again.
pub fn import(
    db: impl Into<ListsDb>,
    path: &Path,
    source: Option<&str>,
    today: NaiveDate,
) -> Result<ImportReport, ListsError> {
    import_with(db, path, source, today, false)
}

/// [`import`], with `force`: import even a file that goes backwards or shrinks sharply
/// ([`ListsError::Refused`] without it).
pub fn import_with(
    db: impl Into<ListsDb>,
    path: &Path,
    source: Option<&str>,
    today: NaiveDate,
    force: bool,
) -> Result<ImportReport, ListsError> {
    let bytes = read(path)?;
    let label = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let format = match source {
        Some(s) => Format::from_name(s).ok_or_else(|| ListsError::UnknownSource(s.to_string()))?,
        None => parse::detect(&bytes, &label)
            .ok_or_else(|| ListsError::Undetected(path.display().to_string()))?,
    };
    let (parsed, checksum) = if matches!(format, Format::OfacSdn | Format::OfacCons) {
        let (add_p, alt_p) = ofac_siblings(path, format);
        let add = add_p.as_deref().map(read).transpose()?;
        let alt = alt_p.as_deref().map(read).transpose()?;
        let name = |p: &Option<PathBuf>| {
            p.as_ref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let (add_name, alt_name) = (name(&add_p), name(&alt_p));
        let files = OfacFiles {
            primary: (&label, &bytes),
            add: add.as_deref().map(|b| (add_name.as_str(), b)),
            alt: alt.as_deref().map(|b| (alt_name.as_str(), b)),
        };
        let parsed = parse_ofac_set(&files, format)?;
        let sum = sha256_hex(&[
            &bytes,
            add.as_deref().unwrap_or(&[]),
            alt.as_deref().unwrap_or(&[]),
        ]);
        (parsed, sum)
    } else {
        (parse::parse(&bytes, &label, format)?, sha256_hex(&[&bytes]))
    };
    let source_name = source_name(format, &parsed);
    let declared = declared_count(format, &bytes);
    let mut conn = Conn::open(&db.into())?;
    store(
        &mut conn,
        &source_name,
        parsed,
        checksum,
        today,
        &path.display().to_string(),
        Guard { declared, force },
    )
}

/// What an import is checked against before it replaces the version in force.
struct Guard {
    /// The entry count the file's header declares.
    declared: Option<usize>,
    /// Import even if it goes backwards or shrinks sharply.
    force: bool,
}

fn store(
    conn: &mut Conn,
    source: &str,
    parsed: ParsedList,
    sha256: String,
    today: NaiveDate,
    origin: &str,
    guard: Guard,
) -> Result<ImportReport, ListsError> {
    let stored = conn.store(
        source,
        |current| {
            if let Some(current) = current.filter(|c| c.sha256 == sha256) {
                return Ok(Some(current.clone()));
            }
            if !guard.force {
                if let Some(reason) = refusal(current, &parsed, guard.declared) {
                    return Err(ListsError::Refused {
                        origin: origin.to_string(),
                        list: source.to_string(),
                        reason,
                    });
                }
            }
            Ok(None)
        },
        || {
            let entries = parsed
                .entries
                .iter()
                .enumerate()
                .map(|(seq, e)| {
                    serde_json::to_string(e).map_err(|err| ListsError::Corrupt {
                        version: 0,
                        seq: seq as i64,
                        message: err.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(NewVersion {
                source,
                format: parsed.format,
                data_date: parsed.data_date,
                imported_on: today,
                sha256: &sha256,
                origin,
                entries,
            })
        },
    )?;
    match stored {
        Err(kept) => Ok(ImportReport {
            version: kept,
            changed: false,
        }),
        Ok(id) => Ok(ImportReport {
            version: ListVersion {
                id,
                source: source.to_string(),
                format: parsed.format,
                data_date: parsed.data_date,
                imported_on: today,
                entry_count: parsed.entries.len(),
                sha256,
            },
            changed: true,
        }),
    }
}

/// All stored versions, oldest first, each marked in force or not.
pub fn status(db: impl Into<ListsDb>) -> Result<Vec<VersionStatus>, ListsError> {
    let mut conn = Conn::open(&db.into())?;
    let rows = conn.versions()?;
    let mut latest: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for (v, _) in &rows {
        let e = latest.entry(v.source.as_str()).or_insert(v.id);
        *e = (*e).max(v.id);
    }
    let latest: std::collections::HashMap<String, i64> = latest
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Ok(rows
        .into_iter()
        .map(|(version, origin)| VersionStatus {
            in_force: latest.get(&version.source) == Some(&version.id),
            version,
            origin,
        })
        .collect())
}

/// The versions in force, one per source.
pub fn versions_in_force(db: impl Into<ListsDb>) -> Result<Vec<ListVersion>, ListsError> {
    Ok(status(db)?
        .into_iter()
        .filter(|s| s.in_force)
        .map(|s| s.version)
        .collect())
}

/// Builds the screening index from the versions in force. The screener records the versions
/// used ([`Screener::list_versions`]).
pub fn load_screener(db: impl Into<ListsDb>) -> Result<Screener, ListsError> {
    load_from(&mut Conn::open(&db.into())?)
}

/// [`load_screener`] on an open connection.
pub(crate) fn load_from(conn: &mut Conn) -> Result<Screener, ListsError> {
    let mut latest: std::collections::BTreeMap<String, ListVersion> =
        std::collections::BTreeMap::new();
    for (v, _) in conn.versions()? {
        latest.insert(v.source.clone(), v);
    }
    // In the order they were imported, as before.
    let mut versions: Vec<ListVersion> = latest.into_values().collect();
    versions.sort_by_key(|v| v.id);
    let mut entries: Vec<ListEntry> = Vec::new();
    for v in &versions {
        for (seq, json) in conn.entries(v.id)? {
            let e: ListEntry = serde_json::from_str(&json).map_err(|err| ListsError::Corrupt {
                version: v.id,
                seq,
                message: err.to_string(),
            })?;
            entries.push(e);
        }
    }
    Ok(Screener::new(entries, versions))
}

fn download(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    let resp = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, _) => format!("HTTP status {code}"),
        other => other.to_string(),
    })?;
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader().take(512 * 1024 * 1024), &mut body)
        .map_err(|e| e.to_string())?;
    Ok(body)
}

use std::io::Read as _;

/// Primary, address and alias file bodies.
type Fetched = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

/// Downloads each source and stores it as a new version dated `today`. A failed download or
/// parse leaves the previous version in force and is reported as [`UpdateOutcome::Failed`];
/// the other sources are still updated.
pub fn update(
    db: impl Into<ListsDb>,
    sources: &[UpdateSource],
    today: NaiveDate,
) -> Result<Vec<UpdateOutcome>, ListsError> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(20))
        .timeout(Duration::from_secs(300))
        .build();
    let mut conn = Conn::open(&db.into())?;
    let mut out = Vec::with_capacity(sources.len());
    for src in sources {
        let fail = |conn: &mut Conn, error: String| -> Result<UpdateOutcome, ListsError> {
            Ok(UpdateOutcome::Failed {
                source: src.source.clone(),
                url: src.url.clone(),
                error,
                kept: conn.in_force(&src.source)?,
            })
        };
        let fetched = (|| -> Result<Fetched, String> {
            let primary = download(&agent, &src.url)
                .map_err(|e| format!("download of `{}` failed: {e}", src.url))?;
            let get = |u: &Option<String>| -> Result<Option<Vec<u8>>, String> {
                u.as_deref()
                    .map(|u| {
                        download(&agent, u).map_err(|e| format!("download of `{u}` failed: {e}"))
                    })
                    .transpose()
            };
            Ok((primary, get(&src.add_url)?, get(&src.alt_url)?))
        })();
        let (primary, add, alt) = match fetched {
            Ok(x) => x,
            Err(e) => {
                out.push(fail(&mut conn, e)?);
                continue;
            }
        };
        let label = src.url.rsplit('/').next().unwrap_or(&src.url).to_string();
        let parsed = if matches!(src.format, Format::OfacSdn | Format::OfacCons) {
            parse_ofac_set(
                &OfacFiles {
                    primary: (&label, &primary),
                    add: add.as_deref().map(|b| ("add", b)),
                    alt: alt.as_deref().map(|b| ("alt", b)),
                },
                src.format,
            )
        } else {
            parse::parse(&primary, &label, src.format)
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                out.push(fail(&mut conn, e.to_string())?);
                continue;
            }
        };
        let sum = sha256_hex(&[
            &primary,
            add.as_deref().unwrap_or(&[]),
            alt.as_deref().unwrap_or(&[]),
        ]);
        let guard = Guard {
            declared: declared_count(src.format, &primary),
            force: false,
        };
        let report = match store(&mut conn, &src.source, parsed, sum, today, &src.url, guard) {
            Ok(r) => r,
            Err(ListsError::Refused { reason, .. }) => {
                out.push(fail(&mut conn, format!("refused: {reason}"))?);
                continue;
            }
            Err(e) => return Err(e),
        };
        out.push(if report.changed {
            UpdateOutcome::Updated {
                version: report.version,
            }
        } else {
            UpdateOutcome::Unchanged {
                version: report.version,
            }
        });
    }
    Ok(out)
}
