//! The request's parts as axum extractors that answer in the API's error shape (a JSON body
//! naming the field, [`ApiError`]): the caller ([`crate::auth::Auth`], in `auth.rs`), the query
//! string ([`QueryMap`], [`QueryPairs`]) and the body ([`RawBody`]: 413 over
//! [`crate::BODY_LIMIT`], a UTF-8 byte-order mark dropped). Handlers take them as arguments
//! instead of parsing the request themselves. Extractors run in argument order, the body
//! last: a handler lists `Auth` first, so an unauthenticated request is refused before its
//! query or body are looked at.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;

use crate::error::ApiError;

/// The query string as a map (the last value of a repeated name), or 400 naming `query`.
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        crate::api::query(Query::from_request_parts(parts, state).await).map(QueryMap)
    }
}

/// The query string as name-value pairs (names may repeat), or 400 naming `query`.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryPairs(v))
            .map_err(|e| ApiError::bad("query", e.body_text()))
    }
}

/// The request body, or 413 (over [`crate::BODY_LIMIT`]) / 400 naming `body`; a UTF-8
/// byte-order mark before it is dropped. Parsed by the handler ([`crate::error::parse_json`]
/// names the field of a JSON error).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        crate::api::body(Bytes::from_request(req, state).await).map(RawBody)
    }
}
