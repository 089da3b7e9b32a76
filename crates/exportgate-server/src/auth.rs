//! API keys and roles. Clients send `Authorization: Bearer KEY`; the server hashes the key
//! (SHA-256) and looks the hash up: in memory if read from the database less than
//! [`KEY_CACHE_TTL`] ago, else in the database. `serve` re-reads every cached key every
//! 250 ms on a watcher thread ([`refresh_keys`]), so a key revoked, expired or given another
//! role through any server sharing the database is refused by every server within about
//! 250 ms (at most [`KEY_CACHE_TTL`]), and requests do not wait on those reads. An
//! expired key is refused like a revoked one. Roles are ordered: a reviewer may do what a
//! submitter may, an admin what a reviewer may.

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::AppState;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Checks orders, classifies, screens, reads regimes, licences and balances.
    Submitter,
    /// Also reviews cases (never one it submitted) and reads the audit log.
    Reviewer,
    /// Also manages keys and licences.
    Admin,
}

impl Role {
    /// Every role, least privilege first.
    pub const ALL: [Role; 3] = [Role::Submitter, Role::Reviewer, Role::Admin];

    /// The role's name, as keys, the database and the JSON (serde's `snake_case`) write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Submitter => "submitter",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    /// The role named `s` ([`Role::as_str`]), if any.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The caller, once authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Key id.
    pub id: String,
    /// Key name (a person or a system).
    pub name: String,
    /// Id of the user (person) the key belongs to: what the four-eyes rule compares.
    pub user_id: i64,
    /// That user's name.
    pub user: String,
    pub role: Role,
    /// When the key stops working, if it expires.
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
}

impl Principal {
    /// How the audit log names the caller.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.id, self.name)
    }
}

/// How long a key read from the database is trusted without reading it again. `serve`'s
/// watcher re-reads every cached key every [`crate::WATCH_EVERY`] (off the request path), so
/// on a running server entries are fresh and a request reads the database itself only for a
/// key not yet cached (or if the watcher fell behind).
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_millis(1000);

fn principal(rec: crate::db::KeyRecord) -> Principal {
    Principal {
        expires: rec.expires_at.as_deref().map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&chrono::Utc))
                // Unreadable: already expired (fail closed).
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        }),
        id: rec.id,
        name: rec.name,
        user_id: rec.user_id,
        user: rec.user,
        role: rec.role,
    }
}

/// Re-read every cached key from `conn`: a key revoked, expired or changed through any server
/// is updated or dropped here. Run by `serve`'s watcher thread every [`crate::WATCH_EVERY`].
pub fn refresh_keys(
    state: &AppState,
    conn: &crate::db::ServerDb,
) -> Result<(), crate::db::DbError> {
    let hashes: Vec<String> = state
        .keys
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .keys()
        .cloned()
        .collect();
    for hash in hashes {
        let read_at = std::time::Instant::now();
        let found = crate::db::find_key(conn, &hash)?;
        let mut keys = state.keys.write().unwrap_or_else(|e| e.into_inner());
        match found {
            Some(rec) => {
                keys.insert(hash, (principal(rec), read_at));
            }
            None => {
                keys.remove(&hash);
            }
        }
    }
    Ok(())
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "authorization", message)
}

/// Authenticate the request and require at least `min` role.
pub fn require(state: &AppState, headers: &HeaderMap, min: Role) -> Result<Principal, ApiError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(unauthorized(
            "missing `Authorization: Bearer KEY` header; create a key with `exportgate keys create`",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not ASCII"))?;
    let Some(key) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Err(unauthorized(
            "the Authorization header must be `Bearer KEY`",
        ));
    };
    let key = key.trim();
    if key.is_empty() || key.len() > 256 {
        return Err(unauthorized("unknown API key"));
    }
    let hash = crate::db::key_hash(key);
    let cached = state
        .keys
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&hash)
        .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
        .map(|(p, _)| p.clone());
    let principal = match cached {
        Some(p) => p,
        None => {
            let found =
                crate::off_runtime(state.offload, || crate::db::find_key(&state.conn(), &hash))
                    .map_err(ApiError::internal)?;
            let Some(rec) = found else {
                state
                    .keys
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&hash);
                return Err(unauthorized("unknown API key"));
            };
            let p = principal(rec);
            state
                .keys
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(hash, (p.clone(), std::time::Instant::now()));
            p
        }
    };
    if principal.expires.is_some_and(|t| t <= chrono::Utc::now()) {
        return Err(unauthorized("this API key has expired"));
    }
    if principal.role < min {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "authorization",
            format!(
                "this needs the {} role; the key `{}` is a {}",
                min.as_str(),
                principal.id,
                principal.role.as_str()
            ),
        ));
    }
    Ok(principal)
}

/// The least role a handler needs, as a type: [`min::Submitter`], [`min::Reviewer`] or
/// [`min::Admin`] (the parameter of [`Auth`]).
pub trait MinRole: Send + Sync + 'static {
    /// The role.
    const ROLE: Role;
}

/// The marker types of [`MinRole`].
pub mod min {
    use super::{MinRole, Role};

    /// Any key.
    pub struct Submitter;
    /// A reviewer's or an admin's key.
    pub struct Reviewer;
    /// An admin's key.
    pub struct Admin;

    impl MinRole for Submitter {
        const ROLE: Role = Role::Submitter;
    }
    impl MinRole for Reviewer {
        const ROLE: Role = Role::Reviewer;
    }
    impl MinRole for Admin {
        const ROLE: Role = Role::Admin;
    }
}

/// The caller, authenticated with at least role `R`: an axum extractor, so a handler names
/// the role it needs in its signature (`Auth(who, _): Auth<min::Reviewer>`) and runs only
/// for a key that has it. It is extracted before the query and the body, so a request
/// without a valid key is refused (401, or 403 for a key with too small a role) before its
/// query or body are looked at, as [`require`] does.
pub struct Auth<R>(pub Principal, pub std::marker::PhantomData<R>);

impl<R: MinRole> axum::extract::FromRequestParts<crate::Shared> for Auth<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::Shared,
    ) -> Result<Self, ApiError> {
        require(state, &parts.headers, R::ROLE).map(|p| Auth(p, std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn a_roles_name_is_its_json_name_and_parses_back() {
        for r in Role::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
