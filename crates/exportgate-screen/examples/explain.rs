//! explain: prints the normalised tokens and the per-feature score of name pairs.
//!
//! `cargo run --release -p exportgate-screen --example explain -- "NAME 1" "NAME 2" [...]`
//! (pairs of arguments). Every romanisation of each name is compared
//! (the primary form and the variants of `Normalizer::variants`).

use exportgate_screen::score::compare;
use exportgate_screen::{Normalizer, ScoreParams};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let norm = Normalizer::new();
    for pair in args.chunks(2) {
        let [a, b] = pair else { break };
        // Every romanisation of either name (the primary form first, then the variants).
        let forms = |n: &str| std::iter::once(norm.normalize(n)).chain(norm.variants(n));
        for qa in forms(a) {
            for qb in forms(b) {
                explain(a, b, &qa, &qb);
            }
        }
    }
}

fn explain(
    a: &str,
    b: &str,
    qa: &exportgate_screen::normalize::NormName,
    qb: &exportgate_screen::normalize::NormName,
) {
    let show = |n: &exportgate_screen::normalize::NormName| {
        n.tokens
            .iter()
            .map(|t| format!("{}({:?},{})", t.text, t.kind, t.fold))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ps = compare(qa, qb, &ScoreParams::default());
    println!("{a} | {b}\n  q: {}\n  c: {}", show(qa), show(qb));
    println!(
        "  score {:.3} align {:.3} compact {:.3} nums {} matched {:?}",
        ps.score,
        ps.features.token_alignment,
        ps.features.compact,
        ps.features.number_mismatch,
        ps.tokens_matched
            .iter()
            .map(|m| format!("{}~{}:{:.2}", m.query, m.entry, m.similarity))
            .collect::<Vec<_>>()
    );
}
