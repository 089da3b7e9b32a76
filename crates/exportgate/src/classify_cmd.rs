//! `exportgate chips` and `exportgate classify`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::{Context, ItemRef, Ruleset, Spec};

use crate::input::read_all;
use crate::{render, user, TextOrJson};

/// Check `--regime` ids against the ruleset.
pub fn check_regimes(rs: &Ruleset, ids: &[String]) -> anyhow::Result<()> {
    for id in ids {
        if rs.regime(id).is_none() {
            let known: Vec<&str> = rs.regimes().iter().map(|r| r.id.as_str()).collect();
            return Err(user(format!(
                "unknown regime `{id}`\n\nhint: known regimes are {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

pub fn chips(rs: &Ruleset, format: TextOrJson) -> anyhow::Result<ExitCode> {
    match format {
        TextOrJson::Json => {
            let all: Vec<_> = rs.catalog.entries().collect();
            outln!("{}", serde_json::to_string_pretty(&all)?)?;
        }
        TextOrJson::Text => {
            outln!("{:<24} {:<10} {:<12} NAME", "ID", "KIND", "CONFIDENCE")?;
            for e in rs.catalog.entries() {
                let kind = e.spec.kind.as_str();
                outln!(
                    "{:<24} {:<10} {:<12} {}",
                    e.id,
                    kind,
                    format!(
                        "{} {}",
                        e.meta.confidence.tag().as_str(),
                        e.meta.confidence.name()
                    ),
                    e.spec.name
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn classify(
    rs: &Ruleset,
    chip: Option<String>,
    spec_path: Option<PathBuf>,
    as_of: NaiveDate,
    regimes: Vec<String>,
    format: TextOrJson,
) -> anyhow::Result<ExitCode> {
    check_regimes(rs, &regimes)?;
    let owned;
    let item = match (&chip, &spec_path) {
        (Some(id), _) => {
            let e = rs
                .catalog
                .get(id)
                .ok_or_else(|| user(rs.catalog.unknown(id, "--chip").to_string()))?;
            ItemRef {
                chip: Some(&e.id),
                spec: &e.spec,
            }
        }
        (None, Some(path)) => {
            let bytes = read_all(path)?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| user(format!("`{}` is not valid UTF-8", path.display())))?;
            owned = Spec::from_json(text)
                .map_err(|e| user(format!("spec `{}`: {e}", path.display())))?;
            ItemRef {
                chip: None,
                spec: &owned,
            }
        }
        (None, None) => return Err(user("give `--chip ID` or `--spec FILE`")),
    };
    let ctx = Context {
        as_of,
        forced: regimes,
    };
    let c = exportgate_core::classify(rs, item, &ctx).map_err(|e| user(e.to_string()))?;
    match format {
        TextOrJson::Json => outln!("{}", serde_json::to_string(&c)?)?,
        TextOrJson::Text => {
            use std::io::Write as _;
            write!(std::io::stdout().lock(), "{}", render::classification(&c))?
        }
    }
    Ok(ExitCode::SUCCESS)
}
