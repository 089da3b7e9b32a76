//! FollowTheMoney (OpenSanctions) entity files as a list source: both line formats, the
//! fixtures made from real rows of `../shared/data` (`tests/data/ftm/gen.py`), and malformed
//! lines naming the line and field.

use chrono::NaiveDate;
use exportgate_screen::parse;
use exportgate_screen::{AllowList, Format, ParseError, Party, Screener};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ftm");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 8, 1).unwrap()
}

#[test]
fn both_line_formats_are_detected_and_read_alike() {
    let flat = fixture("entities.ftm.json");
    let nested = fixture("targets.nested.json");
    assert_eq!(
        parse::detect(&flat, "entities.ftm.json"),
        Some(Format::FtmJson)
    );
    assert_eq!(
        parse::detect(&nested, "targets.nested.json"),
        Some(Format::FtmJson)
    );
    let a = parse::parse(&flat, "entities.ftm.json", Format::FtmJson).unwrap();
    let b = parse::parse(&nested, "targets.nested.json", Format::FtmJson).unwrap();
    // Six targets; the Sanction and Address lines and the non-target owner are skipped.
    assert_eq!(a.entries.len(), 6);
    assert_eq!(b.entries.len(), 6);
    assert!(!a.entries.iter().any(|e| e.name == "Ren Zhengfei"));
    assert_eq!(a.data_date, NaiveDate::from_ymd_opt(2026, 7, 31));
    for (x, y) in a.entries.iter().zip(&b.entries) {
        assert_eq!((&x.id, &x.name, &x.aliases), (&y.id, &y.name, &y.aliases));
        assert_eq!(x.countries, y.countries);
    }
    let huawei = &a.entries[0];
    assert_eq!(huawei.name, "Huawei Technologies Co., Ltd. (Huawei)");
    assert_eq!(
        huawei.aliases,
        ["Shenzhen Huawei Technologies", "Huawei Technology"]
    );
    assert_eq!(huawei.countries, ["CN"]);
    assert_eq!(huawei.entity_type.as_deref(), Some("Entity"));
    assert_eq!(huawei.list, "CSL");
    let lau = a.entries.iter().find(|e| e.name == "Edwina Lau").unwrap();
    assert_eq!(
        (lau.list.as_str(), lau.entity_type.as_deref()),
        ("SDN", Some("Individual"))
    );
    // The listing date comes from the nested sanction.
    let lm = &b.entries[4];
    assert_eq!(lm.name, "Lockheed Martin Corporation");
    assert_eq!(lm.start_date, NaiveDate::from_ymd_opt(2023, 2, 16));
    assert_eq!(lm.list, "CN_MOFCOM_UNRELIABLE");
}

#[test]
fn chinese_script_names_of_an_ftm_file_are_screened() {
    let p = parse::parse(
        &fixture("targets.nested.json"),
        "targets.nested.json",
        Format::FtmJson,
    )
    .unwrap();
    let s = Screener::new(p.entries, Vec::new());
    let r = s
        .screen(
            &Party::named("雷神导弹与防务公司"),
            day(),
            &AllowList::new(),
        )
        .unwrap();
    assert_eq!(r.hits[0].name, "Raytheon Missiles & Defense");
    assert!(r.hits[0].certain);
    let r = s
        .screen(&Party::named("Cambricon"), day(), &AllowList::new())
        .unwrap();
    assert_eq!(r.hits[0].name, "Cambricon Technologies Corporation Limited");
}

#[test]
fn malformed_lines_name_the_line_and_field() {
    let err =
        |text: &str| parse::parse(text.as_bytes(), "x.ftm.json", Format::FtmJson).unwrap_err();
    let good = r#"{"id":"a","schema":"Company","properties":{"name":["Acme"]}}"#;
    match err(&format!("{good}\n{{\"id\":\"b\",\"schema\":\"Person\"}}\n")) {
        ParseError::Field {
            location, field, ..
        } => assert_eq!(
            (location.as_str(), field.as_str()),
            ("line 2", "properties")
        ),
        e => panic!("{e}"),
    }
    match err(&format!("{good}\n\n{{not json\n")) {
        ParseError::Field { location, .. } => assert_eq!(location, "line 3"),
        e => panic!("{e}"),
    }
    match err(r#"{"id":"a","schema":"Company","properties":{"name":"Acme"}}"#) {
        ParseError::Field { field, .. } => assert_eq!(field, "properties.name"),
        e => panic!("{e}"),
    }
    match err(r#"{"id":"a","schema":"Company","properties":{"country":["cn"]}}"#) {
        ParseError::Field { field, message, .. } => {
            assert_eq!(field, "properties.name");
            assert!(message.contains("no name"), "{message}");
        }
        e => panic!("{e}"),
    }
    // Only non-party entities: no list entries, which is refused.
    let e = err(r#"{"id":"s","schema":"Sanction","properties":{"entity":["a"]}}"#);
    assert!(e.to_string().contains("no list entries"), "{e}");
}
