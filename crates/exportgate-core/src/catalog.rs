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
    /// `published`, `estimated` or `unverified`.
    pub confidence: String,
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
    #[allow(dead_code)]
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
        let mut entries = BTreeMap::new();
        for e in file.chips {
            e.spec.validate(&format!("{}.", e.id))?;
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
