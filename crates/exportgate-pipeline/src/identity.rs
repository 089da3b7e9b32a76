//! Consignee identity: when two orders name the same consignee.
//!
//! One rule everywhere — the in-run LPP tally, the ledger's LPP accounts, licence matching,
//! `POST /v1/check` batches and the simulator: a name is the same consignee as another when
//! both are equal after Unicode lowercasing and collapsing every run of white space to one
//! space (leading and trailing white space dropped). "ACME  Ltd" and "acme ltd" are one
//! consignee; "ACME Ltd." and "ACME Ltd" are two (punctuation is kept: a licence names the
//! party as it is written, and treating near names as one would let one consignee's quota be
//! drawn under another's licence).
//!
//! The function is the ledger's (`exportgate_ledger::account::normalise_name`), since the
//! ledger's account ids are built from it; this module is where the rest of the code finds it.

pub use exportgate_ledger::account::normalise_name as consignee_key;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_spacing_do_not_matter_punctuation_does() {
        assert_eq!(consignee_key("ACME  Ltd"), consignee_key(" acme ltd "));
        assert_eq!(consignee_key("ÉCOLE\tSA"), consignee_key("école sa"));
        assert_ne!(consignee_key("ACME Ltd."), consignee_key("ACME Ltd"));
    }
}
