//! Issue 15 (hardening): bad order input is an error naming the field, never a decision.

use exportgate_core::{Order, Ruleset};

static RULESET: std::sync::LazyLock<Ruleset> =
    std::sync::LazyLock::new(|| Ruleset::embedded().expect("embedded data is valid"));

fn order_json(id: &str, date: &str) -> String {
    serde_json::json!({
        "id": id,
        "date": date,
        "item": {"chip": "nvidia-h100-sxm"},
        "quantity": 8,
        "destination": "CN",
        "consignee": {"name": "Customer CN", "country": "CN"}
    })
    .to_string()
}

/// The field an order is rejected for, parsing or resolving it; `None` when it resolves.
fn rejected_field(text: &str) -> Option<(String, String)> {
    match Order::from_json(text) {
        Err(e) => Some((e.field, e.problem)),
        Ok(o) => o.resolve(&RULESET).err().map(|e| (e.field, e.problem)),
    }
}

#[test]
fn issue15_item2_order_dates_outside_the_rules_range_are_rejected() {
    for date in [
        "0001-01-01",
        "1024-05-01",
        "2018-06-01",
        "2021-12-31",
        "2031-01-01",
        "9999-12-31",
    ] {
        let (field, problem) =
            rejected_field(&order_json("o1", date)).unwrap_or_else(|| panic!("{date} was decided"));
        assert_eq!(field, "date", "{date}: {problem}");
        assert!(problem.contains(date), "{date}: {problem}");
        assert!(
            problem.contains("2022-01-01") && problem.contains("2030-12-31"),
            "{problem}"
        );
    }
    // A negative year is rejected too (by the parser or the range check), naming `date`.
    let (field, _) = rejected_field(&order_json("o1", "-9999-01-01")).expect("rejected");
    assert_eq!(field, "date");
    for date in ["2022-01-01", "2025-06-01", "2030-12-31"] {
        assert_eq!(rejected_field(&order_json("o1", date)), None, "{date}");
    }
}

#[test]
fn issue15_item10_control_characters_in_order_ids_are_rejected() {
    for id in ["a\u{1b}[2J", "a\nb", "\u{7}", "x\u{9b}y", "tab\there"] {
        let (field, problem) =
            rejected_field(&order_json(id, "2025-06-01")).unwrap_or_else(|| panic!("{id:?}"));
        assert_eq!(field, "id", "{id:?}: {problem}");
        assert!(problem.contains("control character"), "{problem}");
    }
    assert_eq!(
        rejected_field(&order_json("o-17 ünïcode", "2025-06-01")),
        None
    );
}
