//! `exportgate sample-orders`: a reproducible order book as JSONL, and with `--parties FILE`
//! the customers' party records, which the orders then reference.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use exportgate_sample::{generate, generate_with_parties, BookSpec};

use crate::user;

pub fn sample_orders(
    n: usize,
    seed: u64,
    out: Option<&Path>,
    parties: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    if n == 0 {
        return Err(user("the number of orders must be at least 1"));
    }
    let book = match parties {
        None => generate(&BookSpec::new(n, seed)),
        Some(path) => {
            // Party records as JSON lines (for `exportgate parties add`), orders referencing them.
            let (records, book) = generate_with_parties(&BookSpec::new(n, seed));
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .map_err(|e| user(format!("cannot write `{}`: {e}", path.display())))?,
            );
            for r in &records {
                serde_json::to_writer(&mut w, r)?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
            book
        }
    };
    let mut w: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| user(format!("cannot write `{}`: {e}", p.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    for o in &book {
        serde_json::to_writer(&mut w, o)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(ExitCode::SUCCESS)
}
