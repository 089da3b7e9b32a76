//! The committed chip catalog (`data/chips.json`) is what its generator makes of the reference
//! CSV today (`python3 data/gen/chips.py ../shared/reference/chips.csv`): an edit to either
//! the CSV or the generator that was not carried into the catalog fails here.

use std::path::Path;
use std::process::Command;

#[test]
fn the_catalog_is_generated_from_the_current_reference_csv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("python3")
        .arg(root.join("data/gen/chips.py"))
        .arg(root.join("../shared/reference/chips.csv"))
        .output()
        .expect("python3 runs the catalog generator");
    assert!(
        out.status.success(),
        "data/gen/chips.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read_to_string(root.join("data/chips.json")).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "data/chips.json is not what data/gen/chips.py makes of ../shared/reference/chips.csv; \
         regenerate it: python3 data/gen/chips.py ../shared/reference/chips.csv > data/chips.json"
    );
}

/// The same for the countries file (`python3 data/gen/countries.py`, which needs pycountry:
/// `scripts/test.sh` installs the version it was made with).
#[test]
fn the_countries_file_is_generated_from_the_current_extract() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("countries.json");
    let out = Command::new("python3")
        .arg(root.join("data/gen/countries.py"))
        .arg("--out")
        .arg(&out_path)
        .output()
        .expect("python3 runs the countries generator");
    assert!(
        out.status.success(),
        "data/gen/countries.py failed (pycountry installed? scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made = std::fs::read_to_string(&out_path).unwrap();
    let committed = std::fs::read_to_string(root.join("data/countries.json")).unwrap();
    assert!(
        made == committed,
        "data/countries.json is not what data/gen/countries.py makes today; regenerate it: \
         python3 data/gen/countries.py"
    );
}
