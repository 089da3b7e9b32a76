//! A yente-compatible door onto screening: `POST /match/{dataset}` (query by example, as
//! OpenSanctions' yente answers it) and `GET /search/{dataset}?q=`, so that a client written
//! for yente works unchanged against exportgate.
//!
//! Datasets are the imported lists, one per source (`csl`, `un`, `ofac-sdn`,
//! `opensanctions`, ...; with `--lists FILE`, the file's stem), plus `default` for all. Every
//! query name is screened by the same [`exportgate_screen::Screener`] as `/v1/screen`; the
//! request and response keep yente's shapes (`responses.{q}.results[]` with `id`, `caption`,
//! `schema`, `properties`, `datasets`, `score`, `match`, `features`; `matcher`; `limit`), and
//! each result also carries exportgate's own explanation under `explanation` (extra fields
//! are ignored by yente's parser). Errors carry yente's `detail` and exportgate's `error`.
//! The differences that remain are listed in the server README ("yente compatibility").

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use exportgate_screen::{Hit, ListEntry, Party, Screener, DEFAULT_THRESHOLD};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::auth::{require, Role};
use crate::error::ApiError;
use crate::Shared;

/// yente's default number of results per query (`MATCH_PAGE`).
const DEFAULT_LIMIT: usize = 5;
/// At most this many results per query (yente's `MAX_MATCHES`).
const MAX_LIMIT: usize = 500;
/// At most this many queries in one batch (yente's `MAX_BATCH`).
const MAX_BATCH: usize = 100;
/// Search results below this score are not returned.
const SEARCH_FLOOR: f32 = 0.5;
/// The algorithm names yente knows; any of them is accepted and answered by exportgate's
/// matcher (named in `matcher`).
const ALGORITHMS: &[&str] = &[
    "exportgate",
    "default",
    "best",
    "logic-v1",
    "logic-v2",
    "name-based",
    "name-qualified",
    "regression-v1",
    "regression-v2",
    "regression-v3",
    "ofac-249",
];
/// Name properties of a query entity, screened one by one.
const NAME_PROPS: &[&str] = &["name", "alias", "previousName", "weakAlias"];
/// Country properties of a query entity (the first is supporting evidence).
const COUNTRY_PROPS: &[&str] = &[
    "country",
    "nationality",
    "jurisdiction",
    "citizenship",
    "mainCountry",
];

/// An error of the yente routes.
#[derive(Debug)]
struct YErr {
    status: StatusCode,
    field: String,
    message: String,
}

/// Rendered in both shapes: yente's `{"detail": ...}` and exportgate's `{"error": {...}}`.
impl IntoResponse for YErr {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"detail": self.message, "error": {"field": self.field, "message": self.message}})),
        )
            .into_response()
    }
}

fn fail(status: StatusCode, field: &str, message: impl Into<String>) -> YErr {
    YErr {
        status,
        field: field.to_string(),
        message: message.into(),
    }
}

fn from_api(e: ApiError) -> YErr {
    fail(e.status, &e.field, e.message)
}

/// Authenticates with the server's API keys. yente's hosted API sends
/// `Authorization: ApiKey KEY`; that form is read as `Bearer KEY`.
fn authenticate(st: &Shared, headers: &HeaderMap) -> Result<(), YErr> {
    let rewritten;
    let headers = match headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("ApiKey "))
    {
        Some(key) => {
            let mut h = headers.clone();
            let v = HeaderValue::from_str(&format!("Bearer {}", key.trim()))
                .map_err(|_| fail(StatusCode::UNAUTHORIZED, "authorization", "bad API key"))?;
            h.insert(axum::http::header::AUTHORIZATION, v);
            rewritten = h;
            &rewritten
        }
        None => headers,
    };
    require(st, headers, Role::Submitter)
        .map(|_| ())
        .map_err(from_api)
}

/// One query entity of a match request (yente's `EntityExample`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct EntityExample {
    /// Optional id, echoed back.
    pub id: Option<String>,
    /// `Person`, `Company`, `Organization`, `LegalEntity`, `PublicBody`, `Vessel`, `Airplane`
    /// or `Thing`.
    pub schema: String,
    /// FtM properties: each a string or a list of values (`name`, `alias`, `country`, ...).
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
}

/// The body of `POST /match/{dataset}` (yente's `EntityMatchQuery`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct EntityMatchQuery {
    /// Query entities by a key of the caller's choosing.
    #[schema(value_type = Object)]
    pub queries: BTreeMap<String, Option<EntityExample>>,
    /// Feature weights of yente's matchers: accepted, not used (exportgate has one matcher).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub weights: Map<String, Value>,
    /// Matcher configuration of yente: accepted, not used.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
}

/// Which entries a schema may match: a Person query never meets a company, a company query
/// never a person; entries whose type the list does not state are kept (fail closed).
fn schema_keeps(schema: &str, entry: &ListEntry) -> Result<bool, String> {
    let t = entry.entity_type.as_deref().unwrap_or("");
    let person = t == "Individual";
    let craft = t == "Vessel" || t == "Aircraft";
    Ok(match schema {
        "Thing" => true,
        "LegalEntity" => !craft,
        "Person" => !craft && (person || t.is_empty()),
        "Organization" | "Company" | "PublicBody" => !craft && !person,
        "Vessel" => t == "Vessel" || t.is_empty(),
        "Airplane" => t == "Aircraft" || t.is_empty(),
        other => {
            return Err(format!(
                "the schema `{other}` is not one screening matches; use Person, Company, \
                 Organization, LegalEntity, PublicBody, Vessel, Airplane or Thing"
            ))
        }
    })
}

/// The FtM schema of a list entry.
fn entry_schema(entry: &ListEntry) -> &'static str {
    match entry.entity_type.as_deref() {
        Some("Individual") => "Person",
        Some("Vessel") => "Vessel",
        Some("Aircraft") => "Airplane",
        Some("Entity") => "Organization",
        _ => "LegalEntity",
    }
}

/// The dataset (source) name of each entry, or `None` when the versions do not account for
/// the entries (then only `default` can be asked for).
fn dataset_of(s: &Screener, index: usize) -> Option<&str> {
    s.entry_version(index).map(|v| v.source.as_str())
}

/// The datasets a server offers: `default` and one per loaded source.
fn datasets(s: &Screener) -> Vec<String> {
    let mut out = vec!["default".to_string()];
    for v in s.list_versions() {
        if !out.contains(&v.source) {
            out.push(v.source.clone());
        }
    }
    out
}

/// A result entity in yente's shape, with exportgate's explanation.
fn result_entity(s: &Screener, index: usize, hit: Option<&Hit>) -> Value {
    let e = &s.entries()[index];
    let mut props = Map::new();
    props.insert("name".into(), json!([e.name]));
    if !e.aliases.is_empty() {
        props.insert("alias".into(), json!(e.aliases));
    }
    let countries: Vec<String> = e
        .countries
        .iter()
        .filter(|c| c.len() == 2)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if !countries.is_empty() {
        props.insert("country".into(), json!(countries));
    }
    if !e.programs.is_empty() {
        props.insert("program".into(), json!(e.programs));
    }
    if let Some(u) = &e.url {
        props.insert("sourceUrl".into(), json!([u]));
    }
    if let Some(c) = &e.citation {
        props.insert("notes".into(), json!([c]));
    }
    props.insert("topics".into(), json!(["sanction"]));
    let mut v = json!({
        "id": e.id,
        "caption": e.name,
        "schema": entry_schema(e),
        "properties": props,
        "datasets": dataset_of(s, index).map(|d| vec![d.to_string()]).unwrap_or_default(),
        "referents": [],
        "target": true,
        "first_seen": null,
        "last_seen": null,
        "last_change": null,
    });
    if let Some(h) = hit {
        v["explanation"] = serde_json::to_value(h).unwrap_or(Value::Null);
    }
    v
}

/// yente's `features`: the numeric features of the hit.
fn features(hit: &Hit) -> Value {
    let f = &hit.features;
    json!({
        "token_alignment": f.token_alignment,
        "compact": f.compact,
        "name": f.name,
        "number_mismatch": if f.number_mismatch { 1.0 } else { 0.0 },
        "country": f.country,
    })
}

/// yente 5's `explanations`: each feature's score with what it means; the name feature names
/// the query name and the list name it was compared with.
fn explanations(query: &str, hit: &Hit) -> Value {
    let f = &hit.features;
    let ex = |detail: &str, score: f32| json!({"detail": detail, "score": score, "query": null, "candidate": null});
    let mut name = ex(FEATURE_DOCS[2].1, f.name);
    name["query"] = json!(query);
    name["candidate"] = json!(hit.matched_alias);
    json!({
        "token_alignment": ex(FEATURE_DOCS[0].1, f.token_alignment),
        "compact": ex(FEATURE_DOCS[1].1, f.compact),
        "name": name,
        "number_mismatch": ex(FEATURE_DOCS[3].1, if f.number_mismatch { 1.0 } else { 0.0 }),
        "country": ex(FEATURE_DOCS[4].1, f.country),
    })
}

/// The features of exportgate's matcher: name, what it means, coefficient.
const FEATURE_DOCS: [(&str, &str, f32); 5] = [
    ("token_alignment", "Weighted coverage of both names by aligned tokens (exact, phonetic fold, skeleton, edit distance, initials, pinyin runs).", 1.0),
    ("compact", "Similarity of the concatenated distinctive tokens (spacing differences).", 1.0),
    ("name", "The name score: the larger of token_alignment and compact, after the number qualifier.", 1.0),
    ("number_mismatch", "1 when numbers in the two names differ (the name score is then multiplied by 0.7).", -0.3),
    ("country", "Country adjustment: +0.03 when the query's country is among the entry's, -0.03 when not.", 1.0),
];

/// yente's `matcher` (yente 4): the features and what they mean.
fn matcher_docs() -> Value {
    let url = "https://example.invalid/exportgate/crates/exportgate-screen/README.md";
    let mut m = Map::new();
    for (name, detail, coefficient) in FEATURE_DOCS {
        m.insert(
            name.into(),
            json!({"description": detail, "coefficient": coefficient, "url": url}),
        );
    }
    Value::Object(m)
}

/// Query parameters of `/match`, repeatable ones as lists.
struct MatchParams {
    limit: usize,
    threshold: f32,
    cutoff: f32,
    include_dataset: Vec<String>,
    exclude_dataset: Vec<String>,
    exclude_schema: Vec<String>,
    exclude_entity_ids: Vec<String>,
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, YErr> {
    v.trim().parse::<T>().map_err(|_| {
        fail(
            StatusCode::BAD_REQUEST,
            name,
            format!("`{v}` is not a number"),
        )
    })
}

fn match_params(pairs: Vec<(String, String)>) -> Result<MatchParams, YErr> {
    let mut p = MatchParams {
        limit: DEFAULT_LIMIT,
        threshold: DEFAULT_THRESHOLD,
        cutoff: f32::NAN,
        include_dataset: Vec::new(),
        exclude_dataset: Vec::new(),
        exclude_schema: Vec::new(),
        exclude_entity_ids: Vec::new(),
    };
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => p.limit = number::<usize>(&k, &v)?,
            "threshold" => p.threshold = number::<f32>(&k, &v)?,
            "cutoff" => p.cutoff = number::<f32>(&k, &v)?,
            "algorithm" => {
                if !ALGORITHMS.contains(&v.as_str()) {
                    return Err(fail(
                        StatusCode::BAD_REQUEST,
                        "algorithm",
                        format!(
                            "unknown algorithm `{v}`; one of {} (all are answered by \
                             exportgate's matcher)",
                            ALGORITHMS.join(", ")
                        ),
                    ));
                }
            }
            "include_dataset" => p.include_dataset.push(v),
            "exclude_dataset" => p.exclude_dataset.push(v),
            "exclude_schema" => p.exclude_schema.push(v),
            "exclude_entity_ids" => p.exclude_entity_ids.push(v),
            "topics" | "changed_since" => {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    &k,
                    format!("`{k}` is not supported by exportgate: the lists carry no topics or change dates"),
                ))
            }
            _ => {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    &k,
                    "unknown parameter; use limit, threshold, cutoff, algorithm, \
                     include_dataset, exclude_dataset, exclude_schema, exclude_entity_ids",
                ))
            }
        }
    }
    if p.limit == 0 || p.limit > MAX_LIMIT {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    for (name, v) in [("threshold", p.threshold), ("cutoff", p.cutoff)] {
        if !v.is_nan() && !(0.0..=1.0).contains(&v) {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                name,
                "must be between 0 and 1",
            ));
        }
    }
    // As in yente: results below the cutoff are not returned; the cutoff is never above the
    // threshold (and is the threshold when not given).
    p.cutoff = if p.cutoff.is_nan() {
        p.threshold
    } else {
        p.cutoff.min(p.threshold)
    };
    Ok(p)
}

/// The values of a property: a string or a list of strings (numbers and nested values are
/// refused, naming the property).
fn prop_values(q: &str, props: &Map<String, Value>, prop: &str) -> Result<Vec<String>, YErr> {
    let bad = || {
        fail(
            StatusCode::BAD_REQUEST,
            &format!("queries.{q}.properties.{prop}"),
            "must be a string or a list of strings",
        )
    };
    match props.get(prop) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.into_iter().filter(|s| !s.trim().is_empty()).collect()),
        Some(_) => Err(bad()),
    }
}

/// The names a query entity is screened by: `name`, `alias`, ..., or the name parts joined
/// (`firstName`, `middleName`, `lastName`) when no name is given.
fn query_names(q: &str, ex: &EntityExample) -> Result<Vec<String>, YErr> {
    let mut names = Vec::new();
    for p in NAME_PROPS {
        for n in prop_values(q, &ex.properties, p)? {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    if names.is_empty() {
        let mut parts = Vec::new();
        for p in [
            "firstName",
            "secondName",
            "middleName",
            "fatherName",
            "lastName",
        ] {
            parts.extend(prop_values(q, &ex.properties, p)?);
        }
        if !parts.is_empty() {
            names.push(parts.join(" "));
        }
    }
    if names.is_empty() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            &format!("queries.{q}.properties.name"),
            "the query entity has no name (give `name`, or `firstName` and `lastName`)",
        ));
    }
    Ok(names)
}

/// Screens every name of one query entity and merges the hits by entry (best score kept).
#[allow(clippy::too_many_arguments)]
fn screen_example(
    s: &Screener,
    allow: &exportgate_screen::AllowList,
    as_of: chrono::NaiveDate,
    key: &str,
    names: &[String],
    country: Option<String>,
    min_score: f32,
    max_hits: usize,
    keep: &dyn Fn(usize) -> bool,
) -> Result<Vec<(usize, Hit, String)>, YErr> {
    let mut best: HashMap<usize, (Hit, String)> = HashMap::new();
    for n in names {
        let party = Party {
            name: n.clone(),
            country: country.clone(),
        };
        let hits = s
            .screen_entries(&party, as_of, allow, min_score, max_hits, keep)
            .map_err(|e| {
                fail(
                    StatusCode::BAD_REQUEST,
                    &format!("queries.{key}.properties.name"),
                    format!("`{n}`: {e}"),
                )
            })?;
        for (i, h) in hits {
            match best.get(&i) {
                Some((b, _)) if b.score >= h.score => {}
                _ => {
                    best.insert(i, (h, n.clone()));
                }
            }
        }
    }
    let mut out: Vec<(usize, Hit, String)> =
        best.into_iter().map(|(i, (h, n))| (i, h, n)).collect();
    out.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    Ok(out)
}

fn unknown_dataset(s: &Screener, dataset: &str) -> YErr {
    fail(
        StatusCode::NOT_FOUND,
        "dataset",
        format!(
            "no dataset `{dataset}`; this server has: {}",
            datasets(s).join(", ")
        ),
    )
}

fn no_lists() -> YErr {
    fail(
        StatusCode::SERVICE_UNAVAILABLE,
        "lists",
        "no screening lists are loaded on this server (start it with --lists FILE or import lists)",
    )
}

/// Whether the entry at `index` is in `dataset` and passes the dataset filters.
fn in_datasets(
    s: &Screener,
    index: usize,
    dataset: &str,
    include: &[String],
    exclude: &[String],
) -> bool {
    let ds = dataset_of(s, index);
    let named = |d: &str| ds == Some(d);
    (dataset == "default" || named(dataset))
        && (include.is_empty() || include.iter().any(|d| named(d)))
        && !exclude.iter().any(|d| named(d))
}

#[utoipa::path(post, path = "/match/{dataset}",
    params(("dataset" = String, Path, description = "`default` (all lists) or one imported source (`csl`, `un`, `ofac-sdn`, `opensanctions`, ...)"),
        ("limit" = Option<usize>, Query, description = "Results per query (default 5, at most 500)"),
        ("threshold" = Option<f32>, Query, description = "Score at or above which a result is a `match` (default 0.80)"),
        ("cutoff" = Option<f32>, Query, description = "Deprecated in yente: lowest score returned (at most the threshold; default the threshold)"),
        ("algorithm" = Option<String>, Query, description = "Any yente algorithm name; answered by exportgate's matcher"),
        ("include_dataset" = Option<Vec<String>>, Query, description = "Only these datasets"),
        ("exclude_dataset" = Option<Vec<String>>, Query, description = "Not these datasets"),
        ("exclude_schema" = Option<Vec<String>>, Query, description = "Not these result schemata"),
        ("exclude_entity_ids" = Option<Vec<String>>, Query, description = "Not these entity ids")),
    request_body = EntityMatchQuery,
    responses((status = 200, description = "yente's EntityMatchResponse: `responses.{q}.results[]` with id, caption, schema, properties, datasets, score, match, features (and exportgate's `explanation`); `matcher`; `limit`", body = Object),
        (status = 400, description = "`{\"detail\": ...}` as yente, and exportgate's `error`", body = Object),
        (status = 404, description = "No such dataset", body = Object)),
    security(("bearer" = [])))]
pub async fn match_entities(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(dataset): Path<String>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    match_entities_inner(st, headers, dataset, q, b).unwrap_or_else(IntoResponse::into_response)
}

fn match_entities_inner(
    st: Shared,
    headers: HeaderMap,
    dataset: String,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, YErr> {
    authenticate(&st, &headers)?;
    let pairs = match q {
        Ok(Query(p)) => p,
        Err(e) => return Err(fail(StatusCode::BAD_REQUEST, "query", e.body_text())),
    };
    let params = match_params(pairs)?;
    let body = match crate::api::body(b) {
        Ok(b) => b,
        Err(e) => return Err(from_api(e)),
    };
    let req: EntityMatchQuery = match crate::error::parse_json(&body) {
        Ok(r) => r,
        Err(e) => return Err(from_api(e)),
    };
    if req.queries.len() > MAX_BATCH {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "queries",
            format!("Too many queries in one batch (limit: {MAX_BATCH})"),
        ));
    }
    if req.queries.values().all(Option::is_none) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "queries",
            "No queries provided.",
        ));
    }
    let as_of = chrono::Utc::now().date_naive();
    let out = st.source.with_screener(|s, allow| -> Result<Value, YErr> {
        if !datasets(s).contains(&dataset) {
            return Err(unknown_dataset(s, &dataset));
        }
        let mut responses = Map::new();
        for (key, ex) in &req.queries {
            let Some(ex) = ex else { continue };
            let names = query_names(key, ex)?;
            let mut country = None;
            for p in COUNTRY_PROPS {
                if country.is_none() {
                    country = prop_values(key, &ex.properties, p)?.into_iter().next();
                }
            }
            if let Err(m) = schema_keeps(&ex.schema, &ListEntry::new("", "", "")) {
                return Err(fail(
                    StatusCode::BAD_REQUEST,
                    &format!("queries.{key}.schema"),
                    format!("Cannot parse example entity: {m}"),
                ));
            }
            // Entries the schema may not match, or that the filters leave out, are not scored.
            let entries = s.entries();
            let keep = |i: usize| {
                let e = &entries[i];
                schema_keeps(&ex.schema, e).unwrap_or(false)
                    && in_datasets(
                        s,
                        i,
                        &dataset,
                        &params.include_dataset,
                        &params.exclude_dataset,
                    )
                    && !params.exclude_schema.iter().any(|x| x == entry_schema(e))
                    && !params.exclude_entity_ids.contains(&e.id)
            };
            let hits = screen_example(
                s,
                allow,
                as_of,
                key,
                &names,
                country,
                params.cutoff,
                params.limit,
                &keep,
            )?;
            let total = hits.len();
            let results: Vec<Value> = hits
                .iter()
                .take(params.limit)
                .map(|(i, h, n)| {
                    let mut r = result_entity(s, *i, Some(h));
                    r["score"] = json!(h.score);
                    r["features"] = features(h);
                    r["explanations"] = explanations(n, h);
                    r["match"] = json!(h.score >= params.threshold);
                    r
                })
                .collect();
            responses.insert(
                key.clone(),
                json!({
                    "status": 200,
                    "results": results,
                    "total": {"value": total, "relation": "eq"},
                    "query": {"id": ex.id, "schema": ex.schema, "properties": ex.properties},
                }),
            );
        }
        Ok(json!({"responses": responses, "matcher": matcher_docs(), "limit": params.limit}))
    });
    match out {
        None => Err(no_lists()),
        Some(Err(r)) => Err(r),
        Some(Ok(v)) => {
            let n = v["responses"].as_object().map_or(0, Map::len);
            let mut resp = Json(v).into_response();
            resp.headers_mut()
                .insert("x-batch-size", HeaderValue::from(n as u64));
            Ok(resp)
        }
    }
}

#[utoipa::path(get, path = "/search/{dataset}",
    params(("dataset" = String, Path, description = "`default` or one imported source"),
        ("q" = String, Query, description = "The name to look for"),
        ("limit" = Option<usize>, Query, description = "Results (default 10, at most 500)"),
        ("offset" = Option<usize>, Query, description = "Results to skip"),
        ("schema" = Option<String>, Query, description = "Only entities this schema may match (default Thing: all)"),
        ("countries" = Option<Vec<String>>, Query, description = "Only entities in these countries (ISO alpha-2)")),
    responses((status = 200, description = "yente's SearchResponse: `results[]` (entities with `score`), `total`, `limit`, `offset`, `facets`", body = Object),
        (status = 400, body = Object), (status = 404, body = Object)),
    security(("bearer" = [])))]
pub async fn search(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(dataset): Path<String>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    search_inner(st, headers, dataset, q).unwrap_or_else(IntoResponse::into_response)
}

fn search_inner(
    st: Shared,
    headers: HeaderMap,
    dataset: String,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, YErr> {
    authenticate(&st, &headers)?;
    let pairs = match q {
        Ok(Query(p)) => p,
        Err(e) => return Err(fail(StatusCode::BAD_REQUEST, "query", e.body_text())),
    };
    let (mut text, mut limit, mut offset, mut schema, mut countries) =
        (None, 10usize, 0usize, "Thing".to_string(), Vec::new());
    for (k, v) in pairs {
        let r = match k.as_str() {
            "q" => {
                text = Some(v);
                Ok(())
            }
            "limit" => number(&k, &v).map(|n| limit = n),
            "offset" => number(&k, &v).map(|n| offset = n),
            "schema" => {
                schema = v;
                Ok(())
            }
            "countries" => {
                countries.push(v.trim().to_ascii_uppercase());
                Ok(())
            }
            _ => Err(fail(
                StatusCode::BAD_REQUEST,
                &k,
                "unknown parameter; use q, limit, offset, schema, countries",
            )),
        };
        r?;
    }
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Err(fail(StatusCode::BAD_REQUEST, "q", "is missing or empty"));
    };
    if limit == 0 || limit > MAX_LIMIT {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    if let Err(m) = schema_keeps(&schema, &ListEntry::new("", "", "")) {
        return Err(fail(StatusCode::BAD_REQUEST, "schema", m));
    }
    let as_of = chrono::Utc::now().date_naive();
    let out = st.source.with_screener(|s, allow| -> Result<Value, YErr> {
        if !datasets(s).contains(&dataset) {
            return Err(unknown_dataset(s, &dataset));
        }
        let entries = s.entries();
        let keep = |i: usize| {
            let e = &entries[i];
            schema_keeps(&schema, e).unwrap_or(false)
                && in_datasets(s, i, &dataset, &[], &[])
                && (countries.is_empty() || e.countries.iter().any(|c| countries.contains(c)))
        };
        let hits = screen_example(
            s,
            allow,
            as_of,
            "q",
            std::slice::from_ref(&text),
            None,
            SEARCH_FLOOR,
            offset.saturating_add(limit).min(MAX_LIMIT),
            &keep,
        )
        .map_err(|_| {
            fail(
                StatusCode::BAD_REQUEST,
                "q",
                "the name cannot be screened (empty, too long, control characters or no letters)",
            )
        })?;
        let total = hits.len();
        let results: Vec<Value> = hits
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(i, h, _)| {
                let mut r = result_entity(s, *i, Some(h));
                r["score"] = json!(h.score);
                r
            })
            .collect();
        Ok(json!({
            "limit": limit,
            "offset": offset,
            "total": {"value": total, "relation": "eq"},
            "results": results,
            "facets": {},
        }))
    });
    match out {
        None => Err(no_lists()),
        Some(Err(r)) => Err(r),
        Some(Ok(v)) => Ok(Json(v).into_response()),
    }
}
