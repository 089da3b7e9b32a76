//! Facts: the due-diligence fact names a rule may test and a party record may hold, each with
//! its kind (`date`, `number`, `bool`, `text`), a fact's value, and the check of a fact test in
//! regime data. One module, so that orders, party records, the ruleset's validation and the
//! decision all read the same list.

use chrono::NaiveDate;

use crate::regime::{FactOp, FactTest};

/// A fact's value, for red-flag tests.
#[derive(Debug, Clone, PartialEq)]
pub enum FactValue {
    Date(NaiveDate),
    Number(f64),
    Bool(bool),
    Text(String),
}

/// The fact names a regime may test, and their kinds.
pub const FACTS: [(&str, &str); 15] = [
    ("customer_since", "date"),
    ("prior_orders", "number"),
    ("business_history_years", "number"),
    ("online_presence", "text"),
    ("business_need_shown", "bool"),
    ("delivery_address_type", "text"),
    ("delivery_address_consistent", "bool"),
    ("data_centre_capacity_shown", "bool"),
    ("stated_capacity_mw", "number"),
    ("normal_distribution", "bool"),
    ("intermediary", "text"),
    ("training_operations", "number"),
    ("hbm_exception_conditions_met", "bool"),
    ("quantity", "number"),
    ("tpp_total", "number"),
];

/// Documents a party record may hold as facts (`true`: on file), beside the red-flag facts.
pub const DOCUMENTS: [&str; 3] = ["end_use_statement", "site_visit", "capacity_evidence"];

/// Order facts that are not about the party and so cannot be kept on its record.
pub const ORDER_ONLY: [&str; 2] = ["quantity", "tpp_total"];

/// The kind of a fact a record may hold (`date`, `number`, `bool`, `text`).
pub fn fact_kind(name: &str) -> Option<&'static str> {
    if DOCUMENTS.contains(&name) {
        return Some("bool");
    }
    if ORDER_ONLY.contains(&name) {
        return None;
    }
    FACTS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// A JSON value as a fact of `kind`, if it fits.
pub fn fact_value(kind: &str, v: &serde_json::Value) -> Option<FactValue> {
    match kind {
        "date" => v
            .as_str()
            .and_then(|s| s.parse::<NaiveDate>().ok())
            .map(FactValue::Date),
        "number" => v
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(FactValue::Number),
        "bool" => v.as_bool().map(FactValue::Bool),
        _ => v.as_str().map(|s| FactValue::Text(s.to_string())),
    }
}

/// The fact names a record may hold, for error messages.
pub fn fact_names() -> String {
    FACTS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !ORDER_ONLY.contains(n))
        .chain(DOCUMENTS)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fact names a decision reports the source of, in the order it reports them: the
/// order's due-diligence facts a record may hold, then the documents.
pub fn source_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        FACTS
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| fact_kind(n).is_some())
            .chain(DOCUMENTS)
            .collect()
    })
}

/// Check a fact test in regime data: a known fact, and a value of its kind.
pub fn check_fact_test(t: &FactTest) -> Result<(), String> {
    let kind = FACTS
        .iter()
        .find(|(n, _)| *n == t.fact)
        .map(|(_, k)| *k)
        .ok_or_else(|| format!("unknown fact `{}`", t.fact))?;
    let ok = |v: &serde_json::Value| match kind {
        "date" => v.as_str().is_some_and(|s| s.parse::<NaiveDate>().is_ok()),
        "number" => v.is_number(),
        "bool" => v.is_boolean(),
        _ => v.is_string(),
    };
    let good = match &t.value {
        serde_json::Value::Array(items) => t.op == FactOp::In && items.iter().all(ok),
        v => t.op != FactOp::In && ok(v),
    };
    if good {
        Ok(())
    } else {
        Err(format!(
            "fact `{}`: value {} does not fit a {kind} fact with `{}`",
            t.fact,
            t.value,
            t.op.as_str()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fact_op_wire_names_are_the_data_names() {
        for op in FactOp::ALL {
            assert_eq!(serde_json::to_value(op).unwrap(), op.as_str());
            let back: FactOp = serde_json::from_value(op.as_str().into()).unwrap();
            assert_eq!(back, op);
        }
    }

    #[test]
    fn a_misfit_value_is_named_with_the_wire_name_of_its_comparison() {
        let t = FactTest {
            fact: "prior_orders".into(),
            op: FactOp::AtLeast,
            value: serde_json::json!("three"),
        };
        assert_eq!(
            check_fact_test(&t).unwrap_err(),
            "fact `prior_orders`: value \"three\" does not fit a number fact with `at_least`"
        );
        let t = FactTest {
            fact: "online_presence".into(),
            op: FactOp::NotEquals,
            value: serde_json::json!(["none"]),
        };
        assert!(check_fact_test(&t)
            .unwrap_err()
            .ends_with("with `not_equals`"));
    }
}
