//! Facts: the due-diligence facts a rule may test and a party record may hold (the names are
//! [`Fact`], defined once in [`crate::concepts`] with their wire names and kinds), a fact's
//! value, and the check of a fact test in regime data. Orders, party records, the ruleset's
//! validation and the decision all read this one list; a decision finds a fact by its
//! position ([`Fact::index`]), never by its name.

use chrono::NaiveDate;

pub use crate::concepts::{Fact, FactKind, FactSet};
use crate::regime::{FactOp, FactTest};

/// A fact's value, for red-flag tests.
#[derive(Debug, Clone, PartialEq)]
pub enum FactValue {
    Date(NaiveDate),
    Number(f64),
    Bool(bool),
    /// Most fit inline (`established`, `data_centre`): a fact read allocates nothing.
    Text(compact_str::CompactString),
}

/// The kind of a fact a record may hold, by its wire name (`None`: not a fact a record may
/// hold).
pub fn fact_kind(name: &str) -> Option<FactKind> {
    Fact::parse(name).filter(|f| f.on_record()).map(Fact::kind)
}

/// A JSON value as a fact of `kind`, if it fits.
pub fn fact_value(kind: FactKind, v: &serde_json::Value) -> Option<FactValue> {
    match kind {
        FactKind::Date => v
            .as_str()
            .and_then(|s| crate::iso_date::parse(s).ok())
            .map(FactValue::Date),
        FactKind::Number => v
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(FactValue::Number),
        FactKind::Bool => v.as_bool().map(FactValue::Bool),
        FactKind::Text => v.as_str().map(|s| FactValue::Text(s.into())),
    }
}

/// The fact names a record may hold, for error messages.
pub fn fact_names() -> String {
    Fact::ON_RECORD
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check a fact test in regime data: a fact a rule may test, and a value of its kind.
pub fn check_fact_test(t: &FactTest) -> Result<(), String> {
    if !t.fact.testable() {
        return Err(format!("unknown fact `{}`", t.fact.as_str()));
    }
    let kind = t.fact.kind();
    let ok = |v: &serde_json::Value| match kind {
        FactKind::Date => v.as_str().is_some_and(|s| s.parse::<NaiveDate>().is_ok()),
        FactKind::Number => v.is_number(),
        FactKind::Bool => v.is_boolean(),
        FactKind::Text => v.is_string(),
    };
    let good = match &t.value {
        serde_json::Value::Array(items) => t.op == FactOp::In && items.iter().all(ok),
        v => t.op != FactOp::In && ok(v),
    };
    if good {
        Ok(())
    } else {
        Err(format!(
            "fact `{}`: value {} does not fit a {} fact with `{}`",
            t.fact.as_str(),
            t.value,
            kind.as_str(),
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
    fn fact_wire_names_round_trip_and_index_their_place() {
        for (i, f) in Fact::ALL.into_iter().enumerate() {
            assert_eq!(f.index(), i);
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
            let back: Fact = serde_json::from_value(f.as_str().into()).unwrap();
            assert_eq!(back, f);
            assert_eq!(Fact::parse(f.as_str()), Some(f));
        }
        let e = serde_json::from_str::<Fact>("\"gb300_count\"").unwrap_err();
        assert!(
            e.to_string().starts_with("unknown fact `gb300_count`"),
            "{e}"
        );
        assert_eq!(
            fact_names(),
            "customer_since, prior_orders, business_history_years, online_presence, \
             business_need_shown, delivery_address_type, delivery_address_consistent, \
             data_centre_capacity_shown, stated_capacity_mw, normal_distribution, \
             intermediary, training_operations, hbm_exception_conditions_met, \
             end_use_statement, site_visit, capacity_evidence"
        );
    }

    /// The red-flag facts are exactly the fields of an order's `due_diligence`, under the
    /// same names, each of its kind.
    #[test]
    fn red_flag_facts_are_the_fields_of_an_orders_due_diligence() {
        let dd: crate::order::DueDiligence = serde_json::from_value(serde_json::json!({
            "customer_since": "2020-01-01", "prior_orders": 3, "business_history_years": 2.5,
            "online_presence": "minimal", "business_need_shown": true,
            "delivery_address_type": "residential", "delivery_address_consistent": false,
            "data_centre_capacity_shown": true, "stated_capacity_mw": 40.0,
            "normal_distribution": true, "intermediary": "none", "training_operations": 1e25,
            "hbm_exception_conditions_met": true}))
        .unwrap();
        let fields: Vec<String> = serde_json::to_value(&dd)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut red_flags: Vec<String> = Fact::ALL
            .into_iter()
            .filter(|f| f.testable() && f.on_record())
            .map(|f| f.as_str().to_string())
            .collect();
        red_flags.sort();
        assert_eq!(fields, red_flags);
        for f in Fact::ALL {
            let given = dd.fact(f);
            assert_eq!(given.is_some(), f.testable() && f.on_record(), "{f:?}");
            let kind = given.map(|v| match v {
                FactValue::Date(_) => FactKind::Date,
                FactValue::Number(_) => FactKind::Number,
                FactValue::Bool(_) => FactKind::Bool,
                FactValue::Text(_) => FactKind::Text,
            });
            assert!(kind.is_none_or(|k| k == f.kind()), "{f:?}");
        }
    }

    #[test]
    fn a_misfit_value_is_named_with_the_wire_name_of_its_comparison() {
        let t = FactTest {
            fact: Fact::PriorOrders,
            op: FactOp::AtLeast,
            value: serde_json::json!("three"),
        };
        assert_eq!(
            check_fact_test(&t).unwrap_err(),
            "fact `prior_orders`: value \"three\" does not fit a number fact with `at_least`"
        );
        let t = FactTest {
            fact: Fact::OnlinePresence,
            op: FactOp::NotEquals,
            value: serde_json::json!(["none"]),
        };
        assert!(check_fact_test(&t)
            .unwrap_err()
            .ends_with("with `not_equals`"));
        let t = FactTest {
            fact: Fact::SiteVisit,
            op: FactOp::Equals,
            value: serde_json::json!(true),
        };
        assert_eq!(
            check_fact_test(&t).unwrap_err(),
            "unknown fact `site_visit`"
        );
    }
}
