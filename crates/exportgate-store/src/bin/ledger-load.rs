//! `ledger-load URL SEED GENERATION [OPERATIONS]`: a load generator for crash tests.
//!
//! Submits the seeded workload of client GENERATION against the ledger at URL and, after each
//! batch commits, prints one line per reply: `ack <reply JSON>`. A line printed is an
//! acknowledged operation; the crash test kills this process with SIGKILL at random points
//! and checks that every acknowledged operation survived. Stops after OPERATIONS (default
//! 1,000,000) operations or when stdout closes.

use exportgate_ledger::workload::{workload_accounts, ClientWorkload, Op};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, seed, generation, rest @ ..] = args.as_slice() else {
        eprintln!("usage: ledger-load URL SEED GENERATION [OPERATIONS]");
        return ExitCode::from(2);
    };
    let (Ok(seed), Ok(generation)) = (seed.parse::<u64>(), generation.parse::<u64>()) else {
        eprintln!("error: SEED and GENERATION must be whole numbers");
        return ExitCode::from(2);
    };
    let operations: u64 = rest
        .first()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    match run(url, seed, generation, operations) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    url: &str,
    seed: u64,
    generation: u64,
    operations: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = exportgate_store::open_store(url)?;
    let at = exportgate_ledger::conformance::t0();
    for spec in workload_accounts() {
        store.ensure_account(&spec, "ledger-load", at)?;
    }
    // Earlier generations' keys are reachable too, as a restarted client's retries would be.
    let mut workload = ClientWorkload::new(seed, generation, generation + 1);
    let stdout = std::io::stdout();
    let mut done = 0;
    while done < operations {
        match workload.next_op() {
            Op::Submit(requests) => {
                let replies = store.submit("ledger-load", &requests)?;
                let mut out = stdout.lock();
                for reply in &replies {
                    writeln!(out, "ack {}", serde_json::to_string(reply)?)?;
                }
                out.flush()?;
                done += replies.len() as u64;
            }
            Op::SetStatus {
                account,
                status,
                at,
            } => store.set_account_status(&account, status, "ledger-load", at)?,
        }
    }
    Ok(())
}
