//! The hash-chained audit log: record hashing and chain verification, independent of storage.
//!
//! Each record's `hash` is `sha256(prev_hash || canonical(record))`, where the canonical form
//! length-prefixes every field (seq, time, actor, kind, payload text), so no two records share
//! one. The payload is hashed as the exact text stored, so no JSON re-serialisation can change
//! a hash. The store also keeps a head (last seq and hash), which catches deletion or insertion
//! at the end of the log. A writer who can rewrite every record *and* the head can forge a
//! consistent log; `exportgate audit anchor` prints the head to keep elsewhere and
//! `audit verify --anchor` checks the log against it (see the README).

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// `prev_hash` of the first record: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Audit record kind for a ledger request and its reply.
pub const KIND_LEDGER: &str = "ledger";
/// Audit record kind for a decision appended by the caller.
pub const KIND_DECISION: &str = "decision";
/// Audit record kind for a new account.
pub const KIND_ACCOUNT_CREATED: &str = "account_created";
/// Audit record kind for an account status change.
pub const KIND_ACCOUNT_STATUS: &str = "account_status";
/// Audit record kind for a new licence.
pub const KIND_LICENCE_ADDED: &str = "licence_added";
/// Audit record kind for `audit prune`: names the new chain base and its checkpoint's digest
/// (see [`crate::retention`]).
pub const KIND_AUDIT_PRUNED: &str = "audit_pruned";

/// Where the stored log starts after `audit prune` removed a prefix: the seq and hash of the
/// last removed record, and the checkpoint (JSON text, hashed exactly as stored) of the
/// ledger's state after it. The newest `audit_pruned` record in the log names all three.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditBase {
    pub seq: u64,
    pub hash: String,
    pub checkpoint: String,
}

impl AuditBase {
    /// Hex sha256 of the checkpoint text.
    pub fn checkpoint_sha256(&self) -> String {
        hex::encode(Sha256::digest(self.checkpoint.as_bytes()))
    }
}

/// What an `audit_pruned` record says the chain base is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedBase {
    pub base_seq: u64,
    pub base_hash: String,
    pub checkpoint_sha256: String,
}

impl NamedBase {
    /// Reads the base an `audit_pruned` record's payload names.
    pub fn of(record: &AuditRecord) -> Option<NamedBase> {
        serde_json::from_str(&record.payload).ok()
    }

    /// Whether `base` is the one named.
    pub fn names(&self, base: &AuditBase) -> bool {
        self.base_seq == base.seq
            && self.base_hash == base.hash
            && self.checkpoint_sha256 == base.checkpoint_sha256()
    }
}

/// One record of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1, 2, 3, ... without gaps.
    pub seq: u64,
    /// Time given by the caller.
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    /// JSON text, hashed exactly as stored.
    pub payload: String,
    /// Hex sha256 of the previous record ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// Hex sha256 of `prev_hash` and this record.
    pub hash: String,
}

/// What kind of tampering [`verify_chain`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    Edited,
    Inserted,
    Deleted,
    /// The stored chain base or its checkpoint is not what the newest `audit_pruned` record
    /// names (or there is a base and no such record).
    Base,
}

/// The first record at which the chain breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit log broken at record {seq}: {}", match kind {
    BreakKind::Edited => "record edited",
    BreakKind::Inserted => "record inserted",
    BreakKind::Deleted => "record deleted",
    BreakKind::Base => "the stored chain base or checkpoint is not the one the newest audit_pruned record names",
})]
pub struct AuditBreak {
    pub seq: u64,
    pub kind: BreakKind,
}

/// A verified log: how many records and the hash of the last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    pub records: u64,
    pub head_hash: String,
}

/// The hash of a record with the given fields.
pub fn record_hash(
    prev_hash: &str,
    seq: u64,
    at: Timestamp,
    actor: &str,
    kind: &str,
    payload: &str,
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(format!("\n{seq}\n{}\n", at.micros()).as_bytes());
    for field in [actor, kind, payload] {
        hasher.update(format!("{}:", field.len()).as_bytes());
        hasher.update(field.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

impl AuditRecord {
    /// The record that follows `(prev_seq, prev_hash)`.
    pub fn next(
        prev_seq: u64,
        prev_hash: &str,
        at: Timestamp,
        actor: &str,
        kind: &str,
        payload: String,
    ) -> AuditRecord {
        let seq = prev_seq + 1;
        let hash = record_hash(prev_hash, seq, at, actor, kind, &payload);
        AuditRecord {
            seq,
            at,
            actor: actor.to_owned(),
            kind: kind.to_owned(),
            payload,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }

    fn hash_as(&self, seq: u64) -> String {
        record_hash(
            &self.prev_hash,
            seq,
            self.at,
            &self.actor,
            &self.kind,
            &self.payload,
        )
    }
}

impl fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            self.seq, self.at, self.actor, self.kind, self.payload
        )
    }
}

/// Walks records in seq order and reports the first break. `head` is the stored (seq, hash)
/// of the last record, `None` for an empty log.
pub struct ChainVerifier {
    expected_seq: u64,
    last_hash: String,
    hash_before_last: Option<String>,
    base: Option<AuditBase>,
    named: Option<NamedBase>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            last_hash: GENESIS_HASH.to_owned(),
            hash_before_last: None,
            base: None,
            named: None,
        }
    }
}

impl ChainVerifier {
    /// A verifier at the start of the log.
    pub fn new() -> ChainVerifier {
        ChainVerifier::default()
    }

    /// A verifier starting after a stored chain base (`None`: at the start of the log).
    pub fn from_base(base: Option<&AuditBase>) -> ChainVerifier {
        match base {
            None => ChainVerifier::new(),
            Some(b) => ChainVerifier {
                expected_seq: b.seq + 1,
                last_hash: b.hash.clone(),
                base: Some(b.clone()),
                ..ChainVerifier::default()
            },
        }
    }

    /// Checks the next record.
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), AuditBreak> {
        let fail = |seq, kind| Err(AuditBreak { seq, kind });
        if let Some(base) = &self.base {
            if self.expected_seq == base.seq + 1
                && record.seq != self.expected_seq
                && record.prev_hash == base.hash
            {
                // The first record chains from the base's hash but the base's seq is another.
                return fail(base.seq, BreakKind::Base);
            }
            if record.seq == base.seq + 1
                && record.seq == self.expected_seq
                && record.prev_hash != base.hash
                && record.hash_as(record.seq) == record.hash
            {
                // The first record after the base chains from another hash: the base was edited.
                return fail(base.seq, BreakKind::Base);
            }
        }
        if record.seq > self.expected_seq {
            return fail(self.expected_seq, BreakKind::Deleted);
        }
        if record.seq < self.expected_seq {
            return fail(record.seq, BreakKind::Inserted);
        }
        if record.hash_as(record.seq) != record.hash {
            // Renumbered records still hash under their old seq: tells an insertion or a
            // deletion in the middle (with the rest shifted) from an edit.
            if record.seq > 1 && record.hash_as(record.seq - 1) == record.hash {
                return fail(record.seq - 1, BreakKind::Inserted);
            }
            if record.hash_as(record.seq + 1) == record.hash {
                return fail(record.seq, BreakKind::Deleted);
            }
            return fail(record.seq, BreakKind::Edited);
        }
        if record.prev_hash != self.last_hash {
            if self.hash_before_last.as_deref() == Some(record.prev_hash.as_str()) {
                return fail(record.seq - 1, BreakKind::Inserted);
            }
            // The previous record was changed and its own hash recomputed.
            return fail(record.seq - 1, BreakKind::Edited);
        }
        if record.kind == KIND_AUDIT_PRUNED {
            // Hashed in the chain, so an unreadable payload was written that way by someone else.
            self.named = Some(NamedBase::of(record).ok_or(AuditBreak {
                seq: record.seq,
                kind: BreakKind::Edited,
            })?);
        }
        self.hash_before_last = Some(std::mem::replace(&mut self.last_hash, record.hash.clone()));
        self.expected_seq += 1;
        Ok(())
    }

    /// Compares the end of the walk with the stored head.
    pub fn finish(self, head: Option<(u64, String)>) -> Result<AuditSummary, AuditBreak> {
        let last_seq = self.expected_seq - 1;
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));
        if head_seq > last_seq {
            return Err(AuditBreak {
                seq: last_seq + 1,
                kind: BreakKind::Deleted,
            });
        }
        if head_seq < last_seq {
            return Err(AuditBreak {
                seq: head_seq + 1,
                kind: BreakKind::Inserted,
            });
        }
        if head_hash != self.last_hash {
            return Err(AuditBreak {
                seq: last_seq,
                kind: BreakKind::Edited,
            });
        }
        let base_holds = match (&self.base, &self.named) {
            (None, None) => true,
            (Some(base), Some(named)) => named.names(base),
            _ => false,
        };
        if !base_holds {
            return Err(AuditBreak {
                seq: self.base.as_ref().map_or(0, |b| b.seq),
                kind: BreakKind::Base,
            });
        }
        Ok(AuditSummary {
            records: last_seq,
            head_hash,
        })
    }
}

/// Verifies a whole log held in memory.
pub fn verify_chain(
    records: &[AuditRecord],
    head: Option<(u64, String)>,
) -> Result<AuditSummary, AuditBreak> {
    verify_chain_from(None, records, head)
}

/// Verifies a log held in memory that starts after `base` (see [`ChainVerifier::from_base`]).
pub fn verify_chain_from(
    base: Option<&AuditBase>,
    records: &[AuditRecord],
    head: Option<(u64, String)>,
) -> Result<AuditSummary, AuditBreak> {
    let mut verifier = ChainVerifier::from_base(base);
    for record in records {
        verifier.push(record)?;
    }
    verifier.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut records: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let (seq, hash) = records
                .last()
                .map(|r| (r.seq, r.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.to_owned()));
            records.push(AuditRecord::next(
                seq,
                &hash,
                Timestamp::from_micros(i as i64),
                "t",
                KIND_DECISION,
                format!("{{\"i\":{i}}}"),
            ));
        }
        records
    }

    fn head(records: &[AuditRecord]) -> Option<(u64, String)> {
        records.last().map(|r| (r.seq, r.hash.clone()))
    }

    #[test]
    fn intact_chain_verifies() {
        let records = chain(10);
        assert_eq!(verify_chain(&records, head(&records)).unwrap().records, 10);
        assert_eq!(verify_chain(&[], None).unwrap().records, 0);
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let records = chain(10);
        let h = head(&records);
        let mut edited = records.clone();
        edited[4].payload = "{\"i\":99}".into();
        assert_eq!(
            verify_chain(&edited, h.clone()),
            Err(AuditBreak {
                seq: 5,
                kind: BreakKind::Edited
            })
        );
        let mut rehashed = records.clone();
        rehashed[4].payload = "{\"i\":99}".into();
        rehashed[4].hash = rehashed[4].hash_as(5);
        assert_eq!(
            verify_chain(&rehashed, h.clone()),
            Err(AuditBreak {
                seq: 5,
                kind: BreakKind::Edited
            })
        );
        let mut deleted = records.clone();
        deleted.remove(4);
        assert_eq!(
            verify_chain(&deleted, h.clone()),
            Err(AuditBreak {
                seq: 5,
                kind: BreakKind::Deleted
            })
        );
        let mut shifted_down = deleted.clone();
        for r in &mut shifted_down[4..] {
            r.seq -= 1;
        }
        assert_eq!(
            verify_chain(&shifted_down, h.clone()),
            Err(AuditBreak {
                seq: 5,
                kind: BreakKind::Deleted
            })
        );
        let mut inserted = records.clone();
        for r in &mut inserted[4..] {
            r.seq += 1;
        }
        let forged = AuditRecord::next(
            4,
            &records[3].hash,
            Timestamp::from_micros(0),
            "x",
            KIND_DECISION,
            "{}".into(),
        );
        inserted.insert(4, forged);
        assert_eq!(
            verify_chain(&inserted, h.clone()),
            Err(AuditBreak {
                seq: 5,
                kind: BreakKind::Inserted
            })
        );
        let mut appended = records.clone();
        appended.push(AuditRecord::next(
            10,
            &records[9].hash,
            Timestamp::from_micros(0),
            "x",
            KIND_DECISION,
            "{}".into(),
        ));
        assert_eq!(
            verify_chain(&appended, h.clone()),
            Err(AuditBreak {
                seq: 11,
                kind: BreakKind::Inserted
            })
        );
        let truncated = &records[..9];
        assert_eq!(
            verify_chain(truncated, h),
            Err(AuditBreak {
                seq: 10,
                kind: BreakKind::Deleted
            })
        );
    }
}
