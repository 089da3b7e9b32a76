// Generates `src/legal_forms.rs` from rigour's `org_types.yml` (MIT, OpenSanctions).
//
// Run from the workspace root:
// `cargo run -p exportgate-screen --example gen_legal_forms -- ../shared/data/reference/rigour/org_types.yml crates/exportgate-screen/src/legal_forms.rs`
// A test (`legal_forms_table_is_current`) checks that the committed table is up to date.

use std::fmt::Write as _;

use yaml_rust2::{Yaml, YamlLoader};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = match (args.get(1), args.get(2)) {
        (Some(i), Some(o)) => (i.clone(), o.clone()),
        _ => {
            eprintln!("usage: gen_legal_forms ORG_TYPES_YML OUTPUT_RS");
            std::process::exit(2);
        }
    };
    let text =
        std::fs::read_to_string(&input).unwrap_or_else(|e| panic!("cannot read `{input}`: {e}"));
    std::fs::write(&output, generate(&text))
        .unwrap_or_else(|e| panic!("cannot write `{output}`: {e}"));
}

/// The generated Rust source for a given `org_types.yml` text.
pub fn generate(yaml: &str) -> String {
    let docs = YamlLoader::load_from_str(yaml).expect("org_types.yml is valid YAML");
    let types = docs[0]["types"].as_vec().expect("a `types` list");
    let mut rows: Vec<(String, String)> = Vec::new();
    for t in types {
        let s = |k: &str| match &t[k] {
            Yaml::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let canonical = s("generic")
            .or_else(|| s("compare"))
            .or_else(|| s("display"))
            .unwrap_or_else(|| "ORG".to_string());
        for a in t["aliases"].as_vec().map(Vec::as_slice).unwrap_or(&[]) {
            let alias = match a {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                Yaml::Real(r) => r.clone(),
                _ => continue,
            };
            let row = (alias.trim().to_string(), canonical.clone());
            if !row.0.is_empty() && !rows.contains(&row) {
                rows.push(row);
            }
        }
    }
    let mut out = String::new();
    out.push_str(
        "//! Legal forms (organisation types) in many languages and scripts, generated from\n",
    );
    out.push_str("//! rigour's `resources/names/org_types.yml` (MIT, (c) OpenSanctions Datenbanken GmbH) by\n");
    out.push_str("//! `examples/gen_legal_forms.rs`. Do not edit by hand.\n\n");
    out.push_str("/// `(alias as written, generic form)`.\n");
    out.push_str("pub(crate) const LEGAL_FORMS: &[(&str, &str)] = &[\n");
    for (a, c) in &rows {
        writeln!(out, "    ({a:?}, {c:?}),").unwrap();
    }
    out.push_str("];\n");
    out
}
