//! Deciding a book read-only (`exportgate check`, `POST /v1/check`, the corpus).
//!
//! Every line is first screened and decided without quotas, in parallel. A line whose decision
//! depends on the lines before it (it consulted the LPP quota or uses LPP), or — when a ledger
//! is given — a `license_required` line that a licence may cover, is then completed in input
//! order by [`Pipeline::complete`]: decided again against the LPP the ledger holds plus what
//! the lines before it used, and matched against the ledger's licences, whose balances less
//! what earlier lines would draw must cover it. Nothing is written to the ledger.
//!
//! A [`CheckRun`] carries the state between lines (and between the chunks of a large file):
//! the LPP tally, the ledger's balances as read, and the outcome counts. [`OutputBuffers`]
//! hands the rendered output of runs of lines to the door's writer and back again, so a large
//! file's output is written from the same few megabytes of memory instead of fresh pages.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use exportgate_core::concepts::LicenceException;
use exportgate_core::{Decision, NoQuotas, Order, Outcome};
use exportgate_ledger::{LedgerStore, StoreError};
use rayon::prelude::*;

use crate::licensing::Licensing;
use crate::quotas::{depends_on_earlier_lines, LedgerQuotas};
use crate::{LineResult, Parsed, Pipeline, PipelineError};

/// The state of a read-only run of decisions.
#[derive(Default)]
pub struct CheckRun {
    quotas: LedgerQuotas,
    /// The ledger's licences, read when a line first needs them.
    licensing: Option<Licensing>,
    /// Lines decided (or errors recorded).
    pub total: usize,
    /// Decisions by outcome.
    pub counts: BTreeMap<Outcome, usize>,
    /// Every error record, in input order.
    pub errors: Vec<crate::LineError>,
}

impl CheckRun {
    /// A new run: nothing used, nothing read.
    pub fn new() -> CheckRun {
        CheckRun::default()
    }

    /// LPP TPP the order's consignee had used in the order's year before this order, as far as
    /// this run knows (the ledger's usage once read, plus the run's), after the order's
    /// decision `d` was completed: what its rule trace must be decided against.
    pub fn lpp_before(&self, order: &Order, d: &Decision) -> f64 {
        use chrono::Datelike;
        let used = exportgate_core::QuotaView::lpp_used(
            &self.quotas,
            &order.consignee.name,
            order.date.year(),
        );
        if d.uses_exception(LicenceException::Lpp) {
            used - d.tpp_counted
        } else {
            used
        }
    }

    fn count(&mut self, r: &LineResult) {
        self.total += 1;
        match r {
            Ok(d) => *self.counts.entry(d.outcome).or_default() += 1,
            Err(e) => self.errors.push(e.clone()),
        }
    }

    fn licensing(&mut self, store: &mut dyn LedgerStore) -> Result<&mut Licensing, StoreError> {
        if self.licensing.is_none() {
            self.licensing = Some(Licensing::load(store)?);
        }
        Ok(self.licensing.get_or_insert_with(Licensing::none))
    }
}

/// Output buffers given back by the door's writer once written, to render later runs of lines
/// into (cleared, capacity kept); and the lists of waiting lines, kept the same way. Shared
/// between threads; clones share the same buffers.
///
/// Memory a run frees in whole pages is soon handed back to the system by the allocator, and
/// the next run's allocation then touches fresh pages that the kernel must zero. Kept here,
/// it is reused instead.
#[derive(Clone, Default)]
pub struct OutputBuffers(Arc<Pools>);

#[derive(Default)]
struct Pools {
    bytes: Mutex<Vec<Vec<u8>>>,
    waiting: Mutex<Vec<Vec<Waiting>>>,
}

impl OutputBuffers {
    /// At most this many buffers are kept (a few megabytes each); more are freed.
    const KEEP: usize = 64;

    /// None yet: each is made when first needed.
    pub fn new() -> OutputBuffers {
        OutputBuffers::default()
    }

    /// An empty buffer that can hold at least `capacity` bytes: the last one given back, or a
    /// new one.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let kept = self.0.bytes.lock().ok().and_then(|mut v| v.pop());
        match kept {
            Some(mut buf) => {
                buf.clear();
                buf.reserve(capacity);
                buf
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Gives a buffer back once its contents are written.
    pub fn give(&self, buf: Vec<u8>) {
        keep(&self.0.bytes, buf);
    }

    fn take_waiting(&self) -> Vec<Waiting> {
        let kept = self.0.waiting.lock().ok().and_then(|mut v| v.pop());
        kept.unwrap_or_default()
    }

    fn give_waiting(&self, mut list: Vec<Waiting>) {
        list.clear();
        keep(&self.0.waiting, list);
    }
}

/// Keeps `item` in `pool` unless the pool is full.
fn keep<T>(pool: &Mutex<Vec<T>>, item: T) {
    if let Ok(mut v) = pool.lock() {
        if v.len() < OutputBuffers::KEEP {
            v.push(item);
        }
    }
}

/// Whether a first-pass decision waits for the ordered pass: it depends on earlier lines, or a
/// ledger is consulted and a licence may turn it into `licensed`.
pub fn waits(d: &Decision, ledger: bool) -> bool {
    depends_on_earlier_lines(d) || (ledger && d.outcome == Outcome::LicenseRequired)
}

/// A run of lines decided on one core: their output in order, less the lines that wait for
/// the ordered pass, which are kept with where their output goes.
pub struct Piece {
    buf: Vec<u8>,
    /// From [`OutputBuffers`]: a line waiting holds its order and first decision (about 2 KB),
    /// and a new list for every run was grown, copied and freed run after run.
    waiting: Vec<Waiting>,
    /// Lines decided and rendered here (not waiting).
    done: usize,
    counts: BTreeMap<Outcome, usize>,
    errors: Vec<crate::LineError>,
}

/// A line waiting for the ordered pass.
struct Waiting {
    offset: usize,
    line: usize,
    order: Order,
    first: Decision,
}

/// The store again for one call, for as long as the call.
fn reborrow<'s>(store: &'s mut Option<&mut dyn LedgerStore>) -> Option<&'s mut dyn LedgerStore> {
    match store {
        Some(s) => Some(&mut **s),
        None => None,
    }
}

/// Renders one line's result into a buffer (the door's output format). The result is lent
/// mutably so a renderer may take a part out while it writes the rest (`check` writes the
/// run's `inputs`, the same on every line, from text rendered once) and put it back.
pub type Render<'r> = dyn Fn(&mut Vec<u8>, &mut LineResult) -> Result<(), String> + Sync + 'r;

impl Pipeline<'_> {
    /// First pass over one line: screened and decided without quotas.
    pub fn first(&self, line: usize, order: &Order) -> LineResult {
        self.decide(line, order, &NoQuotas)
    }

    /// Completes a first-pass decision in input order (see the module docs). Must be called
    /// for every line in input order, each line's first decision included, so the run's
    /// tally and counts see every line. A decision that cannot be made again is an error
    /// record, never the quota-free first decision.
    pub fn complete(
        &self,
        run: &mut CheckRun,
        mut store: Option<&mut dyn LedgerStore>,
        line: usize,
        order: &Order,
        first: Decision,
    ) -> Result<LineResult, PipelineError> {
        let mut d = first;
        if depends_on_earlier_lines(&d) {
            if let Some(s) = reborrow(&mut store) {
                run.quotas.load(s, order)?;
            }
            d = match self.decide(line, order, &run.quotas) {
                Ok(d) => d,
                Err(e) => {
                    let r = Err(e);
                    run.count(&r);
                    return Ok(r);
                }
            };
        }
        run.quotas.record(&order.consignee.name, &d);
        if let Some(s) = store {
            if d.outcome == Outcome::LicenseRequired
                || (order.veu.is_some() && crate::veus::noted(&d))
            {
                d = run.licensing(s)?.check(s, self.ruleset(), order, d)?;
            }
        }
        let r = Ok(d);
        run.count(&r);
        Ok(r)
    }

    /// Decides parsed lines: the first pass in parallel, then every line completed in input
    /// order. Parse errors are passed through as error records.
    pub fn check_lines(
        &self,
        lines: &[Parsed],
        run: &mut CheckRun,
        mut store: Option<&mut dyn LedgerStore>,
    ) -> Result<Vec<LineResult>, PipelineError> {
        // Orders linked to their party records first: the ordered pass tallies by the
        // consignee the record names.
        let attached: Vec<Parsed>;
        let lines = if let Some(parties) = self.parties() {
            let ix = parties.current();
            attached = lines
                .par_iter()
                .map(|(line, parsed)| {
                    let parsed = parsed.clone().and_then(|mut o| {
                        self.attach_to(Some(&ix), *line, &mut o)?;
                        Ok(o)
                    });
                    (*line, parsed)
                })
                .collect();
            &attached[..]
        } else {
            lines
        };
        let first: Vec<LineResult> = lines
            .par_iter()
            .map(|(line, parsed)| match parsed {
                Err(e) => Err(e.clone()),
                Ok(order) => self.decide_linked(*line, order, &NoQuotas),
            })
            .collect();
        let mut out = Vec::with_capacity(lines.len());
        for ((line, parsed), r) in lines.iter().zip(first) {
            match (parsed, r) {
                (Ok(order), Ok(d)) => {
                    out.push(self.complete(run, reborrow(&mut store), *line, order, d)?)
                }
                (_, Err(e)) => {
                    let r = Err(e);
                    run.count(&r);
                    out.push(r);
                }
                (Err(e), _) => {
                    let r = Err(e.clone());
                    run.count(&r);
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    /// First pass over a run of lines on one core: parse (lazily, by the iterator), decide and
    /// render each line, keeping the lines that wait for the ordered pass aside.
    pub fn decide_piece(
        &self,
        lines: impl Iterator<Item = Parsed>,
        ledger: bool,
        render: &Render<'_>,
        buffers: &OutputBuffers,
    ) -> Result<Piece, PipelineError> {
        let mut piece = Piece {
            // More than the output of a run of 1,024 lines (2 to 2.5 MB), so it is rarely grown
            // (copied into fresh pages); room not written to costs no memory. A buffer given
            // back has at least this size.
            buf: buffers.take(4 << 20),
            waiting: buffers.take_waiting(),
            done: 0,
            counts: BTreeMap::new(),
            errors: Vec::new(),
        };
        // One snapshot of the party records for the whole run of lines.
        let ix = self.parties().map(crate::Parties::current);
        for (line, parsed) in lines {
            let result = parsed.and_then(|mut order| {
                self.attach_to(ix.as_deref(), line, &mut order)?;
                self.decide_linked(line, &order, &NoQuotas)
                    .map(|d| (order, d))
            });
            let result = match result {
                Ok((order, first)) if waits(&first, ledger) => {
                    piece.waiting.push(Waiting {
                        offset: piece.buf.len(),
                        line,
                        order,
                        first,
                    });
                    continue;
                }
                Ok((_, d)) => Ok(d),
                Err(e) => Err(e),
            };
            piece.done += 1;
            match &result {
                Ok(d) => *piece.counts.entry(d.outcome).or_default() += 1,
                Err(e) => piece.errors.push(e.clone()),
            }
            let mut result = result;
            render(&mut piece.buf, &mut result).map_err(PipelineError::Render)?;
        }
        Ok(piece)
    }

    /// Completes a piece in input order (pieces too must come in input order): the waiting
    /// lines are completed and rendered in their places. Returns the piece's output.
    pub fn finish_piece(
        &self,
        piece: Piece,
        run: &mut CheckRun,
        mut store: Option<&mut dyn LedgerStore>,
        render: &Render<'_>,
        buffers: &OutputBuffers,
    ) -> Result<Vec<u8>, PipelineError> {
        run.total += piece.done;
        for (o, n) in piece.counts {
            *run.counts.entry(o).or_default() += n;
        }
        run.errors.extend(piece.errors);
        let mut waiting = piece.waiting;
        if waiting.is_empty() {
            buffers.give_waiting(waiting);
            return Ok(piece.buf);
        }
        let mut at = 0;
        let mut out = buffers.take(piece.buf.len() + waiting.len() * 1536);
        for w in waiting.drain(..) {
            out.extend_from_slice(&piece.buf[at..w.offset]);
            at = w.offset;
            let mut r = self.complete(run, reborrow(&mut store), w.line, &w.order, w.first)?;
            render(&mut out, &mut r).map_err(PipelineError::Render)?;
        }
        out.extend_from_slice(&piece.buf[at..]);
        buffers.give(piece.buf);
        buffers.give_waiting(waiting);
        Ok(out)
    }

    /// Decides runs of lines: each run's first pass on one core, all runs in parallel, and
    /// each run completed and handed to `emit` in input order as soon as it and the runs
    /// before it are decided. Stops early (returning
    /// `false`) when `emit` returns `false`.
    pub fn check_pieces<P>(
        &self,
        parts: Vec<P>,
        run: &mut CheckRun,
        store: Option<&mut dyn LedgerStore>,
        render: &Render<'_>,
        emit: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<bool, PipelineError>
    where
        P: IntoIterator<Item = Parsed> + Send,
    {
        let buffers = OutputBuffers::new();
        self.check_pieces_into(parts, run, store, render, &buffers, emit)
    }

    /// [`Pipeline::check_pieces`], rendering into buffers taken from `buffers`: a door that
    /// gives each buffer back once written (`OutputBuffers::give`) has the next runs of lines
    /// rendered into memory already in use.
    pub fn check_pieces_into<P>(
        &self,
        parts: Vec<P>,
        run: &mut CheckRun,
        mut store: Option<&mut dyn LedgerStore>,
        render: &Render<'_>,
        buffers: &OutputBuffers,
        emit: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<bool, PipelineError>
    where
        P: IntoIterator<Item = Parsed> + Send,
    {
        let ledger = store.is_some();
        let total = parts.len();
        // The runs' first passes go to the rayon pool from a helper thread, and each run is
        // completed here, in input order, as soon as it is decided: the ordered pass no longer
        // leaves both cores idle while it completes a whole batch of runs.
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Piece, PipelineError>)>();
            scope.spawn(move || {
                // Stops at the first error, or once the receiver has stopped.
                let _ = parts
                    .into_par_iter()
                    .enumerate()
                    .try_for_each_with(tx, |tx, (i, p)| {
                        let piece = self.decide_piece(p.into_iter(), ledger, render, buffers);
                        let failed = piece.is_err();
                        match tx.send((i, piece)) {
                            Ok(()) if !failed => Ok(()),
                            _ => Err(()),
                        }
                    });
            });
            // Runs decided ahead of the next one in input order.
            let mut ahead: BTreeMap<usize, Piece> = BTreeMap::new();
            for next in 0..total {
                let piece = loop {
                    if let Some(p) = ahead.remove(&next) {
                        break p;
                    }
                    match rx.recv() {
                        Ok((i, piece)) => {
                            ahead.insert(i, piece?);
                        }
                        // The helper ended without sending every run: it panicked, and the
                        // scope passes the panic on when it ends.
                        Err(_) => {
                            return Err(PipelineError::Invariant {
                                order: String::new(),
                                message: format!("run of lines {next} was never decided"),
                            })
                        }
                    }
                };
                let out = self.finish_piece(piece, run, reborrow(&mut store), render, buffers)?;
                if !emit(out) {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }
}
