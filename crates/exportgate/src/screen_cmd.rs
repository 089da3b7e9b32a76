//! `exportgate screen`: screens one name, or a batch file of names (one per line, or CSV with
//! a `name,country` header), against the lists in force in the list database. A bad line of
//! a batch gets an error record of its own and the run goes on; the exit code is 2 at the end
//! if any line failed.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use exportgate_screen::{AllowList, Hit, Party, Screener};
use serde::Serialize;

use crate::lists_cmd::db_path;
use crate::{today, user};

/// Batch files larger than this are refused (names are short; this is not a name list).
const MAX_BATCH_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Serialize)]
struct Record<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    query: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hits: Option<&'a [Hit]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The lists to screen against: the files given with `--lists`, else those imported into the
/// list database.
fn load(db: Option<PathBuf>, lists: &[PathBuf]) -> anyhow::Result<Screener> {
    if !lists.is_empty() {
        let source = exportgate_lists::source::ScreeningSource::open(lists, None, false, today())
            .map_err(|e| user(e.to_string()))?;
        return source
            .into_screener()
            .ok_or_else(|| user("no list was loaded from --lists"));
    }
    let db = db_path(db)?;
    let no_lists = || {
        user(format!(
            "no screening lists are imported in {}\n\nhint: run `exportgate lists import PATH` \
             (for example `exportgate lists import ../shared/data/lists/csl_2026-07-31/screening-list.json`) \
             or `exportgate lists update`, or pass --db, or give a list file with --lists FILE",
            exportgate_lists::ListsDb::from(db.as_path())
        ))
    };
    if !exportgate_lists::ListsDb::from(db.as_path()).exists() {
        return Err(no_lists());
    }
    let screener = exportgate_lists::load_screener(&db).map_err(anyhow::Error::new)?;
    if screener.list_versions().is_empty() {
        return Err(no_lists());
    }
    Ok(screener)
}

fn versions_line(s: &Screener) -> String {
    s.list_versions()
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v.source,
                v.data_date
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| v.imported_on.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_text(out: &mut impl Write, query: &str, hits: &[Hit]) -> std::io::Result<()> {
    if hits.is_empty() {
        return writeln!(out, "{query}: no hits");
    }
    writeln!(
        out,
        "{query}: {} hit{}",
        hits.len(),
        if hits.len() == 1 { "" } else { "s" }
    )?;
    for h in hits {
        writeln!(
            out,
            "  {:.3} {:<8} {:<5} {}",
            h.score,
            if h.certain { "certain" } else { "possible" },
            h.list,
            h.name
        )?;
        if h.matched_alias != h.name {
            writeln!(out, "        matched alias: {}", h.matched_alias)?;
        }
        if let Some(c) = &h.citation {
            writeln!(out, "        citation: {c}")?;
        }
        if let Some(p) = &h.license_policy {
            writeln!(out, "        licence policy: {p}")?;
        }
        if let Some(c) = &h.cleared {
            writeln!(
                out,
                "        cleared by {} until {}: {}",
                c.reviewer, c.expires, c.reason
            )?;
        }
    }
    Ok(())
}

pub fn screen(
    db: Option<PathBuf>,
    lists: &[PathBuf],
    name: &str,
    country: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let screener = load(db, lists)?;
    let party = Party {
        name: name.to_string(),
        country: country.map(str::to_string),
    };
    let result = screener
        .screen(&party, today(), &AllowList::new())
        .map_err(|e| user(format!("cannot screen `{name}`: {e}")))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        // Serialised straight from the types (not through `serde_json::Value`, which would
        // widen the f32 scores to noisy f64s such as 0.029999999329447746).
        #[derive(Serialize)]
        struct Answer<'a> {
            query: &'a str,
            country: Option<&'a str>,
            hits: &'a [Hit],
            lists: &'a [exportgate_screen::ListVersion],
        }
        let answer = Answer {
            query: name,
            country,
            hits: &result.hits,
            lists: screener.list_versions(),
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    } else {
        writeln!(out, "screened against: {}", versions_line(&screener))?;
        print_text(&mut out, name, &result.hits)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of a batch: its number, and the name and country, or what is wrong with it.
struct Line {
    number: usize,
    parsed: Result<(String, Option<String>), (String, String)>,
}

fn split_lines(bytes: &[u8]) -> Vec<Line> {
    let mut raw: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if raw.last().is_some_and(|l| l.is_empty()) {
        raw.pop();
    }
    let strip = |l: &[u8]| -> Vec<u8> { l.strip_suffix(b"\r").unwrap_or(l).to_vec() };
    let first = raw.first().map(|l| strip(l)).unwrap_or_default();
    let header = String::from_utf8_lossy(&first)
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .replace(' ', "");
    let csv_mode = header == "name,country" || header == "name";
    let mut out = Vec::with_capacity(raw.len());
    for (i, l) in raw.iter().enumerate() {
        let number = i + 1;
        if csv_mode && i == 0 {
            continue;
        }
        let l = strip(l);
        let text = match String::from_utf8(l) {
            Ok(t) => t,
            Err(e) => {
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let at = e.utf8_error().valid_up_to();
                out.push(Line {
                    number,
                    parsed: Err((lossy, format!("invalid UTF-8 at byte {}", at + 1))),
                });
                continue;
            }
        };
        let parsed = if csv_mode {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            match rdr.records().next() {
                Some(Ok(rec)) if rec.len() <= 2 => {
                    let name = rec.get(0).unwrap_or("").to_string();
                    let country = rec
                        .get(1)
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_string);
                    Ok((name, country))
                }
                Some(Ok(rec)) => Err((
                    text.clone(),
                    format!("expected 2 fields (name,country), found {}", rec.len()),
                )),
                Some(Err(e)) => Err((text.clone(), format!("bad CSV: {e}"))),
                None => Ok((String::new(), None)),
            }
        } else {
            Ok((text, None))
        };
        out.push(Line { number, parsed });
    }
    out
}

/// Keeps an error record's echo of a bad line short.
fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

pub fn batch(
    db: Option<PathBuf>,
    lists: &[PathBuf],
    file: &Path,
    jsonl: bool,
) -> anyhow::Result<ExitCode> {
    let screener = load(db, lists)?;
    let bytes = if file == Path::new("-") {
        let mut b = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin().lock(), MAX_BATCH_BYTES),
            &mut b,
        )?;
        b
    } else {
        let meta = std::fs::metadata(file)
            .map_err(|e| user(format!("cannot read `{}`: {e}", file.display())))?;
        if meta.len() > MAX_BATCH_BYTES {
            return Err(user(format!(
                "`{}` is {} bytes; batch files of at most {MAX_BATCH_BYTES} bytes are screened",
                file.display(),
                meta.len()
            )));
        }
        std::fs::read(file).map_err(|e| user(format!("cannot read `{}`: {e}", file.display())))?
    };
    let as_of = today();
    let allow = AllowList::new();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if !jsonl {
        writeln!(out, "screened against: {}", versions_line(&screener))?;
    }
    let (mut failed, mut total) = (0usize, 0usize);
    for line in split_lines(&bytes) {
        total += 1;
        let outcome = match &line.parsed {
            Ok((name, country)) => {
                let party = Party {
                    name: name.clone(),
                    country: country.clone(),
                };
                screener
                    .screen(&party, as_of, &allow)
                    .map(|r| r.hits)
                    .map_err(|e| (name.clone(), e.to_string()))
            }
            Err((text, msg)) => Err((text.clone(), msg.clone())),
        };
        let country = line.parsed.as_ref().ok().and_then(|(_, c)| c.as_deref());
        match outcome {
            Ok(hits) => {
                let name = &line.parsed.as_ref().map(|(n, _)| n.as_str()).unwrap_or("");
                if jsonl {
                    let rec = Record {
                        line: Some(line.number),
                        query: name,
                        country,
                        hits: Some(&hits),
                        error: None,
                    };
                    writeln!(out, "{}", serde_json::to_string(&rec)?)?;
                } else {
                    print_text(&mut out, name, &hits)?;
                }
            }
            Err((text, msg)) => {
                failed += 1;
                let text = shorten(&text);
                if jsonl {
                    let rec = Record {
                        line: Some(line.number),
                        query: &text,
                        country,
                        hits: None,
                        error: Some(msg),
                    };
                    writeln!(out, "{}", serde_json::to_string(&rec)?)?;
                } else {
                    writeln!(out, "line {}: error: {msg}", line.number)?;
                }
            }
        }
    }
    out.flush()?;
    drop(out);
    if failed > 0 {
        return Err(user(format!(
            "{failed} of {total} lines of `{}` could not be screened (see their error records)",
            file.display()
        )));
    }
    Ok(ExitCode::SUCCESS)
}
