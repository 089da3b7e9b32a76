//! The OpenAPI document (`GET /openapi.json`), generated from the handlers' `#[utoipa::path]`
//! annotations and the request and response types.

use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::auth::{min, Auth};
use crate::error::ApiError;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some("An API key from `exportgate keys create`"))
                        .build(),
                ),
            );
        }
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "exportgate", description = "Export-control compliance engine for AI chips: decisions, screening, licences, review cases."),
    paths(
        crate::api::healthz, crate::api::readyz, crate::api::metrics,
        crate::api::check, crate::api::ship, crate::api::classify, crate::api::screen_get, crate::api::screen_post,
        crate::api::regimes, crate::api::countries,
        crate::ledger_api::list_licences, crate::ledger_api::add_licence, crate::ledger_api::get_licence,
        crate::ledger_api::balances, crate::ledger_api::account, crate::ledger_api::submit, crate::ledger_api::ensure_allocation,
        crate::ledger_api::audit, crate::ledger_api::verify,
        crate::reports::revenue_share, crate::flows_api::add, crate::flows_api::list,
        crate::veus_api::add, crate::veus_api::list, crate::veus_api::get, crate::veus_api::compute,
        crate::ledger_api::create_key, crate::ledger_api::list_keys, crate::ledger_api::revoke_key,
        crate::cases::list, crate::cases::get, crate::cases::release, crate::cases::block,
        crate::yente::match_entities, crate::yente::search,
    ),
    components(schemas(
        crate::error::ErrorBody, crate::error::ErrorDetail, crate::auth::Role, crate::db::KeyRecord,
        crate::db::Case, crate::api::ClassifyRequest, crate::api::ScreenRequest,
        crate::cases::ReleaseRequest, crate::cases::BlockRequest, crate::ledger_api::SubmitRequest, crate::ledger_api::AllocationRequest,
        crate::ledger_api::CreateKey, crate::ledger_api::CreatedKey, crate::flows_api::FlowRequest, crate::veus_api::ComputeRequest,
        crate::yente::EntityMatchQuery, crate::yente::EntityExample,
    )),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// `GET /openapi.json` (any key).
pub async fn openapi_json(Auth(_, _): Auth<min::Submitter>) -> Result<Response, ApiError> {
    Ok(Json(document()).into_response())
}

/// The OpenAPI document with the engine's own schemas added under `components.schemas`:
/// `OrderLine` (what `POST /v1/check` and `POST /v1/ship` read) and `DecisionRecord` (what they
/// answer) and `VeuRecord` (what `POST /v1/veus` reads), generated from the Rust types as `exportgate schema order|decision` prints them,
/// with every type they use beside them.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut read = settings.clone().into_generator();
    let order = read.root_schema_for::<exportgate_core::Order>();
    let veu = read.root_schema_for::<exportgate_ledger::Veu>();
    let mut written = settings.for_serialize().into_generator();
    let decision = exportgate_pipeline::wire::schema(&mut written);
    let schemas = &mut doc["components"]["schemas"];
    if !schemas.is_object() {
        *schemas = serde_json::json!({});
    }
    for (name, schema) in read.definitions().iter().chain(written.definitions()) {
        schemas[name.as_str()] = schema.clone();
    }
    let strip = |s: schemars::Schema| {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            // The root carries its definitions at the path given; they are in the
            // document's components already.
            o.remove("$schema");
            o.remove("components");
        }
        v
    };
    schemas["OrderLine"] = strip(order);
    schemas["DecisionRecord"] = strip(decision);
    schemas["VeuRecord"] = strip(veu);
    doc
}
