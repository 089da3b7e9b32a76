//! `exportgate replay`: the door that reads recorded decisions (the audit log, an evidence
//! pack's `records.jsonl`, or a JSONL file of `{"order": ..., "decision": ...}`), has the
//! pipeline decide each order again with today's engine, data and lists
//! (`exportgate_pipeline::replay`), and writes one JSON line per decision that changed, with
//! its cause. Everything is read and checked before anything is written.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;
use exportgate_core::Ruleset;
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::replay::Recorded;
use exportgate_pipeline::Pipeline;
use serde_json::Value;

use crate::db::{store_error, DbUrl};
use crate::{pipeline_error, user};

/// Reads the recorded decisions of a JSONL file: each line an audit record (with `payload`)
/// or a payload itself. Lines that are not decisions with their orders are skipped.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<Recorded>> {
    let text = crate::db::read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}: line {}", path.display(), i + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| user(format!("{}: {e}", at())))?;
        let (seq, payload) = match v.get("payload").and_then(Value::as_str) {
            Some(p) => (
                v.get("seq").and_then(Value::as_u64),
                serde_json::from_str(p)
                    .map_err(|e| user(format!("{}: field `payload`: {e}", at())))?,
            ),
            None => (None, v),
        };
        if let Some(r) = Recorded::from_payload(seq, &payload) {
            out.push(r.map_err(|e| user(format!("{}: {e}", at())))?);
        }
    }
    Ok(out)
}

/// Reads the recorded decisions of the audit log, after checking its chain.
pub fn read_audit(db: &DbUrl) -> anyhow::Result<Vec<Recorded>> {
    let mut store = db
        .open_existing()?
        .ok_or_else(|| user(format!("no ledger at {db}")))?;
    if let Err(broken) = store.verify_audit().map_err(store_error)? {
        anyhow::bail!("not replaying a broken audit log ({db}): {broken}");
    }
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_records(after, 1024).map_err(store_error)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            if r.kind != exportgate_ledger::audit::KIND_DECISION {
                continue;
            }
            let payload: Value = serde_json::from_str(&r.payload)
                .map_err(|e| anyhow::anyhow!("audit record {}: {e}", r.seq))?;
            if let Some(rec) = Recorded::from_payload(Some(r.seq), &payload) {
                out.push(rec.map_err(|e| anyhow::anyhow!("audit record {}: {e}", r.seq))?);
            }
        }
    }
    Ok(out)
}

/// Decides `recorded` again and writes the changes.
pub fn replay(
    rs: &Ruleset,
    recorded: Vec<Recorded>,
    since: Option<NaiveDate>,
    forced: &[String],
    source: &ScreeningSource,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // Each record is decided under the regimes it was forced under (and `--regime`'s).
    let mut pipelines: BTreeMap<Vec<String>, Pipeline> = BTreeMap::new();
    let mut buf = Vec::new();
    let (mut replayed, mut changed, mut stricter) = (0usize, 0usize, 0usize);
    for r in recorded
        .iter()
        .filter(|r| since.is_none_or(|s| r.order.date >= s))
    {
        replayed += 1;
        let mut regimes = r.forced();
        for f in forced {
            if !regimes.contains(f) {
                regimes.push(f.clone());
            }
        }
        let pipeline = match pipelines.entry(regimes) {
            Entry::Occupied(p) => p.into_mut(),
            Entry::Vacant(v) => {
                let p = Pipeline::new(rs, v.key(), source).map_err(|e| {
                    pipeline_error(e).context(format!(
                        "recorded order `{}` was decided under regimes [{}]",
                        r.order.id,
                        quoted(v.key())
                    ))
                })?;
                v.insert(p)
            }
        };
        let change = pipeline.replay(r).map_err(|e| {
            user(format!(
                "recorded order `{}`{}: field `{}`: {}",
                r.order.id,
                r.seq
                    .map(|s| format!(" (audit record {s})"))
                    .unwrap_or_default(),
                e.field,
                e.message
            ))
        })?;
        if let Some(c) = change {
            changed += 1;
            stricter += usize::from(c.stricter);
            serde_json::to_writer(&mut buf, &c)?;
            buf.push(b'\n');
        }
    }
    match out {
        Some(path) => write_atomic(path, &buf)?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    eprintln!("replayed {replayed} decisions: {changed} changed, {stricter} stricter");
    Ok(ExitCode::SUCCESS)
}

/// Writes a whole file or nothing: to a temporary file beside it, then renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| user(format!("`{}` is not a file name", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            user(format!("cannot write `{}`: {e}", path.display()))
        })
}

/// Regime ids as a list in messages: `"a", "b"`.
fn quoted(ids: &[String]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    /// The message names the regimes as it did when it printed the list's Debug output.
    #[test]
    fn regime_ids_are_listed_as_before() {
        let ids = vec!["ai-diffusion-2025".to_string(), "acs-2023".to_string()];
        assert_eq!(format!("[{}]", super::quoted(&ids)), format!("{ids:?}"));
        assert_eq!(super::quoted(&[]), "");
    }
}
