//! The decision endpoints: check and ship (through the decision pipeline), classify, screen, regimes and countries (for the map), and
//! the health, readiness and metrics endpoints.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use exportgate_core::rules::CountrySet;
use exportgate_core::{Context, Decision, ItemRef, Order, Outcome, Ruleset, Spec};
use exportgate_ledger::{LedgerStore, Timestamp};
use exportgate_pipeline::check::{self, CheckRun};
use exportgate_pipeline::ship::Shipper;
use exportgate_pipeline::wire;
use exportgate_pipeline::{LineError, LineResult, Parsed, Pipeline, PipelineError};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{min, Auth, Principal};
use crate::error::{parse_json, ApiError, ErrorBody};
use crate::extract::{QueryMap, QueryPairs, RawBody};
use crate::Shared;

/// The body of a request, or 413 / 400 as JSON.
pub fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "body",
                format!("the request body is over {} bytes", crate::BODY_LIMIT),
            )
        } else {
            ApiError::new(
                if status.is_client_error() {
                    status
                } else {
                    StatusCode::BAD_REQUEST
                },
                "body",
                e.body_text(),
            )
        }
    })
    // A UTF-8 byte-order mark (as some Windows tools write) before the JSON is accepted.
    .map(|b| {
        if b.starts_with(b"\xEF\xBB\xBF") {
            b.slice(3..)
        } else {
            b
        }
    })
}

/// The query string as a map, or 400.
pub fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>, ApiError> {
    q.map(|Query(m)| m)
        .map_err(|e| ApiError::bad("query", e.body_text()))
}

/// A date query parameter (today when absent).
pub fn date_param(q: &HashMap<String, String>, name: &str) -> Result<NaiveDate, ApiError> {
    match q.get(name) {
        None => Ok(chrono::Utc::now().date_naive()),
        Some(s) => s
            .parse::<NaiveDate>()
            .map_err(|_| ApiError::bad(name, format!("`{s}` is not a date (YYYY-MM-DD)"))),
    }
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", responses(
    (status = 200, description = "Database reachable; lists state"),
    (status = 503, description = "Database unreachable")))]
pub async fn readyz(State(st): State<Shared>) -> Response {
    let db_ok = st.conn().ping();
    let body = json!({
        "status": if db_ok { "ready" } else { "not_ready" },
        "database": db_ok,
        "lists_loaded": st.source.has_lists(),
    });
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(st): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(st.started.elapsed()),
    )
        .into_response()
}

/// A response of JSON text.
fn json_text(text: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text.into()).into_response()
}

/// Room reserved for one decision's JSON (a decision with nine red flags is about 3.5 KB).
const DECISION_BUFFER: usize = 8 * 1024;

fn field_in(prefix: &str, field: &str) -> String {
    let field = if field == "line" { "body" } else { field };
    if prefix.is_empty() {
        field.to_string()
    } else if field == "body" {
        prefix.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// The pipeline for `?regime=ID` (repeatable: regimes evaluated as if in force, as the CLI's
/// `--regime`), or `None` for the server's own pipeline. Any other parameter is a 400.
fn forced_pipeline(
    st: &Shared,
    q: &[(String, String)],
) -> Result<Option<Pipeline<'static>>, ApiError> {
    let mut regimes = Vec::new();
    for (k, v) in q {
        match k.as_str() {
            "regime" => regimes.push(v.clone()),
            other => {
                return Err(ApiError::bad(
                    other.to_string(),
                    "unknown parameter; use regime",
                ))
            }
        }
    }
    if regimes.is_empty() {
        return Ok(None);
    }
    Pipeline::new(st.rs, &regimes, st.source)
        .map(|p| Some(p.with_parties(st.parties)))
        .map_err(|e| match e {
            PipelineError::UnknownRegime { index, id, known } => ApiError::bad(
                format!("regime[{index}]"),
                format!("unknown regime `{id}`; known: {}", known.join(", ")),
            ),
            other => ApiError::internal(other),
        })
}

/// A pipeline failure: the ledger's is a server failure (never bad input).
fn pipeline_error(e: PipelineError) -> ApiError {
    match e {
        PipelineError::UnknownRegime { id, .. } => {
            ApiError::bad("regime", format!("unknown regime `{id}`"))
        }
        other => ApiError::internal(other),
    }
}

/// The orders of a request body: one order, or an array of up to [`crate::MAX_ORDERS`]. Each
/// comes with its index (the "line" of its error record) and the prefix of its field names
/// (`[3]` in an array, nothing for one order).
struct Body {
    array: bool,
    orders: Vec<(String, Parsed)>,
}

fn parse_order(text: &str, index: usize, prefix: &str) -> Parsed {
    match Order::from_json(text) {
        Ok(o) => (index, Ok(o)),
        Err(e) => {
            let parsed = serde_json::from_str::<Value>(text);
            // Malformed JSON is the body's fault, whatever field the parser had reached.
            let field = match &parsed {
                Err(_) => field_in(prefix, "body"),
                Ok(_) => field_in(prefix, &e.field),
            };
            let id = parsed
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(str::to_string));
            (
                index,
                Err(LineError {
                    line: index,
                    id,
                    field,
                    message: e.problem,
                }),
            )
        }
    }
}

fn parse_body(bytes: &[u8]) -> Result<Body, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ApiError::bad("body", "not valid UTF-8"))?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ApiError::bad(
            "body",
            "the request body is empty; send an order as JSON",
        ));
    }
    if !trimmed.starts_with('[') {
        return Ok(Body {
            array: false,
            orders: vec![(String::new(), parse_order(text, 0, ""))],
        });
    }
    let items: Vec<Box<serde_json::value::RawValue>> = parse_json(text.as_bytes())?;
    if items.len() > crate::MAX_ORDERS {
        return Err(ApiError::bad(
            "body",
            format!(
                "at most {} orders per request, got {}",
                crate::MAX_ORDERS,
                items.len()
            ),
        ));
    }
    let orders = items
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let prefix = format!("[{i}]");
            let parsed = parse_order(raw.get(), i, &prefix);
            (prefix, parsed)
        })
        .collect();
    Ok(Body {
        array: true,
        orders,
    })
}

/// An error record's field, prefixed with the order's place in an array.
fn prefixed(prefix: &str, mut e: LineError) -> LineError {
    if !e.field.starts_with(prefix) || prefix.is_empty() {
        e.field = field_in(prefix, &e.field);
    }
    e
}

/// The response: one decision (or 400 for one bad order), or an array of decisions and error
/// records in order.
fn respond(array: bool, items: Vec<Result<Vec<u8>, LineError>>) -> Result<Response, ApiError> {
    if !array {
        return match items.into_iter().next() {
            Some(Ok(t)) => Ok(json_text(t)),
            Some(Err(e)) => Err(ApiError::bad(e.field, e.message)),
            None => Err(ApiError::internal("no result")),
        };
    }
    let mut out = b"[".to_vec();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match item {
            Ok(t) => out.extend_from_slice(&t),
            Err(e) => out.extend_from_slice(
                json!({"index": e.line, "id": e.id, "error": {"field": e.field, "message": e.message}})
                    .to_string()
                    .as_bytes(),
            ),
        }
    }
    out.push(b']');
    Ok(json_text(out))
}

/// Renders a decision, opening a review case if it needs a person. `lpp_before` is the LPP
/// its consignee had used before it (for the case's rule trace).
fn render_checked(
    st: &Shared,
    who: &Principal,
    pipeline: &Pipeline<'static>,
    order: &Order,
    d: &Decision,
    lpp_before: f64,
) -> Result<Vec<u8>, ApiError> {
    st.metrics.decisions.fetch_add(1, Ordering::Relaxed);
    let mut why = Vec::new();
    if d.outcome == Outcome::HoldForReview {
        why.push("decision is hold_for_review".to_string());
    }
    for h in &d.screening.hits {
        if !h.certain && h.cleared.is_none() {
            why.push(format!(
                "{} `{}` may be {} entry `{}` (score {:.2}, below certainty)",
                h.party, h.query, h.list, h.name, h.score
            ));
        }
    }
    // The common case (no review) serialises the decision once, straight to text, into a
    // buffer big enough for most decisions (growing it copies).
    if why.is_empty() {
        let mut buf = Vec::with_capacity(DECISION_BUFFER);
        sonic_rs::to_writer(&mut buf, &wire::json(d)).map_err(ApiError::internal)?;
        return Ok(buf);
    }
    let mut value = wire::to_value(d).map_err(ApiError::internal)?;
    let id = crate::cases::open(st, who, pipeline, order, &value, lpp_before, &why)?;
    if let Value::Object(m) = &mut value {
        m.insert("review_case".into(), json!(id));
    }
    Ok(value.to_string().into_bytes())
}

#[utoipa::path(post, path = "/v1/check",
    params(("regime" = Option<Vec<String>>, Query, description = "A regime to evaluate as if in force (repeatable), as the CLI's `--regime`: `ai-diffusion-2025`")),
    request_body(content = Object, description = "One order, or an array of up to 1000 orders, as JSON (the CLI's JSONL line format)"),
    responses(
        (status = 200, description = "The decision (or, for an array, one decision or error record per order, in order), as `exportgate check --db` decides it: licences and LPP use on the ledger count; nothing is written to the ledger. `review_case` is set when a case was opened", body = Object),
        (status = 400, description = "Malformed JSON, an invalid field or an unknown regime", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn check(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Submitter>,
    QueryPairs(q): QueryPairs,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let forced = forced_pipeline(&st, &q)?;
    let body = parse_body(&b)?;
    if body.orders.len() <= BATCH_INLINE {
        let pipeline = forced.as_ref().unwrap_or(&st.pipeline);
        let first = first_pass(pipeline, &body);
        // On PostgreSQL the database may be touched only off the worker: an order that reads
        // the ledger or may open a case goes to the blocking pool with its first pass.
        if !st.offload || !first.iter().any(|r| r.as_ref().is_ok_and(touches_database)) {
            return check_orders(&st, &who, pipeline, body, first);
        }
        return tokio::task::spawn_blocking(move || {
            let pipeline = forced.as_ref().unwrap_or(&st.pipeline);
            check_orders(&st, &who, pipeline, body, first)
        })
        .await
        .map_err(ApiError::internal)?;
    }
    // A batch may open many review cases (each a durable audit append) and lock the ledger:
    // it runs on the blocking pool, so this worker's other connections (and `/healthz`) are
    // answered meanwhile.
    tokio::task::spawn_blocking(move || {
        let pipeline = forced.as_ref().unwrap_or(&st.pipeline);
        let first = first_pass(pipeline, &body);
        check_orders(&st, &who, pipeline, body, first)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Could completing and rendering this first-pass decision touch the database: read the
/// ledger, or open a review case (a hold, or a screening hit below certainty not cleared)?
fn touches_database(d: &Decision) -> bool {
    check::waits(d, true)
        || d.outcome == Outcome::HoldForReview
        || d.screening
            .hits
            .iter()
            .any(|h| !h.certain && h.cleared.is_none())
}

/// The pipeline's first pass over a `POST /v1/check` body.
fn first_pass(pipeline: &Pipeline<'static>, body: &Body) -> Vec<LineResult> {
    body.orders
        .iter()
        .map(|(prefix, (i, parsed))| match parsed {
            Ok(order) => pipeline.first(*i, order).map_err(|e| prefixed(prefix, e)),
            Err(e) => Err(e.clone()),
        })
        .collect()
}

/// Orders in a `POST /v1/check` body at most that are decided on the worker itself; larger
/// batches go to the blocking pool.
const BATCH_INLINE: usize = 1;

/// Decides the orders of a `POST /v1/check` body (blocking: may lock the ledger and open cases).
fn check_orders(
    st: &Shared,
    who: &Principal,
    pipeline: &Pipeline<'static>,
    body: Body,
    first: Vec<LineResult>,
) -> Result<Response, ApiError> {
    // After the first pass ([`first_pass`]), every order completed in order; the ledger is
    // locked only when an order needs it (LPP usage, or a licence that may cover it).
    let needs_ledger = first
        .iter()
        .any(|r| r.as_ref().is_ok_and(|d| check::waits(d, true)));
    let mut run = CheckRun::new();
    let mut done: Vec<(LineResult, f64)> = Vec::with_capacity(first.len());
    {
        let mut guard = needs_ledger.then(|| st.store());
        for ((prefix, (i, parsed)), r) in body.orders.iter().zip(first) {
            let (order, d) = match (parsed, r) {
                (Ok(order), Ok(d)) => (order, d),
                (_, Err(e)) => {
                    done.push((Err(e), 0.0));
                    continue;
                }
                (Err(e), _) => {
                    done.push((Err(e.clone()), 0.0));
                    continue;
                }
            };
            let store = guard.as_mut().map(|g| &mut ***g as &mut dyn LedgerStore);
            let r = pipeline
                .complete(&mut run, store, *i, order, d)
                .map_err(pipeline_error)?
                .map_err(|e| prefixed(prefix, e));
            let before = r.as_ref().map_or(0.0, |d| run.lpp_before(order, d));
            done.push((r, before));
        }
    }
    let mut items = Vec::with_capacity(done.len());
    for ((_, (_, parsed)), (r, before)) in body.orders.iter().zip(done) {
        items.push(match (parsed, r) {
            (Ok(order), Ok(d)) => Ok(render_checked(st, who, pipeline, order, &d, before)?),
            (_, Err(e)) => Err(e),
            (Err(e), Ok(_)) => Err(e.clone()),
        });
    }
    respond(body.array, items)
}

#[utoipa::path(post, path = "/v1/ship",
    params(("regime" = Option<Vec<String>>, Query, description = "A regime to evaluate as if in force (repeatable), as the CLI's `--regime`")),
    request_body(content = Object, description = "One order, or an array of up to 1000 orders, as JSON (the CLI's JSONL line format)"),
    responses(
        (status = 200, description = "Each order decided and drawn as `exportgate ship` does: LPP and licences are reserved and posted on the ledger in the transaction that checks the limit, and every decision is appended to the audit log. Idempotent by order id: the same order id sent again replays the recorded ledger replies and draws nothing. An order id repeated within one request is an error record for the later ones", body = Object),
        (status = 400, description = "Malformed JSON, an invalid field or an unknown regime", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ship(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Submitter>,
    QueryPairs(q): QueryPairs,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let forced = forced_pipeline(&st, &q)?;
    let pipeline = forced.as_ref().unwrap_or(&st.pipeline);
    let body = parse_body(&b)?;
    let prefixes: Vec<String> = body.orders.iter().map(|(p, _)| p.clone()).collect();
    let lines: Vec<Parsed> = body.orders.into_iter().map(|(_, p)| p).collect();
    let mut clock = || Timestamp::from(chrono::Utc::now());
    let mut shipper = Shipper {
        actor: who.actor(),
        command: "POST /v1/ship".into(),
        book: "request",
        now: &mut clock,
    };
    let results = {
        let mut store = st.store();
        pipeline
            .ship_lines(lines, store.as_mut(), &mut shipper)
            .map_err(pipeline_error)?
    };
    let mut items = Vec::with_capacity(results.len());
    for (prefix, r) in prefixes.iter().zip(results) {
        items.push(match r {
            Ok(d) => {
                st.metrics.decisions.fetch_add(1, Ordering::Relaxed);
                let mut buf = Vec::with_capacity(DECISION_BUFFER);
                sonic_rs::to_writer(&mut buf, &wire::json(&d)).map_err(ApiError::internal)?;
                Ok(buf)
            }
            Err(e) => Err(prefixed(prefix, e)),
        });
    }
    respond(body.array, items)
}

/// `POST /v1/classify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyRequest {
    /// A catalog id (give this or `spec`).
    pub chip: Option<String>,
    /// An item's technical parameters (as `exportgate classify --spec`).
    #[schema(value_type = Option<Object>)]
    pub spec: Option<Value>,
    /// The date to classify as of (YYYY-MM-DD); today by default.
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<NaiveDate>,
    /// Evaluate as if these regimes were in force too.
    #[serde(default)]
    pub regimes: Vec<String>,
}

fn check_regimes(rs: &Ruleset, ids: &[String], field: &str) -> Result<(), ApiError> {
    for (i, id) in ids.iter().enumerate() {
        if rs.regime(id).is_none() {
            let known: Vec<&str> = rs.regimes().iter().map(|r| r.id.as_str()).collect();
            return Err(ApiError::bad(
                format!("{field}[{i}]"),
                format!("unknown regime `{id}`; known: {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

#[utoipa::path(post, path = "/v1/classify", request_body = ClassifyRequest,
    responses((status = 200, description = "The classification with reasons", body = Object),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn classify(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let req: ClassifyRequest = parse_json(&b)?;
    check_regimes(st.rs, &req.regimes, "regimes")?;
    let owned;
    let item = match (&req.chip, &req.spec) {
        (Some(_), Some(_)) => return Err(ApiError::bad("spec", "give `chip` or `spec`, not both")),
        (Some(id), None) => {
            let e = st.rs.catalog.get(id).ok_or_else(|| {
                let e = st.rs.catalog.unknown(id, "chip");
                ApiError::bad(e.field, e.problem)
            })?;
            ItemRef {
                chip: Some(&e.id),
                spec: &e.spec,
            }
        }
        (None, Some(v)) => {
            owned = Spec::from_json(&v.to_string())
                .map_err(|e| ApiError::bad(field_in("spec", &e.field), e.problem))?;
            ItemRef {
                chip: None,
                spec: &owned,
            }
        }
        (None, None) => {
            return Err(ApiError::bad(
                "chip",
                "give `chip` (a catalog id) or `spec`",
            ))
        }
    };
    let ctx = Context {
        as_of: req.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        forced: req.regimes,
    };
    let c = exportgate_core::classify(st.rs, item, &ctx)
        .map_err(|e| ApiError::bad(field_in("spec", &e.field), e.problem))?;
    Ok(Json(c).into_response())
}

/// `POST /v1/screen` (or the same as query parameters of `GET /v1/screen`).
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ScreenRequest {
    /// The party's name.
    pub name: String,
    /// Its country (ISO alpha-2 or a name), as supporting evidence.
    pub country: Option<String>,
    /// The screening date (allow-list clearances expire); today by default.
    #[schema(value_type = Option<String>, format = Date)]
    #[param(value_type = Option<String>)]
    pub as_of: Option<NaiveDate>,
}

fn screen(st: &Shared, req: ScreenRequest) -> Result<Response, ApiError> {
    let as_of = req.as_of.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let party = exportgate_screen::Party {
        name: req.name,
        country: req.country,
    };
    match st.source.screen_full(&party, as_of) {
        None => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "lists",
            "no screening lists are loaded on this server (start it with --lists FILE or import lists)",
        )),
        Some(Err(e)) => Err(ApiError::bad("name", e.to_string())),
        Some(Ok(r)) => {
            let lists: Vec<Value> = st
                .source
                .screener()
                .map(|s| {
                    s.list_versions()
                        .iter()
                        .map(|v| json!({"source": v.source, "data_date": v.data_date, "entries": v.entry_count, "sha256": v.sha256}))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Json(json!({"party": party, "as_of": as_of, "lists": lists, "hits": r.hits}))
                .into_response())
        }
    }
}

#[utoipa::path(get, path = "/v1/screen", params(ScreenRequest),
    responses((status = 200, description = "Every hit with its explanation (tokens matched, feature scores)", body = Object),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn screen_get(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    QueryMap(mut q): QueryMap,
) -> Result<Response, ApiError> {
    for k in q.keys() {
        if !matches!(k.as_str(), "name" | "country" | "as_of") {
            return Err(ApiError::bad(
                k.clone(),
                "unknown parameter; use name, country, as_of",
            ));
        }
    }
    let name = q
        .remove("name")
        .ok_or_else(|| ApiError::bad("name", "is missing"))?;
    let as_of = match q.get("as_of") {
        Some(_) => Some(date_param(&q, "as_of")?),
        None => None,
    };
    screen(
        &st,
        ScreenRequest {
            name,
            country: q.remove("country"),
            as_of,
        },
    )
}

#[utoipa::path(post, path = "/v1/screen", request_body = ScreenRequest,
    responses((status = 200, description = "Every hit with its explanation", body = Object),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn screen_post(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let req: ScreenRequest = parse_json(&b)?;
    screen(&st, req)
}

#[utoipa::path(get, path = "/v1/regimes",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; today by default")),
    responses((status = 200, description = "Every regime and its state on the date (as `exportgate regimes --format json`)", body = Object),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn regimes(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let as_of = date_param(&q, "as_of")?;
    let ctx = Context {
        as_of,
        forced: Vec::new(),
    };
    let rs = st.rs;
    let rows = rs.summaries(&ctx);
    Ok(Json(json!({"as_of": as_of, "regimes": rows})).into_response())
}

/// The AI Diffusion regime's id.
const DIFFUSION: &str = "ai-diffusion-2025";

#[utoipa::path(get, path = "/v1/countries",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; today by default")),
    responses((status = 200, description = "Every country with its Country Groups and AI Diffusion tier on the date", body = Object),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn countries(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let as_of = date_param(&q, "as_of")?;
    let rs = st.rs;
    let diffusion = rs.regime(DIFFUSION);
    let state = diffusion.map(|r| {
        rs.state(
            r,
            &Context {
                as_of,
                forced: Vec::new(),
            },
        )
    });
    let tiers: Vec<(&String, &CountrySet)> = rs
        .regime_rules(DIFFUSION)
        .map(|r| {
            r.sets()
                .iter()
                .filter(|(k, _)| k.starts_with("tier"))
                .collect()
        })
        .unwrap_or_default();
    let list: Vec<Value> = rs
        .countries
        .all()
        .map(|c| {
            let tier = tiers
                .iter()
                .find(|(_, s)| rs.contains(s, &c.code, as_of))
                .map(|(k, _)| k.as_str());
            json!({
                "code": c.code,
                "name": c.name,
                "groups": rs.countries.groups_of(&c.code, as_of),
                "diffusion_tier": tier,
            })
        })
        .collect();
    let groups: Vec<Value> = rs
        .countries
        .group_names()
        .map(|g| json!({"id": g, "title": rs.countries.group_title(g), "citation": rs.countries.group_citation(g)}))
        .collect();
    Ok(Json(json!({
        "as_of": as_of,
        "groups": groups,
        "diffusion": {"regime": DIFFUSION, "state": state},
        "countries": list,
    }))
    .into_response())
}
