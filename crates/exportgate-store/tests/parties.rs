//! Party records (issue 16) on SQLite and PostgreSQL: added, refused when the id exists,
//! reviewed, read back, and every change in the hash-chained audit log, which still verifies.

mod common;

use exportgate_ledger::{LedgerStore, Timestamp};
use exportgate_store::parties::{PartyConflict, PartyStore, PartyWrite};
use exportgate_store::postgres::PostgresStore;
use exportgate_store::sqlite::SqliteStore;
use serde_json::json;

fn write<'a>(record: &'a serde_json::Value, event: &'a str, review_by: &'a str) -> PartyWrite<'a> {
    PartyWrite {
        id: "p-kl",
        name: "KL Distribution Sdn Bhd",
        country: "MY",
        review_by,
        record,
        event,
    }
}

fn exercise<S: PartyStore + LedgerStore>(store: &mut S) {
    let first = json!({"id": "p-kl", "name": "KL Distribution Sdn Bhd", "country": "MY", "review_by": "2026-06-30"});
    let t = Timestamp::from_micros(1_700_000_000_000_000);
    let seq = store
        .put_party(&write(&first, "party_added", "2026-06-30"), "alice", t)
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .put_party(&write(&first, "party_added", "2026-06-30"), "alice", t)
            .unwrap(),
        Err(PartyConflict::Exists("p-kl".into()))
    );
    let missing = PartyWrite {
        id: "p-none",
        ..write(&first, "party_reviewed", "2026-06-30")
    };
    assert_eq!(
        store.put_party(&missing, "bob", t).unwrap(),
        Err(PartyConflict::Missing("p-none".into()))
    );
    // A batch with one conflict writes nothing of it.
    let two = PartyWrite {
        id: "p-two",
        ..write(&first, "party_added", "2026-06-30")
    };
    assert_eq!(
        store
            .put_parties(
                &[two, write(&first, "party_added", "2026-06-30")],
                "alice",
                t
            )
            .unwrap(),
        Err(PartyConflict::Exists("p-kl".into()))
    );
    assert!(store.party("p-two").unwrap().is_none());
    let reviewed = json!({"id": "p-kl", "name": "KL Distribution Sdn Bhd", "country": "MY", "review_by": "2027-06-30"});
    let seq2 = store
        .put_party(&write(&reviewed, "party_reviewed", "2027-06-30"), "bob", t)
        .unwrap()
        .unwrap();
    assert_eq!(seq2, seq + 1, "refused writes append nothing");
    let row = store.party("p-kl").unwrap().unwrap();
    assert_eq!(row.record, reviewed);
    assert_eq!(row.updated_by, "bob");
    assert_eq!(row.audit_seq, seq2);
    assert!(store.party("p-none").unwrap().is_none());
    assert_eq!(store.parties().unwrap().len(), 1);
    let audit = store.audit_records(0, 100).unwrap();
    let events: Vec<(String, serde_json::Value)> = audit
        .iter()
        .map(|r| (r.actor.clone(), serde_json::from_str(&r.payload).unwrap()))
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].0, "alice");
    assert_eq!(events[0].1["event"], "party_added");
    assert_eq!(events[1].1["event"], "party_reviewed");
    assert_eq!(events[1].1["party"], reviewed);
    assert!(store.verify_audit().unwrap().is_ok());
}

#[test]
fn sqlite_party_records_are_written_with_their_audit_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&common::fresh_sqlite_path(&dir)).unwrap();
    exercise(&mut store);
}

#[test]
fn postgres_party_records_are_written_with_their_audit_records() {
    let Some(base) = common::postgres_url() else {
        eprintln!("EXPORTGATE_TEST_POSTGRES_URL is not set: PostgreSQL party records not tested");
        return;
    };
    let mut store = PostgresStore::connect(&common::fresh_postgres_url(&base, "parties")).unwrap();
    exercise(&mut store);
}
