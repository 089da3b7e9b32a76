//! Reports over the ledger (issue 21): `GET /v1/reports/revenue-share?quarter=2025Q4` — the
//! revenue-share accruals of one calendar quarter per licence, with the orders behind each
//! amount, in integer cents with the currency stated. A door: the report is the pipeline's
//! [`exportgate_pipeline::accrual::revenue_share_report`].

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use exportgate_ledger::Quarter;
use exportgate_pipeline::accrual::{csv_text, revenue_share_report};

use crate::auth::{min, Auth};
use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryMap;
use crate::ledger_api::store_error;
use crate::Shared;

#[utoipa::path(get, path = "/v1/reports/revenue-share",
    params(("quarter" = String, Query, description = "Calendar quarter, e.g. `2025Q4`"),
        ("format" = Option<String>, Query, description = "`json` (default) or `csv`")),
    responses((status = 200, description = "Revenue-share accruals of the quarter: `quarter`, `currency` (USD), `total_cents`, and per licence `licence`, `holder`, `percent`, `account`, `accrued_cents` and `orders` (`order_id`, `key`, `at`, `value_cents`, `share_cents`); `accrued_cents` is the sum of its orders' shares", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revenue_share(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let raw = q
        .get("quarter")
        .ok_or_else(|| ApiError::bad("quarter", "is missing: give a quarter like `2025Q4`"))?;
    let quarter = Quarter::parse(raw).map_err(|e| ApiError::bad("quarter", e.to_string()))?;
    let csv = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad(
                "format",
                format!("must be `json` or `csv`, got `{other}`"),
            ))
        }
    };
    let report = revenue_share_report(st.store().as_mut(), quarter).map_err(store_error)?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    let bytes = csv_text(&report).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
}
