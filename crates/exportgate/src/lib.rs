//! The `exportgate` command-line interface as a library: argument parsing, dispatch, and the
//! one place where errors become exit codes (2 for bad input, 1 for anything else). The binary
//! (`main.rs`) only calls [`cli_main`].

mod check_cmd;
mod classify_cmd;
mod input;
mod regimes_cmd;
mod render;
mod sample_cmd;
mod serve_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use exportgate_lists::source::ScreeningSource;

/// Export-control compliance engine for AI chips.
#[derive(Parser, Debug)]
#[command(name = "exportgate", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the chip catalog.
    Chips {
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
    /// Classify an item (3A090/4A090) as of a date, with reasons.
    Classify {
        /// A catalog id (see `exportgate chips`).
        #[arg(long, conflicts_with = "spec", required_unless_present = "spec")]
        chip: Option<String>,
        /// A spec JSON file, or `-` for standard input.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// The date to classify as of (YYYY-MM-DD); today by default.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Evaluate as if this regime were in force too (repeatable).
        #[arg(long = "regime")]
        regimes: Vec<String>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
    /// Decide every order line of a file (JSONL or CSV): may it ship, and if not, what is needed.
    Check {
        /// Orders file (JSONL, or CSV with flattened field names); `-` for standard input.
        orders: PathBuf,
        /// Evaluate as if this regime were in force too (repeatable).
        #[arg(long = "regime")]
        regimes: Vec<String>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Jsonl)]
        format: CheckFormat,
        /// Write decisions here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Input format; by default from the file extension (`.csv` is CSV, anything else JSONL).
        #[arg(long, value_enum)]
        input_format: Option<InputFormat>,
        #[command(flatten)]
        screening: ScreeningArgs,
    },
    /// List the regimes and their state on a date.
    Regimes {
        /// The date (YYYY-MM-DD); today by default.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Evaluate as if this regime were in force too (repeatable).
        #[arg(long = "regime")]
        regimes: Vec<String>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
    /// Write a realistic, reproducible order book as JSONL (for demos, tests and benchmarks).
    SampleOrders {
        /// Number of order lines.
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Explain one order: every rule considered and why it applied or not.
    Explain {
        /// A file holding one order as JSON, or `-` for standard input.
        order: PathBuf,
        /// Evaluate as if this regime were in force too (repeatable).
        #[arg(long = "regime")]
        regimes: Vec<String>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        screening: ScreeningArgs,
    },
    /// Serve the HTTP API, the review workflow and the web page.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Database (`sqlite://PATH` or a path) for the ledger, lists, keys and cases
        /// (default: `$EXPORTGATE_DB`, else the user's data directory).
        #[arg(long)]
        db: Option<String>,
        /// Screen parties against this list file; repeatable. Without it, the lists imported
        /// into the database are used.
        #[arg(long = "lists")]
        lists: Vec<PathBuf>,
        /// The parties are screened outside exportgate: record that instead of screening.
        #[arg(long, conflicts_with = "lists")]
        screened_externally: bool,
    },
    /// Manage API keys for `exportgate serve`.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand, Debug)]
enum KeysAction {
    /// Create a key and print it once (only its hash is stored).
    Create {
        #[arg(long, value_parser = ["submitter", "reviewer", "admin"])]
        role: String,
        /// Who or what holds the key.
        #[arg(long, default_value = "unnamed")]
        name: String,
        /// The server's database (`sqlite://PATH` or a path).
        #[arg(long)]
        db: Option<String>,
    },
    /// List keys (ids, roles, state; never the keys).
    List {
        #[arg(long)]
        db: Option<String>,
    },
}

/// Where party screening comes from.
#[derive(clap::Args, Debug)]
struct ScreeningArgs {
    /// Screen parties against this list file (CSL JSON/CSV, OFAC, UN XML, DPL...); repeatable.
    /// Without it, the lists imported into the database are used.
    #[arg(long = "lists")]
    lists: Vec<PathBuf>,
    /// The database with imported lists (default: `$EXPORTGATE_DB`, else the user's data directory).
    #[arg(long)]
    db: Option<PathBuf>,
    /// The parties were screened outside exportgate: record that instead of screening.
    #[arg(long, conflicts_with = "lists")]
    screened_externally: bool,
}

impl ScreeningArgs {
    fn open(&self) -> anyhow::Result<ScreeningSource> {
        let db = self.db.clone().or_else(default_db);
        ScreeningSource::open(
            &self.lists,
            db.as_deref(),
            self.screened_externally,
            today(),
        )
        .map_err(|e| user(e.to_string()))
    }
}

/// The default database: `$EXPORTGATE_DB` (a path or `sqlite://PATH`), else `exportgate.sqlite`
/// in the user's data directory. Only the binary reads the environment.
pub fn default_db() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EXPORTGATE_DB") {
        let p = PathBuf::from(p);
        return Some(
            p.to_str()
                .and_then(|s| s.strip_prefix("sqlite://"))
                .map(PathBuf::from)
                .unwrap_or(p),
        );
    }
    dirs::data_dir().map(|d| d.join("exportgate").join("exportgate.sqlite"))
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Jsonl,
    Csv,
    Table,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Jsonl,
    Csv,
}

/// An error in what the user gave us: exit code 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Build a user error.
pub fn user(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(msg.into()))
}

/// Today, for commands that default to it. Only the binary reads the clock.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let rs = exportgate_core::Ruleset::embedded()
        .map_err(|e| anyhow::anyhow!("embedded data is invalid: {e}"))?;
    match cli.command {
        Command::Chips { format } => classify_cmd::chips(&rs, format),
        Command::Classify {
            chip,
            spec,
            as_of,
            regimes,
            format,
        } => classify_cmd::classify(
            &rs,
            chip,
            spec,
            as_of.unwrap_or_else(today),
            regimes,
            format,
        ),
        Command::Check {
            orders,
            regimes,
            format,
            out,
            input_format,
            screening,
        } => check_cmd::check(
            &rs,
            &orders,
            &regimes,
            format,
            out.as_deref(),
            input_format,
            &screening.open()?,
        ),
        Command::Regimes {
            as_of,
            regimes,
            format,
        } => regimes_cmd::regimes(&rs, as_of.unwrap_or_else(today), regimes, format),
        Command::Explain {
            order,
            regimes,
            format,
            screening,
        } => check_cmd::explain(&rs, &order, &regimes, format, &screening.open()?),
        Command::SampleOrders { n, seed, out } => {
            sample_cmd::sample_orders(n, seed, out.as_deref())
        }
        Command::Serve {
            addr,
            db,
            lists,
            screened_externally,
        } => serve_cmd::serve(addr, db.as_deref(), lists, screened_externally),
        Command::Keys { action } => match action {
            KeysAction::Create { role, name, db } => {
                serve_cmd::keys_create(db.as_deref(), &role, &name)
            }
            KeysAction::List { db } => serve_cmd::keys_list(db.as_deref()),
        },
    }
}

/// Parse the command line, run the command, and map errors to exit codes.
pub fn cli_main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let code = if e.downcast_ref::<UserError>().is_some() {
                2
            } else {
                1
            };
            eprintln!("error: {e:#}");
            ExitCode::from(code)
        }
    }
}
