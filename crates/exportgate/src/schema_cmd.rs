//! `exportgate schema order|decision|licence|scenario|allow|spec|veu`: the JSON Schema of each file
//! the engine reads or writes, generated from the Rust types that read or write it (schemars),
//! so the schema cannot drift from the code. The same schemas are in the OpenAPI document.

use std::process::ExitCode;

use clap::ValueEnum;

/// The documents a schema can be printed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// One order line (`check`, `ship`, `explain`, `POST /v1/check`).
    Order,
    /// One decision as `check --format jsonl` writes it.
    Decision,
    /// A licence file (`licences add`, `POST /v1/licences`).
    Licence,
    /// A what-if scenario file (`simulate --scenario FILE`).
    Scenario,
    /// The allow-list of cleared false positives.
    Allow,
    /// An item's technical parameters (`classify --spec`, an order's `item.spec`).
    Spec,
    /// A VEU authorisation (`veu add`, `POST /v1/veus`).
    Veu,
}

/// The schema of `kind` as a JSON value.
pub fn schema(kind: SchemaKind) -> serde_json::Value {
    let s = match kind {
        SchemaKind::Order => schemars::schema_for!(exportgate_core::Order),
        // A decision is written, not read: its schema is of the serialised form (a field
        // skipped when empty is optional), from its wire type.
        SchemaKind::Decision => exportgate_pipeline::wire::root_schema(),
        SchemaKind::Licence => schemars::schema_for!(exportgate_ledger::licence::LicenceFile),
        SchemaKind::Scenario => schemars::schema_for!(exportgate_simulate::scenario::Scenario),
        SchemaKind::Allow => schemars::schema_for!(exportgate_screen::AllowList),
        SchemaKind::Spec => schemars::schema_for!(exportgate_core::spec::Spec),
        SchemaKind::Veu => schemars::schema_for!(exportgate_ledger::Veu),
    };
    serde_json::to_value(s).unwrap_or(serde_json::Value::Null)
}

/// Prints the schema of `kind`.
pub fn print(kind: SchemaKind) -> anyhow::Result<ExitCode> {
    outln!("{}", serde_json::to_string_pretty(&schema(kind))?)?;
    Ok(ExitCode::SUCCESS)
}
