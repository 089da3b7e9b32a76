//! The decision endpoints: check, classify, screen, regimes and countries (for the map), and
//! the health, readiness and metrics endpoints.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use exportgate_core::decide::LppTally;
use exportgate_core::regime::SetExpr;
use exportgate_core::{Context, ItemRef, NoQuotas, Order, Outcome, QuotaView, Ruleset, Spec};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{require, Principal, Role};
use crate::error::{parse_json, ApiError, ErrorBody};
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
    let db_ok = st
        .conn()
        .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
        .is_ok();
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

/// One order's result within `POST /v1/check`.
enum Checked {
    /// The decision as JSON text (UTF-8).
    Decision(Vec<u8>),
    Error {
        field: String,
        message: String,
        id: Option<String>,
    },
}

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

/// Decide one order (screened as configured) and open a case if it needs a person.
fn check_one(
    st: &Shared,
    who: &Principal,
    text: &str,
    prefix: &str,
    quotas: &mut LppTally,
    tally: bool,
) -> Result<Checked, ApiError> {
    let order = match Order::from_json(text) {
        Ok(o) => o,
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
            return Ok(Checked::Error {
                field,
                message: e.problem,
                id,
            });
        }
    };
    let hits = match st.source.hits(&order) {
        Ok(h) => h,
        Err(m) => {
            return Ok(Checked::Error {
                field: field_in(prefix, m.split(':').next().unwrap_or("consignee.name")),
                message: m,
                id: Some(order.id.clone()),
            })
        }
    };
    let view: &dyn QuotaView = if tally { quotas } else { &NoQuotas };
    let d = match st.decider.decide(&order, view, st.source.screening(&hits)) {
        Ok(d) => d,
        Err(e) => {
            return Ok(Checked::Error {
                field: field_in(prefix, &e.field),
                message: e.problem,
                id: Some(order.id.clone()),
            })
        }
    };
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
    let text = if why.is_empty() {
        let mut buf = Vec::with_capacity(DECISION_BUFFER);
        sonic_rs::to_writer(&mut buf, &d).map_err(ApiError::internal)?;
        buf
    } else {
        let mut value = serde_json::to_value(&d).map_err(ApiError::internal)?;
        let id = crate::cases::open(st, who, &order, &value, view, &hits, &why)?;
        if let Value::Object(m) = &mut value {
            m.insert("review_case".into(), json!(id));
        }
        value.to_string().into_bytes()
    };
    if tally {
        quotas.record(&order.consignee.name, &d);
    }
    Ok(Checked::Decision(text))
}

#[utoipa::path(post, path = "/v1/check",
    request_body(content = Object, description = "One order, or an array of up to 1000 orders, as JSON (the CLI's JSONL line format)"),
    responses(
        (status = 200, description = "The decision (or, for an array, one decision or error record per order, in order); `review_case` is set when a case was opened", body = Object),
        (status = 400, description = "Malformed JSON or an invalid field", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn check(
    State(st): State<Shared>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let who = require(&st, &headers, Role::Submitter)?;
    let bytes = body(b)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::bad("body", "not valid UTF-8"))?;
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ApiError::bad(
            "body",
            "the request body is empty; send an order as JSON",
        ));
    }
    let mut quotas = LppTally::default();
    if trimmed.starts_with('[') {
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
        let mut out = b"[".to_vec();
        for (i, raw) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let prefix = format!("[{i}]");
            match check_one(&st, &who, raw.get(), &prefix, &mut quotas, true)? {
                Checked::Decision(t) => out.extend_from_slice(&t),
                Checked::Error { field, message, id } => out.extend_from_slice(
                    json!({"index": i, "id": id, "error": {"field": field, "message": message}})
                        .to_string()
                        .as_bytes(),
                ),
            }
        }
        out.push(b']');
        return Ok(json_text(out));
    }
    match check_one(&st, &who, text, "", &mut quotas, false)? {
        Checked::Decision(t) => Ok(json_text(t)),
        Checked::Error { field, message, .. } => Err(ApiError::bad(field, message)),
    }
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
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&st, &headers, Role::Submitter)?;
    let req: ClassifyRequest = parse_json(&body(b)?)?;
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
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&st, &headers, Role::Submitter)?;
    let mut q = query(q)?;
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
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&st, &headers, Role::Submitter)?;
    let req: ScreenRequest = parse_json(&body(b)?)?;
    screen(&st, req)
}

#[utoipa::path(get, path = "/v1/regimes",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; today by default")),
    responses((status = 200, description = "Every regime and its state on the date (as `exportgate regimes --format json`)", body = Object),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn regimes(
    State(st): State<Shared>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&st, &headers, Role::Submitter)?;
    let q = query(q)?;
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
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require(&st, &headers, Role::Submitter)?;
    let q = query(q)?;
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
    let tiers: Vec<(&String, &SetExpr)> = diffusion
        .map(|r| {
            r.sets
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
