//! API errors: every error is JSON `{"error": {"field": ..., "message": ...}}` with a status.
//! Input errors are 4xx and name the field; only the server's own failures are 5xx.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, and where.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The request field at fault (`body`, `consignee.name`, `[2].date`, `authorization`, ...).
    pub field: String,
    pub message: String,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            field: field.into(),
            message: message.into(),
        }
    }

    /// 400: the request is malformed or a field is invalid.
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, field, message)
    }

    /// 404.
    pub fn not_found(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, field, message)
    }

    /// 409: the request conflicts with the stored state.
    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, field, message)
    }

    /// 500: a failure of the server itself (database, invariant). Logged.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!(error = %message, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server",
            message.to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                field: self.field,
                message: self.message,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// Parse a JSON body into `T`, naming the field at fault (`body` for syntax errors).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // A UTF-8 byte-order mark (as some Windows tools write) before the JSON is accepted.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad(
            "body",
            "the request body is empty; send JSON",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if inner.is_syntax() || inner.is_eof() || path == "." {
            "body".to_string()
        } else {
            path
        };
        ApiError::bad(field, inner.to_string())
    })?;
    de.end()
        .map_err(|e| ApiError::bad("body", format!("trailing data after the JSON value: {e}")))?;
    Ok(value)
}
