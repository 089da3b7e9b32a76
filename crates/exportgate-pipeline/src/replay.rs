//! Re-deciding recorded orders with today's engine, rule data and lists (issue 19 item 2):
//! what `exportgate replay` and the server's scheduled replay run.
//!
//! Each recorded order (the order as submitted and the decision it got, from the audit log or
//! an evidence pack) is screened and decided again through [`Pipeline::first`], under the
//! regimes its decision was forced under ([`Recorded::forced`]), alone: no
//! quotas and no licences, so a recorded `licensed` is compared as the `license_required` it
//! rests on. A [`Change`] is reported when the outcome, exception or review policy differs,
//! or when the parties' list hits differ (a party listed since the order shipped is reported
//! even where the listing does not reach back to the order's date).
//!
//! The cause of each change is read from the evidence, never guessed:
//! * `list_update`: the list hits differ (an entry added, removed or changed);
//! * `catalog`: the item's ECCN or TPP differs and the catalog's digest changed;
//! * `country_group`: the reasons differ and the countries' (Country Group) digest changed;
//! * `rule`: the reasons or the ECCN differ and the regimes', screening actions' or end-use
//!   tags' digest changed;
//! * `engine`: none of the above, and the engine version differs;
//! * `unexplained`: none of the above (a record naming no inputs, or a change that no input
//!   explains, such as the order's LPP usage, which replay does not reconstruct).
//!
//! Changes are ranked by strictness (hold > licence required > exception > no licence
//! required; within a licence requirement, presumption of denial > case by case > presumption
//! of approval) so a caller can act on those that got stricter.

use std::collections::BTreeSet;

use exportgate_core::{DataDigests, Decision, DecisionInputs, Order};
use serde::Serialize;
use serde_json::Value;

use crate::{LineError, Pipeline};

/// One recorded decision: the order as submitted and the decision it got.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The audit record's seq, when it comes from the audit log.
    pub seq: Option<u64>,
    pub order: Order,
    /// The decision as recorded (its JSON).
    pub decision: Value,
}

impl Recorded {
    /// Reads an audit record's payload (`{"decision": ..., "order": ...}`); `None` for a
    /// record that is not a recorded decision with its order (ledger operations, case events,
    /// decisions recorded before orders were kept).
    pub fn from_payload(seq: Option<u64>, payload: &Value) -> Option<Result<Recorded, String>> {
        let decision = payload.get("decision")?.clone();
        // A recorded decision has an outcome (an error record has none).
        decision.get("outcome")?;
        let order = payload.get("order")?;
        Some(
            serde_json::from_value::<Order>(order.clone())
                .map(|order| Recorded {
                    seq,
                    order,
                    decision,
                })
                .map_err(|e| format!("recorded order: {e}")),
        )
    }
}

impl Recorded {
    /// The regimes the recorded decision was forced under (`forced_regimes`): a replay decides
    /// under the same, so a what-if decision is compared with a what-if decision.
    pub fn forced(&self) -> Vec<String> {
        self.decision
            .get("forced_regimes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An outcome with its exception and review policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub outcome: String,
    pub exception: Option<String>,
    pub review_policy: Option<String>,
}

impl Verdict {
    fn of(d: &Value) -> Verdict {
        let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
        let mut outcome = s("outcome").unwrap_or_default();
        // A licence on the ledger covers a requirement; replay decides without the ledger.
        if outcome == "licensed" {
            outcome = "license_required".into();
        }
        Verdict {
            outcome,
            exception: s("exception"),
            review_policy: s("review_policy"),
        }
    }

    /// Strictness, for comparing two verdicts.
    fn rank(&self) -> (u8, u8) {
        let outcome = match self.outcome.as_str() {
            "no_license_required" => 0,
            "license_exception" => 1,
            "license_required" | "licensed" => 2,
            _ => 3, // hold_for_review, and anything unknown: fail closed
        };
        let policy = match self.review_policy.as_deref() {
            None => 0,
            Some("presumption_of_approval") => 1,
            Some("case_by_case") => 2,
            Some(_) => 3,
        };
        (outcome, policy)
    }
}

/// A reason in a diff.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ReasonRef {
    pub rule: String,
    pub citation: String,
    pub summary: String,
}

/// A list hit in a diff.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct HitRef {
    pub party: String,
    pub list: String,
    pub entry_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleared: Option<String>,
}

/// Added and removed elements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff<T> {
    pub added: Vec<T>,
    pub removed: Vec<T>,
}

impl<T: Ord + Clone> Diff<T> {
    fn of(old: &[T], new: &[T]) -> Diff<T> {
        let (o, n): (BTreeSet<&T>, BTreeSet<&T>) = (old.iter().collect(), new.iter().collect());
        Diff {
            added: n.difference(&o).map(|x| (*x).clone()).collect(),
            removed: o.difference(&n).map(|x| (*x).clone()).collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Which inputs differ between the recorded decision and today's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputsDiff {
    /// `engine`, `regimes`, `countries`, `catalog`, `screening`, `end_use_tags`, and
    /// `lists.SOURCE` for each list whose version or digest differs; `unknown` when the
    /// recorded decision names no inputs.
    pub changed: Vec<String>,
    /// The recorded decision's inputs (null when it names none) and today's.
    pub old: Option<Value>,
    pub new: Value,
}

/// One recorded decision that today's engine, data or lists decide differently.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub id: String,
    pub date: chrono::NaiveDate,
    /// The audit record's seq, when replayed from the audit log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub old: Verdict,
    pub new: Verdict,
    /// The outcome, exception or review policy differs (false: only the list hits do).
    pub outcome_changed: bool,
    /// Today's verdict is stricter than the recorded one.
    pub stricter: bool,
    /// `list_update`, `catalog`, `country_group`, `rule`, `engine` (see the module docs).
    pub causes: Vec<&'static str>,
    pub reasons: Diff<ReasonRef>,
    pub hits: Diff<HitRef>,
    pub inputs: InputsDiff,
}

fn reasons(d: &Value) -> Vec<ReasonRef> {
    d.get("reasons")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    ReasonRef {
                        rule: s("rule"),
                        citation: s("citation"),
                        summary: s("summary"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn hits(d: &Value) -> Vec<HitRef> {
    d.pointer("/screening/hits")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    let s = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    HitRef {
                        party: s("party"),
                        list: s("list"),
                        entry_id: s("entry_id"),
                        name: s("name"),
                        cleared: h.get("cleared").and_then(Value::as_str).map(str::to_string),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn inputs_changed(old: Option<&DecisionInputs>, new: &DecisionInputs) -> Vec<String> {
    let Some(old) = old else {
        return vec!["unknown".into()];
    };
    let mut out = Vec::new();
    if old.engine != new.engine {
        out.push("engine".to_string());
    }
    out.extend(old.data.changed(&new.data).into_iter().map(str::to_string));
    let sources: BTreeSet<&str> = old
        .lists
        .iter()
        .chain(&new.lists)
        .map(|l| l.source.as_str())
        .collect();
    for source in sources {
        let find = |ls: &[exportgate_core::ListInput]| {
            ls.iter()
                .find(|l| l.source == source)
                .map(|l| l.sha256.clone())
        };
        if find(&old.lists) != find(&new.lists) {
            out.push(format!("lists.{source}"));
        }
    }
    out
}

/// Compares a recorded decision with today's; `None` when nothing a user acts on differs.
pub fn compare(recorded: &Recorded, today: &Decision) -> Option<Change> {
    let new_value = crate::wire::to_value(today).ok()?;
    let old = &recorded.decision;
    let (old_v, new_v) = (Verdict::of(old), Verdict::of(&new_value));
    let hit_diff = Diff::of(&hits(old), &hits(&new_value));
    let outcome_changed = old_v != new_v;
    if !outcome_changed && hit_diff.is_empty() {
        return None;
    }
    let reason_diff = Diff::of(&reasons(old), &reasons(&new_value));
    let old_inputs: Option<DecisionInputs> = old
        .get("inputs")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let new_inputs = today
        .inputs
        .as_deref()
        .cloned()
        .unwrap_or_else(|| (*DecisionInputs::new(&DataDigests::default(), Vec::new())).clone());
    let changed = inputs_changed(old_inputs.as_ref(), &new_inputs);
    let has = |c: &str| changed.iter().any(|x| x == c);
    let known = old_inputs.is_some();
    let item_changed = old.get("eccn") != new_value.get("eccn")
        || old.get("tpp_total") != new_value.get("tpp_total");
    // Reasons other than screening's: what a rule or a Country Group change shows in.
    let rule_reasons = reason_diff
        .added
        .iter()
        .chain(&reason_diff.removed)
        .any(|r| !r.rule.starts_with("screening"));
    let mut causes = Vec::new();
    if !hit_diff.is_empty() {
        causes.push("list_update");
    }
    if item_changed && has("catalog") {
        causes.push("catalog");
    }
    if rule_reasons && has("countries") {
        causes.push("country_group");
    }
    let rule_data =
        has("regimes") || has("screening") || has("end_use_tags") || has("due_diligence");
    if (rule_reasons || item_changed) && rule_data {
        causes.push("rule");
    }
    if causes.is_empty() {
        causes.push(if known && has("engine") {
            "engine"
        } else {
            "unexplained"
        });
    }
    Some(Change {
        id: recorded.order.id.clone(),
        date: recorded.order.date,
        seq: recorded.seq,
        stricter: new_v.rank() > old_v.rank(),
        old: old_v,
        new: new_v,
        outcome_changed,
        causes,
        reasons: reason_diff,
        hits: hit_diff,
        inputs: InputsDiff {
            changed,
            old: old.get("inputs").cloned(),
            new: serde_json::to_value(&new_inputs).unwrap_or(Value::Null),
        },
    })
}

impl Pipeline<'_> {
    /// Decides a recorded order again, alone, and compares: `Ok(None)` when nothing differs.
    pub fn replay(&self, recorded: &Recorded) -> Result<Option<Change>, LineError> {
        let today = self.first(0, &recorded.order)?;
        Ok(compare(recorded, &today))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exportgate_core::{Decider, NoQuotas, Ruleset, Screening};
    use serde_json::json;

    /// Today's decision of an H100 order to China (licence required), with inputs.
    fn today(rs: &Ruleset) -> (Order, Decision) {
        let order = Order::from_json(
            r#"{"id":"r-1","date":"2025-06-01","item":{"chip":"nvidia-h100-sxm"},"quantity":8,
            "destination":"CN","exporter":{"name":"Acme","country":"US"},
            "consignee":{"name":"Example Cloud Co.","country":"CN","headquarters":"CN","parent_headquarters":"CN"},
            "end_use":{"text":"cloud","tags":[]}}"#,
        )
        .unwrap();
        let mut d = Decider::new(rs, &[])
            .decide(&order, &NoQuotas, Screening::External)
            .unwrap();
        d.inputs = Some(DecisionInputs::new(rs.digests(), Vec::new()));
        (order, d)
    }

    fn recorded(order: &Order, old: Value) -> Recorded {
        Recorded {
            seq: Some(7),
            order: order.clone(),
            decision: old,
        }
    }

    #[test]
    fn an_unchanged_decision_is_not_reported() {
        let rs = Ruleset::embedded().unwrap();
        let (order, d) = today(&rs);
        let old = crate::wire::to_value(&d).unwrap();
        assert!(compare(&recorded(&order, old), &d).is_none());
        // A recorded `licensed` is the `license_required` it rests on.
        let mut old = crate::wire::to_value(&d).unwrap();
        assert_eq!(old["outcome"], "license_required");
        old["outcome"] = json!("licensed");
        assert!(compare(&recorded(&order, old), &d).is_none());
    }

    #[test]
    fn the_cause_is_read_from_the_reasons_and_the_digests() {
        let rs = Ruleset::embedded().unwrap();
        let (order, d) = today(&rs);
        let base = crate::wire::to_value(&d).unwrap();

        // Was clean under other Country Group data: a Country Group change, stricter.
        let mut old = base.clone();
        old["outcome"] = json!("no_license_required");
        old["review_policy"] = Value::Null;
        old["reasons"] = json!([{"rule": "no-requirement", "citation": "", "summary": ""}]);
        old["inputs"]["data"]["countries"] = json!("0".repeat(64));
        let c = compare(&recorded(&order, old.clone()), &d).unwrap();
        assert_eq!(c.causes, vec!["country_group"]);
        assert!(c.stricter && c.outcome_changed);
        assert_eq!(c.inputs.changed, vec!["countries".to_string()]);
        assert_eq!(c.seq, Some(7));

        // The same with the regimes changed instead: a rule.
        old["inputs"]["data"]["countries"] = base["inputs"]["data"]["countries"].clone();
        old["inputs"]["data"]["regimes"] = json!("1".repeat(64));
        let c = compare(&recorded(&order, old.clone()), &d).unwrap();
        assert_eq!(c.causes, vec!["rule"]);

        // Another ECCN under another catalog: a catalog entry (and the rule it led to).
        let mut old = base.clone();
        old["eccn"] = json!("not_3A090");
        old["outcome"] = json!("no_license_required");
        old["review_policy"] = Value::Null;
        old["inputs"]["data"]["catalog"] = json!("2".repeat(64));
        let c = compare(&recorded(&order, old), &d).unwrap();
        assert_eq!(c.causes, vec!["catalog"]);

        // Less strict today: reported, not stricter; no inputs recorded: unexplained.
        let mut old = base.clone();
        old["outcome"] = json!("hold_for_review");
        old["review_policy"] = Value::Null;
        old.as_object_mut().unwrap().remove("inputs");
        let c = compare(&recorded(&order, old), &d).unwrap();
        assert!(!c.stricter);
        assert_eq!(c.causes, vec!["unexplained"]);
        assert_eq!(c.inputs.changed, vec!["unknown".to_string()]);
    }
}
