//! Short generic names: a name whose only distinctive word is common in the lists does not
//! reach certainty against a shorter alias on that word alone; the explanation carries the
//! word's rarity (idf over the index).

use chrono::NaiveDate;
use exportgate_screen::{AllowList, ListEntry, Party, Screener};

fn entry(name: &str, aliases: &[&str]) -> ListEntry {
    let mut e = ListEntry::new("EL", "Entity List", name);
    e.aliases = aliases.iter().map(|a| a.to_string()).collect();
    e.entity_type = Some("Entity".into());
    e.assign_id();
    e
}

fn screener() -> Screener {
    let mut entries = vec![
        entry("Minor Precision Instruments", &["Minor"]),
        entry("Zorvex Precision Instruments", &["Zorvex"]),
        entry("Minor", &[]),
    ];
    // "minor" is in 30 list names: common.
    for i in 0..30 {
        entries.push(entry(&format!("Minor Koltar{i} Machinery"), &[]));
    }
    Screener::new(entries, Vec::new())
}

#[test]
fn a_common_word_alone_against_a_shorter_alias_is_never_certain() {
    let s = screener();
    let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let hits = s
        .screen(&Party::named("Minor GmbH"), day, &AllowList::new())
        .unwrap()
        .hits;
    let via_alias = hits
        .iter()
        .find(|h| h.name == "Minor Precision Instruments")
        .expect("still a hit");
    assert_eq!(via_alias.matched_alias, "Minor");
    assert!(via_alias.score >= 0.95, "{}", via_alias.score);
    assert!(!via_alias.certain);
    assert!(via_alias.features.common_token_only);
    let rarity = via_alias.features.rarity.unwrap();
    assert!(rarity < 0.8, "{rarity}");
    // An entry whose own name is that word is still a certain hit.
    let own = hits.iter().find(|h| h.name == "Minor").unwrap();
    assert!(own.certain && !own.features.common_token_only);

    // A rare word against its alias stays certain, and says it is rare.
    let hits = s
        .screen(&Party::named("Zorvex GmbH"), day, &AllowList::new())
        .unwrap()
        .hits;
    assert_eq!(hits[0].name, "Zorvex Precision Instruments");
    assert!(hits[0].certain);
    assert!(hits[0].features.rarity.unwrap() > 0.8);
}
