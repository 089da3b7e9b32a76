//! Embeds the SQL migrations: every `migrations/{sqlite,postgres}/NNNN_name.sql`, in version
//! order, becomes an entry of `SQLITE` / `POSTGRES` in `$OUT_DIR/migrations.rs`, so adding a
//! migration is adding a file (to both directories: `migrate`'s tests require the same versions).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let mut out = String::new();
    for (backend, name) in [("sqlite", "SQLITE"), ("postgres", "POSTGRES")] {
        let dir = Path::new(&root).join("migrations").join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<(u32, String, String)> = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("read migrations directory") {
            let path = entry.expect("read migrations directory").path();
            let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            let Some(stem) = file.strip_suffix(".sql") else {
                continue;
            };
            let (number, label) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("migration `{file}` is not named NNNN_name.sql"));
            let version: u32 = number
                .parse()
                .unwrap_or_else(|_| panic!("migration `{file}` does not start with a number"));
            println!("cargo:rerun-if-changed={}", path.display());
            files.push((version, label.to_owned(), path.display().to_string()));
        }
        files.sort();
        for pair in files.windows(2) {
            assert!(
                pair[0].0 != pair[1].0,
                "two {backend} migrations have version {}",
                pair[0].0
            );
        }
        let _ = writeln!(out, "/// The {backend} migrations: (version, name, SQL).");
        let _ = writeln!(out, "pub const {name}: &[(i64, &str, &str)] = &[");
        for (version, label, path) in files {
            let _ = writeln!(out, "    ({version}, {label:?}, include_str!({path:?})),");
        }
        let _ = writeln!(out, "];");
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(dest, out).expect("write migrations.rs");
}
