//! `exportgate sample-orders`: a reproducible order book as JSONL.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use exportgate_sample::{generate, BookSpec};

use crate::user;

pub fn sample_orders(n: usize, seed: u64, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    if n == 0 {
        return Err(user("the number of orders must be at least 1"));
    }
    let book = generate(&BookSpec::new(n, seed));
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
