//! Loader tests against the real list files in `../shared/data` (entry counts as
//! `SOURCES.md` states them).

use std::collections::HashMap;

use exportgate_screen::parse::{self, parse_ofac_set, OfacFiles};
use exportgate_screen::{Format, ParseError};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{rel}")).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn counts(entries: &[exportgate_screen::ListEntry]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for e in entries {
        *m.entry(e.list.clone()).or_insert(0) += 1;
    }
    m
}

#[test]
fn csl_2026_compact_json() {
    let b = read("lists/csl_2026-07-31/screening-list.json");
    assert_eq!(
        parse::detect(&b, "screening-list.json"),
        Some(Format::CslCompactJson)
    );
    let p = parse::parse(&b, "screening-list.json", Format::CslCompactJson).unwrap();
    assert_eq!(p.entries.len(), 25_921);
    let c = counts(&p.entries);
    assert_eq!(c["SDN"], 19_181);
    assert_eq!(c["EL"], 3_420);
    assert_eq!(c["DPL"], 1_596);
    assert_eq!(c["UVL"], 222);
    assert_eq!(c["MEU"], 70);
    assert_eq!(c["NS-MBS"], 51);
    assert_eq!(p.data_date.unwrap().to_string(), "2026-07-31");
    let sophgo = p
        .entries
        .iter()
        .find(|e| e.name == "Sophgo Technologies Ltd.")
        .unwrap();
    assert_eq!(sophgo.citation.as_deref(), Some("90 FR 4621"));
    assert!(sophgo
        .license_policy
        .as_deref()
        .unwrap()
        .to_lowercase()
        .contains("denial"));
    assert!(sophgo.aliases.iter().any(|a| a == "SOPHON"));
    let ids: std::collections::HashSet<_> = p.entries.iter().map(|e| &e.id).collect();
    assert_eq!(ids.len(), p.entries.len(), "ids are unique");
}

#[test]
fn csl_2026_flat_csv() {
    let b = read("lists/csl_2026-07-31/csl_2026-07-31_flat.csv");
    assert_eq!(parse::detect(&b, "x.csv"), Some(Format::CslCsv));
    let p = parse::parse(&b, "flat.csv", Format::CslCsv).unwrap();
    assert_eq!(p.entries.len(), 25_921);
    assert_eq!(counts(&p.entries)["EL"], 3_420);
}

#[test]
fn csl_2022_official_csv() {
    let b = read("lists/csl_2022-05/consolidated.csv");
    assert_eq!(parse::detect(&b, "consolidated.csv"), Some(Format::CslCsv));
    let p = parse::parse(&b, "consolidated.csv", Format::CslCsv).unwrap();
    assert_eq!(p.entries.len(), 14_160);
    let c = counts(&p.entries);
    assert_eq!(c["SDN"], 10_026);
    assert_eq!(c["EL"], 2_001);
    assert_eq!(c["FSE"], 3);
    assert_eq!(p.data_date.unwrap().to_string(), "2022-04-21");
    let huawei = p
        .entries
        .iter()
        .filter(|e| e.list == "EL" && e.name.to_lowercase().contains("huawei"))
        .count();
    assert!(huawei > 50, "{huawei}");
    // Each entry keeps its own start date (issue 13, item 10): Huawei's is 2019-05-21.
    let h = p
        .entries
        .iter()
        .find(|e| e.list == "EL" && e.name == "Huawei Technologies Co., Ltd. (Huawei)")
        .unwrap();
    assert_eq!(h.start_date.unwrap().to_string(), "2019-05-21");
    let dated = p.entries.iter().filter(|e| e.start_date.is_some()).count();
    assert_eq!(dated, 2_523);
}

#[test]
fn csl_2026_compact_json_has_no_start_dates() {
    let p = parse::parse(
        &read("lists/csl_2026-07-31/screening-list.json"),
        "screening-list.json",
        Format::CslCompactJson,
    )
    .unwrap();
    assert!(p.entries.iter().all(|e| e.start_date.is_none()));
}

#[test]
fn csl_official_json_shape() {
    let json = br#"{"results":[{"id":"x","source":"Entity List (EL) - Bureau of Industry and Security","name":"Acme Ltd.","alt_names":["Acme"],"addresses":[{"address":"1 Road","country":"CN"}],"federal_register_notice":"90 FR 1","license_requirement":"For all items subject to the EAR.","license_policy":"Presumption of denial.","programs":[]}]}"#;
    assert_eq!(
        parse::detect(json, "consolidated.json"),
        Some(Format::CslJson)
    );
    let p = parse::parse(json, "consolidated.json", Format::CslJson).unwrap();
    assert_eq!(p.entries[0].list, "EL");
    assert_eq!(p.entries[0].countries, vec!["CN"]);
    assert_eq!(p.entries[0].citation.as_deref(), Some("90 FR 1"));
    assert_eq!(p.entries[0].start_date, None);
    let dated = br#"{"results":[{"source":"Entity List (EL) - Bureau of Industry and Security","name":"Acme Ltd.","start_date":"2025-01-16"},{"source":"Entity List (EL) - Bureau of Industry and Security","name":"Bad Date Ltd.","start_date":"16 Jan"}]}"#;
    let p = parse::parse(dated, "consolidated.json", Format::CslJson).unwrap();
    assert_eq!(p.entries[0].start_date.unwrap().to_string(), "2025-01-16");
    // A date that cannot be read is no date: the listing date is then unknown (fail closed).
    assert_eq!(p.entries[1].start_date, None);
}

#[test]
fn ofac_sdn_2021_set() {
    let (s, a, d) = (
        read("lists/ofac_sdn_2021-07/sdn.csv"),
        read("lists/ofac_sdn_2021-07/alt.csv"),
        read("lists/ofac_sdn_2021-07/add.csv"),
    );
    assert_eq!(parse::detect(&s, "sdn.csv"), Some(Format::OfacSdn));
    let p = parse_ofac_set(
        &OfacFiles {
            primary: ("sdn.csv", &s),
            add: Some(("add.csv", &d)),
            alt: Some(("alt.csv", &a)),
        },
        Format::OfacSdn,
    )
    .unwrap();
    assert_eq!(p.entries.len(), 8_976);
    let aliases: usize = p.entries.iter().map(|e| e.aliases.len()).sum();
    assert!(aliases > 11_000, "{aliases}");
    let bnc = p
        .entries
        .iter()
        .find(|e| e.name == "BANCO NACIONAL DE CUBA")
        .unwrap();
    assert!(bnc.aliases.iter().any(|a| a == "NATIONAL BANK OF CUBA"));
    assert!(bnc.countries.contains(&"CH".to_string()));
}

#[test]
fn ofac_cons_2025_set() {
    let (s, a, d) = (
        read("lists/ofac_2025-12/cons_prim.csv"),
        read("lists/ofac_2025-12/cons_alt.csv"),
        read("lists/ofac_2025-12/cons_add.csv"),
    );
    assert_eq!(parse::detect(&s, "cons_prim.csv"), Some(Format::OfacCons));
    let p = parse_ofac_set(
        &OfacFiles {
            primary: ("cons_prim.csv", &s),
            add: Some(("cons_add.csv", &d)),
            alt: Some(("cons_alt.csv", &a)),
        },
        Format::OfacCons,
    )
    .unwrap();
    assert_eq!(p.entries.len(), 442);
    let c = counts(&p.entries);
    assert!(c["SSI"] > 100 && c["CMIC"] >= 45, "{c:?}");
}

#[test]
fn un_consolidated_xml() {
    let b = read("lists/un/UN_consolidated_2026-02-27.xml");
    assert_eq!(parse::detect(&b, "un.xml"), Some(Format::UnXml));
    let p = parse::parse(&b, "un.xml", Format::UnXml).unwrap();
    assert_eq!(p.entries.len(), 730 + 273);
    let ind = p
        .entries
        .iter()
        .filter(|e| e.entity_type.as_deref() == Some("Individual"))
        .count();
    assert_eq!(ind, 730);
    assert_eq!(p.data_date.unwrap().to_string(), "2026-02-27");
    let arabic = p
        .entries
        .iter()
        .filter(|e| {
            e.aliases
                .iter()
                .any(|a| a.chars().any(|c| ('\u{600}'..='\u{6ff}').contains(&c)))
        })
        .count();
    assert!(arabic > 300, "{arabic}");
}

#[test]
fn bis_dpl_tab_file() {
    let b = read("lists/bis_dpl/dpl_2022-09.txt");
    assert_eq!(parse::detect(&b, "dpl.txt"), Some(Format::BisDpl));
    let p = parse::parse(&b, "dpl.txt", Format::BisDpl).unwrap();
    assert_eq!(p.entries.len(), 581);
    assert!(p.entries.iter().all(|e| e.list == "DPL"));
    assert!(p.entries[1]
        .citation
        .as_deref()
        .unwrap()
        .contains("87 F.R. 52741"));
    // The order's effective date is the entry's start date.
    assert_eq!(p.entries[1].start_date.unwrap().to_string(), "2022-08-24");
}

#[test]
fn other_countries_json() {
    let b = read("lists/other_countries/cn_entity_lists.json");
    assert_eq!(
        parse::detect(&b, "cn.json"),
        Some(Format::OtherCountriesJson)
    );
    let p = parse::parse(&b, "cn.json", Format::OtherCountriesJson).unwrap();
    assert_eq!(p.entries.len(), 240);
    let c = counts(&p.entries);
    assert_eq!((c["CN-ECCL"], c["CN-UEL"], c["CN-ATT"]), (139, 61, 40));
    let jp = parse::parse(
        &read("lists/other_countries/jp_end_user_list.json"),
        "jp.json",
        Format::OtherCountriesJson,
    )
    .unwrap();
    assert_eq!(jp.entries.len(), 835);
    assert!(jp
        .entries
        .iter()
        .any(|e| e.countries.contains(&"IR".to_string())));
}

#[test]
fn malformed_files_name_file_record_and_field() {
    let bad_compact = br#"{"tables":{"sources":["Entity List (EL) - x"],"licenceRequirements":[],"licencePolicies":[],"programmes":[],"urls":[]},"entries":[{"n":"A","s":0},{"n":"B","s":7}]}"#;
    let e = parse::parse(bad_compact, "list.json", Format::CslCompactJson).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("list.json") && msg.contains("entry 2") && msg.contains("`s`"),
        "{msg}"
    );

    let bad_csv = b"source,name\nEntity List (EL) - x,Acme\nEntity List (EL) - x,\n";
    let msg = parse::parse(bad_csv, "c.csv", Format::CslCsv)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("c.csv") && msg.contains("line 3") && msg.contains("`name`"),
        "{msg}"
    );

    let bad_sdn = b"36,\"A\",-0- ,\"CUBA\"\r\nx7,\"B\",-0- ,\"CUBA\"\r\n\x1a";
    let msg = parse::parse(bad_sdn, "sdn.csv", Format::OfacSdn)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("sdn.csv") && msg.contains("line 2") && msg.contains("ent_num"),
        "{msg}"
    );

    let bad_xml = b"<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>";
    let msg = parse::parse(bad_xml, "un.xml", Format::UnXml)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("un.xml") && msg.contains("record 1") && msg.contains("FIRST_NAME"),
        "{msg}"
    );

    let truncated = b"<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>A</FIRST_NAME>";
    assert!(parse::parse(truncated, "un.xml", Format::UnXml).is_err());

    let msg = parse::parse(b"{\"results\": 3}", "j.json", Format::CslJson)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("j.json") && msg.contains("results"), "{msg}");

    let empty = parse::parse(b"source,name\n", "e.csv", Format::CslCsv).unwrap_err();
    assert!(matches!(empty, ParseError::Format { .. }));

    let msg = parse::parse(
        b"[{\"entity_name\":\"\",\"list_id\":\"cn-attention-list\"}]",
        "cn.json",
        Format::OtherCountriesJson,
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("record 1") && msg.contains("entity_name"),
        "{msg}"
    );
}
