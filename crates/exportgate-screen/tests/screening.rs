//! Screening against the full 2026 CSL: Chinese-script names, misspelled and alias forms,
//! allow-list behaviour and bad input.

use std::sync::OnceLock;

use chrono::NaiveDate;
use exportgate_screen::parse;
use exportgate_screen::{AllowEntry, AllowList, Format, Hit, Party, QueryError, Screener};
use proptest::prelude::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn screener() -> &'static Screener {
    static S: OnceLock<Screener> = OnceLock::new();
    S.get_or_init(|| {
        let bytes = std::fs::read(format!("{DATA}/lists/csl_2026-07-31/screening-list.json"))
            .expect("CSL file");
        let parsed = parse::parse(&bytes, "screening-list.json", Format::CslCompactJson)
            .expect("CSL parses");
        Screener::new(parsed.entries, Vec::new())
    })
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 8, 1).expect("date")
}

fn screen(name: &str) -> Vec<Hit> {
    screener()
        .screen(&Party::named(name), as_of(), &AllowList::new())
        .expect("screens")
        .hits
}

fn find<'a>(hits: &'a [Hit], list: &str, name: &str) -> &'a Hit {
    hits.iter()
        .find(|h| h.list == list && h.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no {list} hit `{name}` in {:#?}",
                hits.iter().map(|h| (&h.name, h.score)).collect::<Vec<_>>()
            )
        })
}

#[test]
fn huawei_in_chinese_script_finds_its_entity_list_entry() {
    let hits = screen("华为技术有限公司");
    let h = find(&hits, "EL", "Huawei Technologies Co., Ltd.");
    assert!(h.certain, "{h:#?}");
    assert!(
        h.license_policy
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains("denial"),
        "{h:#?}"
    );
    assert!(h.citation.is_some());
    assert!(
        h.tokens_matched
            .iter()
            .any(|t| t.query == "hua wei" && t.entry == "huawei"),
        "{:?}",
        h.tokens_matched
    );
}

#[test]
fn zhipu_in_chinese_script_finds_its_entity_list_entry() {
    let hits = screen("北京智谱华章科技有限公司");
    let h = find(&hits, "EL", "Beijing Zhipu Huazhang Technology Co., Ltd.");
    assert!(h.certain, "{h:#?}");
    assert_eq!(h.citation.as_deref(), Some("90 FR 4617"));
    assert_eq!(hits[0].name, h.name, "the exact entity ranks first");
}

#[test]
fn sugon_in_chinese_script_finds_its_entity_list_entry() {
    let hits = screen("曙光信息产业股份有限公司");
    let h = find(&hits, "EL", "Sugon");
    assert!(h.matched_alias.starts_with("Shuguang"), "{h:#?}");
    assert!(h.score >= 0.9, "{h:#?}");
}

#[test]
fn misspelled_sophgo_finds_its_entity_list_entry() {
    let hits = screen("Sofgo Technologies");
    let h = find(&hits, "EL", "Sophgo Technologies Ltd.");
    assert_eq!(h.citation.as_deref(), Some("90 FR 4621"));
    assert!(h.score >= 0.9, "{h:#?}");
}

#[test]
fn sophgo_alias_suanneng_finds_its_entity_list_entries() {
    let hits = screen("Suanneng");
    for name in [
        "Sophgo Technologies Ltd.",
        "Wuxi Suanneng Technology Co., Ltd.",
        "Wuhan Suanneng Technology Co., Ltd.",
    ] {
        let h = find(&hits, "EL", name);
        assert!(h.matched_alias.contains("Suanneng"), "{h:#?}");
    }
}

#[test]
fn sophgo_alias_sophon_finds_its_entity_list_entry() {
    let hits = screen("Sophon");
    let h = find(&hits, "EL", "Sophgo Technologies Ltd.");
    assert_eq!(h.matched_alias, "SOPHON");
    assert!(h.certain);
}

#[test]
fn country_is_supporting_evidence() {
    let with = |cc: &str| {
        let r = screener()
            .screen(
                &Party {
                    name: "Sophgo Technologies".into(),
                    country: Some(cc.into()),
                },
                as_of(),
                &AllowList::new(),
            )
            .expect("screens");
        find(&r.hits, "EL", "Sophgo Technologies Ltd.").clone()
    };
    let cn = with("CN");
    let de = with("DE");
    assert!(cn.score > de.score, "{} vs {}", cn.score, de.score);
    assert!(cn.features.country > 0.0 && de.features.country < 0.0);
}

#[test]
fn unrelated_names_do_not_hit() {
    for name in [
        "Acme Widgets GmbH",
        "Maria Schmidt",
        "Nordic Fishing Supplies AS",
    ] {
        let hits = screen(name);
        assert!(
            hits.is_empty(),
            "{name}: {:?}",
            hits.iter().map(|h| (&h.name, h.score)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn allow_list_clears_but_keeps_the_hit() {
    let mut allow = AllowList::new();
    allow.push(AllowEntry {
        party_name: "Sophon".into(),
        entry: "Sophgo Technologies Ltd.".into(),
        reviewer: "a.reviewer".into(),
        reason: "a different company of the same name in Norway".into(),
        expires: NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
    });
    let r = screener()
        .screen(&Party::named("SOPHON"), as_of(), &allow)
        .expect("screens");
    let h = find(&r.hits, "EL", "Sophgo Technologies Ltd.");
    let c = h.cleared.as_ref().expect("cleared");
    assert_eq!(c.reviewer, "a.reviewer");
    assert!(r.active_hits().all(|x| x.entry_id != h.entry_id));
    // Other entries stay active.
    assert!(r.hits.iter().filter(|x| x.cleared.is_none()).count() + 1 == r.hits.len());
}

#[test]
fn allow_list_expires() {
    let mut allow = AllowList::new();
    let entry_id = find(&screen("Sophon"), "EL", "Sophgo Technologies Ltd.")
        .entry_id
        .clone();
    allow.push(AllowEntry {
        party_name: "Sophon".into(),
        entry: entry_id,
        reviewer: "r".into(),
        reason: "x".into(),
        expires: NaiveDate::from_ymd_opt(2026, 7, 31).expect("date"),
    });
    let r = screener()
        .screen(&Party::named("Sophon"), as_of(), &allow)
        .expect("screens");
    assert!(
        r.hits.iter().all(|h| h.cleared.is_none()),
        "expired clearance must not apply"
    );
    let earlier = NaiveDate::from_ymd_opt(2026, 7, 1).expect("date");
    let r = screener()
        .screen(&Party::named("Sophon"), earlier, &allow)
        .expect("screens");
    assert!(r.hits.iter().any(|h| h.cleared.is_some()));
}

#[test]
fn bad_input_is_a_typed_error() {
    let s = screener();
    let allow = AllowList::new();
    let run = |n: &str| s.screen(&Party::named(n), as_of(), &allow);
    assert_eq!(run("").unwrap_err(), QueryError::Empty);
    assert_eq!(run("   \t ").unwrap_err(), QueryError::Empty);
    assert!(matches!(
        run(&"Huawei ".repeat(2000)).unwrap_err(),
        QueryError::TooLong { .. }
    ));
    assert!(matches!(
        run("Hua\u{0}wei").unwrap_err(),
        QueryError::ControlCharacter { code: 0, .. }
    ));
    assert!(matches!(
        run("Huawei\u{1b}[31m").unwrap_err(),
        QueryError::ControlCharacter { .. }
    ));
    assert!(matches!(
        run("!!! ??? ...").unwrap_err(),
        QueryError::NoLetters { .. }
    ));
    assert!(run(&"x".repeat(400)).is_ok());
}

#[test]
fn hits_serialise_with_the_documented_fields() {
    let hits = screen("Sophon");
    let v = serde_json::to_value(&hits[0]).expect("serialises");
    for key in [
        "name",
        "list",
        "score",
        "matched_alias",
        "citation",
        "certain",
        "features",
        "tokens_matched",
    ] {
        assert!(v.get(key).is_some(), "missing `{key}` in {v}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_strings_never_panic(name in any::<String>(), country in proptest::option::of(any::<String>())) {
        let _ = screener().screen(&Party { name, country }, as_of(), &AllowList::new());
    }

    #[test]
    fn random_scripts_never_panic(name in "[\\p{Han}\\p{Cyrillic}\\p{Arabic}\\p{Hangul}a-zA-Z0-9 .,'&-]{0,60}") {
        let _ = screener().screen(&Party::named(&name), as_of(), &AllowList::new());
    }
}
