//! The committed legal-form table (`src/legal_forms.rs`) matches what the generator makes
//! from `../shared/data/reference/rigour/org_types.yml`.

#[allow(dead_code)]
mod generator {
    include!("../examples/gen_legal_forms.rs");
}

#[test]
fn legal_forms_table_is_current() {
    let yml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/reference/rigour/org_types.yml"
    ))
    .expect("org_types.yml");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/legal_forms.rs"))
            .expect("table");
    assert!(
        generator::generate(&yml) == committed,
        "src/legal_forms.rs is stale; regenerate it with the command in examples/gen_legal_forms.rs"
    );
}
