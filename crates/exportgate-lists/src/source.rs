//! Where a run of decisions gets its screening from: list files, the lists imported into a
//! database, or nothing (then every decision says the parties were not screened). Results are
//! cached by party name and country for the run: order books repeat customers. A source
//! loaded from a database can be reloaded while in use ([`ScreeningSource::refresh`]): the
//! lists are one generation, replaced whole, and each decision reads one generation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use exportgate_core::order::Party as OrderParty;
use exportgate_core::{ListHit, Order, Screening, StaleLists};
use exportgate_screen::{AllowList, ListVersion, Party, Screener};
use sha2::{Digest, Sha256};

use crate::db::{Conn, ListsDb};
use crate::ListsError;

/// A party that could not be screened: the order field at fault (`consignee.name`,
/// `end_user.name`) and why. Displayed as `field: problem`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ScreenError {
    pub field: String,
    pub problem: String,
}

/// A problem building a screening source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read list `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("list `{path}`: format not recognised")]
    Format { path: String },
    #[error("list `{path}`: {message}")]
    Parse { path: String, message: String },
    #[error("lists in `{path}`: {source}")]
    Database { path: String, source: ListsError },
}

/// Screening results of the run, by party name, then country (and date while the allow-list
/// has clearances, since they expire). Keyed by the name alone so a lookup borrows it.
type HitCache = RwLock<HashMap<String, Vec<CachedHits>>>;

/// The hits of one name for one country (and date).
type CachedHits = (
    Option<String>,
    Option<chrono::NaiveDate>,
    Vec<exportgate_screen::Hit>,
);

/// Where today's date comes from, for the age of the lists (the caller's clock: this crate
/// never reads one).
pub type Clock = Box<dyn Fn() -> chrono::NaiveDate + Send + Sync>;

/// One generation of the lists: the screener built from them, how decisions name them, and
/// the hits cached against them. A long-running server replaces it whole when the lists in
/// its database change ([`ScreeningSource::refresh`]); a decision reads one generation.
struct Loaded {
    screener: Option<Screener>,
    /// The generation: 0 when opened, one more at each reload.
    generation: u64,
    /// The newest version id per source the screener was built from (database lists only).
    ids: Vec<(String, i64)>,
    /// How decisions name the lists, and their inputs. Leaked (a few short strings per
    /// reload) so that a decision's `Screening` may borrow them while a reload replaces the
    /// generation.
    lists: &'static [String],
    inputs: &'static [exportgate_core::ListInput],
    cache: HitCache,
}

impl Loaded {
    fn new(screener: Option<Screener>, generation: u64) -> Loaded {
        let (lists, inputs, ids) = match &screener {
            Some(s) => {
                let mut ids: Vec<(String, i64)> = s
                    .list_versions()
                    .iter()
                    .map(|v| (v.source.clone(), v.id))
                    .collect();
                ids.sort();
                (
                    s.list_versions().iter().map(describe).collect(),
                    s.list_versions()
                        .iter()
                        .map(|v| exportgate_core::ListInput {
                            source: v.source.clone(),
                            version: v.id,
                            data_date: v.data_date,
                            entries: v.entry_count,
                            sha256: v.sha256.clone(),
                        })
                        .collect(),
                    ids,
                )
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        Loaded {
            screener,
            generation,
            ids,
            lists: Vec::leak(lists),
            inputs: Vec::leak(inputs),
            cache: RwLock::new(HashMap::new()),
        }
    }
}

/// Which generation of the lists a decision was screened against, and their inputs.
#[derive(Debug, Clone, Copy)]
pub struct ListsStamp {
    /// The generation (see [`ScreeningSource::generation`]).
    pub generation: u64,
    /// The lists' versions and digests, for the decision's inputs.
    pub inputs: &'static [exportgate_core::ListInput],
}

/// The screener of the generation in force, borrowed for as long as the caller holds it.
pub struct ScreenerRef(Arc<Loaded>);

impl std::ops::Deref for ScreenerRef {
    type Target = Screener;
    fn deref(&self) -> &Screener {
        // Built only for a generation that has a screener.
        self.0
            .screener
            .as_ref()
            .unwrap_or_else(|| unreachable!("a ScreenerRef is made only over a screener"))
    }
}

/// The screener for a run, if any, with the lists it was built from.
pub struct ScreeningSource {
    loaded: RwLock<Arc<Loaded>>,
    external: bool,
    allow: RwLock<AllowList>,
    /// Fail closed on lists older than this many days, by this clock.
    max_age: Option<(u32, Clock)>,
    /// The database the lists were loaded from (none: files, or no lists): what
    /// [`ScreeningSource::refresh`] re-reads.
    db: Option<ListsDb>,
}

/// A connection that watches the lists in a database for a new version (see
/// [`ScreeningSource::refresh`]); reconnects after a failure.
pub struct ListsWatch {
    db: ListsDb,
    conn: Option<Conn>,
}

impl ListsWatch {
    /// Watches `db` (connecting at the first round).
    pub fn new(db: impl Into<ListsDb>) -> ListsWatch {
        ListsWatch {
            db: db.into(),
            conn: None,
        }
    }

    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Conn) -> Result<T, ListsError>,
    ) -> Result<T, ListsError> {
        if self.conn.is_none() {
            self.conn = Some(Conn::open(&self.db)?);
        }
        let conn = self
            .conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("just opened"));
        let r = f(conn);
        if r.is_err() {
            self.conn = None;
        }
        r
    }
}

impl ScreeningSource {
    /// The screener itself (none when the parties are screened externally or no list was
    /// loaded), for a door that screens names rather than orders.
    pub fn into_screener(self) -> Option<Screener> {
        let loaded = self.loaded.into_inner().unwrap_or_else(|e| e.into_inner());
        Arc::try_unwrap(loaded).ok().and_then(|l| l.screener)
    }

    /// Build from list files if any are given, else from the lists imported into the database
    /// `db` (an SQLite file, when it exists, or a `postgres://` URL given as a path), else
    /// none. With `external`, nothing is screened and decisions record that the caller
    /// screened the parties.
    pub fn open(
        list_files: &[PathBuf],
        db: Option<&Path>,
        external: bool,
        today: chrono::NaiveDate,
    ) -> Result<ScreeningSource, SourceError> {
        Self::open_db(list_files, db.map(ListsDb::from).as_ref(), external, today)
    }

    /// [`ScreeningSource::open`] over a [`ListsDb`].
    pub fn open_db(
        list_files: &[PathBuf],
        db: Option<&ListsDb>,
        external: bool,
        today: chrono::NaiveDate,
    ) -> Result<ScreeningSource, SourceError> {
        let mut from_db = None;
        let screener = if external {
            None
        } else if !list_files.is_empty() {
            let mut entries = Vec::new();
            let mut versions = Vec::new();
            for path in list_files {
                let name = path.display().to_string();
                let bytes = std::fs::read(path).map_err(|e| SourceError::Read {
                    path: name.clone(),
                    message: e.to_string(),
                })?;
                let format = exportgate_screen::parse::detect(&bytes, &name)
                    .ok_or_else(|| SourceError::Format { path: name.clone() })?;
                let parsed =
                    exportgate_screen::parse::parse(&bytes, &name, format).map_err(|e| {
                        SourceError::Parse {
                            path: name.clone(),
                            message: e.to_string(),
                        }
                    })?;
                versions.push(ListVersion {
                    id: 0,
                    source: path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    format,
                    data_date: parsed.data_date,
                    imported_on: today,
                    entry_count: parsed.entries.len(),
                    sha256: format!("{:x}", Sha256::digest(&bytes)),
                });
                entries.extend(parsed.entries);
            }
            Some(Screener::new(entries, versions))
        } else {
            match db {
                Some(db) if db.exists() => {
                    from_db = Some(db.clone());
                    match crate::load_screener(db) {
                        Ok(s) if !s.list_versions().is_empty() => Some(s),
                        Ok(_) => None,
                        Err(e) => {
                            return Err(SourceError::Database {
                                path: db.to_string(),
                                source: e,
                            })
                        }
                    }
                }
                _ => None,
            }
        };
        Ok(ScreeningSource {
            loaded: RwLock::new(Arc::new(Loaded::new(screener, 0))),
            external,
            allow: RwLock::new(AllowList::new()),
            max_age: None,
            db: from_db,
        })
    }

    /// The generation of the lists in force.
    fn current(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The database the lists were loaded from, if they were (files and no lists: none).
    pub fn database(&self) -> Option<&ListsDb> {
        self.db.as_ref()
    }

    /// Re-reads the lists from the database they were loaded from when a source has a newer
    /// version there than the one in force (one small query: the newest version id per
    /// source), replacing them whole; true if they were replaced. Lists from files, or
    /// parties screened externally, never change. For a long-running server's watcher: a list
    /// imported or updated through any server or the CLI applies here at the next round.
    pub fn refresh(&self, watch: &mut ListsWatch) -> Result<bool, ListsError> {
        if self.db.is_none() || self.external {
            return Ok(false);
        }
        let ids = watch.with(|c| c.newest_ids())?;
        let current = self.current();
        if ids == current.ids {
            return Ok(false);
        }
        let screener = watch.with(crate::load_from)?;
        let screener = (!screener.list_versions().is_empty()).then_some(screener);
        // The new generation starts with an empty cache; a screening still running against the
        // old one caches into the old one, which is dropped with its last reader.
        let next = Arc::new(Loaded::new(screener, current.generation + 1));
        *self.loaded.write().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(true)
    }

    /// The generation of the lists in force: 0 as opened, one more at each reload.
    pub fn generation(&self) -> u64 {
        self.current().generation
    }

    /// The lists screened against, each with its version and digest, for the decisions'
    /// inputs (issue 19 item 1); empty without lists.
    pub fn list_inputs(&self) -> Vec<exportgate_core::ListInput> {
        self.current().inputs.to_vec()
    }

    /// The oldest list screened against: its data date, or its import date when the file
    /// states none. `None` without lists.
    pub fn oldest_list(&self) -> Option<chrono::NaiveDate> {
        oldest(&self.current())
    }

    /// Whether the lists are older than `max_age_days` on `today`.
    pub fn stale_lists(&self, today: chrono::NaiveDate, max_age_days: u32) -> Option<StaleLists> {
        stale(&self.current(), today, max_age_days)
    }

    /// Decisions screened against lists older than `max_age_days` (by `clock`, read at each
    /// decision) are never clean: they are held for review with the reason
    /// `screening.stale-lists` (issue 15 item 1). For long-running services.
    pub fn with_max_list_age(mut self, max_age_days: u32, clock: Clock) -> Self {
        self.max_age = Some((max_age_days, clock));
        self
    }

    /// Clearances of false positives: a cleared hit is still recorded, marked cleared.
    pub fn with_allow_list(self, allow: AllowList) -> Self {
        self.set_allow_list(allow);
        self
    }

    /// Replace the allow-list of cleared false positives (a long-running server updates it as
    /// reviewers clear hits); cached results are dropped.
    pub fn set_allow_list(&self, allow: AllowList) {
        // Lock order is allow, then cache (as in screening): a screening holds the allow-list
        // until it has cached its result, so nothing screened under the old list survives.
        let mut current = self.allow.write().unwrap_or_else(|e| e.into_inner());
        *current = allow;
        self.current()
            .cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The screener in force, if lists are loaded (for callers that want full explanations).
    pub fn screener(&self) -> Option<ScreenerRef> {
        let l = self.current();
        l.screener.is_some().then_some(ScreenerRef(l))
    }

    /// Screen one party with the current allow-list, with the full explanation of every hit;
    /// `None` when no lists are loaded.
    pub fn screen_full(
        &self,
        party: &Party,
        date: chrono::NaiveDate,
    ) -> Option<Result<exportgate_screen::ScreenResult, exportgate_screen::QueryError>> {
        let l = self.current();
        let screener = l.screener.as_ref()?;
        let allow = self.allow.read().unwrap_or_else(|e| e.into_inner());
        Some(screener.screen(party, date, &allow))
    }

    /// Runs `f` over the screener and the current allow-list (for doors that screen with
    /// their own threshold or filters, such as the yente-compatible API); `None` when no lists
    /// are loaded.
    pub fn with_screener<R>(&self, f: impl FnOnce(&Screener, &AllowList) -> R) -> Option<R> {
        let l = self.current();
        let screener = l.screener.as_ref()?;
        let allow = self.allow.read().unwrap_or_else(|e| e.into_inner());
        Some(f(screener, &allow))
    }

    /// Whether any list is loaded.
    pub fn has_lists(&self) -> bool {
        self.current().screener.is_some()
    }

    /// Parties go unscreened: no list is loaded and the caller did not say it screens them.
    pub fn unscreened(&self) -> bool {
        !self.has_lists() && !self.external
    }

    fn screen_party(
        &self,
        loaded: &Loaded,
        role: &str,
        p: &OrderParty,
        date: chrono::NaiveDate,
        out: &mut Vec<ListHit>,
    ) -> Result<(), ScreenError> {
        let Some(screener) = &loaded.screener else {
            return Ok(());
        };
        let allow = self.allow.read().unwrap_or_else(|e| e.into_inner());
        let day = (!allow.entries.is_empty()).then_some(date);
        let cached = loaded.cache.read().ok().and_then(|c| {
            c.get(p.name.as_str())?
                .iter()
                .find(|(country, d, _)| country.as_deref() == p.country.as_deref() && *d == day)
                .map(|(_, _, hits)| hits.clone())
        });
        let hits = match cached {
            Some(h) => h,
            None => {
                let party = Party {
                    name: p.name.to_string(),
                    country: p.country.as_deref().map(str::to_string),
                };
                let r = screener
                    .screen(&party, date, &allow)
                    .map_err(|e| ScreenError {
                        field: format!("{role}.name"),
                        problem: e.to_string(),
                    })?;
                if let Ok(mut c) = loaded.cache.write() {
                    let same_name = c.entry(p.name.to_string()).or_default();
                    if !same_name.iter().any(|(country, d, _)| {
                        country.as_deref() == p.country.as_deref() && *d == day
                    }) {
                        same_name.push((party.country.clone(), day, r.hits.clone()));
                    }
                }
                r.hits
            }
        };
        out.extend(hits.into_iter().map(|h| ListHit {
            party: role.to_string(),
            query: p.name.to_string(),
            name: h.name,
            list: h.list,
            score: f64::from(h.score),
            certain: h.certain,
            matched_alias: h.matched_alias,
            citation: h.citation,
            license_requirement: h.license_requirement,
            license_policy: h.license_policy,
            entry_id: h.entry_id,
            cleared: h.cleared.map(|c| format!("{}: {}", c.reviewer, c.reason)),
            start_date: h.start_date,
            listing_date: None,
            listing_source: None,
        }));
        Ok(())
    }

    /// Screen an order's consignee and end user (both against one generation of the lists).
    pub fn hits(&self, order: &Order) -> Result<Vec<ListHit>, ScreenError> {
        let loaded = self.current();
        let mut out = Vec::new();
        self.screen_party(&loaded, "consignee", &order.consignee, order.date, &mut out)?;
        if let Some(eu) = &order.end_user {
            if eu.name != order.consignee.name {
                self.screen_party(&loaded, "end_user", eu, order.date, &mut out)?;
            }
        }
        Ok(out)
    }

    /// The screening fact for a decision, given the hits computed by [`ScreeningSource::hits`].
    pub fn screening<'a>(&'a self, hits: &'a [ListHit]) -> Screening<'a> {
        self.screening_stamped(hits).0
    }

    /// [`ScreeningSource::screening`], with the generation of the lists it names and their
    /// inputs (read together, so a decision records the lists it names).
    pub fn screening_stamped<'a>(&'a self, hits: &'a [ListHit]) -> (Screening<'a>, ListsStamp) {
        let l = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        let stamp = ListsStamp {
            generation: l.generation,
            inputs: l.inputs,
        };
        let screening = if self.external {
            Screening::External
        } else if l.screener.is_some() {
            Screening::Screened {
                hits,
                lists: l.lists,
                stale: self
                    .max_age
                    .as_ref()
                    .and_then(|(days, clock)| stale(&l, clock(), *days)),
            }
        } else {
            Screening::NotScreened
        };
        (screening, stamp)
    }
}

fn oldest(l: &Loaded) -> Option<chrono::NaiveDate> {
    l.screener
        .as_ref()?
        .list_versions()
        .iter()
        .map(|v| v.data_date.unwrap_or(v.imported_on))
        .min()
}

fn stale(l: &Loaded, today: chrono::NaiveDate, max_age_days: u32) -> Option<StaleLists> {
    let oldest = oldest(l)?;
    let age_days = (today - oldest).num_days();
    (age_days > i64::from(max_age_days)).then_some(StaleLists {
        oldest,
        age_days,
        max_age_days,
    })
}

fn describe(v: &ListVersion) -> String {
    let date = v
        .data_date
        .map(|d| d.to_string())
        .unwrap_or_else(|| "undated".into());
    format!(
        "{} {} ({} entries, sha256 {})",
        v.source,
        date,
        v.entry_count,
        &v.sha256[..v.sha256.len().min(12)]
    )
}
