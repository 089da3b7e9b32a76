//! `lists import` of a FollowTheMoney (OpenSanctions) entity file: detected, stored as the
//! `opensanctions` source, and screened against after loading, Chinese-script names included.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use exportgate_lists::{import, load_screener};
use exportgate_screen::{AllowList, Format, Party};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../exportgate-screen/tests/data/ftm"
);

fn temp_db() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("exportgate-lists-test-{}-ftm", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("lists.sqlite")
}

#[test]
fn ftm_entities_import_and_screen() {
    let db = temp_db();
    let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let r = import(
        &db,
        &Path::new(FIXTURES).join("targets.nested.json"),
        None,
        day,
    )
    .expect("the FtM file imports");
    assert_eq!(r.version.source, "opensanctions");
    assert_eq!(r.version.format, Format::FtmJson);
    assert_eq!(r.version.entry_count, 6);
    assert_eq!(r.version.data_date, NaiveDate::from_ymd_opt(2026, 7, 31));
    // The flat export of the same parties, named explicitly, replaces it.
    let r2 = import(
        &db,
        &Path::new(FIXTURES).join("entities.ftm.json"),
        Some("ftm"),
        day,
    )
    .expect("the flat FtM file imports");
    assert!(r2.changed);
    let s = load_screener(&db).expect("loads");
    assert_eq!(s.entries().len(), 6);
    let hits = s
        .screen(&Party::named("雷神导弹与防务公司"), day, &AllowList::new())
        .unwrap()
        .hits;
    assert!(
        hits.iter().any(|h| h.name == "Raytheon Missiles & Defense"),
        "{hits:?}"
    );
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}
