//! Evidence packs (issue 19 item 3): `exportgate audit export --from DATE --to DATE --out DIR`
//! and `exportgate audit verify --pack DIR`.
//!
//! A pack is a directory that proves, offline and without the database, what was decided and
//! on what:
//! * `records.jsonl`: the audit records from the first to the last record dated in the range
//!   (one JSON object per line, exactly as [`AuditRecord`] serialises), every record between
//!   them included so the chain has no gap;
//! * `chain.json`: the chain proof: the anchor (the seq and hash before the first record, the
//!   genesis hash for record 1), the last record's seq and hash, the log's head when exported;
//! * `inputs.json`: the engines, rule-data digests and list versions and digests the decision
//!   records name; `rules/`: the rule data itself when this build's data is the data named
//!   (older data is named by its digest only); lists are named by version and digest, never
//!   copied (they are large);
//! * `summary.html`: a self-contained page, one section per decision (printed one per page):
//!   the order, outcome, reasons with citations, screening hits and the reviewer actions on it;
//! * `manifest.json`: the SHA-256 of every other file.
//!
//! `verify` re-hashes the chain from the anchor, requires each line to be its record's exact
//! serialisation, renders `summary.html` again from the records and compares it byte for byte,
//! recomputes the rule-data digests and every file's digest: any byte edited fails, naming the
//! record (or the file) it belongs to. With `--anchor`, anchors from `audit anchor` kept
//! elsewhere are checked too: that is what stops a forger who rewrote a whole pack.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use exportgate_core::inputs::{digest_parts, regimes_digest};
use exportgate_core::ruleset::embedded;
use exportgate_core::{DataDigests, DecisionInputs, Ruleset};
use exportgate_ledger::audit::{record_hash, AuditRecord, GENESIS_HASH, KIND_DECISION};
use exportgate_simulate::render::esc;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The chain proof of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainProof {
    /// The dates the pack was exported for (records dated in the range are summarised).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The seq and hash the first record follows.
    pub anchor: Link,
    /// The last record in the pack.
    pub last: Link,
    /// The log's head when the pack was exported.
    pub head: Link,
}

/// A seq and a record hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub seq: u64,
    pub hash: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The files of a pack, by relative path, built from `records` (a gap-free run of the log).
pub fn build(
    records: &[AuditRecord],
    from: NaiveDate,
    to: NaiveDate,
    head: Link,
    rs: &Ruleset,
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        anyhow::bail!("no audit records dated {from} to {to}");
    };
    let mut files = BTreeMap::new();
    let mut lines = String::new();
    for r in records {
        lines.push_str(&serde_json::to_string(r)?);
        lines.push('\n');
    }
    files.insert("records.jsonl".to_string(), lines.into_bytes());
    let chain = ChainProof {
        from,
        to,
        anchor: Link {
            seq: first.seq - 1,
            hash: first.prev_hash.clone(),
        },
        last: Link {
            seq: last.seq,
            hash: last.hash.clone(),
        },
        head,
    };
    files.insert("chain.json".into(), serde_json::to_vec_pretty(&chain)?);
    // The inputs the decisions name, and the rule data when it is this build's.
    let named = named_inputs(records);
    let ours = rs.digests().rules();
    let mut rules_included = false;
    if named.rules.contains_key(&ours) {
        rules_included = true;
        files.insert("rules/chips.json".into(), embedded::CATALOG.into());
        files.insert("rules/countries.json".into(), embedded::COUNTRIES.into());
        files.insert("rules/screening.json".into(), embedded::SCREENING.into());
        files.insert(
            "rules/end-use-tags.json".into(),
            embedded::END_USE_TAGS.into(),
        );
        files.insert(
            "rules/due-diligence-policy.json".into(),
            embedded::DUE_DILIGENCE_POLICY.into(),
        );
        for (name, text) in embedded::REGIMES {
            files.insert(format!("rules/regimes/{name}"), text.as_bytes().to_vec());
        }
    }
    let inputs = serde_json::json!({
        "engines": named.engines,
        "rules": named.rules.iter().map(|(digest, data)| serde_json::json!({
            "digest": digest,
            "data": data,
            "included": rules_included && *digest == ours,
        })).collect::<Vec<_>>(),
        "lists": named.lists.values().collect::<Vec<_>>(),
        "note": "lists are named by version and SHA-256 of the file imported; the files are not copied",
    });
    files.insert("inputs.json".into(), serde_json::to_vec_pretty(&inputs)?);
    files.insert(
        "summary.html".into(),
        render_html(records, &chain)?.into_bytes(),
    );
    let manifest: BTreeMap<&String, String> =
        files.iter().map(|(k, v)| (k, sha256_hex(v))).collect();
    let manifest = serde_json::to_vec_pretty(&serde_json::json!({ "files": manifest }))?;
    files.insert("manifest.json".into(), manifest);
    Ok(files)
}

/// What the decision records of a pack name.
struct Named {
    engines: BTreeSet<String>,
    rules: BTreeMap<String, DataDigests>,
    lists: BTreeMap<(String, String), exportgate_core::ListInput>,
}

fn named_inputs(records: &[AuditRecord]) -> Named {
    let mut named = Named {
        engines: BTreeSet::new(),
        rules: BTreeMap::new(),
        lists: BTreeMap::new(),
    };
    for r in records.iter().filter(|r| r.kind == KIND_DECISION) {
        let Ok(payload) = serde_json::from_str::<Value>(&r.payload) else {
            continue;
        };
        let Some(inputs) = payload
            .pointer("/decision/inputs")
            .and_then(|v| serde_json::from_value::<DecisionInputs>(v.clone()).ok())
        else {
            continue;
        };
        named.engines.insert(inputs.engine.clone());
        named
            .rules
            .insert(inputs.rules.clone(), inputs.data.clone());
        for l in inputs.lists {
            named.lists.insert((l.source.clone(), l.sha256.clone()), l);
        }
    }
    named
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:60em}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:0}h3{font-size:1em;margin-bottom:.3em}\
table{border-collapse:collapse;margin:.3em 0;width:100%}td,th{border:1px solid #ccc;padding:.25em .5em;\
text-align:left;vertical-align:top;font-size:.9em}th{background:#f3f3f3;width:12em}\
section.decision{border:1px solid #999;border-radius:4px;padding:1em;margin:1.5em 0;\
page-break-after:always;break-after:page}.outcome{font-weight:bold;padding:.1em .4em;border-radius:3px}\
.no_license_required{background:#e8f5e9}.license_exception{background:#e1f5fe}.licensed{background:#f3e5f5}\
.license_required{background:#fff3e0}.hold_for_review{background:#ffebee}.error{background:#ffebee}\
code{font-size:.85em;word-break:break-all}";

fn text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn row(out: &mut String, k: &str, v: &str) {
    let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
}

fn party(v: &Value) -> String {
    if v.is_null() {
        return "—".into();
    }
    let mut s = text(&v["name"]);
    let facts: Vec<String> = ["country", "headquarters", "parent_headquarters"]
        .iter()
        .filter_map(|k| {
            v.get(*k)
                .and_then(Value::as_str)
                .map(|c| format!("{k} {c}"))
        })
        .collect();
    if !facts.is_empty() {
        s.push_str(&format!(" ({})", facts.join(", ")));
    }
    s
}

/// The HTML summary of a pack: deterministic in the records and the chain proof alone, so
/// `verify` can render it again and compare.
pub fn render_html(records: &[AuditRecord], chain: &ChainProof) -> anyhow::Result<String> {
    // Reviewer actions (case events) by order id.
    let mut actions: BTreeMap<String, Vec<(&AuditRecord, Value)>> = BTreeMap::new();
    let mut decisions = Vec::new();
    for r in records.iter().filter(|r| r.kind == KIND_DECISION) {
        let Ok(p) = serde_json::from_str::<Value>(&r.payload) else {
            continue;
        };
        if let Some(event) = p.get("event").and_then(Value::as_str) {
            if let Some(id) = p.get("order_id").and_then(Value::as_str) {
                if event.starts_with("case_") {
                    actions.entry(id.to_string()).or_default().push((r, p));
                    continue;
                }
            }
        }
        let date = r.at.date();
        if date >= chain.from && date <= chain.to {
            decisions.push((r, p));
        }
    }
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>exportgate evidence \
         pack {from} to {to}</title><style>{STYLE}</style></head><body><header><h1>Evidence pack: \
         decisions recorded {from} to {to}</h1><table>",
        from = chain.from,
        to = chain.to
    );
    row(&mut o, "decisions", &decisions.len().to_string());
    row(
        &mut o,
        "audit records",
        &format!("{} to {}", chain.anchor.seq + 1, chain.last.seq),
    );
    row(
        &mut o,
        "chain anchor",
        &format!("record {}: {}", chain.anchor.seq, chain.anchor.hash),
    );
    row(
        &mut o,
        "last record",
        &format!("record {}: {}", chain.last.seq, chain.last.hash),
    );
    row(
        &mut o,
        "log head at export",
        &format!("record {}: {}", chain.head.seq, chain.head.hash),
    );
    o.push_str("</table><p>Check this pack offline with <code>exportgate audit verify --pack DIR</code>.</p></header>");
    for (r, p) in decisions {
        let d = &p["decision"];
        let order = &p["order"];
        let id = d
            .get("id")
            .or_else(|| p.get("order_id"))
            .map(text)
            .unwrap_or_default();
        let outcome = d
            .get("outcome")
            .and_then(Value::as_str)
            .unwrap_or("error")
            .to_string();
        let _ = write!(
            o,
            "<section class=\"decision\" id=\"record-{seq}\" data-seq=\"{seq}\"><h2>Order {id} \
             <span class=\"outcome {cls}\">{outcome}</span></h2><table>",
            seq = r.seq,
            id = esc(&id),
            cls = esc(&outcome),
            outcome = esc(&outcome),
        );
        row(
            &mut o,
            "audit record",
            &format!("{} at {} by {}", r.seq, r.at, r.actor),
        );
        row(&mut o, "record hash", &r.hash);
        if let Some(e) = p.get("error") {
            row(
                &mut o,
                "error",
                &format!("field `{}`: {}", text(&e["field"]), text(&e["message"])),
            );
        }
        row(&mut o, "exception", &text(&d["exception"]));
        row(&mut o, "review policy", &text(&d["review_policy"]));
        row(&mut o, "ECCN", &text(&d["eccn"]));
        if let Some(l) = d.get("licence") {
            row(&mut o, "licence", &text(&l["number"]));
        }
        o.push_str("</table><h3>Order as submitted</h3><table>");
        if order.is_null() {
            row(
                &mut o,
                "order",
                "not recorded (decision recorded before orders were kept)",
            );
        } else {
            row(&mut o, "date", &text(&order["date"]));
            row(&mut o, "item", &text(&order["item"]));
            row(&mut o, "quantity", &text(&order["quantity"]));
            row(&mut o, "destination", &text(&order["destination"]));
            row(&mut o, "exporter", &party(&order["exporter"]));
            row(&mut o, "consignee", &party(&order["consignee"]));
            row(&mut o, "end user", &party(&order["end_user"]));
            row(&mut o, "end use", &text(&order["end_use"]));
        }
        o.push_str("</table><h3>Reasons</h3><table><tr><th>rule</th><th>citation</th><th>summary</th></tr>");
        for reason in d["reasons"].as_array().into_iter().flatten() {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&text(&reason["rule"])),
                esc(&text(&reason["citation"])),
                esc(&text(&reason["summary"]))
            );
        }
        o.push_str("</table><h3>Screening</h3><table>");
        let sc = &d["screening"];
        row(&mut o, "status", &text(&sc["status"]));
        let lists: Vec<String> = sc["lists"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        row(&mut o, "lists", &lists.join("; "));
        o.push_str("</table>");
        let hits = sc["hits"].as_array().cloned().unwrap_or_default();
        if hits.is_empty() {
            o.push_str("<p>No list hits.</p>");
        } else {
            o.push_str("<table><tr><th>party</th><th>list</th><th>entry</th><th>score</th><th>cleared</th></tr>");
            for h in &hits {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td></tr>",
                    esc(&text(&h["party"])),
                    esc(&text(&h["list"])),
                    esc(&text(&h["name"])),
                    esc(&text(&h["entry_id"])),
                    esc(&text(&h["score"])),
                    esc(&text(&h["cleared"]))
                );
            }
            o.push_str("</table>");
        }
        o.push_str("<h3>Inputs</h3><table>");
        let inputs = &d["inputs"];
        if inputs.is_null() {
            row(
                &mut o,
                "inputs",
                "not named (decision recorded before inputs were kept)",
            );
        } else {
            row(&mut o, "engine", &text(&inputs["engine"]));
            row(&mut o, "rule data", &text(&inputs["rules"]));
            for l in inputs["lists"].as_array().into_iter().flatten() {
                row(
                    &mut o,
                    &format!("list {}", text(&l["source"])),
                    &format!(
                        "version {}, data date {}, {} entries, sha256 {}",
                        text(&l["version"]),
                        text(&l["data_date"]),
                        text(&l["entries"]),
                        text(&l["sha256"])
                    ),
                );
            }
        }
        o.push_str("</table><h3>Reviewer actions</h3>");
        match actions.get(&id) {
            None => o.push_str("<p>None recorded in this pack.</p>"),
            Some(list) => {
                o.push_str(
                    "<table><tr><th>record</th><th>event</th><th>by</th><th>reason</th></tr>",
                );
                for (a, ap) in list {
                    let _ = write!(
                        o,
                        "<tr><td>{} at {}</td><td>{} (case {})</td><td>{}</td><td>{}</td></tr>",
                        a.seq,
                        a.at,
                        esc(&text(&ap["event"])),
                        esc(&text(&ap["case"])),
                        esc(&a.actor),
                        esc(&text(ap.get("reason").unwrap_or(&ap["why"])))
                    );
                }
                o.push_str("</table>");
            }
        }
        o.push_str("</section>");
    }
    o.push_str("</body></html>\n");
    Ok(o)
}

/// Why a pack does not verify: the record (or file) at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("record {seq}: {problem}")]
    Record { seq: u64, problem: String },
    #[error("{file}: {problem}")]
    File { file: String, problem: String },
}

fn file_err(file: &str, problem: impl Into<String>) -> PackError {
    PackError::File {
        file: file.into(),
        problem: problem.into(),
    }
}

/// A verified pack: its records and chain proof.
#[derive(Debug)]
pub struct Verified {
    pub records: Vec<AuditRecord>,
    pub chain: ChainProof,
    pub decisions: usize,
    /// How many of the anchors given fell within the pack (and held).
    pub anchors_checked: usize,
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, PackError> {
    std::fs::read(dir.join(name)).map_err(|e| file_err(name, format!("cannot read: {e}")))
}

/// Verifies the pack in `dir`, offline; `anchors` are `(seq, hash)` kept outside the pack.
pub fn verify(dir: &Path, anchors: &[(u64, String)]) -> Result<Verified, PackError> {
    let chain_bytes = read(dir, "chain.json")?;
    let chain: ChainProof = serde_json::from_slice(&chain_bytes)
        .map_err(|e| file_err("chain.json", format!("not a chain proof: {e}")))?;
    let records_bytes = read(dir, "records.jsonl")?;
    let text = String::from_utf8(records_bytes.clone())
        .map_err(|_| file_err("records.jsonl", "not UTF-8"))?;
    // The chain, record by record, from the anchor.
    let mut records = Vec::new();
    let (mut seq, mut hash) = (chain.anchor.seq, chain.anchor.hash.clone());
    if seq == 0 && hash != GENESIS_HASH {
        return Err(file_err(
            "chain.json",
            "the anchor of record 0 must be the genesis hash",
        ));
    }
    for line in text.lines() {
        let expected = seq + 1;
        let r: AuditRecord = serde_json::from_str(line).map_err(|e| PackError::Record {
            seq: expected,
            problem: format!("edited: its line in records.jsonl is not a record ({e})"),
        })?;
        let name = r.seq;
        if r.seq != expected {
            return Err(PackError::Record {
                seq: expected,
                problem: format!(
                    "missing or out of order (found record {} in its place)",
                    r.seq
                ),
            });
        }
        let canonical = serde_json::to_string(&r).unwrap_or_default();
        if canonical != line {
            return Err(PackError::Record {
                seq: name,
                problem: "edited: its line in records.jsonl is not the record as exported".into(),
            });
        }
        if r.prev_hash != hash {
            return Err(PackError::Record {
                seq: name,
                problem: format!(
                    "does not follow record {}: its prev_hash is not that record's hash",
                    seq
                ),
            });
        }
        if record_hash(&r.prev_hash, r.seq, r.at, &r.actor, &r.kind, &r.payload) != r.hash {
            return Err(PackError::Record {
                seq: name,
                problem: "edited: its contents do not hash to its recorded hash".into(),
            });
        }
        seq = r.seq;
        hash = r.hash.clone();
        records.push(r);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(file_err(
            "records.jsonl",
            "edited: the last line has no newline",
        ));
    }
    if seq != chain.last.seq || hash != chain.last.hash {
        return Err(if seq < chain.last.seq {
            PackError::Record {
                seq: seq + 1,
                problem: "deleted: the chain proof ends at a later record".into(),
            }
        } else {
            file_err(
                "chain.json",
                format!(
                    "edited: the last record is {seq} with hash {hash}, not record {} {}",
                    chain.last.seq, chain.last.hash
                ),
            )
        });
    }
    if chain.head.seq < chain.last.seq {
        return Err(file_err(
            "chain.json",
            "edited: the head precedes the last record",
        ));
    }
    let mut anchors_checked = 0;
    for (aseq, ahash) in anchors {
        let found = if *aseq == chain.anchor.seq {
            Some(&chain.anchor.hash)
        } else {
            records.iter().find(|r| r.seq == *aseq).map(|r| &r.hash)
        };
        if let Some(found) = found {
            anchors_checked += 1;
            if found != ahash {
                return Err(PackError::Record {
                    seq: *aseq,
                    problem: format!("does not match the anchor kept outside the pack ({ahash})"),
                });
            }
        }
    }
    // The summary, rendered again.
    let html = read(dir, "summary.html")?;
    let want =
        render_html(&records, &chain).map_err(|e| file_err("summary.html", e.to_string()))?;
    if html != want.as_bytes() {
        return Err(html_difference(&html, want.as_bytes()));
    }
    // Every file against the manifest, and the rule data against its digest.
    let manifest: Value = serde_json::from_slice(&read(dir, "manifest.json")?)
        .map_err(|e| file_err("manifest.json", format!("not a manifest: {e}")))?;
    let files = manifest["files"]
        .as_object()
        .ok_or_else(|| file_err("manifest.json", "no `files` object"))?;
    for required in ["records.jsonl", "chain.json", "inputs.json", "summary.html"] {
        if !files.contains_key(required) {
            return Err(file_err(
                "manifest.json",
                format!("does not list `{required}`"),
            ));
        }
    }
    let mut rules_files = BTreeMap::new();
    for (name, digest) in files {
        if name.contains("..") || name.starts_with('/') {
            return Err(file_err("manifest.json", format!("bad file name `{name}`")));
        }
        let bytes = read(dir, name)?;
        if Some(sha256_hex(&bytes).as_str()) != digest.as_str() {
            return Err(file_err(name, "edited: its SHA-256 is not the manifest's"));
        }
        if let Some(rest) = name.strip_prefix("rules/") {
            rules_files.insert(rest.to_string(), bytes);
        }
    }
    let inputs: Value = serde_json::from_slice(&read(dir, "inputs.json")?)
        .map_err(|e| file_err("inputs.json", format!("not JSON: {e}")))?;
    if !rules_files.is_empty() {
        let digest = rules_digest(&rules_files)?;
        let included =
            inputs["rules"].as_array().into_iter().flatten().any(|r| {
                r["included"] == Value::Bool(true) && r["digest"].as_str() == Some(&digest)
            });
        if !included {
            return Err(file_err(
                "rules/",
                format!(
                    "the rule data hashes to {digest}, which inputs.json does not name as included"
                ),
            ));
        }
    }
    let decisions = records
        .iter()
        .filter(|r| r.kind == KIND_DECISION && r.at.date() >= chain.from && r.at.date() <= chain.to)
        .count();
    Ok(Verified {
        records,
        chain,
        decisions,
        anchors_checked,
    })
}

/// The digest of the rule data files of a pack, as [`Ruleset::digests`] computes it.
fn rules_digest(files: &BTreeMap<String, Vec<u8>>) -> Result<String, PackError> {
    let get = |n: &str| {
        files
            .get(n)
            .map(Vec::as_slice)
            .ok_or_else(|| file_err(&format!("rules/{n}"), "missing"))
    };
    let mut regimes = Vec::new();
    for (name, bytes) in files.iter().filter(|(n, _)| n.starts_with("regimes/")) {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| file_err(&format!("rules/{name}"), "not UTF-8"))?;
        let v: Value = serde_json::from_str(text)
            .map_err(|e| file_err(&format!("rules/{name}"), e.to_string()))?;
        let id = v["id"].as_str().unwrap_or_default().to_string();
        regimes.push((id, text));
    }
    let by_id: Vec<(&str, &str)> = regimes.iter().map(|(i, t)| (i.as_str(), *t)).collect();
    let data = DataDigests {
        regimes: regimes_digest(&by_id),
        countries: digest_parts([get("countries.json")?]),
        catalog: digest_parts([get("chips.json")?]),
        screening: digest_parts([get("screening.json")?]),
        end_use_tags: digest_parts([get("end-use-tags.json")?]),
        due_diligence: digest_parts([get("due-diligence-policy.json")?]),
    };
    Ok(data.rules())
}

/// Names the decision whose section of the summary differs, else the file.
fn html_difference(got: &[u8], want: &[u8]) -> PackError {
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let before = String::from_utf8_lossy(&want[..at.min(want.len())]);
    let marker = "<section class=\"decision\" id=\"record-";
    match before.rfind(marker) {
        Some(i) => {
            let seq: u64 = before[i + marker.len()..]
                .split('"')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            PackError::Record {
                seq,
                problem: "edited: its page in summary.html is not the record's".into(),
            }
        }
        None => file_err("summary.html", "edited: its header is not the pack's"),
    }
}

/// Writes a pack's files under `dir`, which must not exist or be empty: all or nothing.
pub fn write(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(crate::user(format!(
            "`{}` exists and is not empty: give a new directory for the pack",
            dir.display()
        )));
    }
    let tmp = dir.with_file_name(format!(
        ".{}.partial",
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pack".into())
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| -> std::io::Result<()> {
        for (name, bytes) in files {
            let path = tmp.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        if dir.exists() {
            std::fs::remove_dir(dir)?;
        }
        std::fs::rename(&tmp, dir)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_dir_all(&tmp);
        crate::user(format!("cannot write the pack to `{}`: {e}", dir.display()))
    })
}
