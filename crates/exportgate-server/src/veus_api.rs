//! Data Center VEU authorisations over HTTP (issue 21 item 3): `POST /v1/veus` adds a record
//! (the `VeuRecord` schema), `GET /v1/veus` lists them and `GET /v1/veus/{id}` shows one, with
//! the compute by country and the headroom on a date; `POST /v1/veus/{id}/compute` records
//! compute installed outside exportgate (once per reference). A door: all of it goes through
//! [`exportgate_pipeline::veus`]; `POST /v1/ship` draws VEU-eligible orders itself.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use exportgate_ledger::Timestamp;
use exportgate_pipeline::veus::{self, VeuError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{min, Auth};
use crate::error::{parse_json, ApiError, ErrorBody};
use crate::extract::RawBody;
use crate::ledger_api::store_error;
use crate::Shared;

/// Compute a VEU installed in a country outside exportgate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComputeRequest {
    /// Where it is installed (ISO alpha-2, Tier 1 or Tier 2).
    pub country: String,
    /// Its total processing performance.
    pub tpp: u64,
    /// The installation's date (`2025-07-01`), not after today.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// The installation's reference; default `<country>:<date>:<tpp>`.
    #[serde(default)]
    pub reference: Option<String>,
}

/// The day a VEU's headroom is worked out for.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AsOf {
    /// Default: today (UTC).
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

fn veu_error(e: VeuError) -> ApiError {
    match e {
        VeuError::Invalid { field, message }
            if field == "id" && message.contains("other terms") =>
        {
            ApiError::conflict(field, message)
        }
        VeuError::Invalid { field, message } => ApiError::bad(field, message),
        VeuError::Ledger(e) => store_error(e),
    }
}

fn now() -> Timestamp {
    Timestamp::from_micros(Utc::now().timestamp_micros())
}

#[utoipa::path(post, path = "/v1/veus",
    request_body(content = Object, description = "A VEU authorisation: the `VeuRecord` schema (`exportgate schema veu`)"),
    responses((status = 201, description = "Stored: `veu` (the record), `created` (true)", body = Object),
        (status = 200, description = "The same record was stored before: nothing written (`created`: false)", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "Another record under the same id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Admin>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&b).map_err(|_| ApiError::bad("body", "not UTF-8"))?;
    let added =
        veus::add(st.rs, st.store().as_mut(), text, &who.actor(), now()).map_err(veu_error)?;
    let status = if added.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(added)).into_response())
}

#[utoipa::path(get, path = "/v1/veus", params(AsOf),
    responses((status = 200, description = "Every VEU: `veu` (the record), `total_tpp`, `outside_tier1_tpp`, `countries` (`country`, `tier`, `tpp`, `headroom_tpp`), `new_tier2_country_headroom_tpp` (UVEU), `cap` (NVEU: quarter and TPP, unconfirmed), `as_of`, `unconfirmed`", body = Object),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    Query(q): Query<AsOf>,
) -> Result<Response, ApiError> {
    let day = q.date.unwrap_or_else(|| Utc::now().date_naive());
    let out = veus::list(st.rs, st.store().as_mut(), day).map_err(store_error)?;
    Ok(Json(out).into_response())
}

#[utoipa::path(get, path = "/v1/veus/{id}",
    params(("id" = String, Path, description = "The VEU's id"), AsOf),
    responses((status = 200, description = "The VEU with its compute by country and headroom (as in `GET /v1/veus`)", body = Object),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    Path(id): Path<String>,
    Query(q): Query<AsOf>,
) -> Result<Response, ApiError> {
    let day = q.date.unwrap_or_else(|| Utc::now().date_naive());
    match veus::status(st.rs, st.store().as_mut(), &id, day).map_err(store_error)? {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(ApiError::not_found("id", format!("no VEU `{id}`"))),
    }
}

#[utoipa::path(post, path = "/v1/veus/{id}/compute", request_body = ComputeRequest,
    params(("id" = String, Path, description = "The VEU's id")),
    responses((status = 201, description = "Recorded: `veu`, `country`, `tpp`, `key` (`veu-compute:<id>:<reference>`), `replayed` (false)", body = Object),
        (status = 200, description = "The reference was recorded before: nothing added (`replayed`: true)", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn compute(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Submitter>,
    Path(id): Path<String>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let req: ComputeRequest = parse_json(&b)?;
    let today = Utc::now().date_naive();
    if req.date > today {
        return Err(ApiError::bad(
            "date",
            format!(
                "{} is after today ({today}); record compute once it is installed",
                req.date
            ),
        ));
    }
    let reference = req.reference.clone().unwrap_or_else(|| {
        format!(
            "{}:{}:{}",
            req.country.to_ascii_uppercase(),
            req.date,
            req.tpp
        )
    });
    let r = veus::record_compute(
        st.rs,
        st.store().as_mut(),
        &id,
        &req.country,
        req.tpp,
        &reference,
        &who.actor(),
        Timestamp::start_of(req.date),
    )
    .map_err(veu_error)?;
    let status = if r.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(r)).into_response())
}
