//! The item ids and countries a licence may name, checked the same way by
//! `exportgate licences add` and `POST /v1/licences`.

use exportgate_core::{Eccn, Ruleset};
use exportgate_ledger::KnownIds;

/// Item ids and countries a licence may name: the core catalog's ids (in any case), the
/// ECCNs the engine classifies to and their parents `3A090` and `4A090`, and the countries in
/// `countries.json`.
pub struct CatalogIds<'a>(pub &'a Ruleset);

impl KnownIds for CatalogIds<'_> {
    fn is_known_item(&self, item: &str) -> bool {
        if self.0.catalog.get(item).is_some()
            || self.0.catalog.get(&item.to_ascii_lowercase()).is_some()
        {
            return true;
        }
        // The ECCN paragraphs the engine classifies to and their headings, from the one
        // definition of the ECCNs (`not_3A090` and `indeterminate` have no heading).
        Eccn::ALL.into_iter().any(|e| {
            e.heading().is_some_and(|heading| {
                e.as_str().eq_ignore_ascii_case(item) || heading.eq_ignore_ascii_case(item)
            })
        })
    }

    fn is_known_country(&self, country: &str) -> bool {
        self.0.countries.get(country).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids() {
        let rs = Ruleset::embedded().unwrap();
        let ids = CatalogIds(&rs);
        assert!(ids.is_known_item("nvidia-h100-sxm"));
        assert!(ids.is_known_item("NVIDIA-H100-SXM"));
        assert!(ids.is_known_item("3A090.a"));
        assert!(ids.is_known_item("4A090"));
        assert!(!ids.is_known_item("not_3A090"));
        assert!(!ids.is_known_item("indeterminate"));
        assert!(ids.is_known_item("4a090.B"));
        assert!(!ids.is_known_item("acme-x9"));
        // An ECCN the engine never classifies to is not an item a licence can name.
        assert!(!ids.is_known_item("5A002"));
        assert!(ids.is_known_country("AE"));
        assert!(!ids.is_known_country("ZZ"));
    }
}
