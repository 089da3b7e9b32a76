//! End-use tags: the words an order's `end_use.tags` may use, what each means, and which rules
//! read it.
//!
//! The known tags come from the data: every tag a regime's rules test, plus the declared list
//! in `data/end-use-tags.json` (which must give a meaning for each of the former). An order
//! carrying any other tag is rejected, so that a misspelt `militray` is never read as the
//! absence of a military end use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::regime::{Effect, Regime, Scope};

/// One declared tag, as stored in `data/end-use-tags.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagDecl {
    pub meaning: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsFile {
    /// The file format's version; this build reads version 1 only.
    version: u32,
    #[allow(dead_code)]
    summary: String,
    tags: BTreeMap<String, TagDecl>,
}

/// A known tag: its meaning (when declared) and the rules that read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndUseTag {
    pub tag: String,
    /// `None` only for a ruleset built without the declared list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    /// Ids of the rules whose scope tests this tag (empty: descriptive only).
    pub rules: Vec<String>,
}

/// The known end-use tags, sorted by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndUseTags {
    tags: Vec<EndUseTag>,
}

fn scope_tags<'a>(s: &'a Scope) -> impl Iterator<Item = &'a String> + 'a {
    s.end_use_any
        .iter()
        .chain(&s.end_use_all)
        .chain(&s.end_use_stated_any)
        .chain(&s.end_use_excludes)
}

impl EndUseTags {
    /// The tags the regimes' rules test (in rule scopes, review-policy choices and exceptions).
    pub fn used_by(regimes: &[Regime]) -> EndUseTags {
        let mut used: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in regimes {
            for rule in &r.rules {
                let mut scopes = vec![&rule.when];
                if let Effect::LicenseRequirement {
                    review_policy,
                    exceptions,
                    ..
                } = &rule.effect
                {
                    scopes.extend(review_policy.iter().map(|p| &p.when));
                    scopes.extend(exceptions.iter().map(|x| &x.when));
                }
                for tag in scopes.into_iter().flat_map(scope_tags) {
                    let rules = used.entry(tag.clone()).or_default();
                    if !rules.contains(&rule.id) {
                        rules.push(rule.id.clone());
                    }
                }
            }
        }
        EndUseTags {
            tags: used
                .into_iter()
                .map(|(tag, rules)| EndUseTag {
                    tag,
                    meaning: None,
                    citation: None,
                    rules,
                })
                .collect(),
        }
    }

    /// Add the declared list (`data/end-use-tags.json`): every tag a rule tests must be
    /// declared with a meaning, and every tag must be a lower-case word (`a-z`, `0-9`, `_`).
    pub fn declare(&mut self, json: &str) -> Result<(), String> {
        let file: TagsFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if file.version != 1 {
            return Err(format!(
                "end-use tags format version {} is not one this build reads (1)",
                file.version
            ));
        }
        for (tag, decl) in &file.tags {
            let word = tag.starts_with(|c: char| c.is_ascii_lowercase())
                && tag
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !word {
                return Err(format!(
                    "tag `{tag}`: use lower-case letters, digits and `_`"
                ));
            }
            if decl.meaning.trim().is_empty() {
                return Err(format!("tag `{tag}`: the meaning is empty"));
            }
        }
        for t in &self.tags {
            if !file.tags.contains_key(&t.tag) {
                return Err(format!(
                    "tag `{}` is tested by rule {} but not declared",
                    t.tag,
                    t.rules.join(", ")
                ));
            }
        }
        for (tag, decl) in file.tags {
            match self.tags.iter_mut().find(|t| t.tag == tag) {
                Some(t) => {
                    t.meaning = Some(decl.meaning);
                    t.citation = decl.citation;
                }
                None => self.tags.push(EndUseTag {
                    tag,
                    meaning: Some(decl.meaning),
                    citation: decl.citation,
                    rules: Vec::new(),
                }),
            }
        }
        self.tags.sort_by(|a, b| a.tag.cmp(&b.tag));
        Ok(())
    }

    pub fn get(&self, tag: &str) -> Option<&EndUseTag> {
        self.tags
            .binary_search_by(|t| t.tag.as_str().cmp(tag))
            .ok()
            .map(|i| &self.tags[i])
    }

    pub fn contains(&self, tag: &str) -> bool {
        self.get(tag).is_some()
    }

    /// Every known tag, sorted by name.
    pub fn all(&self) -> &[EndUseTag] {
        &self.tags
    }

    /// The known tags' names, comma-separated (for error messages).
    pub fn names(&self) -> String {
        self.tags
            .iter()
            .map(|t| t.tag.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use crate::{Order, Ruleset};

    fn order(tags: &str) -> Order {
        Order::from_json(&format!(
            r#"{{"id":"t","date":"2025-06-01","item":{{"chip":"nvidia-h100-sxm"}},"quantity":8,
            "destination":"CN","consignee":{{"name":"C","country":"CN"}},
            "end_use":{{"text":"x","tags":{tags}}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn an_unknown_tag_is_rejected_naming_it_and_the_field() {
        let rs = Ruleset::embedded().unwrap();
        let o = order(r#"["ai_training","militray"]"#);
        let e = o.resolve(&rs).unwrap_err();
        assert_eq!(e.field, "end_use.tags[1]");
        assert!(e.problem.contains("`militray`"), "{}", e.problem);
        assert!(e.problem.contains("military_intelligence"), "{}", e.problem);
        // The decision path rejects it too: no decision is made on a tag nobody knows.
        assert!(crate::Decider::new(&rs, &[])
            .decide(&o, &crate::NoQuotas, crate::Screening::NotScreened)
            .is_err());
    }

    #[test]
    fn known_tags_pass_and_none_is_fine() {
        let rs = Ruleset::embedded().unwrap();
        order(r#"["ai_training","wmd","inference"]"#)
            .resolve(&rs)
            .unwrap();
        order("[]").resolve(&rs).unwrap();
    }

    #[test]
    fn known_tags_come_from_the_rules_and_the_declared_list() {
        let rs = Ruleset::embedded().unwrap();
        let t = rs.end_use_tags.get("ai_training").unwrap();
        assert!(t
            .rules
            .iter()
            .any(|r| r == "guidance-2025-05.training-destination"));
        assert!(t.rules.iter().any(|r| r == "redflag.28-iaas-training"));
        assert!(t.meaning.is_some());
        // Declared, read by no rule.
        assert!(rs.end_use_tags.get("inference").unwrap().rules.is_empty());
        // `military` is a tag now that rules read it (issue 13, item 3): the 15 CFR 744.21
        // hold and the 91 FR 1684 condition.
        let m = rs.end_use_tags.get("military").unwrap();
        assert!(m
            .rules
            .iter()
            .any(|r| r == "military-744-21.military-end-use"));
        assert!(m
            .rules
            .iter()
            .any(|r| r == "review-policy-2026.case-by-case"));
        for t in rs.end_use_tags.all() {
            assert!(t.meaning.is_some(), "{} has no meaning", t.tag);
        }
    }

    #[test]
    fn a_tag_a_rule_tests_must_be_declared() {
        let rs = Ruleset::embedded().unwrap();
        let mut tags = super::EndUseTags::used_by(rs.regimes());
        let e = tags
            .declare(r#"{"version":1,"summary":"s","tags":{"iaas":{"meaning":"m"}}}"#)
            .unwrap_err();
        assert!(e.contains("not declared"), "{e}");
        let mut tags = super::EndUseTags::default();
        assert!(tags
            .declare(r#"{"version":1,"summary":"s","tags":{"Military":{"meaning":"m"}}}"#)
            .is_err());
    }

    /// A data file of a format version this build does not know is refused, not half-read.
    #[test]
    fn data_files_of_an_unknown_version_are_refused() {
        let mut tags = super::EndUseTags::default();
        let e = tags
            .declare(r#"{"version":2,"summary":"s","tags":{}}"#)
            .unwrap_err();
        assert!(e.contains("version 2"), "{e}");
        let catalog = include_str!("../../../data/chips.json").replacen(
            "\"version\": 1",
            "\"version\": 2",
            1,
        );
        let e = crate::catalog::Catalog::from_json(&catalog).unwrap_err();
        assert_eq!(e.field, "version");
        let countries = include_str!("../../../data/countries.json")
            .replace("\"version\": 1\n", "\"version\": 3\n");
        assert!(crate::country::Countries::from_json(&countries).is_err());
    }
}
