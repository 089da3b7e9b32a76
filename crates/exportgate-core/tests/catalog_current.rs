//! The committed data files are what their generators make of the references today: the chip
//! catalog (`python3 data/gen/chips.py ../shared/reference/chips.csv`) and the countries file
//! (`python3 data/gen/countries.py`, which needs pycountry: `scripts/test.sh` installs the
//! version it was made with). An edit to a reference or a generator that was not carried into
//! the data fails here. The generators write to standard output; the committed files are
//! compiled in, as the core reads them.

use std::path::Path;
use std::process::Command;

fn generate(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("python3")
        .current_dir(&root)
        .args(args)
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn the_catalog_is_generated_from_the_current_reference_csv() {
    let made = generate(&["data/gen/chips.py", "../shared/reference/chips.csv"]);
    assert!(
        made == include_str!("../../../data/chips.json"),
        "data/chips.json is not what data/gen/chips.py makes of ../shared/reference/chips.csv; \
         regenerate it: python3 data/gen/chips.py ../shared/reference/chips.csv > data/chips.json"
    );
}

#[test]
fn the_countries_file_is_generated_from_the_current_extract() {
    let made = generate(&["data/gen/countries.py", "--out", "/dev/stdout"]);
    assert!(
        made == include_str!("../../../data/countries.json"),
        "data/countries.json is not what data/gen/countries.py makes today (pycountry \
         installed? scripts/test.sh installs it); regenerate it: python3 data/gen/countries.py"
    );
}
