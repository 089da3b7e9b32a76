//! The chip catalog: known items by id, each with its spec and where its figures come from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::{ItemKind, Spec, SpecError};

/// Provenance of a catalog entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogMeta {
    pub vendor: String,
    pub model: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub launch_year: Option<String>,
    /// How far the catalog's figures for the item can be trusted.
    pub confidence: SpecConfidence,
    #[serde(default)]
    pub verification: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    /// The classification reported publicly, where one was found.
    #[serde(default)]
    pub public_classification: Option<String>,
    #[serde(default)]
    pub public_classification_sources: Vec<String>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Why an IC has no throughput figures (required for an IC without any: the catalog says
    /// why such an item is indeterminate rather than leaving it silent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_figures: Option<String>,
}

/// How the catalog's figures for an item were established (`shared/reference/chips.md`):
/// from the vendor's published datasheet, estimated from other figures, or from a single
/// source nobody has verified. As a confidence tag: P, D and U; a classification resting on
/// unverified figures is unconfirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpecConfidence {
    Published,
    Estimated,
    Unverified,
}

impl SpecConfidence {
    /// The wire name (`published`, `estimated`, `unverified`).
    pub fn name(self) -> &'static str {
        match self {
            SpecConfidence::Published => "published",
            SpecConfidence::Estimated => "estimated",
            SpecConfidence::Unverified => "unverified",
        }
    }

    /// The confidence tag of a fact resting on these figures.
    pub fn tag(self) -> crate::confidence::Confidence {
        match self {
            SpecConfidence::Published => crate::confidence::Confidence::P,
            SpecConfidence::Estimated => crate::confidence::Confidence::D,
            SpecConfidence::Unverified => crate::confidence::Confidence::U,
        }
    }
}

/// One catalog item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    pub id: String,
    pub meta: CatalogMeta,
    pub spec: Spec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    /// The file format's version; this build reads version 1 only.
    version: u32,
    #[allow(dead_code)]
    source: String,
    chips: Vec<CatalogEntry>,
}

/// All catalog entries by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: BTreeMap<String, CatalogEntry>,
}

impl Catalog {
    /// Parse and validate the catalog file.
    pub fn from_json(text: &str) -> Result<Catalog, SpecError> {
        let file: CatalogFile = crate::spec::parse_json(text)?;
        if file.version != 1 {
            return Err(SpecError::new(
                "version",
                format!(
                    "catalog format version {} is not one this build reads (1)",
                    file.version
                ),
            ));
        }
        let mut entries = BTreeMap::new();
        for e in file.chips {
            e.spec.validate(&format!("{}.", e.id))?;
            if e.spec.kind == ItemKind::Ic
                && e.spec.dense_tops.as_ref().is_none_or(|m| m.is_empty())
                && e.spec.sparse_tops.as_ref().is_none_or(|m| m.is_empty())
                && e.meta.missing_figures.is_none()
            {
                return Err(SpecError::new(
                    format!("{}.meta.missing_figures", e.id),
                    "an IC without throughput figures must say why (`missing_figures`)",
                ));
            }
            if entries.contains_key(&e.id) {
                return Err(SpecError::new(e.id.clone(), "duplicate catalog id"));
            }
            entries.insert(e.id.clone(), e);
        }
        let catalog = Catalog { entries };
        for e in catalog.entries.values() {
            for line in &e.spec.ics {
                if let Some(chip) = &line.chip {
                    match catalog.get(chip) {
                        Some(ic) if ic.spec.kind == ItemKind::Ic => {}
                        _ => {
                            return Err(SpecError::new(
                                format!("{}.ics", e.id),
                                format!("`{chip}` is not an IC in the catalog"),
                            ))
                        }
                    }
                }
            }
        }
        Ok(catalog)
    }

    pub fn get(&self, id: &str) -> Option<&CatalogEntry> {
        self.entries.get(id)
    }

    pub fn entries(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries.values()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ids closest to `id`, for "did you mean" hints.
    pub fn nearest(&self, id: &str, n: usize) -> Vec<String> {
        let needle = id.to_lowercase();
        let mut scored: Vec<(f64, &String)> = self
            .entries
            .keys()
            .map(|k| {
                let contains = if k.contains(&needle) || needle.contains(k.as_str()) {
                    0.2
                } else {
                    0.0
                };
                (strsim::jaro_winkler(&needle, k) + contains, k)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored.into_iter().take(n).map(|(_, k)| k.clone()).collect()
    }

    /// The error for an unknown id, with the nearest ids as a hint.
    pub fn unknown(&self, id: &str, field: &str) -> SpecError {
        SpecError::new(
            field,
            format!(
                "unknown chip id `{id}`; nearest: {}",
                self.nearest(id, 3)
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Catalog;

    fn file(meta_extra: &str) -> String {
        format!(
            r#"{{"version":1,"source":"t","chips":[{{"id":"x","meta":{{"vendor":"V","model":"M","confidence":"unverified"{meta_extra}}},
            "spec":{{"name":"x","kind":"ic","datacenter":true,"dense_tops":{{}}}}}}]}}"#
        )
    }

    #[test]
    fn an_ic_without_figures_must_say_why() {
        let e = Catalog::from_json(&file("")).unwrap_err();
        assert_eq!(e.field, "x.meta.missing_figures");
        Catalog::from_json(&file(r#","missing_figures":"none published""#)).unwrap();
    }

    #[test]
    fn the_embedded_catalog_says_why_for_each_ic_without_figures() {
        let rs = crate::Ruleset::embedded().unwrap();
        let why = rs.catalog.get("nvidia-rtx-pro-6000d").unwrap();
        assert!(why.meta.missing_figures.is_some());
        assert!(rs
            .catalog
            .get("nvidia-h100-sxm")
            .unwrap()
            .meta
            .missing_figures
            .is_none());
    }
}
