//! The `exportgate` command-line interface as a library: argument parsing, dispatch, and the
//! one place where errors become exit codes (2 for bad input, 1 for anything else). The binary
//! (`main.rs`) only calls [`cli_main`].

/// `println!` that returns the write's error instead of panicking: a reader that went away
/// (`exportgate licences list | head`) ends the command quietly with 141 (see [`cli_main`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod audit_cmd;
mod check_cmd;
mod classify_cmd;
pub mod db;
mod db_cmd;
mod flows_cmd;
mod input;
mod licences_cmd;
mod lists_cmd;
mod pack;
mod parties_cmd;
mod regimes_cmd;
mod render;
mod replay_cmd;
mod report_cmd;
mod sample_cmd;
pub mod schema_cmd;
mod screen_cmd;
mod serve_cmd;
mod ship_cmd;
mod simulate_cmd;
mod tags_cmd;
mod veu_cmd;

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
        #[command(flatten)]
        policy: PolicyArgs,
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
    /// Print the JSON Schema of a file the engine reads or writes (generated from its types).
    Schema {
        /// Which document: order, decision, licence, scenario, allow, spec.
        #[arg(value_enum)]
        kind: schema_cmd::SchemaKind,
    },
    /// List the end-use tags an order may carry, what each means and which rules read it.
    Tags {
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
        /// Also write the customers' party records here (JSON lines, for `exportgate parties
        /// add`); the orders then reference them (by `party_id`, some by name, some stale or
        /// incomplete).
        #[arg(long, value_name = "FILE")]
        parties: Option<PathBuf>,
    },
    /// Screen a party name (or a batch file of names) against the restricted-party lists.
    Screen {
        /// The name to screen.
        #[arg(required_unless_present = "batch", conflicts_with = "batch")]
        name: Option<String>,
        /// The party's country (ISO code or name), used as supporting evidence.
        #[arg(long, conflicts_with = "batch")]
        country: Option<String>,
        /// A file of names, one per line, or CSV with the header `name,country`; `-` for
        /// standard input.
        #[arg(long)]
        batch: Option<PathBuf>,
        /// Output: text for people, `json` for one name, `jsonl` for a batch.
        #[arg(long, value_enum, default_value_t = ScreenFormat::Text)]
        format: ScreenFormat,
        /// The list database (default: $EXPORTGATE_DB, else the user's data directory).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Screen against these list files instead of the list database (repeatable).
        #[arg(long = "lists")]
        lists: Vec<PathBuf>,
    },
    /// Import, update and inspect the restricted-party lists in the list database.
    Lists {
        #[command(subcommand)]
        command: ListsCommand,
        /// The list database (default: $EXPORTGATE_DB, else the user's data directory).
        #[arg(long, global = true)]
        db: Option<PathBuf>,
    },
    /// Replay an order book under what-if scenarios and report what changes between them.
    Simulate {
        /// Orders file (JSONL, or CSV with flattened field names); `-` for standard input.
        orders: PathBuf,
        /// A built-in scenario (`current`, `ai-diffusion-2025`) or a scenario file; repeatable.
        /// The first is the baseline flips are measured against. Default: both built-ins.
        #[arg(long = "scenario")]
        scenarios: Vec<String>,
        #[arg(long, value_enum, default_value_t = simulate_cmd::SimFormat::Table)]
        format: simulate_cmd::SimFormat,
        /// Write the report here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Input format; by default from the file extension (`.csv` is CSV, anything else JSONL).
        #[arg(long, value_enum)]
        input_format: Option<InputFormat>,
        #[command(flatten)]
        screening: ScreeningArgs,
        /// The due-diligence policy every scenario decides under (as `check --policy`).
        #[command(flatten)]
        policy: PolicyArgs,
        /// Data Center VEUs (a JSON array of `{"veu": {record}, "compute": {"DE": TPP}}`): the
        /// report says which orders needing a licence only because of the AI Diffusion Tier 2
        /// requirement each could absorb, with its headroom.
        #[arg(long)]
        veu: Option<PathBuf>,
    },
    /// Explain one order: every rule considered and why it applied or not.
    Explain {
        /// A file holding one order as JSON, or several (JSONL), or `-` for standard input.
        /// Every order is explained, decided as `check` decides it (with the ledger's licences
        /// when there is a database).
        order: PathBuf,
        /// Evaluate as if this regime were in force too (repeatable).
        #[arg(long = "regime")]
        regimes: Vec<String>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        screening: ScreeningArgs,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Party records (know your customer): identity and dated due-diligence facts that orders
    /// reference by `party_id` (or by exact name and country); every change is audited.
    Parties {
        #[command(subcommand)]
        command: PartiesCommand,
    },
    /// Licences on the ledger: add one from a JSON file, list them, show one with its balance.
    Licences {
        #[command(subcommand)]
        command: LicencesCommand,
    },
    /// The US-bound reference flow of volume caps: units of a product shipped to US end
    /// users (`ship` of orders to the US records them too).
    Flows {
        #[command(subcommand)]
        command: FlowsCommand,
    },
    /// Data Center VEU authorisations (UVEU/NVEU) on the ledger and their installed compute by
    /// country; orders name one with `veu` (`ship` draws on it under AI Diffusion).
    Veu {
        #[command(subcommand)]
        command: VeuCommand,
    },
    /// Reports over the ledger: `report revenue-share --quarter 2025Q4`.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// The hash-chained audit log of the ledger.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Decide every order like `check` and record what ships on the ledger: licences, License
    /// Exception LPP and country allocations are reserved and posted, never past a limit.
    Ship {
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
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Serve the HTTP API, the review workflow and the web page.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Database (`sqlite://PATH`, a path, or `postgres://...`) for the ledger, keys, cases
        /// and clearances (default: the user's data directory). Several servers may share one
        /// PostgreSQL database; imported lists stay in SQLite (give `--lists` with PostgreSQL).
        #[arg(long)]
        db: Option<String>,
        /// Screen parties against this list file; repeatable. Without it, the lists imported
        /// into the database are used.
        #[arg(long = "lists")]
        lists: Vec<PathBuf>,
        /// The parties are screened outside exportgate: record that instead of screening.
        #[arg(long, conflicts_with = "lists")]
        screened_externally: bool,
        /// Decisions screened against lists older than this many days (by their data date,
        /// else their import date, on the day of the decision) are held for review with the
        /// reason `screening.stale-lists`: a stale list never gives a clean answer.
        #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_MAX_LIST_AGE_DAYS)]
        max_list_age: u32,
        /// Seconds a connection has to send a request's complete headers (also the most a
        /// kept-alive connection may sit idle between requests); then it is closed.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_read_timeout: u64,
        /// Seconds without a byte in either direction after which a connection is closed.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
        idle_timeout: u64,
        /// Open connections at most; more wait in the kernel's backlog until one closes.
        #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        max_connections: u64,
        /// Every SECONDS, decide the recorded orders not yet shipped (dated today or later)
        /// again with today's rules and the lists in the database, and open a review case for
        /// each whose outcome got stricter (see `exportgate replay`). Off by default.
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
        replay_every: Option<u64>,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Decide recorded orders again with today's engine, rule data and lists, and report each
    /// decision that changes: old and new outcome, and whether a rule, a Country Group, a
    /// catalog entry or a list update caused it (one JSON line each). Run it after `lists
    /// update` to find past shipments to parties listed since.
    Replay {
        /// A JSONL file of recorded decisions: audit records (an evidence pack's
        /// `records.jsonl`) or `{"order": ..., "decision": ...}` lines.
        #[arg(required_unless_present = "from_audit", conflicts_with = "from_audit")]
        decisions: Option<PathBuf>,
        /// Replay the decisions recorded in the audit log of the database (`--db`).
        #[arg(long)]
        from_audit: bool,
        /// Only orders dated on or after this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<NaiveDate>,
        /// Evaluate as if this regime were in force too (repeatable).
        #[arg(long = "regime")]
        regimes: Vec<String>,
        /// Write the changes here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        screening: ScreeningArgs,
    },
    /// Manage API keys for `exportgate serve`.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The database's schema.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Bring the database (ledger, lists, server tables) up to this build's schema version;
    /// an older database is upgraded in place, a newer one is refused (exit 1).
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The due-diligence policy.
#[derive(clap::Args, Debug)]
struct PolicyArgs {
    /// A due-diligence policy file (the format of `data/due-diligence-policy.json`): where an
    /// unknown high-severity red flag holds the order. Default: the embedded policy.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

impl PolicyArgs {
    /// The ruleset with this policy, or the embedded one.
    fn apply(&self, rs: &exportgate_core::Ruleset) -> anyhow::Result<exportgate_core::Ruleset> {
        let mut rs = rs.clone();
        if let Some(path) = &self.policy {
            let text = db::read_text(path)?;
            rs.set_due_diligence_policy(&path.display().to_string(), &text)
                .map_err(|e| user(format!("--policy {e}")))?;
        }
        Ok(rs)
    }
}

#[derive(Subcommand, Debug)]
enum PartiesCommand {
    /// Add party records from a JSON file (one record) or JSON lines (many); `-` for standard
    /// input. All are checked first and written together; a bad record or an existing id
    /// writes nothing.
    Add {
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show one party: identity, facts with who established them and their age, review date.
    Show {
        id: String,
        /// The date to judge the record on (YYYY-MM-DD); today by default.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the parties, with whether each is current (not past its review date).
    List {
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Review a party: set facts (each established on --on by --by) and the next review date.
    Review {
        id: String,
        /// A fact to set: NAME=VALUE (VALUE as JSON, else text), e.g.
        /// `business_need_shown=true`; repeatable.
        #[arg(long = "set", value_parser = parties_cmd::parse_set)]
        sets: Vec<(String, serde_json::Value)>,
        /// Who established the facts.
        #[arg(long)]
        by: String,
        /// The date the facts were established (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<NaiveDate>,
        /// The next review date: after it the record's facts count as unknown.
        #[arg(long)]
        review_by: Option<NaiveDate>,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
enum FlowsCommand {
    /// Record units of a product shipped to US end users outside exportgate (once per
    /// reference).
    Add {
        /// The catalog chip id (`nvidia-h200`; any case).
        #[arg(long)]
        product: String,
        #[arg(long)]
        units: u64,
        /// The shipment's date (`2026-02-01`), not after today.
        #[arg(long)]
        date: NaiveDate,
        /// The shipment's reference (invoice, bill of lading); default `<product>:<date>:<units>`.
        #[arg(long)]
        reference: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Every product's US-bound units, the units drawn under capped licences, and the
    /// recorded shipments.
    List {
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
enum VeuCommand {
    /// Add a VEU authorisation from a JSON file (`exportgate schema veu`).
    Add {
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Record compute a VEU installed in a country outside exportgate (once per reference).
    Compute {
        /// The VEU's id.
        #[arg(long)]
        veu: String,
        /// Where it is installed (ISO alpha-2).
        #[arg(long)]
        country: String,
        /// Its total processing performance.
        #[arg(long)]
        tpp: u64,
        /// The installation's date, not after today.
        #[arg(long)]
        date: NaiveDate,
        /// The installation's reference; default `<country>:<date>:<tpp>`.
        #[arg(long)]
        reference: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Every VEU with its compute by country and headroom.
    List {
        /// The day the headroom is worked out for (default today).
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        db: DbArgs,
    },
    /// One VEU with its compute by country and headroom.
    Show {
        id: String,
        /// The day the headroom is worked out for (default today).
        #[arg(long)]
        date: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// Revenue-share accruals of one calendar quarter, per licence, with the orders behind
    /// each amount (integer cents; currency stated).
    RevenueShare {
        /// The quarter, e.g. `2025Q4`.
        #[arg(long)]
        quarter: String,
        #[arg(long, value_enum, default_value_t = report_cmd::ReportFormat::Text)]
        format: report_cmd::ReportFormat,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
enum LicencesCommand {
    /// Add a licence from a JSON file (`-` for standard input); a bad file writes nothing.
    Add {
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the licences with what is left of each.
    List {
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show one licence: its terms, balance and history of transfers.
    Show {
        number: String,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Walk the audit log; report the first edited, inserted or deleted record; then replay
    /// the log and recompute every balance from the transfers and every transfer from the log,
    /// reporting the first disagreement (exit 1 on any of these).
    Verify {
        /// An anchor written by `audit anchor` (one or more lines): the log's record at each
        /// anchored seq must exist and have the anchored hash.
        #[arg(long)]
        anchor: Option<PathBuf>,
        /// Verify an evidence pack written by `audit export` instead, offline: the chain from
        /// its anchor, every record, the summary, the rule data and the manifest (exit 1 and
        /// the record or file at fault).
        #[arg(long, conflicts_with = "db")]
        pack: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write an evidence pack: the audit records dated in the range with the chain proof from
    /// an anchor to the last record, the rule data and list versions they name, and an HTML
    /// summary (one page per decision). `audit verify --pack DIR` checks it offline.
    Export {
        /// First day (YYYY-MM-DD) of the records' dates.
        #[arg(long)]
        from: NaiveDate,
        /// Last day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        to: NaiveDate,
        /// A new (or empty) directory for the pack.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove the audit records dated before DATE, once they are older than the retention
    /// period (5 years, 15 CFR 762.6). Writes an evidence pack of them first (unless
    /// --no-pack), and stores the chain base and a checkpoint of the ledger in the same
    /// transaction, so `audit verify` still checks the rest. Refuses (exit 2, nothing removed)
    /// when DATE is later than today less the retention period, naming the youngest record
    /// that would go.
    Prune {
        /// Remove the records before the first one dated on or after this day (YYYY-MM-DD).
        #[arg(long)]
        before: NaiveDate,
        /// The retention period in years; below 5 needs --i-know-part-762.
        #[arg(long, default_value_t = exportgate_ledger::RETENTION_YEARS)]
        retention_years: u32,
        /// Allow a retention period shorter than the 5 years of 15 CFR 762.6.
        #[arg(long)]
        i_know_part_762: bool,
        /// Directory for the evidence pack of the removed records (new or empty; default
        /// `audit-pruned-FIRST-LAST` in the current directory).
        #[arg(long, conflicts_with = "no_pack")]
        out: Option<PathBuf>,
        /// Do not write an evidence pack: the removed records are then gone.
        #[arg(long)]
        no_pack: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the audit log's head (seq and hash) as one JSON line, to keep outside the
    /// database; `audit verify --anchor FILE` checks the log against it later.
    Anchor {
        /// Also write the line to FILE (replacing it).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The database holding the ledger.
#[derive(clap::Args, Debug)]
struct DbArgs {
    /// `sqlite://PATH`, a path, or `postgres://...` (default: `$EXPORTGATE_DB`, else
    /// `exportgate.sqlite` in the user's data directory).
    #[arg(long)]
    db: Option<String>,
}

impl DbArgs {
    fn url(&self) -> anyhow::Result<db::DbUrl> {
        db::DbUrl::resolve(self.db.as_deref())?
            .ok_or_else(|| user("no database: pass --db or set EXPORTGATE_DB"))
    }
}

#[derive(Subcommand, Debug)]
enum KeysAction {
    /// Create a key and print it once (only its hash is stored).
    Create {
        #[arg(long, value_parser = ["submitter", "reviewer", "admin"])]
        role: String,
        /// Who or what holds the key: the person (user) it belongs to. Keys with the same
        /// name, case and spacing ignored, belong to the same person, and the four-eyes rule
        /// treats them as one (so whoever can create keys can act as anyone).
        #[arg(long, default_value = "unnamed")]
        name: String,
        /// The last day (UTC) the key works, e.g. `2027-06-30`; from the next day on it is
        /// refused like a revoked key.
        #[arg(long, value_name = "DATE")]
        expires: Option<NaiveDate>,
        /// The server's database (`sqlite://PATH`, a path, or `postgres://...`).
        #[arg(long)]
        db: Option<String>,
    },
    /// List keys (ids, roles, state; never the keys).
    List {
        /// The server's database (`sqlite://PATH`, a path, or `postgres://...`).
        #[arg(long)]
        db: Option<String>,
    },
    /// Revoke a key by its id: every server sharing the database refuses it within a second.
    Revoke {
        /// The key's id (from `keys list`).
        id: String,
        /// The server's database (`sqlite://PATH`, a path, or `postgres://...`).
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
    /// The database: `sqlite://PATH`, a path, or `postgres://...` (default: `$EXPORTGATE_DB`,
    /// else `exportgate.sqlite` in the user's data directory). Its imported lists are used
    /// without `--lists` (a PostgreSQL ledger keeps lists in the default SQLite file), and its
    /// licences and LPP usage in decisions.
    #[arg(long)]
    db: Option<String>,
    /// The parties were screened outside exportgate: record that instead of screening.
    #[arg(long, conflicts_with = "lists")]
    screened_externally: bool,
    /// Cleared false positives: a JSON file `{"entries": [{"party_name", "entry", "reviewer",
    /// "reason", "expires"}]}`. A cleared hit is recorded in the decision, without effect.
    #[arg(long)]
    allow: Option<PathBuf>,
    /// Warn when the lists screened against are older than this many days (by their data
    /// date, else their import date). Decisions are still made: `serve` holds them instead.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_MAX_LIST_AGE_DAYS)]
    max_list_age: u32,
}

/// The default of `--max-list-age`, for `check` (a warning) and `serve` (decisions held).
pub const DEFAULT_MAX_LIST_AGE_DAYS: u32 = 7;

/// The warning `check` prints for lists older than allowed.
pub fn stale_warning(s: &exportgate_core::StaleLists) -> String {
    format!(
        "warning: the lists screened against are {} days old (oldest data date {}), more than \
         --max-list-age {} days: a party listed since may be missed\nhint: run `exportgate \
         lists update` or `exportgate lists import FILE`",
        s.age_days, s.oldest, s.max_age_days
    )
}

impl ScreeningArgs {
    fn db_url(&self) -> anyhow::Result<Option<db::DbUrl>> {
        db::DbUrl::resolve(self.db.as_deref())
    }

    fn open(&self) -> anyhow::Result<ScreeningSource> {
        let db = self.db_url()?.and_then(|d| d.lists_path());
        let source = ScreeningSource::open(
            &self.lists,
            db.as_deref(),
            self.screened_externally,
            today(),
        )
        .map_err(|e| user(e.to_string()))?;
        if let Some(stale) = source.stale_lists(today(), self.max_list_age) {
            eprintln!("{}", stale_warning(&stale));
        }
        let Some(path) = &self.allow else {
            return Ok(source);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| user(format!("cannot read `{}`: {e}", path.display())))?;
        let allow: exportgate_screen::AllowList = exportgate_core::spec::parse_json(&text)
            .map_err(|e| user(format!("allow-list `{}`: {e}", path.display())))?;
        Ok(source.with_allow_list(allow))
    }
}

#[derive(Subcommand, Debug)]
enum ListsCommand {
    /// Download the official list files (or the given URLs) and store new versions; a failed
    /// download or parse keeps the previous version in force.
    Update {
        /// Source name (`csl`, `un`, `ofac-sdn`, `ofac-cons`, ...), paired with --url.
        #[arg(long = "source")]
        sources: Vec<String>,
        /// URL to fetch for the --source in the same position.
        #[arg(long = "url")]
        urls: Vec<String>,
    },
    /// Import a list file as a new version (format detected, or named with --source).
    Import {
        path: PathBuf,
        #[arg(long)]
        source: Option<String>,
        /// Import even a file older than the version in force for its source, or with fewer
        /// entries than its header declares, or more than 20 % fewer than the version in force
        /// (refused without it).
        #[arg(long)]
        force: bool,
    },
    /// Every stored version: source, data date, import date, entry count, checksum.
    Status,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScreenFormat {
    Text,
    Json,
    Jsonl,
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

/// A pipeline error as a CLI error: an unknown regime is the user's (exit 2), a ledger
/// failure is not.
pub fn pipeline_error(e: exportgate_pipeline::PipelineError) -> anyhow::Error {
    match e {
        exportgate_pipeline::PipelineError::UnknownRegime { id, known, .. } => user(format!(
            "unknown regime `{id}`\n\nhint: known regimes are {}",
            known.join(", ")
        )),
        exportgate_pipeline::PipelineError::Ledger(e) => db::store_error(e),
        other => anyhow::anyhow!("{other}"),
    }
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
            policy,
        } => {
            let rs = policy.apply(&rs)?;
            let url = screening.db_url()?;
            let ledger = match &url {
                Some(url) => url.open_existing()?,
                None => None,
            };
            // Never freed: the process ends with the run, and freeing 50,000 records one by
            // one took a sixth of loading them.
            let parties = std::mem::ManuallyDrop::new(parties_cmd::load(&rs, url.as_ref())?);
            check_cmd::check(
                &rs,
                &orders,
                &regimes,
                format,
                out.as_deref(),
                input_format,
                &screening.open()?,
                ledger,
                parties.as_ref(),
            )
        }
        Command::Ship {
            orders,
            regimes,
            format,
            out,
            input_format,
            screening,
            policy,
        } => {
            let rs = policy.apply(&rs)?;
            let url = screening
                .db_url()?
                .ok_or_else(|| user("no database: pass --db or set EXPORTGATE_DB"))?;
            let parties = parties_cmd::load(&rs, Some(&url))?;
            ship_cmd::ship(
                &rs,
                &orders,
                &regimes,
                format,
                out.as_deref(),
                input_format,
                &screening.open()?,
                &url,
                parties.as_ref(),
            )
        }
        Command::Parties { command } => match command {
            PartiesCommand::Add { file, db } => parties_cmd::add(&rs, &file, &db.url()?),
            PartiesCommand::Show {
                id,
                as_of,
                format,
                db,
            } => parties_cmd::show(&rs, &id, &db.url()?, as_of.unwrap_or_else(today), format),
            PartiesCommand::List { as_of, format, db } => {
                parties_cmd::list(&rs, &db.url()?, as_of.unwrap_or_else(today), format)
            }
            PartiesCommand::Review {
                id,
                sets,
                by,
                on,
                review_by,
                db,
            } => parties_cmd::review(
                &rs,
                &id,
                &sets,
                &by,
                on.unwrap_or_else(today),
                review_by,
                &db.url()?,
            ),
        },
        Command::Licences { command } => match command {
            LicencesCommand::Add { file, db } => licences_cmd::add(&rs, &file, &db.url()?),
            LicencesCommand::List { format, db } => licences_cmd::list(&db.url()?, format),
            LicencesCommand::Show { number, format, db } => {
                licences_cmd::show(&rs, &number, &db.url()?, format)
            }
        },
        Command::Flows { command } => match command {
            FlowsCommand::Add {
                product,
                units,
                date,
                reference,
                db,
            } => flows_cmd::add(
                &rs,
                &product,
                units,
                date,
                reference.as_deref(),
                today(),
                &db.url()?,
            ),
            FlowsCommand::List { format, db } => flows_cmd::list(&rs, &db.url()?, format),
        },
        Command::Veu { command } => match command {
            VeuCommand::Add { file, db } => veu_cmd::add(&rs, &file, &db.url()?),
            VeuCommand::Compute {
                veu,
                country,
                tpp,
                date,
                reference,
                db,
            } => veu_cmd::compute(
                &rs,
                &veu,
                &country,
                tpp,
                date,
                reference.as_deref(),
                today(),
                &db.url()?,
            ),
            VeuCommand::List { date, format, db } => {
                veu_cmd::list(&rs, date.unwrap_or_else(today), &db.url()?, format)
            }
            VeuCommand::Show {
                id,
                date,
                format,
                db,
            } => veu_cmd::show(&rs, &id, date.unwrap_or_else(today), &db.url()?, format),
        },
        Command::Report { command } => match command {
            ReportCommand::RevenueShare {
                quarter,
                format,
                db,
            } => report_cmd::revenue_share(&quarter, &db.url()?, format),
        },
        Command::Audit { command } => match command {
            AuditCommand::Verify {
                anchor,
                pack: Some(dir),
                ..
            } => {
                let anchors = match anchor {
                    Some(file) => licences_cmd::anchor_links(&file)?,
                    None => Vec::new(),
                };
                audit_cmd::verify_pack(&dir, &anchors)
            }
            AuditCommand::Verify {
                anchor,
                pack: None,
                db,
            } => licences_cmd::verify(&db.url()?, anchor.as_deref()),
            AuditCommand::Export { from, to, out, db } => {
                audit_cmd::export(&rs, &db.url()?, from, to, &out)
            }
            AuditCommand::Anchor { out, db } => licences_cmd::anchor(&db.url()?, out.as_deref()),
            AuditCommand::Prune {
                before,
                retention_years,
                i_know_part_762,
                out,
                no_pack,
                db,
            } => audit_cmd::prune(
                &rs,
                &db.url()?,
                &audit_cmd::PruneArgs {
                    before,
                    retention_years,
                    i_know_part_762,
                    out,
                    no_pack,
                },
                db::now().date(),
            ),
        },
        Command::Regimes {
            as_of,
            regimes,
            format,
        } => regimes_cmd::regimes(&rs, as_of.unwrap_or_else(today), regimes, format),
        Command::Tags { format } => tags_cmd::tags(&rs, format),
        Command::Schema { kind } => schema_cmd::print(kind),
        Command::Explain {
            order,
            regimes,
            format,
            screening,
            policy,
        } => {
            let rs = policy.apply(&rs)?;
            let parties = parties_cmd::load(&rs, screening.db_url()?.as_ref())?;
            let ledger = match screening.db_url()? {
                Some(url) => url.open_existing()?,
                None => None,
            };
            check_cmd::explain(
                &rs,
                &order,
                &regimes,
                format,
                &screening.open()?,
                ledger,
                parties.as_ref(),
            )
        }
        Command::Simulate {
            orders,
            scenarios,
            format,
            out,
            input_format,
            screening,
            policy,
            veu,
        } => simulate_cmd::simulate_cmd(
            &orders,
            &scenarios,
            format,
            out.as_deref(),
            input_format,
            &screening,
            policy.policy.as_deref(),
            veu.as_deref(),
        ),
        Command::SampleOrders {
            n,
            seed,
            out,
            parties,
        } => sample_cmd::sample_orders(n, seed, out.as_deref(), parties.as_deref()),
        Command::Screen {
            name,
            country,
            batch,
            format,
            db,
            lists,
        } => match (batch, name) {
            (Some(file), _) => screen_cmd::batch(db, &lists, &file, format != ScreenFormat::Text),
            (None, Some(name)) => screen_cmd::screen(
                db,
                &lists,
                &name,
                country.as_deref(),
                format != ScreenFormat::Text,
            ),
            (None, None) => Err(user("give a NAME to screen, or --batch FILE")),
        },
        Command::Lists { command, db } => match command {
            ListsCommand::Update { sources, urls } => lists_cmd::update(db, &sources, &urls),
            ListsCommand::Import {
                path,
                source,
                force,
            } => lists_cmd::import(db, &path, source.as_deref(), force),
            ListsCommand::Status => lists_cmd::status(db),
        },
        Command::Serve {
            addr,
            db,
            lists,
            screened_externally,
            max_list_age,
            header_read_timeout,
            idle_timeout,
            max_connections,
            replay_every,
            policy,
        } => serve_cmd::serve(serve_cmd::ServeOptions {
            addr,
            db: db.as_deref(),
            lists,
            screened_externally,
            max_list_age_days: max_list_age,
            limits: exportgate_server::ServeLimits {
                header_read_timeout: std::time::Duration::from_secs(header_read_timeout),
                idle_timeout: std::time::Duration::from_secs(idle_timeout),
                max_connections: max_connections as usize,
            },
            replay_every,
            policy: policy.policy,
        }),
        Command::Replay {
            decisions,
            from_audit,
            since,
            regimes,
            out,
            screening,
        } => {
            let recorded = match decisions {
                Some(path) => replay_cmd::read_file(&path)?,
                None => {
                    let url = screening
                        .db_url()?
                        .ok_or_else(|| user("no database: pass --db or set EXPORTGATE_DB"))?;
                    replay_cmd::read_audit(&url)?
                }
            };
            let _ = from_audit;
            replay_cmd::replay(
                &rs,
                recorded,
                since,
                &regimes,
                &screening.open()?,
                out.as_deref(),
            )
        }
        Command::Keys { action } => match action {
            KeysAction::Create {
                role,
                name,
                expires,
                db,
            } => serve_cmd::keys_create(db.as_deref(), &role, &name, expires),
            KeysAction::List { db } => serve_cmd::keys_list(db.as_deref()),
            KeysAction::Revoke { id, db } => serve_cmd::keys_revoke(db.as_deref(), &id),
        },
        Command::Db {
            command: DbCommand::Migrate { db },
        } => db_cmd::migrate(&db.url()?),
    }
}

/// Parse the command line, run the command, and map errors to exit codes.
pub fn cli_main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // The reader of our output went away (`exportgate ... | head`): stop quietly with the
        // shell's code for a broken pipe, as Unix tools do, not with an error message.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(141)
        }
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
