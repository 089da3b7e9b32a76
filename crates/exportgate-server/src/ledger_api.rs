//! Licences, ledger balances and requests, the audit log, and API keys — all over the
//! `exportgate-store` [`LedgerStore`](exportgate_ledger::LedgerStore) API as it is. Admins
//! manage keys and licences and may submit raw ledger requests (reserve, post, void, expire);
//! reviewers read the audit log; submitters read balances and draw on licences only through
//! decisions (`POST /v1/ship`).

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use exportgate_ledger::{
    AccountId, AccountSpec, Licence, LicenceError, Request, StoreError, Timestamp,
};
use exportgate_pipeline::CatalogIds;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::{min, Auth, Role};
use crate::db::{self, KeyRecord};
use crate::error::{parse_json, ApiError, ErrorBody};
use crate::extract::{QueryMap, RawBody};
use crate::Shared;

/// Map a store error: conflicts and unknown names are 4xx, database trouble 5xx.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::DuplicateLicence(n) => {
            ApiError::conflict("number", format!("licence `{n}` already exists"))
        }
        StoreError::LicenceNotFound(n) => {
            ApiError::not_found("number", format!("licence `{n}` not found"))
        }
        StoreError::AccountNotFound(n) => {
            ApiError::not_found("account", format!("account `{n}` not found"))
        }
        StoreError::BatchTooLarge(n) => {
            ApiError::bad("requests", format!("{n} requests: too many"))
        }
        StoreError::Account(e) => ApiError::conflict("account", e.to_string()),
        other => ApiError::internal(other),
    }
}

#[utoipa::path(get, path = "/v1/licences",
    responses((status = 200, description = "Every licence, by number", body = [Object])),
    security(("bearer" = [])))]
pub async fn list_licences(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
) -> Result<Response, ApiError> {
    let list = st.store().list_licences().map_err(store_error)?;
    let out: Vec<Value> = list.iter().map(Licence::to_json).collect();
    Ok(Json(out).into_response())
}

#[utoipa::path(post, path = "/v1/licences",
    request_body(content = Object, description = "A licence in the ledger's JSON form (number, holder, items, destinations, consignees, units/value/tpp, valid_from, valid_to, conditions)"),
    responses((status = 201, description = "Stored, with its account", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_licence(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Admin>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let value: Value = parse_json(&b)?;
    let licence = Licence::from_value(&value, &CatalogIds(st.rs)).map_err(|e| match e {
        LicenceError::Field { field, message } => ApiError::bad(field, message),
        LicenceError::Syntax { message, .. } => ApiError::bad("body", message),
    })?;
    let at = Timestamp::from_micros(Utc::now().timestamp_micros());
    st.store()
        .add_licence(&licence, &who.actor(), at)
        .map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(licence.to_json())).into_response())
}

#[utoipa::path(get, path = "/v1/licences/{number}",
    params(("number" = String, Path, description = "Licence number")),
    responses((status = 200, description = "The licence with its balance and the transfers drawn on it; with a revenue-share condition, also `revenue_share`: per quarter, the accrued cents and the orders behind them; with a volume-cap condition, also `volume_cap`: per product, `percent`, `us_units`, `cap_units`, `capped_units`, `left_units`", body = Object),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_licence(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let mut store = st.store();
    match store.licence(&number).map_err(store_error)? {
        Some(view) => {
            let mut out = json!({
                "licence": view.licence.to_json(),
                "balance": view.balance,
                "history": view.history,
            });
            if view.licence.volume_cap_percent().is_some() {
                // Issue 21 item 2: the cap per product as the ledger has it now.
                out["volume_cap"] = json!(exportgate_pipeline::flows::licence_caps(
                    st.rs,
                    store.as_mut(),
                    &view.licence
                )
                .map_err(store_error)?);
            }
            if view.licence.revenue_share_percent().is_some() {
                // Issue 21: the accrued revenue share per quarter, with its orders.
                out["revenue_share"] = json!(exportgate_pipeline::accrual::licence_accruals(
                    store.as_mut(),
                    &view.licence
                )
                .map_err(store_error)?);
            }
            Ok(Json(out).into_response())
        }
        None => Err(ApiError::not_found(
            "number",
            format!("licence `{number}` not found"),
        )),
    }
}

#[utoipa::path(get, path = "/v1/balances",
    responses((status = 200, description = "Every licence's balance and every AI Diffusion country allocation on the ledger (for the charts)", body = Object)),
    security(("bearer" = [])))]
pub async fn balances(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
) -> Result<Response, ApiError> {
    let mut store = st.store();
    let mut licences = Vec::new();
    for l in store.list_licences().map_err(store_error)? {
        if let Some(view) = store.licence(&l.number).map_err(store_error)? {
            licences.push(json!({
                "number": l.number,
                "holder": l.holder,
                "valid_to": l.valid_to,
                "balance": view.balance,
            }));
        }
    }
    let mut ids = BTreeSet::new();
    for c in st.rs.countries.all() {
        for g2g in [false, true] {
            ids.insert(AccountSpec::country_allocation(c.code.as_str(), g2g).id);
        }
    }
    let mut quotas = Vec::new();
    for id in ids {
        if let Some(b) = store.balance(&id).map_err(store_error)? {
            quotas.push(b);
        }
    }
    Ok(Json(json!({"licences": licences, "quotas": quotas})).into_response())
}

#[utoipa::path(get, path = "/v1/ledger/accounts/{id}",
    params(("id" = String, Path, description = "Account id, e.g. `licence:D123` or `allocation:IN:2025-2027`")),
    responses((status = 200, description = "The account's balance", body = Object),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn account(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Submitter>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = AccountId::new(raw).map_err(|e| ApiError::bad("id", e.to_string()))?;
    match st.store().balance(&id).map_err(store_error)? {
        Some(b) => Ok(Json(b).into_response()),
        None => Err(ApiError::not_found(
            "id",
            format!("account `{id}` not found"),
        )),
    }
}

/// `POST /v1/ledger/allocations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// ISO alpha-2 country code.
    pub country: String,
    /// A government-to-government arrangement doubles the allocation.
    #[serde(default)]
    pub government_to_government: bool,
}

#[utoipa::path(post, path = "/v1/ledger/allocations", request_body = AllocationRequest,
    responses((status = 200, description = "The AI Diffusion country allocation account (created if missing) and its balance", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ensure_allocation(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Admin>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let req: AllocationRequest = parse_json(&b)?;
    let code = req.country.trim().to_ascii_uppercase();
    if code.len() != 2 || st.rs.countries.get(&code).is_none() {
        return Err(ApiError::bad(
            "country",
            format!("`{}` is not a known ISO alpha-2 country code", req.country),
        ));
    }
    let spec = AccountSpec::country_allocation(&code, req.government_to_government);
    let at = Timestamp::from_micros(Utc::now().timestamp_micros());
    let mut store = st.store();
    let ensured = store
        .ensure_account(&spec, &who.actor(), at)
        .map_err(store_error)?;
    let balance = store.balance(&spec.id).map_err(store_error)?;
    Ok(Json(json!({"ensured": ensured.as_str(), "balance": balance})).into_response())
}

/// `POST /v1/ledger/requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Ledger requests (`{"op": "reserve", "key", "accounts", "amounts", "at"}`, `post`, `void`,
    /// `expire`, `reserve_and_post`), applied in order in one transaction.
    #[schema(value_type = Vec<Object>)]
    pub requests: Vec<Request>,
}

/// Raw ledger requests are admin-only: they reserve and post against any account at a
/// caller-chosen time. Submitters draw on licences only through decisions (`POST /v1/ship`).
#[utoipa::path(post, path = "/v1/ledger/requests", request_body = SubmitRequest,
    description = "Admin only. Raw ledger requests against any account at a caller-chosen time; submitters draw on licences only through decisions (`POST /v1/ship`).",
    responses((status = 200, description = "One reply (result code) per request", body = [Object]),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Not an admin key")),
    security(("bearer" = [])))]
pub async fn submit(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Admin>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let req: SubmitRequest = parse_json(&b)?;
    if req.requests.is_empty() {
        return Err(ApiError::bad("requests", "must not be empty"));
    }
    if req.requests.len() > 1000 {
        return Err(ApiError::bad("requests", "at most 1000 per call"));
    }
    let replies = st
        .store()
        .submit(&who.actor(), &req.requests)
        .map_err(store_error)?;
    Ok(Json(replies).into_response())
}

#[utoipa::path(get, path = "/v1/audit",
    params(("after" = Option<u64>, Query, description = "Records with seq above this (default 0)"),
        ("limit" = Option<u32>, Query, description = "At most this many (default 100, max 1000)")),
    responses((status = 200, description = "Audit records in seq order", body = [Object]),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn audit(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Reviewer>,
    QueryMap(q): QueryMap,
) -> Result<Response, ApiError> {
    let after = match q.get("after") {
        None => 0,
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| ApiError::bad("after", "must be a non-negative integer"))?,
    };
    let limit = match q.get("limit") {
        None => 100,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::bad("limit", "must be a number from 1 to 1000"))?,
    };
    let records = st
        .store()
        .audit_records(after, limit)
        .map_err(store_error)?;
    Ok(Json(records).into_response())
}

#[utoipa::path(get, path = "/v1/audit/verify",
    responses((status = 200, description = "`{\"ok\": true, \"records\", \"head_hash\", \"ledger\": {\"ok\": true, \"reconciled\"}}`, `{\"ok\": false, \"break\": {seq, kind}}` when the chain is broken, or `{\"ok\": false, ..., \"ledger\": {\"ok\": false, \"disagreement\": {seq?, account?, transfer?, what}}}` when the ledger's tables do not follow from the log (as `exportgate audit verify`)", body = Object)),
    security(("bearer" = [])))]
pub async fn verify(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Reviewer>,
) -> Result<Response, ApiError> {
    let st2 = st.clone();
    let (result, ledger) = tokio::task::spawn_blocking(move || {
        let mut store = st2.store();
        let chain = store.verify_audit()?;
        // The tables against the log, once the log itself holds.
        let ledger = match &chain {
            Ok(_) => Some(store.reconcile()?),
            Err(_) => None,
        };
        Ok::<_, StoreError>((chain, ledger))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(store_error)?;
    Ok(Json(match (result, ledger) {
        (Ok(s), Some(Err(d))) => {
            json!({"ok": false, "records": s.records, "head_hash": s.head_hash,
            "ledger": {"ok": false, "disagreement": d, "message": d.to_string()}})
        }
        (Ok(s), ledger) => json!({"ok": true, "records": s.records, "head_hash": s.head_hash,
            "ledger": ledger.and_then(Result::ok).map(|r| json!({"ok": true, "reconciled": r}))}),
        (Err(b), _) => json!({"ok": false, "break": b, "message": b.to_string()}),
    })
    .into_response())
}

/// `POST /v1/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who or what holds the key: the key belongs to the user of this name (compared with
    /// case ignored and spaces collapsed), created if there is none.
    pub name: String,
    pub role: Role,
    /// The last day (UTC) the key works; from the next day on it is refused like a revoked
    /// key. No expiry by default.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub expires: Option<chrono::NaiveDate>,
}

/// A new key: shown once.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key itself; only its hash is stored.
    pub key: String,
    #[serde(flatten)]
    pub record: KeyRecord,
}

/// Validate a key name.
pub fn key_name(name: &str) -> Result<String, ApiError> {
    let n = name.trim();
    if n.is_empty() || n.len() > 100 || n.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "name",
            "must be 1 to 100 bytes without control characters",
        ));
    }
    Ok(n.to_string())
}

#[utoipa::path(post, path = "/v1/keys", request_body = CreateKey,
    responses((status = 201, description = "The key (shown once) and its record", body = CreatedKey),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_key(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Admin>,
    RawBody(b): RawBody,
) -> Result<Response, ApiError> {
    let req: CreateKey = parse_json(&b)?;
    let name = key_name(&req.name)?;
    let expires = req
        .expires
        .map(|d| db::key_expiry(d, chrono::Utc::now()))
        .transpose()
        .map_err(|e| ApiError::bad("expires", e))?;
    let (record, key) = db::create_key_expiring(&st.conn(), &name, req.role, expires)
        .map_err(ApiError::internal)?;
    tracing::info!(by = %who.actor(), key = %record.id, user = record.user_id, role = record.role.as_str(), "key created");
    Ok((StatusCode::CREATED, Json(CreatedKey { key, record })).into_response())
}

#[utoipa::path(get, path = "/v1/keys",
    responses((status = 200, description = "Every key (never the key itself)", body = [KeyRecord])),
    security(("bearer" = [])))]
pub async fn list_keys(
    State(st): State<Shared>,
    Auth(_, _): Auth<min::Admin>,
) -> Result<Response, ApiError> {
    let keys = db::list_keys(&st.conn()).map_err(ApiError::internal)?;
    Ok(Json(keys).into_response())
}

#[utoipa::path(delete, path = "/v1/keys/{id}",
    params(("id" = String, Path, description = "Key id")),
    responses((status = 200, description = "Revoked"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_key(
    State(st): State<Shared>,
    Auth(who, _): Auth<min::Admin>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let revoked = db::revoke_key(&st.conn(), &id).map_err(ApiError::internal)?;
    if !revoked {
        return Err(ApiError::not_found("id", format!("no active key `{id}`")));
    }
    st.keys.write().unwrap_or_else(|e| e.into_inner()).clear();
    tracing::info!(by = %who.actor(), key = %id, "key revoked");
    Ok(Json(json!({"revoked": id})).into_response())
}
