//! `exportgate check` and `exportgate explain`: the door that reads order files, hands them to
//! the decision pipeline (`exportgate-pipeline`) and writes its decisions.
//!
//! This module parses (JSONL read in blocks by a reader thread, or CSV) and renders (JSONL,
//! CSV, table, written by a writer thread); every decision, the in-order LPP pass and licence
//! matching against the ledger are the pipeline's. `check` never writes to the ledger.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{channel, sync_channel, Sender, SyncSender};

use exportgate_core::decide::policy_name;
use exportgate_core::{Order, Ruleset, SpecError};
use exportgate_ledger::LedgerStore;
use exportgate_pipeline::wire;
use exportgate_pipeline::{CheckRun, LineError, LineResult, Parsed, Pipeline};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::input::{csv_record_to_json, read_all};
use crate::{pipeline_error, render, user, CheckFormat, InputFormat, TextOrJson};
use exportgate_lists::source::ScreeningSource;

fn line_error(line: usize, id: Option<String>, e: SpecError) -> LineError {
    LineError::spec(line, id, e)
}

/// Split JSONL input into its non-blank lines, with 1-based line numbers.
pub fn jsonl_lines(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    jsonl_lines_from(bytes, 1)
}

/// Split a block of JSONL input whose first line is line `first` into its non-blank lines.
pub fn jsonl_lines_from(bytes: &[u8], first: usize) -> Vec<(usize, &[u8])> {
    let mut lines = Vec::with_capacity(bytes.len() / 512);
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for (i, end) in ends.enumerate() {
        let raw = &bytes[start..end];
        start = end + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !raw.iter().all(|b| b.is_ascii_whitespace()) {
            lines.push((first + i, raw));
        }
    }
    lines
}

/// Parse JSONL lines into orders, in parallel.
pub fn parse_jsonl(lines: &[(usize, &[u8])]) -> Vec<Parsed> {
    lines
        .par_iter()
        .map(|&(line, raw)| (line, parse_line(line, raw)))
        .collect()
}

/// Parse one JSONL line into an order.
pub(crate) fn parse_line(line: usize, raw: &[u8]) -> Result<Order, LineError> {
    match std::str::from_utf8(raw) {
        Err(_) => Err(LineError {
            line,
            id: None,
            field: "line".into(),
            message: "not valid UTF-8".into(),
        }),
        Ok(text) => Order::from_json(text).map_err(|e| line_error(line, guess_id(text), e)),
    }
}

/// Append decisions in the chosen format (no header).
fn serialise_into(
    buf: &mut Vec<u8>,
    results: &[LineResult],
    format: CheckFormat,
) -> anyhow::Result<()> {
    match format {
        CheckFormat::Jsonl => write_jsonl(buf, results),
        _ => write_results(buf, results, format),
    }
}

/// Parse CSV input (flattened field names in the header) into orders; the header is line 1.
pub fn parse_csv(bytes: &[u8]) -> anyhow::Result<Vec<Parsed>> {
    let mut out = Vec::new();
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| user(format!("CSV header: {e}")))?
        .clone();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let parsed = match rec {
            Err(e) => Err(LineError {
                line,
                id: None,
                field: "line".into(),
                message: e.to_string(),
            }),
            Ok(rec) => match csv_record_to_json(&headers, &rec) {
                Err(m) => Err(LineError {
                    line,
                    id: None,
                    field: "line".into(),
                    message: m,
                }),
                Ok(v) => {
                    let id = v.get("id").and_then(|x| x.as_str()).map(str::to_string);
                    Order::from_json(&v.to_string()).map_err(|e| line_error(line, id, e))
                }
            },
        };
        out.push((line, parsed));
    }
    Ok(out)
}

fn guess_id(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

const CSV_HEADER: [&str; 12] = [
    "id",
    "date",
    "outcome",
    "exception",
    "review_policy",
    "eccn",
    "tpp_total",
    "rules",
    "conditions",
    "unconfirmed",
    "error",
    "licence",
];

fn csv_row(r: &LineResult) -> Vec<String> {
    match r {
        Ok(d) => vec![
            d.id.clone(),
            d.date.to_string(),
            d.outcome.as_str().into(),
            d.exception.clone().unwrap_or_default(),
            d.review_policy.map(policy_name).unwrap_or_default().into(),
            d.eccn.as_str().into(),
            d.tpp_total.map(|t| t.to_string()).unwrap_or_default(),
            d.reasons
                .iter()
                .map(|x| x.rule.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            d.conditions
                .iter()
                .map(|c| c.kind.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            d.unconfirmed.to_string(),
            String::new(),
            d.licence
                .as_ref()
                .map(|l| l.number.clone())
                .unwrap_or_default(),
        ],
        Err(e) => {
            let mut row = vec![String::new(); CSV_HEADER.len()];
            row[0] = e.id.clone().unwrap_or_default();
            row[2] = "error".into();
            row[10] = e.describe();
            row
        }
    }
}

/// A CSV cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`,
/// tab or carriage return) is prefixed with a single quote, as OWASP recommends against CSV
/// injection; the CSV writer quotes the cell as needed. Every cell goes through this.
pub(crate) fn csv_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// A table cell with every control character escaped (`\u{1b}`, `\n`, ...), so no text
/// from an order (an id, a name quoted in an error) can move the cursor, clear the screen or
/// forge a row of `--format table` output.
pub(crate) fn escape_control(cell: &str) -> std::borrow::Cow<'_, str> {
    if !cell.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(cell);
    }
    let mut out = String::with_capacity(cell.len() + 8);
    for c in cell.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Append decisions as JSON lines (SIMD JSON: serialising is a fifth of `check`'s time).
fn write_jsonl(buf: &mut Vec<u8>, results: &[LineResult]) -> anyhow::Result<()> {
    for r in results {
        match r {
            Ok(d) => sonic_rs::to_writer(&mut *buf, &wire::json(d))?,
            Err(e) => sonic_rs::to_writer(
                &mut *buf,
                &serde_json::json!({"line": e.line, "id": e.id, "error": {"field": e.field, "message": e.message}}),
            )?,
        }
        buf.push(b'\n');
    }
    Ok(())
}

/// Write the header line of CSV and table output.
pub fn write_header(out: &mut dyn Write, format: CheckFormat) -> anyhow::Result<()> {
    match format {
        CheckFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER)?;
            w.flush()?;
        }
        CheckFormat::Table => writeln!(
            out,
            "{:<28} {:<10} {:<19} {:<23} {:<13} {:>12}  RULES",
            "ID", "DATE", "OUTCOME", "EXCEPTION/POLICY", "ECCN", "TPP"
        )?,
        CheckFormat::Jsonl => {}
    }
    Ok(())
}

/// Write decisions (no header) in the chosen format.
pub fn write_results(
    out: &mut dyn Write,
    results: &[LineResult],
    format: CheckFormat,
) -> anyhow::Result<()> {
    match format {
        CheckFormat::Jsonl => {
            let mut buf = Vec::new();
            write_jsonl(&mut buf, results)?;
            out.write_all(&buf)?;
        }
        CheckFormat::Csv => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out);
            for r in results {
                w.write_record(csv_row(r).into_iter().map(csv_safe))?;
            }
            w.flush()?;
        }
        CheckFormat::Table => {
            for r in results {
                let row: Vec<String> = csv_row(r)
                    .iter()
                    .map(|c| escape_control(c).into_owned())
                    .collect();
                let xp = if !row[3].is_empty() {
                    &row[3]
                } else if !row[11].is_empty() {
                    &row[11]
                } else {
                    &row[4]
                };
                let rules = if row[10].is_empty() {
                    &row[7]
                } else {
                    &row[10]
                };
                let unc = if row[9] == "true" {
                    " [unconfirmed]"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{:<28} {:<10} {:<19} {:<23} {:<13} {:>12}  {rules}{unc}",
                    render::fit(&row[0], 28),
                    row[1],
                    row[2],
                    xp,
                    render::fit(&row[5], 13),
                    row[6]
                )?;
            }
        }
    }
    Ok(())
}

/// Lines parsed, decided and rendered per task on one core.
const SERIALISE_LINES: usize = 1024;

/// Lines decided (in tasks of [`SERIALISE_LINES`], in parallel) before their output goes to
/// the writer: bounds the decisions held in memory at once.
const ROUND_LINES: usize = 32 * SERIALISE_LINES;

/// A block of whole input lines and the 1-based number of its first line. Dropped, it gives
/// its buffer back to the reader that filled it, to be filled again.
pub(crate) struct Block {
    pub(crate) first_line: usize,
    pub(crate) bytes: Vec<u8>,
    recycle: Sender<Vec<u8>>,
}

impl Drop for Block {
    fn drop(&mut self) {
        // The reader may have finished; then the buffer is simply freed.
        self.recycle.send(std::mem::take(&mut self.bytes)).ok();
    }
}

/// Bytes read per block: 13,000 to 27,000 generated order lines. The reader runs up to
/// three blocks ahead, and each buffer it fills for the first time is fresh memory the
/// kernel must zero: at 32 MB that was a visible share of a run over a 300 MB book.
pub(crate) const BLOCK_BYTES: usize = 8 << 20;

/// Read `input` in blocks of whole lines (about `block_bytes` each) and send them in order; a
/// read error ends the stream. The buffers of blocks done with are filled again: a run reads
/// into the same three or so buffers from start to end instead of allocating (and faulting in)
/// a fresh one per block.
pub(crate) fn read_blocks(
    mut input: impl Read,
    block_bytes: usize,
    tx: SyncSender<std::io::Result<Block>>,
) {
    let (recycle, returned) = channel::<Vec<u8>>();
    // Room for a block and the unfinished line carried into it.
    let capacity = block_bytes + block_bytes / 16;
    let mut first_line = 1;
    let mut carry: Vec<u8> = Vec::new();
    let mut bytes: Vec<u8> = Vec::with_capacity(capacity);
    let mut first_block = true;
    loop {
        // Reads at most `block_bytes` more; never grows a buffer with room for them.
        bytes.reserve(block_bytes);
        let eof = match input
            .by_ref()
            .take(block_bytes as u64)
            .read_to_end(&mut bytes)
        {
            Ok(n) => n < block_bytes,
            Err(e) => {
                tx.send(Err(e)).ok();
                return;
            }
        };
        // A UTF-8 byte-order mark (as some Windows tools write) before the first line.
        if std::mem::take(&mut first_block) && bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        carry.clear();
        if !eof {
            // Keep the unfinished last line for the next block.
            match memchr::memrchr(b'\n', &bytes) {
                Some(i) => {
                    carry.extend_from_slice(&bytes[i + 1..]);
                    bytes.truncate(i + 1);
                }
                // One line longer than a block: read on into the same buffer.
                None => continue,
            }
        }
        if !bytes.is_empty() {
            let lines = memchr::memchr_iter(b'\n', &bytes).count();
            let block = Block {
                first_line,
                bytes: std::mem::take(&mut bytes),
                recycle: recycle.clone(),
            };
            if tx.send(Ok(block)).is_err() {
                return;
            }
            first_line += lines;
        }
        if eof {
            return;
        }
        bytes = returned
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(capacity));
        bytes.clear();
        bytes.extend_from_slice(&carry);
    }
}

/// Lines parsed per CSV chunk: bounds memory on large files while keeping both cores busy.
const CHUNK_LINES: usize = 65_536;

/// The ledger, if any, for one call.
fn store_of(ledger: &mut Option<Box<dyn LedgerStore>>) -> Option<&mut dyn LedgerStore> {
    match ledger {
        Some(b) => Some(&mut **b),
        None => None,
    }
}

/// A run's `inputs` (engine, rule-data digests, lists: the same on every decision of the
/// run) rendered once as the JSON that ends each decision line: `,"inputs":{...}}`.
pub(crate) struct RenderedInputs {
    inputs: std::sync::Arc<exportgate_core::DecisionInputs>,
    tail: Vec<u8>,
}

impl RenderedInputs {
    pub(crate) fn new(
        inputs: &std::sync::Arc<exportgate_core::DecisionInputs>,
    ) -> anyhow::Result<RenderedInputs> {
        let mut tail = b",\"inputs\":".to_vec();
        sonic_rs::to_writer(&mut tail, &**inputs)?;
        tail.push(b'}');
        Ok(RenderedInputs {
            inputs: inputs.clone(),
            tail,
        })
    }
}

/// Appends one decision as a JSON line (its wire format, `exportgate_pipeline::wire`). A
/// decision whose `inputs` are the run's is written without them and the pre-rendered text
/// put where its closing brace was: `inputs` is the last field of the wire format, so the
/// line is byte for byte what serialising it whole gives (tested below), without serialising
/// the same digests on every line.
pub(crate) fn write_decision_jsonl(
    buf: &mut Vec<u8>,
    d: &exportgate_core::Decision,
    run_inputs: Option<&RenderedInputs>,
) -> anyhow::Result<()> {
    let mut json = wire::json(d);
    match (run_inputs, &d.inputs) {
        (Some(r), Some(i)) if std::sync::Arc::ptr_eq(i, &r.inputs) => {
            json.inputs = None;
            sonic_rs::to_writer(&mut *buf, &json)?;
            if buf.last() != Some(&b'}') {
                anyhow::bail!("a decision did not serialise as a JSON object");
            }
            buf.pop();
            buf.extend_from_slice(&r.tail);
        }
        _ => sonic_rs::to_writer(&mut *buf, &json)?,
    }
    buf.push(b'\n');
    Ok(())
}

/// Renders one result in the chosen format (no header), for the pipeline.
fn renderer(
    format: CheckFormat,
    run_inputs: Option<RenderedInputs>,
) -> impl Fn(&mut Vec<u8>, &mut LineResult) -> Result<(), String> + Sync {
    move |buf, r| match (format, r) {
        (CheckFormat::Jsonl, Ok(d)) => {
            write_decision_jsonl(buf, d, run_inputs.as_ref()).map_err(|e| e.to_string())
        }
        (_, r) => serialise_into(buf, std::slice::from_ref(r), format).map_err(|e| e.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn check(
    rs: &Ruleset,
    path: &Path,
    forced: &[String],
    format: CheckFormat,
    out: Option<&Path>,
    input: Option<InputFormat>,
    source: &ScreeningSource,
    mut ledger: Option<Box<dyn LedgerStore>>,
    parties: Option<&exportgate_pipeline::Parties>,
) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::new(rs, forced, source).map_err(pipeline_error)?;
    let pipeline = match parties {
        Some(p) => pipeline.with_parties(p),
        None => pipeline,
    };
    let input = input.unwrap_or(
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            InputFormat::Csv
        } else {
            InputFormat::Jsonl
        },
    );
    // JSONL is read in blocks by a reader thread and decided block by block as it arrives, so
    // memory stays bounded and reading overlaps deciding; CSV is parsed whole first.
    let (blocks, mut csv_lines, progress) = match input {
        InputFormat::Jsonl => {
            let (reader, size): (Box<dyn Read + Send>, u64) = if path == Path::new("-") {
                (Box::new(std::io::stdin()), 0)
            } else {
                let f = std::fs::File::open(path)
                    .map_err(|e| user(format!("cannot read `{}`: {e}", path.display())))?;
                let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                (Box::new(f), size)
            };
            let (tx, rx) = sync_channel(1);
            std::thread::spawn(move || read_blocks(reader, BLOCK_BYTES, tx));
            let progress = ProgressBar::new(size).with_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            if size < 8 << 20 {
                progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            (Some(rx), Vec::new(), progress)
        }
        InputFormat::Csv => {
            let lines = parse_csv(&read_all(path)?)?;
            let progress = ProgressBar::new(lines.len() as u64).with_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} orders ({per_sec}, {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            if lines.len() < 10_000 {
                progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            (None, lines, progress)
        }
    };
    let render = renderer(format, Some(RenderedInputs::new(&pipeline.inputs())?));
    let mut run = CheckRun::new();
    // The writer gives each buffer back once written; later lines are rendered into it.
    let buffers = exportgate_pipeline::check::OutputBuffers::new();
    // The pipeline decides; a writer thread writes one chunk while the next is decided.
    let mut decide_into = |tx: &SyncSender<Vec<u8>>| -> anyhow::Result<()> {
        let mut header = Vec::new();
        write_header(&mut header, format)?;
        if tx.send(header).is_err() {
            return Ok(());
        }
        // The writer stops on an error and reports it; then the run stops too.
        let mut emit = |buf: Vec<u8>| tx.send(buf).is_ok();
        if let Some(blocks) = &blocks {
            for block in blocks {
                let block =
                    block.map_err(|e| user(format!("cannot read `{}`: {e}", path.display())))?;
                let lines = jsonl_lines_from(&block.bytes, block.first_line);
                // At most ROUND_LINES lines are decided before their output is handed to the
                // writer: a block of short lines (orders naming a party record by id) holds
                // twice as many lines, and holding all their decisions at once doubled the
                // memory and the page faults of a run.
                for round in lines.chunks(ROUND_LINES) {
                    // Each run of lines is parsed, decided and rendered on one core.
                    let parts: Vec<_> = round
                        .chunks(SERIALISE_LINES)
                        .map(|part| {
                            part.iter()
                                .map(|&(line, raw)| (line, parse_line(line, raw)))
                        })
                        .collect();
                    let go_on = pipeline
                        .check_pieces_into(
                            parts,
                            &mut run,
                            store_of(&mut ledger),
                            &render,
                            &buffers,
                            &mut emit,
                        )
                        .map_err(pipeline_error)?;
                    if !go_on {
                        return Ok(());
                    }
                }
                progress.inc(block.bytes.len() as u64);
            }
        }
        while !csv_lines.is_empty() {
            let rest = csv_lines.split_off(csv_lines.len().min(CHUNK_LINES));
            let chunk = std::mem::replace(&mut csv_lines, rest);
            progress.inc(chunk.len() as u64);
            let mut parts: Vec<Vec<Parsed>> = Vec::new();
            let mut chunk = chunk.into_iter().peekable();
            while chunk.peek().is_some() {
                parts.push(chunk.by_ref().take(SERIALISE_LINES).collect());
            }
            let go_on = pipeline
                .check_pieces_into(
                    parts,
                    &mut run,
                    store_of(&mut ledger),
                    &render,
                    &buffers,
                    &mut emit,
                )
                .map_err(pipeline_error)?;
            if !go_on {
                return Ok(());
            }
        }
        Ok(())
    };
    match out {
        Some(p) => {
            // Write to a temporary file and rename, so a failed run leaves no half-written output.
            let tmp = p.with_extension("partial");
            let f = std::fs::File::create(&tmp)
                .map_err(|e| user(format!("cannot write `{}`: {e}", tmp.display())))?;
            let written = write_through(std::io::BufWriter::new(f), &buffers, &mut decide_into);
            if let Err(e) = written {
                std::fs::remove_file(&tmp).ok();
                return Err(e);
            }
            std::fs::rename(&tmp, p)?;
        }
        None => write_through(
            std::io::BufWriter::new(std::io::stdout()),
            &buffers,
            &mut decide_into,
        )?,
    }
    progress.finish_and_clear();
    let CheckRun {
        total,
        counts,
        errors,
        ..
    } = run;
    let parts: Vec<String> = counts
        .iter()
        .map(|(o, n)| format!("{} {n}", o.as_str()))
        .collect();
    eprintln!(
        "{}: {}; errors {}",
        render::count(total as u64, "order", "orders"),
        if parts.is_empty() {
            "none decided".to_string()
        } else {
            parts.join(", ")
        },
        errors.len()
    );
    for e in errors.iter().take(20) {
        eprintln!("error: {}", e.describe());
    }
    if source.unscreened() {
        eprintln!("warning: parties were not screened (no lists loaded); no decision is clean\n\nhint: run `exportgate lists import FILE` or pass `--lists FILE`");
    }
    if errors.len() > 20 {
        eprintln!(
            "... and {} more errors (every error is in the output)",
            errors.len() - 20
        );
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// Run `produce`, which sends output buffers in order, while a writer thread writes them to
/// `w`. The first error, from either side, is returned.
fn write_through<W: Write + Send>(
    mut w: W,
    buffers: &exportgate_pipeline::check::OutputBuffers,
    produce: &mut dyn FnMut(&SyncSender<Vec<u8>>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    std::thread::scope(|scope| {
        // A few buffers of a few megabytes may wait for the writer. When the output is slower
        // than deciding (a file on a busy disk), deciding waits instead of filling fresh
        // buffers: with 128 waiting, a party-book run written to a file peaked at about
        // 480 MiB instead of about 320.
        let (tx, rx) = sync_channel::<Vec<u8>>(8);
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for buf in rx {
                w.write_all(&buf)?;
                buffers.give(buf);
            }
            w.flush()
        });
        let produced = produce(&tx);
        drop(tx);
        let written = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the output writer failed"))?;
        produced?;
        written.map_err(|e| user(format!("cannot write the output: {e}")))
    })
}

/// The orders of an `explain` file: one JSON object (pretty-printed or not), or several, one
/// after another (JSONL). Each comes with the line it starts on; text after the last order
/// that is not an order is an error record, never ignored.
fn explain_orders(text: &str) -> Vec<Parsed> {
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    loop {
        let start = stream.byte_offset();
        let start = start + (text[start..].len() - text[start..].trim_start().len());
        match stream.next() {
            None => break,
            Some(Ok(_)) => {
                let end = stream.byte_offset();
                let line = line_of(start);
                out.push((line, parse_line(line, &text.as_bytes()[start..end])));
            }
            Some(Err(e)) => {
                let line = line_of(start);
                out.push((
                    line,
                    Err(LineError {
                        line,
                        id: None,
                        field: "line".into(),
                        message: format!("not valid JSON: {e}"),
                    }),
                ));
                break;
            }
        }
    }
    out
}

/// `exportgate explain`: every order in the file, each with every rule considered and why it
/// applied or not, decided as `check` decides them (the ledger's licences and LPP use
/// included when there is a ledger). Exit code 2 if any order could not be decided.
pub fn explain(
    rs: &Ruleset,
    path: &Path,
    forced: &[String],
    format: TextOrJson,
    source: &ScreeningSource,
    mut ledger: Option<Box<dyn LedgerStore>>,
    parties: Option<&exportgate_pipeline::Parties>,
) -> anyhow::Result<ExitCode> {
    let pipeline = Pipeline::new(rs, forced, source)
        .map_err(pipeline_error)?
        .with_trace(true);
    let pipeline = match parties {
        Some(p) => pipeline.with_parties(p),
        None => pipeline,
    };
    let bytes = read_all(path)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| user("the order file is not valid UTF-8"))?;
    let parsed = explain_orders(text);
    if parsed.is_empty() {
        return Err(user("the file holds no order"));
    }
    let mut run = CheckRun::new();
    let results = pipeline
        .check_lines(&parsed, &mut run, store_of(&mut ledger))
        .map_err(pipeline_error)?;
    let mut failed = false;
    for (n, result) in results.iter().enumerate() {
        match result {
            Ok(d) => match format {
                TextOrJson::Text => {
                    if n > 0 {
                        println!();
                    }
                    print!("{}", render::trace(d));
                }
                TextOrJson::Json => {
                    let v = serde_json::json!({"decision": wire::json(d), "classification": d.classification.as_deref(), "trace": d.trace});
                    if results.len() == 1 {
                        println!("{}", serde_json::to_string_pretty(&v)?);
                    } else {
                        println!("{}", serde_json::to_string(&v)?);
                    }
                }
            },
            Err(e) => {
                failed = true;
                eprintln!("error: {}", e.describe());
            }
        }
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decision line written with the run's pre-rendered `inputs` is byte for byte the line
    /// serialising the whole decision gives, for every decision of a generated book whose
    /// orders reference party records (due diligence, parties and sources on most lines); a
    /// decision carrying other inputs than the run's is serialised whole.
    #[test]
    fn spliced_inputs_give_the_same_bytes_as_serialising_the_whole_decision() {
        let rs = Ruleset::embedded().unwrap();
        let source = ScreeningSource::open(
            &[],
            None,
            true,
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap();
        let (records, book) =
            exportgate_sample::generate_with_parties(&exportgate_sample::BookSpec::new(2_000, 7));
        let parties = exportgate_pipeline::Parties::new(exportgate_core::kyc::PartyIndex::new(
            records
                .into_iter()
                .map(|r| exportgate_core::kyc::CheckedParty::new(r, &rs).unwrap()),
            &rs,
        ));
        let pipeline = Pipeline::new(&rs, &[], &source)
            .unwrap()
            .with_parties(&parties);
        let rendered = RenderedInputs::new(&pipeline.inputs()).unwrap();
        let parsed: Vec<Parsed> = book
            .into_iter()
            .enumerate()
            .map(|(i, o)| (i + 1, Ok(o)))
            .collect();
        let mut run = CheckRun::new();
        let results = pipeline.check_lines(&parsed, &mut run, None).unwrap();
        let mut with_dd = 0;
        for r in results {
            let mut d = r.unwrap();
            with_dd += usize::from(d.due_diligence.is_some());
            let mut whole = Vec::new();
            sonic_rs::to_writer(&mut whole, &wire::json(&d)).unwrap();
            whole.push(b'\n');
            let mut spliced = Vec::new();
            write_decision_jsonl(&mut spliced, &d, Some(&rendered)).unwrap();
            assert_eq!(
                String::from_utf8(spliced).unwrap(),
                String::from_utf8(whole.clone()).unwrap()
            );
            assert!(d.inputs.is_some(), "the decision carries the run's inputs");
            // Other inputs than the run's: serialised whole, not spliced.
            let mut other = (**d.inputs.as_ref().unwrap()).clone();
            other.engine = "another engine".into();
            d.inputs = Some(std::sync::Arc::new(other));
            let mut out = Vec::new();
            write_decision_jsonl(&mut out, &d, Some(&rendered)).unwrap();
            assert!(
                String::from_utf8(out).unwrap().contains("another engine"),
                "other inputs written as they are"
            );
        }
        assert!(with_dd > 1_000, "{with_dd} decisions with due diligence");
    }

    /// Blocks hold whole lines, a line longer than a block is carried on, and line numbers
    /// continue across blocks (a last line without a line end included).
    #[test]
    fn blocks_split_at_line_ends_and_keep_line_numbers() {
        let mut text = String::new();
        for i in 1..=40 {
            if i == 17 {
                text.push_str(&"x".repeat(200));
            } else {
                text.push_str(&format!("line {i}"));
            }
            if i < 40 {
                text.push('\n');
            }
        }
        let (tx, rx) = sync_channel(1);
        let input = text.clone().into_bytes();
        std::thread::spawn(move || read_blocks(input.as_slice(), 64, tx));
        let blocks: Vec<Block> = rx.into_iter().map(Result::unwrap).collect();
        assert!(blocks.len() > 4, "{} blocks", blocks.len());
        for block in &blocks[..blocks.len() - 1] {
            assert!(block.bytes.ends_with(b"\n"));
        }
        let mut seen = Vec::new();
        for block in &blocks {
            for (line, raw) in jsonl_lines_from(&block.bytes, block.first_line) {
                seen.push((line, String::from_utf8(raw.to_vec()).unwrap()));
            }
        }
        assert_eq!(seen.len(), 40);
        for (i, (line, text)) in seen.iter().enumerate() {
            assert_eq!(*line, i + 1);
            if *line == 17 {
                assert_eq!(text.len(), 200);
            } else {
                assert_eq!(text, &format!("line {line}"));
            }
        }
    }

    /// The reader fills the buffers of blocks done with again, so a long run reads into a few
    /// buffers, not one fresh buffer per block.
    #[test]
    fn block_buffers_are_filled_again() {
        let text: String = (1..=2_000).map(|i| format!("line {i}\n")).collect();
        let (tx, rx) = sync_channel(1);
        std::thread::spawn(move || read_blocks(text.as_bytes(), 256, tx));
        let mut buffers = std::collections::BTreeSet::new();
        let mut lines = 0;
        let mut blocks = 0;
        for block in rx {
            let block = block.unwrap();
            buffers.insert(block.bytes.as_ptr() as usize);
            lines += jsonl_lines_from(&block.bytes, block.first_line).len();
            blocks += 1;
        }
        assert_eq!(lines, 2_000);
        assert!(blocks > 50, "{blocks} blocks");
        assert!(
            buffers.len() <= 4,
            "{} buffers for {blocks} blocks",
            buffers.len()
        );
    }
}
