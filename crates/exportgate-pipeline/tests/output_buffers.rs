//! `check`'s output buffers (`exportgate_pipeline::check::OutputBuffers`): a buffer the
//! writer gives back is rendered into again, and what was in it never reaches the output. The
//! corpus orders are decided in small runs of lines, once into fresh buffers and once into
//! reused ones that still hold other bytes; both outputs must be the same, byte for byte. And
//! runs decided in parallel come out in input order, however they are cut, and a writer that
//! stops gets nothing more.

use std::path::Path;

use exportgate_core::{Order, Ruleset};
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::check::{OutputBuffers, Render};
use exportgate_pipeline::{wire, CheckRun, Parsed, Pipeline};
use serde_json::Value;

/// Every order of the corpus's decision files, with its line number.
fn corpus_orders() -> Vec<Parsed> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/decisions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut orders = Vec::new();
    for f in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for case in doc["cases"].as_array().into_iter().flatten() {
            if let Ok(o) = Order::from_json(&case["order"].to_string()) {
                orders.push((orders.len() + 1, Ok(o)));
            }
        }
    }
    orders
}

/// One JSON line per decision, an error line per error.
fn render() -> Box<Render<'static>> {
    Box::new(
        |buf: &mut Vec<u8>, r: &mut exportgate_pipeline::LineResult| {
            match r {
                Ok(d) => wire::to_writer(&mut *buf, d).map_err(|e| e.to_string())?,
                Err(e) => buf.extend_from_slice(e.describe().as_bytes()),
            }
            buf.push(b'\n');
            Ok(())
        },
    )
}

/// Runs `f` with a pipeline on the embedded rules (parties screened outside exportgate) and
/// the renderer above.
fn with_pipeline<R>(f: impl FnOnce(&Pipeline, &Render<'_>) -> R) -> R {
    let rs = Ruleset::embedded().unwrap();
    let date = "2026-01-01".parse().unwrap();
    let source = ScreeningSource::open(&[], None, true, date).unwrap();
    let pipeline = Pipeline::new(&rs, &[], &source).unwrap();
    let render = render();
    f(&pipeline, &*render)
}

/// The output of deciding `orders` in rounds of `round_lines` lines, each cut into runs of
/// `run_lines`; with `buffers`, each emitted buffer is given back to it once copied, as the
/// CLI's writer does.
fn check(
    orders: &[Parsed],
    round_lines: usize,
    run_lines: usize,
    buffers: Option<&OutputBuffers>,
) -> Vec<u8> {
    with_pipeline(|pipeline, render| {
        let mut run = CheckRun::new();
        let mut out = Vec::new();
        for round in orders.chunks(round_lines) {
            let parts: Vec<Vec<Parsed>> = round.chunks(run_lines).map(<[Parsed]>::to_vec).collect();
            let mut emit = |buf: Vec<u8>| {
                out.extend_from_slice(&buf);
                if let Some(b) = buffers {
                    b.give(buf);
                }
                true
            };
            let go_on = match buffers {
                Some(b) => pipeline.check_pieces_into(parts, &mut run, None, render, b, &mut emit),
                None => pipeline.check_pieces(parts, &mut run, None, render, &mut emit),
            };
            assert!(go_on.unwrap());
        }
        assert_eq!(run.total, orders.len());
        out
    })
}

#[test]
fn reused_output_buffers_write_the_same_bytes_as_fresh_ones() {
    let orders = corpus_orders();
    assert!(orders.len() > 50, "the corpus has {} orders", orders.len());
    let fresh = check(&orders, 12, 3, None);
    assert_eq!(
        fresh.iter().filter(|&&b| b == b'\n').count(),
        orders.len(),
        "one line per order"
    );
    let buffers = OutputBuffers::new();
    // Buffers left holding other bytes: what a writer gives back after writing them.
    for _ in 0..3 {
        buffers.give(b"{\"stale\": true}\n".repeat(500));
    }
    let reused = check(&orders, 12, 3, Some(&buffers));
    assert!(
        fresh == reused,
        "reused buffers changed the output:\n{}",
        String::from_utf8_lossy(&reused)
    );
    let kept = buffers.take(0);
    assert!(kept.is_empty(), "a buffer taken is empty");
    assert!(kept.capacity() > 0, "buffers given back are kept");
}

#[test]
fn runs_decided_in_parallel_come_out_in_input_order() {
    let orders = corpus_orders();
    let whole = check(&orders, orders.len(), orders.len(), None);
    for run_lines in [1, 2, 7] {
        let cut = check(&orders, orders.len(), run_lines, None);
        assert!(whole == cut, "runs of {run_lines} lines changed the output");
    }
    // Line by line: the decision of the order on that line, or that line's error.
    let text = String::from_utf8(whole).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), orders.len());
    for ((line, order), out) in orders.iter().zip(lines) {
        let id = &order.as_ref().unwrap().id;
        let decided = serde_json::from_str::<Value>(out)
            .ok()
            .is_some_and(|d| d["id"] == id.as_str());
        assert!(
            decided || out.starts_with(&format!("line {line}:")),
            "line {line} (order `{id}`) came out as {out}"
        );
    }
}

#[test]
fn a_writer_that_stops_gets_nothing_more() {
    let orders = corpus_orders();
    let parts: Vec<Vec<Parsed>> = orders.chunks(1).map(<[Parsed]>::to_vec).collect();
    let mut calls = 0;
    let mut emit = |_: Vec<u8>| {
        calls += 1;
        calls < 3
    };
    let go_on = with_pipeline(|pipeline, render| {
        pipeline
            .check_pieces(parts, &mut CheckRun::new(), None, render, &mut emit)
            .unwrap()
    });
    assert!(!go_on, "the run stops when the writer does");
    assert_eq!(calls, 3, "no run is handed over after the writer stopped");
}
