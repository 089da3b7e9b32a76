//! The review workflow. A decision that needs a person (`hold_for_review`, or a screening hit
//! below certainty that no clearance covers) opens a case holding the order, the decision, the
//! rule trace and the full screening explanation. A reviewer releases the case (with a reason,
//! optionally clearing its uncertain hits on the allow-list until a date) or blocks it; a
//! reviewer can never release a case they submitted: the rule compares persons (the user a key
//! belongs to), not keys, so a second key for the same person does not get round it. Opening,
//! releasing and blocking are each appended to the hash-chained audit log with who and when.
//!
//! Lock order everywhere: server tables (`db`), then the ledger store. On PostgreSQL a
//! resolution also holds the case's row lock (`SELECT ... FOR UPDATE`) from its check to its
//! commit, so two servers resolving one case at once resolve it once: the second waits, then
//! finds it resolved (409), and appends nothing to the audit log.

use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use exportgate_core::Order;
use exportgate_ledger::Timestamp;
use exportgate_pipeline::quotas::FixedLpp;
use exportgate_pipeline::Pipeline;
use exportgate_screen::{AllowEntry, AllowList, Party};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::{min, Auth, Principal};
use crate::db::{self, Case, NewCase};
use crate::error::{parse_json, ApiError, ErrorBody};
use crate::extract::{QueryMap, RawBody};
use crate::Shared;

fn now() -> Timestamp {
    Timestamp::from_micros(Utc::now().timestamp_micros())
}

/// Open a case for a decision; returns the case id.
pub fn open(
    st: &Shared,
    who: &Principal,
    pipeline: &Pipeline<'static>,
    order: &Order,
    decision: &Value,
    lpp_before: f64,
    why: &[String],
) -> Result<i64, ApiError> {
    // The same order with the same decision while its case is open: that case, not another.
    let decision_text = decision.to_string();
    if let Some(id) =
        db::open_case_for(&st.conn(), &order.id, &decision_text).map_err(ApiError::internal)?
    {
        return Ok(id);
    }
    // The rule trace: the same decision again, with the trace kept and the LPP its consignee
    // had used before it.
    let tracer = Pipeline::new(st.rs, pipeline.forced(), st.source)
        .map_err(ApiError::internal)?
        .with_trace(true)
        .with_parties(st.parties);
    let trace = match tracer.decide(0, order, &FixedLpp::for_order(order, lpp_before)) {
        Ok(d) => serde_json::to_value(&d.trace).map_err(ApiError::internal)?,
        Err(e) => json!([{"error": format!("field `{}`: {}", e.field, e.message)}]),
    };
    let mut screening = Vec::new();
    let parties = std::iter::once(("consignee", &order.consignee))
        .chain(order.end_user.as_ref().map(|p| ("end_user", p)));
    for (role, p) in parties {
        let party = Party {
            name: p.name.to_string(),
            country: p.country.as_deref().map(str::to_string),
        };
        if let Some(Ok(r)) = st.source.screen_full(&party, order.date) {
            screening
                .push(json!({"party": role, "name": p.name, "country": p.country, "hits": r.hits}));
        }
    }
    let screening = Value::Array(screening);
    let order_value = serde_json::to_value(order).map_err(ApiError::internal)?;
    let outcome = decision
        .get("outcome")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let conn = st.conn();
    // Checked again under the lock held through the insert (two requests at once).
    if let Some(id) =
        db::open_case_for(&conn, &order.id, &decision_text).map_err(ApiError::internal)?
    {
        return Ok(id);
    }
    let id = db::insert_case(
        &conn,
        &NewCase {
            submitted_by: &who.id,
            submitted_name: &who.name,
            submitted_user: who.user_id,
            order_id: &order.id,
            outcome: &outcome,
            why,
            order: &order_value,
            decision,
            trace: &trace,
            screening: &screening,
            audit_seq: 0,
        },
    )
    .map_err(ApiError::internal)?;
    let record = json!({
        "event": "case_opened",
        "case": id,
        "order_id": order.id,
        "outcome": outcome,
        "why": why,
        "decision": decision,
    });
    let seq = st.store().append_decision(&who.actor(), now(), &record);
    match seq {
        Ok(seq) => {
            db::set_case_audit_seq(&conn, id, seq as i64).map_err(ApiError::internal)?;
        }
        Err(e) => {
            // Fail closed: a case whose opening is not in the audit log does not exist.
            let _ = db::delete_case(&conn, id);
            return Err(ApiError::internal(format!("audit log: {e}")));
        }
    }
    st.metrics.cases_opened.fetch_add(1, Ordering::Relaxed);
    Ok(id)
}

fn case_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad("id", format!("`{raw}` is not a case id")))
}

#[utoipa::path(get, path = "/v1/cases",
    params(("status" = Option<String>, Query, description = "open (default), released, blocked or all"),
        ("limit" = Option<u32>, Query, description = "at most this many (default 500, max 10000)"),
        ("after" = Option<u64>, Query, description = "only cases with ids above this (paging: pass the last id of the previous page, also sent as the `x-next-after` header when the page is full)")),
    responses((status = 200, description = "The review queue, oldest first; a full page carries `x-next-after: <last id>`", body = [Case]),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Reviewer>,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let status = match q.get("status").map(String::as_str) {
        None | Some("open") => Some("open"),
        Some("released") => Some("released"),
        Some("blocked") => Some("blocked"),
        Some("all") => None,
        Some(other) => {
            return Err(ApiError::bad(
                "status",
                format!("`{other}` is not one of open, released, blocked, all"),
            ))
        }
    };
    let limit = match q.get("limit") {
        None => 500,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| ApiError::bad("limit", "must be a number from 1 to 10000"))?,
    };
    let after = match q.get("after") {
        None => 0,
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| ApiError::bad("after", "must be a non-negative integer (a case id)"))?
            .min(i64::MAX as u64) as i64,
    };
    let cases = db::list_cases(&st.conn(), status, after, limit).map_err(ApiError::internal)?;
    // A full page may have more after it: say where the next one starts.
    let next = (cases.len() == limit)
        .then(|| cases.last().map(|c| c.id))
        .flatten();
    let mut resp = Json(cases).into_response();
    if let Some(next) = next {
        if let Ok(v) = axum::http::HeaderValue::from_str(&next.to_string()) {
            resp.headers_mut().insert("x-next-after", v);
        }
    }
    Ok(resp)
}

#[utoipa::path(get, path = "/v1/cases/{id}",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, description = "The case: order, decision, rule trace, screening explanation", body = Case),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Reviewer>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = case_id(&raw)?;
    match db::get_case(&st.conn(), id).map_err(ApiError::internal)? {
        Some(c) => Ok(Json(c).into_response()),
        None => Err(ApiError::not_found("id", format!("no case {id}"))),
    }
}

/// `POST /v1/cases/{id}/release`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// Why the order may proceed.
    pub reason: String,
    /// Clear the case's uncertain screening hits on the allow-list until this date (inclusive).
    #[schema(value_type = Option<String>, format = Date)]
    pub allow_until: Option<NaiveDate>,
    /// Only these list entries (ids); all the case's uncertain hits by default.
    #[serde(default)]
    pub entries: Option<Vec<String>>,
}

/// `POST /v1/cases/{id}/block`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// Why the order must not proceed.
    pub reason: String,
}

fn reason(text: &str) -> Result<String, ApiError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ApiError::bad("reason", "must not be empty"));
    }
    if t.chars().count() > 2000 {
        return Err(ApiError::bad("reason", "at most 2000 characters"));
    }
    Ok(t.to_string())
}

/// Load an open case for resolution by `who`.
fn open_case(conn: &db::ServerDb, id: i64) -> Result<Case, ApiError> {
    let case = db::get_case(conn, id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("id", format!("no case {id}")))?;
    if case.status != "open" {
        return Err(ApiError::conflict(
            "id",
            format!(
                "case {id} is already {} (by {})",
                case.status,
                case.resolved_name.as_deref().unwrap_or("?")
            ),
        ));
    }
    Ok(case)
}

/// The four-eyes rule: was `case` submitted by the person `who` (not just the key)? The same
/// key, the same user, or (fail closed, for cases stored without a user) the same name as
/// users are compared: trimmed, spaces collapsed, case ignored.
fn submitted_by(case: &Case, who: &Principal) -> bool {
    case.submitted_by == who.id
        || case.submitted_user == Some(who.user_id)
        || db::user_name_key(&case.submitted_name) == db::user_name_key(&who.user)
        || db::user_name_key(&case.submitted_name) == db::user_name_key(&who.name)
}

/// The case's hits below certainty not yet cleared: (party name, entry id, entry name).
fn uncertain_hits(case: &Case) -> Vec<(String, String, String)> {
    case.decision
        .pointer("/screening/hits")
        .and_then(Value::as_array)
        .map(|hits| {
            hits.iter()
                .filter(|h| h.get("certain") == Some(&Value::Bool(false)))
                .filter(|h| h.get("cleared").is_none_or(Value::is_null))
                .filter_map(|h| {
                    Some((
                        h.get("query")?.as_str()?.to_string(),
                        h.get("entry_id")?.as_str()?.to_string(),
                        h.get("name")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[utoipa::path(post, path = "/v1/cases/{id}/release",
    params(("id" = i64, Path, description = "Case id")),
    request_body = ReleaseRequest,
    responses((status = 200, description = "The released case", body = Case),
        (status = 400, body = ErrorBody), (status = 403, description = "Not a reviewer, or the reviewer submitted the case", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already resolved", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn release(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Reviewer>,
    Path(raw): Path<String>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let id = case_id(&raw)?;
    let req: ReleaseRequest = parse_json(&b)?;
    let why = reason(&req.reason)?;
    let today = Utc::now().date_naive();
    let conn = st.conn();
    let lock = conn.begin_case_lock(id).map_err(ApiError::internal)?;
    let done = release_locked(&st, &conn, &who, id, &req, why, today);
    lock.finish(done.is_ok()).map_err(ApiError::internal)?;
    let clearances = done?;
    if !clearances.is_empty() {
        let all = db::load_allow(&conn).map_err(ApiError::internal)?;
        st.source.set_allow_list(AllowList { entries: all });
    }
    let case = db::get_case(&conn, id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("case vanished"))?;
    Ok(Json(case).into_response())
}

/// The release of case `id`, under its lock: checks, audit record, resolution, clearances.
fn release_locked(
    st: &Shared,
    conn: &db::ServerDb,
    who: &Principal,
    id: i64,
    req: &ReleaseRequest,
    why: String,
    today: NaiveDate,
) -> Result<Vec<AllowEntry>, ApiError> {
    let case = open_case(conn, id)?;
    if submitted_by(&case, who) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "authorization",
            format!(
                "case {id} was submitted by {} (this key's user); another person must release it",
                who.user
            ),
        ));
    }
    let mut clearances = Vec::new();
    if let Some(until) = req.allow_until {
        if until < today {
            return Err(ApiError::bad(
                "allow_until",
                format!("{until} is in the past"),
            ));
        }
        if until > today + chrono::Days::new(3 * 366) {
            return Err(ApiError::bad("allow_until", "at most three years ahead"));
        }
        let hits = uncertain_hits(&case);
        if let Some(wanted) = &req.entries {
            for (i, e) in wanted.iter().enumerate() {
                if !hits.iter().any(|(_, id, _)| id == e) {
                    return Err(ApiError::bad(
                        format!("entries[{i}]"),
                        format!("`{e}` is not an uncertain hit of case {id}"),
                    ));
                }
            }
        }
        for (party, entry, _) in hits {
            if req.entries.as_ref().is_none_or(|w| w.contains(&entry)) {
                clearances.push(AllowEntry {
                    party_name: party,
                    entry,
                    reviewer: who.actor(),
                    reason: why.clone(),
                    expires: until,
                });
            }
        }
        if clearances.is_empty() {
            return Err(ApiError::bad(
                "allow_until",
                format!("case {id} has no uncertain screening hit to clear"),
            ));
        }
    } else if req.entries.is_some() {
        return Err(ApiError::bad(
            "entries",
            "give `allow_until` with `entries`",
        ));
    }
    let record = json!({
        "event": "case_released",
        "case": id,
        "order_id": case.order_id,
        "reason": why,
        "allow_list": clearances,
    });
    resolve(st, conn, who, id, "released", &why, &record)?;
    for c in &clearances {
        db::insert_allow(conn, c, id).map_err(ApiError::internal)?;
    }
    Ok(clearances)
}

#[utoipa::path(post, path = "/v1/cases/{id}/block",
    params(("id" = i64, Path, description = "Case id")),
    request_body = BlockRequest,
    responses((status = 200, description = "The blocked case", body = Case),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn block(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Reviewer>,
    Path(raw): Path<String>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let id = case_id(&raw)?;
    let req: BlockRequest = parse_json(&b)?;
    let why = reason(&req.reason)?;
    let conn = st.conn();
    let lock = conn.begin_case_lock(id).map_err(ApiError::internal)?;
    let done = open_case(&conn, id).and_then(|case| {
        let record = json!({
            "event": "case_blocked",
            "case": id,
            "order_id": case.order_id,
            "reason": why,
        });
        resolve(&st, &conn, &who, id, "blocked", &why, &record)
    });
    lock.finish(done.is_ok()).map_err(ApiError::internal)?;
    done?;
    let case = db::get_case(&conn, id)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("case vanished"))?;
    Ok(Json(case).into_response())
}

/// Audit first, then mark the case: a resolution is never recorded without its audit record.
fn resolve(
    st: &Shared,
    conn: &db::ServerDb,
    who: &Principal,
    id: i64,
    status: &str,
    why: &str,
    record: &Value,
) -> Result<(), ApiError> {
    let at = now();
    st.store()
        .append_decision(&who.actor(), at, record)
        .map_err(|e| ApiError::internal(format!("audit log: {e}")))?;
    let at_text = at.to_datetime().to_rfc3339();
    if !db::resolve_case(conn, id, status, &who.id, &who.name, &at_text, why)
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::conflict(
            "id",
            format!("case {id} is no longer open"),
        ));
    }
    Ok(())
}
