//! Party records over HTTP (issue 16): `GET|POST /v1/parties`, `GET /v1/parties/{id}` (the
//! record, each fact's age, whether it is current, and the review cases of its orders),
//! `POST /v1/parties/{id}/review` (set facts and the next review date), and
//! `POST /v1/cases/{id}/due-diligence` (a reviewer completes the party record from a held
//! case, and the case's order is decided again). Reviewers write, submitters read. Every
//! change is appended to the audit log in the transaction that writes it (exportgate-store),
//! and the server's party index is replaced so the next decision sees it.
//!
//! Self-contained: its own routes ([`routes`]), its own store connection
//! (`AppState::party_store`); the rest of the server only links orders through
//! `AppState::parties`.

use std::path::Path as FsPath;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use exportgate_core::kyc::{CheckedParty, PartyRecord};
use exportgate_core::{NoQuotas, Order, Ruleset};
use exportgate_ledger::{StoreError, Timestamp};
use exportgate_pipeline::Parties;
use exportgate_store::parties::{PartyConflict, PartyStore, PartyWrite};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{min, Auth};
use crate::error::{parse_json, ApiError};
use crate::extract::RawBody;
use crate::Shared;

/// The routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/parties", get(list).post(add))
        .route("/v1/parties/{id}", get(show))
        .route("/v1/parties/{id}/review", post(review))
        .route("/v1/cases/{id}/due-diligence", post(complete_from_case))
}

/// Opens the party records in the server's database and loads the index; the third value is
/// the records' version as loaded ([`PartyStore::parties_version`]: the last audit seq).
pub fn open(rs: &Ruleset, db: &FsPath) -> Result<(Box<dyn PartyStore>, Parties, u64), String> {
    // The server's database, SQLite or PostgreSQL: party records are shared by every server
    // on one PostgreSQL database.
    let url = if crate::db::is_postgres(db) {
        db.to_string_lossy().into_owned()
    } else {
        format!("sqlite://{}", db.display())
    };
    let mut store = exportgate_store::open_party_store(&url).map_err(|e| e.to_string())?;
    // The version first: a record written meanwhile is read again by the watcher.
    let seen = store.parties_version().map_err(|e| e.to_string())?;
    let texts = store.party_texts().map_err(|e| e.to_string())?;
    Ok((store, Parties::new(Parties::parse_index(rs, texts)?), seen))
}

/// Records written by other processes (another server, `exportgate parties add|review`) into
/// the server's index: when the records' version passed the last one seen, the records
/// changed since are read and put in a new index, which replaces the old. One index lookup
/// when nothing changed. Run by `serve`'s watcher every [`crate::WATCH_EVERY`]; returns how
/// many records were read. A stored record that no longer validates is an error and leaves
/// the index as it was (the watcher logs it).
pub fn refresh(st: &crate::AppState) -> Result<usize, String> {
    use std::sync::atomic::Ordering;
    let seen = st.parties_seen.load(Ordering::Acquire);
    // Under the store's lock, as `write`, so the index is replaced in the order of writes.
    let mut store = st.party_store.lock().unwrap_or_else(|e| e.into_inner());
    let version = store.parties_version().map_err(|e| e.to_string())?;
    if version <= seen {
        return Ok(0);
    }
    let rows = store.parties_since(seen).map_err(|e| e.to_string())?;
    let mut ix = (*st.parties.current()).clone();
    let mut last = seen;
    for row in &rows {
        last = last.max(row.audit_seq);
        let p = checked(st.rs, row.record.clone()).map_err(|e| e.message)?;
        ix.insert(p, st.rs);
    }
    st.parties.replace(ix);
    st.parties_seen.store(last, Ordering::Release);
    Ok(rows.len())
}

fn checked(rs: &Ruleset, v: Value) -> Result<CheckedParty, ApiError> {
    let id = v["id"].as_str().unwrap_or("?").to_string();
    let record: PartyRecord = serde_json::from_value(v)
        .map_err(|e| ApiError::internal(format!("stored party `{id}` is unreadable: {e}")))?;
    CheckedParty::new(record, rs).map_err(|e| {
        ApiError::internal(format!("stored party `{id}`: `{}`: {}", e.field, e.problem))
    })
}

fn store_error(e: StoreError) -> ApiError {
    ApiError::internal(e)
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn now() -> Timestamp {
    Timestamp::from_micros(Utc::now().timestamp_micros())
}

/// Writes a checked record with its audit record, then replaces the server's index.
fn write(st: &Shared, p: CheckedParty, event: &str, actor: &str) -> Result<PartyRecord, ApiError> {
    let r = &p.record;
    let v = serde_json::to_value(r).map_err(ApiError::internal)?;
    let review_by = r.review_by.to_string();
    let w = PartyWrite {
        id: &r.id,
        name: &r.name,
        country: &r.country,
        review_by: &review_by,
        record: &v,
        event,
    };
    let mut store = st.party_store.lock().unwrap_or_else(|e| e.into_inner());
    store
        .put_party(&w, actor, now())
        .map_err(store_error)?
        .map_err(|c| match c {
            PartyConflict::Exists(id) => {
                ApiError::conflict("id", format!("party `{id}` already exists; review it"))
            }
            PartyConflict::Missing(id) => {
                ApiError::not_found("id", format!("party `{id}` not found"))
            }
        })?;
    // The index is replaced while the store is locked, so writes apply in order.
    let mut ix = (*st.parties.current()).clone();
    let record = p.record.clone();
    ix.insert(p, st.rs);
    st.parties.replace(ix);
    Ok(record)
}

fn get_record(st: &Shared, id: &str) -> Result<PartyRecord, ApiError> {
    let row = st
        .party_store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .party(id)
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found("id", format!("party `{id}` not found")))?;
    Ok(checked(st.rs, row.record)?.record)
}

/// `GET /v1/parties`: every record, with whether it is current today.
pub async fn list(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
) -> Result<Response, ApiError> {
    let rows = st
        .party_store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .parties()
        .map_err(store_error)?;
    let today = today();
    let mut out = Vec::new();
    for row in rows {
        let p = checked(st.rs, row.record)?.record;
        out.push(json!({"id": p.id, "name": p.name, "country": p.country,
            "review_by": p.review_by, "current": today <= p.review_by, "facts": p.facts.len()}));
    }
    Ok(Json(out).into_response())
}

/// `POST /v1/parties`: add a record (400 naming the field; 409 when the id exists).
pub async fn add(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Reviewer>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let v: Value = parse_json(&b)?;
    let record: PartyRecord =
        serde_json::from_value(v).map_err(|e| ApiError::bad("body", e.to_string()))?;
    let p = CheckedParty::new(record, st.rs).map_err(|e| ApiError::bad(e.field, e.problem))?;
    let r = write(&st, p, "party_added", &who.actor())?;
    Ok((StatusCode::CREATED, Json(r.view(today()))).into_response())
}

/// `GET /v1/parties/{id}`: the record, its facts' ages, and the review cases of its orders.
pub async fn show(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let p = get_record(&st, &id)?;
    let mut v = p.view(today());
    v["orders"] = Value::Array(orders_of(&st, &id)?);
    Ok(Json(v).into_response())
}

/// The review cases whose decision drew on party `id`.
fn orders_of(st: &Shared, id: &str) -> Result<Vec<Value>, ApiError> {
    let needle = serde_json::to_string(id).map_err(ApiError::internal)?;
    let cases =
        crate::db::cases_mentioning(&st.conn(), &needle, 200).map_err(ApiError::internal)?;
    let mut out = Vec::new();
    for c in cases {
        let (case, order, outcome, status, created) =
            (c.id, c.order_id, c.outcome, c.status, c.created_at);
        let d = &c.decision;
        let uses = d["due_diligence"]["parties"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["id"] == id));
        if uses {
            out.push(json!({"case": case, "order": order, "outcome": outcome,
                "status": status, "created_at": created}));
        }
    }
    Ok(out)
}

/// A review: facts to set (each established on `on`, today by default, by the reviewer) and
/// the next review date.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    #[serde(default)]
    pub facts: serde_json::Map<String, Value>,
    #[serde(default)]
    pub on: Option<NaiveDate>,
    #[serde(default)]
    pub review_by: Option<NaiveDate>,
    /// Which party of the case (`POST /v1/cases/{id}/due-diligence` only); the consignee's
    /// record by default.
    #[serde(default)]
    pub party_id: Option<String>,
}

fn apply(st: &Shared, id: &str, r: &Review, by: &str) -> Result<PartyRecord, ApiError> {
    if r.facts.is_empty() && r.review_by.is_none() {
        return Err(ApiError::bad(
            "facts",
            "nothing to review: give facts or review_by",
        ));
    }
    let mut p = get_record(st, id)?;
    let facts: Vec<(String, Value)> = r
        .facts
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    p.review(&facts, by, r.on.unwrap_or_else(today), r.review_by);
    let p = CheckedParty::new(p, st.rs).map_err(|e| ApiError::bad(e.field, e.problem))?;
    write(st, p, "party_reviewed", by)
}

/// `POST /v1/parties/{id}/review`.
pub async fn review(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Reviewer>,
    Path(id): Path<String>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let r: Review = parse_json(&b)?;
    let p = apply(&st, &id, &r, &who.actor())?;
    Ok(Json(p.view(today())).into_response())
}

/// `POST /v1/cases/{id}/due-diligence`: complete the party record of a held case (the
/// consignee's, or `party_id`), then decide the case's order again through the pipeline and
/// return the new decision (the case itself is released or blocked as before).
pub async fn complete_from_case(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Reviewer>,
    Path(case): Path<i64>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let r: Review = parse_json(&b)?;
    let found = crate::db::get_case(&st.conn(), case).map_err(ApiError::internal)?;
    let found = found.ok_or_else(|| ApiError::not_found("id", format!("case {case} not found")))?;
    let order_json = found.order.to_string();
    let decision: Value = found.decision;
    let party = match &r.party_id {
        Some(p) => p.clone(),
        None => decision["due_diligence"]["parties"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["role"] == "consignee"))
            .and_then(|p| p["id"].as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::bad(
                    "party_id",
                    "the case's consignee has no party record: add one (POST /v1/parties) or \
                     name it",
                )
            })?,
    };
    let record = apply(&st, &party, &r, &who.actor())?;
    let order = Order::from_json(&order_json).map_err(ApiError::internal)?;
    let decided = st
        .pipeline
        .decide(0, &order, &NoQuotas)
        .map_err(|e| ApiError::bad(e.field, e.message))?;
    if exportgate_pipeline::quotas::depends_on_earlier_lines(&decided) {
        // Fail closed: its decision depends on what shipped before it (LPP); decide it again
        // with its book.
        return Err(ApiError::conflict(
            "id",
            "the party record is updated, but this order's decision depends on earlier orders \
             (LPP): decide it again with POST /v1/check",
        ));
    }
    let decided = exportgate_pipeline::wire::to_value(&decided).map_err(ApiError::internal)?;
    st.store()
        .append_decision(
            &who.actor(),
            now(),
            &json!({"event": "case_redecided", "case": case, "party": party,
                "decision": decided}),
        )
        .map_err(|e| ApiError::internal(format!("audit log: {e}")))?;
    Ok(
        Json(json!({"case": case, "party": record.view(today()), "decision": decided}))
            .into_response(),
    )
}
