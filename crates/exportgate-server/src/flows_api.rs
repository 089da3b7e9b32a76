//! The US-bound reference flow of volume caps over HTTP (issue 21 item 2): `POST /v1/flows`
//! records units of a product shipped to US end users outside exportgate (once per
//! reference), `GET /v1/flows` lists every product's flow and capped draws. A door: both go
//! through [`exportgate_pipeline::flows`]; `POST /v1/ship` of an order to the US credits the
//! flow itself, and a capped licence's draws are checked there.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use exportgate_ledger::Timestamp;
use exportgate_pipeline::flows::{self, FlowError};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{min, Auth};
use crate::error::{parse_json, ApiError, ErrorBody};
use crate::extract::RawBody;
use crate::ledger_api::store_error;
use crate::Shared;

/// Units of a product shipped to US end users outside exportgate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowRequest {
    /// Catalog chip id (`nvidia-h200`; any case).
    pub product: String,
    pub units: u64,
    /// The shipment's date (`2026-02-01`), not after today.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// The shipment's reference (invoice, bill of lading); default `<product>:<date>:<units>`.
    #[serde(default)]
    pub reference: Option<String>,
}

fn flow_error(e: FlowError) -> ApiError {
    match e {
        FlowError::Invalid { field, message } => ApiError::bad(field, message),
        FlowError::Ledger(e) => store_error(e),
    }
}

#[utoipa::path(post, path = "/v1/flows", request_body = FlowRequest,
    responses((status = 201, description = "Recorded: `product`, `units`, `key` (`flow:<reference>`), `replayed` (false), `us_units` (the product's US-bound units so far)", body = Object),
        (status = 200, description = "The reference was recorded before: nothing added (`replayed`: true)", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Submitter>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let req: FlowRequest = parse_json(&b)?;
    let today = Utc::now().date_naive();
    if req.date > today {
        return Err(ApiError::bad(
            "date",
            format!(
                "{} is after today ({today}); record a shipment once it is made",
                req.date
            ),
        ));
    }
    let product = flows::catalog_product(st.rs, &req.product).map_err(flow_error)?;
    let reference = req
        .reference
        .clone()
        .unwrap_or_else(|| format!("{product}:{}:{}", req.date, req.units));
    let r = flows::record(
        st.rs,
        st.store().as_mut(),
        &product,
        req.units,
        &reference,
        &who.actor(),
        Timestamp::start_of(req.date),
    )
    .map_err(flow_error)?;
    let status = if r.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(r)).into_response())
}

#[utoipa::path(get, path = "/v1/flows",
    responses((status = 200, description = "Per product with a flow or capped draws: `product`, `destination` (US), `us_units`, `capped_units` (drawn under licences with a `volume_cap_percent` condition) and `shipments` (`key`, `units`, `at`)", body = Object),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
) -> Result<Response, ApiError> {
    let out = flows::list(st.rs, st.store().as_mut()).map_err(store_error)?;
    Ok(Json(out).into_response())
}
