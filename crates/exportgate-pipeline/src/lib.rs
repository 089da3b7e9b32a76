//! exportgate-pipeline: the one decision pipeline behind every door.
//!
//! `exportgate check`, `ship`, `explain` and `simulate`, `POST /v1/check` and `POST /v1/ship`,
//! and the decision corpus all turn orders into final decisions through this crate. A door
//! parses its input, calls a [`Pipeline`] and renders what comes back; it never decides,
//! tallies quotas or matches licences itself, so every door gives the same answer.
//!
//! What a run of decisions owns, and where it lives:
//! * the regimes forced for the run, the screening of parties and the party records orders
//!   reference (`Pipeline::with_parties`, linked by `Pipeline::attach`): [`Pipeline`];
//! * deciding one order ([`Pipeline::decide`]) and a whole book: [`check`] (parallel first
//!   pass, then lines that depend on earlier lines in input order, licences read-only) and
//!   [`ship`] (the same decisions, then reserve-and-post on the ledger with an audit record);
//! * one notion of consignee identity: [`identity`];
//! * LPP usage from the run and the ledger: [`quotas`]; licences: [`licensing`];
//! * the item ids a licence may name: [`known`]; Data Center VEUs (records, compute, which
//!   orders a VEU may take and `ship`'s draw on it): [`veus`];
//! * recorded decisions decided again and compared, with the cause of each change: [`replay`];
//! * the decision's JSON shape, written by every door: [`wire`];
//! * typed per-line errors ([`LineError`]) and run errors ([`PipelineError`]).
//!
//! INVARIANT (fail closed): a failure inside the pipeline yields an error record for the line,
//! or stops the run; a decision that could not be completed against quotas or licences is
//! never returned in its quota-free or licence-free form.
//!
//! The pipeline reads no clock: `ship` takes the time of its ledger requests from the caller.

pub mod accrual;
pub mod check;
pub mod flows;
pub mod identity;
pub mod known;
pub mod licensing;
pub mod quotas;
pub mod replay;
pub mod ship;
pub mod veus;
pub mod wire;

use std::borrow::Cow;
use std::sync::Arc;

use exportgate_core::kyc::PartyIndex;
use exportgate_core::{
    Decider, Decision, DecisionInputs, ListHit, Order, QuotaView, Ruleset, SpecError,
};
use exportgate_ledger::StoreError;
use exportgate_lists::source::ScreeningSource;
use serde::Serialize;

pub use check::CheckRun;
pub use known::CatalogIds;
pub use quotas::LppTally;

/// A line (or array element) that could not be decided: where, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// The 1-based line (or, over HTTP, the 0-based array index).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub field: String,
    pub message: String,
}

impl LineError {
    /// The error in words for a person: "line 4: field `date`: ..." — or "line 4: not valid
    /// JSON: ..." when the line as a whole is at fault (its `field` is then `line`).
    pub fn describe(&self) -> String {
        if self.field == "line" {
            format!("line {}: {}", self.line, self.message)
        } else {
            format!(
                "line {}: field `{}`: {}",
                self.line, self.field, self.message
            )
        }
    }

    /// An order's field error.
    pub fn spec(line: usize, id: Option<String>, e: SpecError) -> LineError {
        LineError {
            line,
            id,
            field: e.field,
            message: e.problem,
        }
    }
}

/// One parsed input line: its number, and the order or why it is not one.
pub type Parsed = (usize, Result<Order, LineError>);

/// One line's result: its decision, or its error record.
pub type LineResult = Result<Decision, LineError>;

/// Why a run of decisions stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("unknown regime `{id}`")]
    UnknownRegime {
        /// Its position among the forced regimes.
        index: usize,
        id: String,
        /// Every regime id the ruleset has.
        known: Vec<String>,
    },
    #[error("ledger: {0}")]
    Ledger(#[from] StoreError),
    #[error("cannot render a decision: {0}")]
    Render(String),
    #[error("order `{order}`: {message}")]
    Invariant { order: String, message: String },
}

/// The rules, the regimes forced for the run, and the screening source: everything a door
/// needs to decide orders.
pub struct Pipeline<'a> {
    rs: &'a Ruleset,
    decider: Decider<'a>,
    forced: Vec<String>,
    source: &'a ScreeningSource,
    /// Put on every decision: engine, rule data and lists (issue 19 item 1), for the
    /// generation of the lists they were made for (a server reloads its lists while running).
    inputs: std::sync::RwLock<(u64, Arc<DecisionInputs>)>,
    /// The party records orders may reference (loaded once per run).
    parties: Option<&'a Parties>,
}

/// The party records a pipeline links orders to: an index loaded once, replaced whole when a
/// record changes (a server's `POST /v1/parties`), so a decision sees one consistent index.
#[derive(Default)]
pub struct Parties(std::sync::RwLock<std::sync::Arc<PartyIndex>>);

impl Parties {
    pub fn new(index: PartyIndex) -> Parties {
        Parties(std::sync::RwLock::new(std::sync::Arc::new(index)))
    }

    /// The index of stored records given as their JSON texts
    /// (`PartyStore::party_texts`), each parsed straight into a record and validated again
    /// (the data may have changed since it was written), in parallel: a run that references
    /// 50,000 records loads them in a fraction of a second. The error names the record. Each
    /// record is kept as decisions read it
    /// ([`exportgate_core::kyc::CheckedParty::for_deciding`]).
    pub fn parse_index(rs: &Ruleset, texts: Vec<String>) -> Result<PartyIndex, String> {
        use rayon::prelude::*;
        let parties = texts
            .par_iter()
            .map(|text| {
                let id = || {
                    serde_json::from_str::<serde_json::Value>(text)
                        .ok()
                        .and_then(|v| v["id"].as_str().map(str::to_string))
                        .unwrap_or_else(|| "?".into())
                };
                let record: exportgate_core::kyc::PartyRecord = serde_json::from_str(text)
                    .map_err(|e| format!("stored party `{}` is unreadable: {e}", id()))?;
                // Shared from here on: the index keeps each record where it was parsed.
                exportgate_core::kyc::CheckedParty::new(record, rs)
                    .map(|p| std::sync::Arc::new(p.for_deciding()))
                    .map_err(|e| {
                        format!(
                            "stored party `{}`: field `{}`: {}",
                            id(),
                            e.field,
                            e.problem
                        )
                    })
            })
            .collect::<Result<Vec<_>, String>>()?;
        // The stored texts are not needed once parsed: freed before the index is built.
        drop(texts);
        Ok(PartyIndex::new(parties, rs))
    }

    /// The index as it is now.
    pub fn current(&self) -> std::sync::Arc<PartyIndex> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the index.
    pub fn replace(&self, index: PartyIndex) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = std::sync::Arc::new(index);
    }
}

impl<'a> Pipeline<'a> {
    /// A pipeline deciding under the regimes binding on each order's date, plus `forced` (each
    /// must be a regime of `rs`).
    pub fn new(
        rs: &'a Ruleset,
        forced: &[String],
        source: &'a ScreeningSource,
    ) -> Result<Pipeline<'a>, PipelineError> {
        for (index, id) in forced.iter().enumerate() {
            if rs.regime(id).is_none() {
                return Err(PipelineError::UnknownRegime {
                    index,
                    id: id.clone(),
                    known: rs.regimes().iter().map(|r| r.id.clone()).collect(),
                });
            }
        }
        Ok(Pipeline {
            rs,
            decider: Decider::new(rs, forced),
            forced: forced.to_vec(),
            source,
            inputs: std::sync::RwLock::new((
                source.generation(),
                DecisionInputs::new(rs.digests(), source.list_inputs()),
            )),
            parties: None,
        })
    }

    /// Orders are linked to these party records (by `party_id`, or by exact name and
    /// country) before they are screened and decided.
    pub fn with_parties(mut self, parties: &'a Parties) -> Self {
        self.parties = Some(parties);
        self
    }

    /// The party records, if any.
    pub fn parties(&self) -> Option<&'a Parties> {
        self.parties
    }

    /// Links an order to its party records and fills its identity from them (see
    /// [`PartyIndex::attach`]); an unknown `party_id` is an error record for the line. Every
    /// entry point of the pipeline does this before it screens; it is done once per order.
    pub fn attach(&self, line: usize, order: &mut Order) -> Result<(), LineError> {
        let ix = self.parties.map(Parties::current);
        self.attach_to(ix.as_deref(), line, order)
    }

    /// [`Pipeline::attach`] against one snapshot of the index (taken once for a run of lines,
    /// not once per line).
    pub(crate) fn attach_to(
        &self,
        ix: Option<&PartyIndex>,
        line: usize,
        order: &mut Order,
    ) -> Result<(), LineError> {
        match ix {
            Some(ix) if order.kyc.is_none() => ix
                .attach(order, self.rs)
                .map_err(|e| LineError::spec(line, Some(order.id.clone()), e)),
            _ => Ok(()),
        }
    }

    /// The order linked to its party records: borrowed when there is nothing to link.
    pub fn attached<'o>(&self, line: usize, order: &'o Order) -> Result<Cow<'o, Order>, LineError> {
        match self.parties {
            Some(_) if order.kyc.is_none() => {
                let mut o = order.clone();
                self.attach(line, &mut o)?;
                Ok(Cow::Owned(o))
            }
            _ => Ok(Cow::Borrowed(order)),
        }
    }

    /// Keep the trace of every rule considered (for `explain` and review cases).
    pub fn with_trace(mut self, trace: bool) -> Self {
        self.decider = self.decider.with_trace(trace);
        self
    }

    /// The ruleset.
    pub fn ruleset(&self) -> &'a Ruleset {
        self.rs
    }

    /// The regimes forced for the run.
    pub fn forced(&self) -> &[String] {
        &self.forced
    }

    /// What every decision of this pipeline rests on besides its order (with the lists in
    /// force now).
    pub fn inputs(&self) -> Arc<DecisionInputs> {
        let (_, stamp) = self.source.screening_stamped(&[]);
        self.inputs_for(stamp)
    }

    /// The inputs of a decision screened against the lists of `stamp`: built once per
    /// generation of the lists.
    fn inputs_for(&self, stamp: exportgate_lists::source::ListsStamp) -> Arc<DecisionInputs> {
        {
            let cached = self.inputs.read().unwrap_or_else(|e| e.into_inner());
            if cached.0 == stamp.generation {
                return cached.1.clone();
            }
        }
        let fresh = DecisionInputs::new(self.rs.digests(), stamp.inputs.to_vec());
        *self.inputs.write().unwrap_or_else(|e| e.into_inner()) = (stamp.generation, fresh.clone());
        fresh
    }

    /// The screening source.
    pub fn source(&self) -> &'a ScreeningSource {
        self.source
    }

    /// Screens the order's parties.
    pub fn screen(&self, line: usize, order: &Order) -> Result<Vec<ListHit>, LineError> {
        self.source.hits(order).map_err(|e| LineError {
            line,
            id: Some(order.id.clone()),
            message: e.to_string(),
            field: e.field,
        })
    }

    /// Decides a screened order against the quotas given.
    pub fn decide_screened(
        &self,
        line: usize,
        order: &Order,
        hits: &[ListHit],
        quotas: &dyn QuotaView,
    ) -> LineResult {
        let (screening, stamp) = self.source.screening_stamped(hits);
        let mut d = self
            .decider
            .decide(order, quotas, screening)
            .map_err(|e| LineError::spec(line, Some(order.id.clone()), e))?;
        d.inputs = Some(self.inputs_for(stamp));
        Ok(d)
    }

    /// Screens the order's parties and decides it against the quotas given. This is one
    /// order's decision; a book's lines that depend on earlier lines are completed by
    /// [`check`] and [`ship`].
    pub fn decide(&self, line: usize, order: &Order, quotas: &dyn QuotaView) -> LineResult {
        let order = self.attached(line, order)?;
        self.decide_linked(line, &order, quotas)
    }

    /// [`Pipeline::decide`] for an order already linked by [`Pipeline::attach`]: an order no
    /// record matched is not cloned and matched again.
    pub(crate) fn decide_linked(
        &self,
        line: usize,
        order: &Order,
        quotas: &dyn QuotaView,
    ) -> LineResult {
        let hits = self.screen(line, order)?;
        self.decide_screened(line, order, &hits, quotas)
    }
}
