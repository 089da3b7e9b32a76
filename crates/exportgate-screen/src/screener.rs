//! The [`Screener`]: an immutable, in-memory index over list entries, and the screening of
//! one party against it.
//!
//! Candidate selection uses an inverted index on the phonetic folds of the distinctive
//! tokens of every name and alias, plus consonant skeletons, one-deletion neighbours
//! (typos), and joined adjacent query tokens (pinyin syllables, split names). Candidates are
//! ranked by the inverse document frequency of the tokens they share with the query, and at
//! most [`ScreenConfig::candidate_cap`] of them are scored in full.

use std::collections::HashMap;

use rayon::prelude::*;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::allow::{AllowList, Clearance};
use crate::country::to_iso2;
use crate::entry::{Format, ListEntry};
use crate::normalize::{check_query, NormName, Normalizer, QueryError, TokenKind};
use crate::score::{compare, compare_with, Features, ScoreParams, TokenMatch};

/// Postings volume above which a query key is left out of candidate ranking when the query
/// has a rarer key.
const BIG_KEY: usize = 1500;

/// A token in at least this many indexed names is common: a hit resting on it alone, against
/// an alias shorter than the entry's name, is never certain.
const COMMON_DF: usize = 20;

/// Default score at or above which a comparison is a hit.
pub const DEFAULT_THRESHOLD: f32 = 0.80;
/// Default score at or above which a hit is certain; below it a hit is only possible and the
/// decision engine holds the order for review.
pub const DEFAULT_CERTAIN: f32 = 0.95;

/// Screening settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScreenConfig {
    /// Minimum score of a hit ([`DEFAULT_THRESHOLD`]).
    pub threshold: f32,
    /// Minimum score of a certain hit ([`DEFAULT_CERTAIN`]).
    pub certain: f32,
    /// At most this many hits are returned, best first.
    pub max_hits: usize,
    /// At most this many name variants are scored in full per query.
    pub candidate_cap: usize,
    /// Scorer weights.
    pub params: ScoreParams,
}

impl Default for ScreenConfig {
    fn default() -> Self {
        ScreenConfig {
            threshold: DEFAULT_THRESHOLD,
            certain: DEFAULT_CERTAIN,
            max_hits: 20,
            candidate_cap: 40,
            params: ScoreParams::default(),
        }
    }
}

/// The party to screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Name as written on the order.
    pub name: String,
    /// Country (ISO alpha-2 or a name), used as supporting evidence.
    pub country: Option<String>,
}

impl Party {
    /// A party without a country.
    pub fn named(name: &str) -> Party {
        Party {
            name: name.to_string(),
            country: None,
        }
    }
}

/// One version of one list that a screener was built from; a decision records these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListVersion {
    /// Storage id of the version (0 when not stored).
    pub id: i64,
    /// Source name (e.g. `csl`, `un`, `ofac-sdn`).
    pub source: String,
    /// Format the file was read as.
    pub format: Format,
    /// Data date stated by the file, if any.
    pub data_date: Option<NaiveDate>,
    /// Date of import (given by the caller).
    pub imported_on: NaiveDate,
    /// Entries in the version.
    pub entry_count: usize,
    /// SHA-256 of the imported bytes, hex.
    pub sha256: String,
}

/// One hit: a list entry that the party's name matches, with the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The entry's primary name.
    pub name: String,
    /// List code (`EL`, `SDN`, `DPL`, ...).
    pub list: String,
    /// Total score in [0, 1].
    pub score: f32,
    /// Score at or above the certainty bar.
    pub certain: bool,
    /// The name or alias of the entry that matched best.
    pub matched_alias: String,
    /// Token pairs that matched.
    pub tokens_matched: Vec<TokenMatch>,
    /// Per-feature scores.
    pub features: Features,
    /// Federal Register (or other) citation.
    pub citation: Option<String>,
    /// Licence requirement text.
    pub license_requirement: Option<String>,
    /// Licence review policy text.
    pub license_policy: Option<String>,
    /// The start of the listing as the list states it, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Entry id.
    pub entry_id: String,
    /// Full list name.
    pub list_name: String,
    /// Entry countries.
    pub countries: Vec<String>,
    /// Programmes.
    pub programs: Vec<String>,
    /// Set when an allow-list clearance suppresses the hit on the screening date.
    pub cleared: Option<Clearance>,
}

/// The result of screening one party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenResult {
    /// All hits at or above the threshold, best first, including cleared ones.
    pub hits: Vec<Hit>,
}

impl ScreenResult {
    /// Hits not cleared by the allow-list.
    pub fn active_hits(&self) -> impl Iterator<Item = &Hit> {
        self.hits.iter().filter(|h| h.cleared.is_none())
    }
}

struct Variant {
    entry: u32,
    /// The entry is a person (or of unknown type): a single letter may be an initial.
    person: bool,
    /// Index into the entry's `all_names()`.
    name_index: u16,
    norm: NormName,
}

/// Token statistics and postings.
#[derive(Default)]
struct Index {
    token_id: HashMap<String, u32, FastHash>,
    /// Variant ids per token id.
    postings: Vec<Vec<u32>>,
    /// Inverse document frequency per token id.
    idf: Vec<f32>,
    /// Sum of the idf of the distinctive tokens of each variant.
    variant_idf: Vec<f32>,
    /// The idf of a token seen once (for query tokens not in the index).
    idf_max: f32,
    /// Token ids by consonant skeleton (fold-based) and by abjad skeleton.
    by_skel: HashMap<String, Vec<u32>, FastHash>,
    by_abjad: HashMap<String, Vec<u32>, FastHash>,
    /// Token ids by one-deletion neighbour (and by the fold itself) for folds of 4+ letters.
    by_delete: HashMap<String, Vec<u32>, FastHash>,
}

/// An immutable screening index over a set of list entries. Build once, share freely
/// (`Send + Sync`), screen many.
pub struct Screener {
    entries: Vec<ListEntry>,
    variants: Vec<Variant>,
    /// The first variant (the entry's own name) of each entry.
    entry_first: Vec<u32>,
    index: Index,
    normalizer: Normalizer,
    versions: Vec<ListVersion>,
    config: ScreenConfig,
}

impl std::fmt::Debug for Screener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screener")
            .field("entries", &self.entries.len())
            .field("variants", &self.variants.len())
            .field("versions", &self.versions)
            .finish()
    }
}

fn deletes(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    (0..b.len())
        .map(|i| {
            let mut v = Vec::with_capacity(b.len() - 1);
            v.extend_from_slice(&b[..i]);
            v.extend_from_slice(&b[i + 1..]);
            String::from_utf8(v).unwrap_or_default()
        })
        .collect()
}

impl Screener {
    /// Builds the index over `entries` with the default configuration.
    pub fn new(entries: Vec<ListEntry>, versions: Vec<ListVersion>) -> Screener {
        Screener::with_config(entries, versions, ScreenConfig::default())
    }

    /// Builds the index with a given configuration.
    pub fn with_config(
        entries: Vec<ListEntry>,
        versions: Vec<ListVersion>,
        config: ScreenConfig,
    ) -> Screener {
        let normalizer = Normalizer::new();
        // Normalising ~50,000 names is most of the build: entries in parallel, kept in order.
        let per_entry: Vec<Vec<Variant>> = entries
            .par_iter()
            .enumerate()
            .map(|(ei, e)| {
                let mut seen: Vec<String> = Vec::new();
                let mut out = Vec::new();
                for (ni, name) in e.all_names().into_iter().enumerate() {
                    // Names in scripts romanised more than one way are indexed in each way.
                    for norm in
                        std::iter::once(normalizer.normalize(name)).chain(normalizer.variants(name))
                    {
                        let key: String = norm
                            .tokens
                            .iter()
                            .map(|t| t.fold.as_str())
                            .collect::<Vec<_>>()
                            .join(" ");
                        if norm.tokens.is_empty() || seen.contains(&key) {
                            continue;
                        }
                        seen.push(key);
                        out.push(Variant {
                            entry: ei as u32,
                            person: e.entity_type.as_deref().is_none_or(|t| t == "Individual"),
                            name_index: ni.min(u16::MAX as usize) as u16,
                            norm,
                        });
                    }
                }
                out
            })
            .collect();
        let variants: Vec<Variant> = per_entry.into_iter().flatten().collect();
        let mut entry_first = vec![u32::MAX; entries.len()];
        for (vi, v) in variants.iter().enumerate().rev() {
            entry_first[v.entry as usize] = vi as u32;
        }
        let mut index = Index::default();
        for (vi, v) in variants.iter().enumerate() {
            for t in v
                .norm
                .tokens
                .iter()
                .filter(|t| t.kind != TokenKind::Generic)
            {
                let next = index.token_id.len() as u32;
                let id = *index.token_id.entry(t.fold.clone()).or_insert(next);
                if id == next {
                    index.postings.push(Vec::new());
                    if t.skel.len() >= 3 {
                        index.by_skel.entry(t.skel.clone()).or_default().push(id);
                    }
                    let ask = crate::normalize::abjad_skeleton(&t.text);
                    if ask.len() >= 2 {
                        index.by_abjad.entry(ask).or_default().push(id);
                    }
                    if t.fold.len() >= 4 && t.kind == TokenKind::Word {
                        index.by_delete.entry(t.fold.clone()).or_default().push(id);
                        for d in deletes(&t.fold) {
                            index.by_delete.entry(d).or_default().push(id);
                        }
                    }
                }
                let p = &mut index.postings[id as usize];
                if p.last() != Some(&(vi as u32)) {
                    p.push(vi as u32);
                }
            }
        }
        let n = variants.len().max(1) as f32;
        index.idf = index
            .postings
            .iter()
            .map(|p| (1.0 + n / p.len().max(1) as f32).ln())
            .collect();
        index.idf_max = (1.0 + n).ln();
        index.variant_idf = variants
            .iter()
            .map(|v| {
                v.norm
                    .tokens
                    .iter()
                    .filter(|t| t.kind != TokenKind::Generic)
                    .filter_map(|t| index.token_id.get(&t.fold))
                    .map(|&id| index.idf[id as usize])
                    .sum()
            })
            .collect();
        for list in index.by_delete.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        Screener {
            entries,
            variants,
            entry_first,
            index,
            normalizer,
            versions,
            config,
        }
    }

    /// The list versions the index was built from.
    pub fn list_versions(&self) -> &[ListVersion] {
        &self.versions
    }

    /// The entries in the index.
    pub fn entries(&self) -> &[ListEntry] {
        &self.entries
    }

    /// Number of indexed name variants (names and aliases).
    pub fn variant_count(&self) -> usize {
        self.variants.len()
    }

    /// The configuration in force.
    pub fn config(&self) -> &ScreenConfig {
        &self.config
    }

    /// The normaliser (for callers that compare names directly).
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Screens one party on date `as_of`. Returns every hit at or above the threshold, best
    /// first (at most [`ScreenConfig::max_hits`]), one per list entry; hits cleared by `allow`
    /// on `as_of` are kept and marked. Bad input is a [`QueryError`], never a panic.
    pub fn screen(
        &self,
        party: &Party,
        as_of: NaiveDate,
        allow: &AllowList,
    ) -> Result<ScreenResult, QueryError> {
        let hits = self.screen_entries(
            party,
            as_of,
            allow,
            self.config.threshold,
            self.config.max_hits,
            &|_| true,
        )?;
        Ok(ScreenResult {
            hits: hits.into_iter().map(|(_, h)| h).collect(),
        })
    }

    /// [`Screener::screen`] with its own minimum score and hit count, over the entries that
    /// `keep` accepts (by index into [`Screener::entries`]); each hit comes with its entry's
    /// index. `certain` is still judged against [`ScreenConfig::certain`].
    pub fn screen_entries(
        &self,
        party: &Party,
        as_of: NaiveDate,
        allow: &AllowList,
        min_score: f32,
        max_hits: usize,
        keep: &dyn Fn(usize) -> bool,
    ) -> Result<Vec<(usize, Hit)>, QueryError> {
        check_query(&party.name)?;
        let q = self.normalizer.normalize(&party.name);
        if q.tokens.is_empty() {
            return Err(QueryError::NoLetters {
                name: party.name.clone(),
            });
        }
        let country = party.country.as_deref().and_then(|c| {
            let c = c.trim();
            to_iso2(c)
                .map(str::to_string)
                .or_else(|| (c.len() == 2).then(|| c.to_ascii_uppercase()))
        });
        let mut best: HashMap<u32, (f32, u32, crate::score::PairScore), FastHash> =
            HashMap::default();
        // The query in each of its romanisations (most names have one).
        let forms: Vec<NormName> = std::iter::once(q)
            .chain(self.normalizer.variants(&party.name))
            .collect();
        let mut best_form: HashMap<u32, usize, FastHash> = HashMap::default();
        for (fi, q) in forms.iter().enumerate() {
            for vi in self.candidates(q) {
                let v = &self.variants[vi as usize];
                if !keep(v.entry as usize) {
                    continue;
                }
                let params = self.params_for(v);
                let mut ps = compare_with(q, &v.norm, &params, false);
                if let Some(cc) = &country {
                    let e = &self.entries[v.entry as usize];
                    if !e.countries.is_empty() {
                        let adj = if e.countries.iter().any(|x| x == cc) {
                            self.config.params.country_match_bonus
                        } else {
                            -self.config.params.country_mismatch_penalty
                        };
                        ps.features.country = adj;
                        ps.score = (ps.score + adj).clamp(0.0, 1.0);
                    }
                }
                if ps.score < min_score {
                    continue;
                }
                match best.get(&v.entry) {
                    Some((s, _, _)) if *s >= ps.score => {}
                    _ => {
                        best.insert(v.entry, (ps.score, vi, ps));
                        best_form.insert(v.entry, fi);
                    }
                }
            }
        }
        let mut ranked: Vec<(u32, f32, u32, crate::score::PairScore)> = best
            .into_iter()
            .map(|(e, (s, vi, ps))| (e, s, vi, ps))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(max_hits);
        let hits = ranked
            .into_iter()
            .map(|(ei, score, vi, quick)| {
                let e = &self.entries[ei as usize];
                let v = &self.variants[vi as usize];
                let q = &forms[best_form.get(&ei).copied().unwrap_or(0)];
                let mut ps = compare(q, &v.norm, &self.params_for(v));
                ps.features.country = quick.features.country;
                let matched_alias = e
                    .all_names()
                    .get(v.name_index as usize)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.name.clone());
                let cleared = allow.clearance(&self.normalizer, &party.name, &e.id, &e.name, as_of);
                let (rarity, common) = self.rarity(q, v);
                ps.features.rarity = Some((rarity * 10_000.0).round() / 10_000.0);
                ps.features.common_token_only = common;
                let hit = Hit {
                    name: e.name.clone(),
                    list: e.list.clone(),
                    score: (score * 10_000.0).round() / 10_000.0,
                    certain: score >= self.config.certain && !common,
                    matched_alias,
                    tokens_matched: ps.tokens_matched,
                    features: ps.features,
                    citation: e.citation.clone(),
                    license_requirement: e.license_requirement.clone(),
                    license_policy: e.license_policy.clone(),
                    start_date: e.start_date,
                    entry_id: e.id.clone(),
                    list_name: e.list_name.clone(),
                    countries: e.countries.clone(),
                    programs: e.programs.clone(),
                    cleared,
                };
                (ei as usize, hit)
            })
            .collect();
        Ok(hits)
    }

    /// The rarity of the query's distinctive tokens (smallest idf over the index, relative to
    /// a token seen once), and whether a hit on `v` rests on one common token only: the query
    /// has one distinctive word, it is in at least [`COMMON_DF`] names, and `v` is an alias
    /// of an entry whose own name has more distinctive words ("Minor GmbH" against the alias
    /// "Minor" of "Minor Precision Instruments").
    fn rarity(&self, q: &NormName, v: &Variant) -> (f32, bool) {
        let idx = &self.index;
        let mut rarity = 1.0f32;
        let mut words = 0;
        let mut common = false;
        for t in q.distinctive() {
            let id = idx.token_id.get(&t.fold).copied();
            let r = id.map_or(1.0, |id| idx.idf[id as usize] / idx.idf_max.max(1e-6));
            rarity = rarity.min(r);
            if t.kind == TokenKind::Word {
                words += 1;
                common = id.is_some_and(|id| idx.postings[id as usize].len() >= COMMON_DF);
            }
        }
        let alias_shorter = v.name_index > 0
            && v.norm.distinctive().count() == 1
            && self
                .variants
                .get(self.entry_first[v.entry as usize] as usize)
                .is_some_and(|p| p.name_index == 0 && p.norm.distinctive().count() >= 2);
        (rarity, words == 1 && common && alias_shorter)
    }

    /// The list version an entry came from: versions hold their entries in order, so the
    /// entry at `index` belongs to the version whose running count covers it. `None` when
    /// the versions' counts do not add up to the entries held (the source is then unknown).
    pub fn entry_version(&self, index: usize) -> Option<&ListVersion> {
        let total: usize = self.versions.iter().map(|v| v.entry_count).sum();
        if total != self.entries.len() {
            return None;
        }
        let mut end = 0;
        for v in &self.versions {
            end += v.entry_count;
            if index < end {
                return Some(v);
            }
        }
        None
    }

    /// Scorer weights for one entry: a single letter is an initial only in a person's name
    /// ("MONICA S" is a vessel, "C. J. SHAH AND CO." a company).
    fn params_for(&self, v: &Variant) -> ScoreParams {
        let mut p = self.config.params;
        if !v.person {
            p.initial_similarity = 0.5;
        }
        p
    }

    /// Candidate variant ids for a normalised query, best first, capped.
    fn candidates(&self, q: &NormName) -> Vec<u32> {
        let idx = &self.index;
        let distinctive: Vec<&crate::normalize::Token> = q.distinctive().collect();
        let toks: Vec<&crate::normalize::Token> = if distinctive.is_empty() {
            q.tokens.iter().collect()
        } else {
            distinctive
        };
        // (token id, quality) per query key.
        let mut keys: Vec<HashMap<u32, f32, FastHash>> = Vec::new();
        let add = |list: &mut HashMap<u32, f32, FastHash>, id: u32, quality: f32| {
            let q = list.entry(id).or_insert(0.0);
            if quality > *q {
                *q = quality;
            }
        };
        for t in &toks {
            let mut list: HashMap<u32, f32, FastHash> = HashMap::default();
            if let Some(&id) = idx.token_id.get(&t.fold) {
                add(&mut list, id, 1.0);
            }
            // Pinyin syllables are a closed set: exact only (and joined, below).
            if t.kind == TokenKind::Word && !t.han {
                if t.skel.len() >= 3 {
                    for &id in idx.by_skel.get(&t.skel).map(Vec::as_slice).unwrap_or(&[]) {
                        add(&mut list, id, 0.8);
                    }
                }
                if t.abjad && t.skel.len() >= 2 {
                    for &id in idx.by_abjad.get(&t.skel).map(Vec::as_slice).unwrap_or(&[]) {
                        add(&mut list, id, 0.8);
                    }
                }
                if t.fold.len() >= 4 {
                    for key in std::iter::once(t.fold.clone()).chain(deletes(&t.fold)) {
                        for &id in idx.by_delete.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
                            add(&mut list, id, 0.7);
                        }
                    }
                }
            }
            keys.push(list);
        }
        // Joined adjacent tokens: "hua wei" -> "huawei", "abdul rahman" -> "abdulrahman".
        for w in 2..=3 {
            for win in toks.windows(w) {
                let joined: String = win.iter().map(|t| t.fold.as_str()).collect();
                if let Some(&id) = idx.token_id.get(&joined) {
                    let mut one: HashMap<u32, f32, FastHash> = HashMap::default();
                    one.insert(id, 1.0);
                    keys.push(one);
                }
            }
        }
        // Keys whose postings are very long (common given names, "beijing") only add noise to
        // the ranking and cost time: when the query has a rarer key, rank by the rarer ones
        // (the common tokens still count in the full score).
        let volume = |list: &HashMap<u32, f32, FastHash>| -> usize {
            list.keys().map(|&id| idx.postings[id as usize].len()).sum()
        };
        let volumes: Vec<usize> = keys.iter().map(volume).collect();
        let has_rare = volumes.iter().any(|&v| v > 0 && v <= BIG_KEY);
        let n_variants = self.variants.len();
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let sc = &mut *guard;
            sc.prepare(n_variants);
            for (k, list) in keys.iter().enumerate() {
                if has_rare && volumes[k] > BIG_KEY {
                    continue;
                }
                // A variant counts once per query key, at the best quality.
                let stamp = sc.next_stamp();
                sc.key_touched.clear();
                for (&id, &quality) in list {
                    let w = idx.idf[id as usize] * quality;
                    for &vi in &idx.postings[id as usize] {
                        let v = vi as usize;
                        if sc.local_stamp[v] != stamp {
                            sc.local_stamp[v] = stamp;
                            sc.local[v] = w;
                            sc.key_touched.push(vi);
                        } else if w > sc.local[v] {
                            sc.local[v] = w;
                        }
                    }
                }
                for &vi in &sc.key_touched {
                    let v = vi as usize;
                    if sc.acc[v] == 0.0 {
                        sc.touched.push(vi);
                    }
                    sc.acc[v] += sc.local[v];
                }
            }
        });
        // Rank by shared weight relative to the size of both names, like the final score.
        let q_idf: f32 = toks
            .iter()
            .map(|t| {
                idx.token_id
                    .get(&t.fold)
                    .map_or(idx.idf_max, |&id| idx.idf[id as usize])
            })
            .sum();
        let mut ranked: Vec<(u32, f32)> = SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let sc = &mut *guard;
            let ranked = sc
                .touched
                .iter()
                .map(|&vi| {
                    let w = sc.acc[vi as usize];
                    (
                        vi,
                        w / (q_idf + 0.5 * idx.variant_idf[vi as usize]).max(1e-3),
                    )
                })
                .collect();
            for &vi in &sc.touched {
                sc.acc[vi as usize] = 0.0;
            }
            sc.touched.clear();
            ranked
        });
        let cap = self.config.candidate_cap;
        if ranked.len() > cap {
            ranked.select_nth_unstable_by(cap, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            ranked.truncate(cap);
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.into_iter().map(|(vi, _)| vi).collect()
    }
}

/// Scores two names directly (no index): the name score of `query` against `candidate`, the
/// best over the romanisations of each ([`Normalizer::variants`]).
pub fn name_score(norm: &Normalizer, query: &str, candidate: &str, params: &ScoreParams) -> f32 {
    let qs: Vec<NormName> = std::iter::once(norm.normalize(query))
        .chain(norm.variants(query))
        .collect();
    let cs: Vec<NormName> = std::iter::once(norm.normalize(candidate))
        .chain(norm.variants(candidate))
        .collect();
    let mut best = 0.0f32;
    for q in &qs {
        for c in &cs {
            best = best.max(compare(q, c, params).score);
        }
    }
    best
}

/// Per-thread scratch space of candidate selection: dense per-variant accumulators, reset
/// after each query by the list of variants touched (no allocation in the steady state).
#[derive(Default)]
struct Scratch {
    acc: Vec<f32>,
    local: Vec<f32>,
    local_stamp: Vec<u32>,
    stamp: u32,
    touched: Vec<u32>,
    key_touched: Vec<u32>,
}

impl Scratch {
    fn prepare(&mut self, n: usize) {
        if self.acc.len() < n {
            self.acc.resize(n, 0.0);
            self.local.resize(n, 0.0);
            self.local_stamp.resize(n, 0);
        }
        for &vi in &self.touched {
            if let Some(a) = self.acc.get_mut(vi as usize) {
                *a = 0.0;
            }
        }
        self.touched.clear();
    }

    fn next_stamp(&mut self) -> u32 {
        if self.stamp == u32::MAX {
            self.local_stamp.iter_mut().for_each(|s| *s = 0);
            self.stamp = 0;
        }
        self.stamp += 1;
        self.stamp
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// A fast hasher for ids and index keys (multiplicative; index keys come from the lists, and
/// a query only looks keys up, so a chosen query cannot degrade the tables).
#[derive(Default, Clone, Copy)]
struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(0)
    }
}

#[derive(Default)]
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = (u64::from(i) ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
