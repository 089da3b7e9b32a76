//! exportgate-server: the HTTP API, the review workflow and the compliance officers' web page,
//! served by `exportgate serve`.
//!
//! [`app`] builds the axum [`Router`] over an [`AppState`] (so tests call it in-process);
//! [`serve`] binds it to an address with one listener and one single-threaded runtime per
//! worker thread (`SO_REUSEPORT`), so a request is handled start to end on one thread. Each
//! worker runs its own accept loop over hyper with a header-read timeout, an idle timeout and
//! a connection limit shared by all workers ([`ServeLimits`]). The
//! state holds the embedded ruleset, the decision [`Pipeline`] every door decides through, the
//! screening source (list files or the
//! lists imported into the database), the ledger store (licences, balances, the hash-chained
//! audit log) and the server's own tables (API keys, review cases, allow-list clearances) in
//! the same database: an SQLite file, or a PostgreSQL database that several servers share
//! (cached keys, the allow-list and party records written since are re-read every
//! [`WATCH_EVERY`] by a watcher thread, cases are resolved under a row lock).
//!
//! Invariants:
//! - every endpoint except `/healthz`, `/readyz`, `/metrics` and the static page needs an API
//!   key; keys are stored only as SHA-256 hashes;
//! - input errors are 4xx JSON naming the field; a 5xx is a server failure, never bad input;
//! - every `hold_for_review` decision and every uncleared screening hit below certainty opens
//!   a review case; opening, releasing and blocking a case are appended to the audit log.

pub mod api;
pub mod auth;
pub mod cases;
pub mod db;
pub mod error;
pub mod extract;
pub mod flows_api;
pub mod ledger_api;
pub mod lists_watch;
pub mod metrics;
pub mod openapi;
pub mod parties_api;
pub mod replay_watch;
pub mod reports;
pub mod veus_api;
pub mod web;
pub mod yente;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use exportgate_core::Ruleset;
use exportgate_ledger::LedgerStore;
use exportgate_lists::source::ScreeningSource;
use exportgate_pipeline::Pipeline;
use exportgate_screen::AllowList;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// Largest request body accepted (413 above).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Most orders in one `POST /v1/check`.
pub const MAX_ORDERS: usize = 1000;
/// A request taking longer than this is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection limits for [`serve_with`].
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A connection must send a request's complete headers within this time of being accepted
    /// (and of its previous response, on a kept-alive connection), else it is closed. This
    /// also closes kept-alive connections idle between requests.
    pub header_read_timeout: Duration,
    /// A connection that neither sends nor receives a byte for this long is closed (a client
    /// that stops reading its response or trickles nothing mid-body).
    pub idle_timeout: Duration,
    /// Open connections at most, over all workers. At the limit no more are accepted (they
    /// wait in the kernel's backlog) until one closes.
    pub max_connections: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// How to start the server.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// The database for ledger, keys, cases, clearances and the imported lists: an SQLite
    /// file, or a `postgres://` URL given as a path (several servers may share one
    /// PostgreSQL database; see the README).
    pub db: PathBuf,
    /// List files to screen against; empty: the lists imported into `db`.
    pub lists: Vec<PathBuf>,
    /// The parties are screened outside exportgate.
    pub screened_externally: bool,
    /// Decisions screened against lists older than this many days (today, by the clock, at
    /// each decision) are held for review (`screening.stale-lists`).
    pub max_list_age_days: u32,
    /// A due-diligence policy file replacing the embedded one (`--policy`).
    pub policy: Option<PathBuf>,
}

/// Everything a request handler needs.
pub struct AppState {
    pub rs: &'static Ruleset,
    /// The decision pipeline without forced regimes, keeping no rule trace (the fast path).
    pub pipeline: Pipeline<'static>,
    pub source: &'static ScreeningSource,
    pub store: Mutex<Box<dyn LedgerStore>>,
    pub db: Mutex<db::ServerDb>,
    /// Authenticated keys by hash, each with when it was read from the database: an entry
    /// older than [`auth::KEY_CACHE_TTL`] is read again, so a key revoked, expired or changed
    /// through any server is refused by every server within that time.
    pub keys: RwLock<HashMap<String, (auth::Principal, Instant)>>,
    pub metrics: metrics::Metrics,
    pub started: Instant,
    /// The database is PostgreSQL: its (blocking) client must not run on a runtime worker, so
    /// API requests are handled on the blocking pool ([`off_worker`]).
    pub offload: bool,
    /// The party records orders are linked to, replaced whole when one changes.
    pub parties: &'static exportgate_pipeline::Parties,
    /// Where the party records are kept (the same database).
    pub party_store: Mutex<Box<dyn exportgate_store::parties::PartyStore>>,
    /// The party records' version (last audit seq) this server's index has read up to; the
    /// watcher reads records written since by other processes ([`parties_api::refresh`]).
    pub parties_seen: std::sync::atomic::AtomicU64,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("embedded data is invalid: {0}")]
    Ruleset(String),
    #[error("{0}")]
    Screening(#[from] exportgate_lists::source::SourceError),
    #[error("ledger database `{path}`: {source}")]
    Store {
        path: String,
        source: exportgate_ledger::StoreError,
    },
    #[error("server tables in `{path}`: {source}")]
    Db { path: String, source: db::DbError },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl AppState {
    /// Open the database (creating tables), load the screening lists and the allow-list.
    pub fn open(config: &Config) -> Result<AppState, StartError> {
        let mut rs = Ruleset::embedded().map_err(|e| StartError::Ruleset(e.to_string()))?;
        if let Some(p) = &config.policy {
            let text = std::fs::read_to_string(p)
                .map_err(|e| StartError::Ruleset(format!("policy `{}`: {e}", p.display())))?;
            rs.set_due_diligence_policy(&p.display().to_string(), &text)
                .map_err(|e| StartError::Ruleset(format!("policy {e}")))?;
        }
        let rs: &'static Ruleset = Box::leak(Box::new(rs));
        let postgres = db::is_postgres(&config.db);
        if !postgres {
            if let Some(dir) = config.db.parent() {
                if !dir.as_os_str().is_empty() {
                    let _ = exportgate_store::sqlite::create_private_dir(dir);
                }
            }
        }
        let path = if postgres {
            exportgate_store::redact(&config.db.to_string_lossy())
        } else {
            config.db.display().to_string()
        };
        let store: Box<dyn LedgerStore> = if postgres {
            exportgate_store::open_store(&config.db.to_string_lossy())
        } else {
            exportgate_store::sqlite::SqliteStore::open(&config.db)
                .map(|s| Box::new(s) as Box<dyn LedgerStore>)
        }
        .map_err(|source| StartError::Store {
            path: path.clone(),
            source,
        })?;
        let conn = db::ServerDb::open(&config.db).map_err(|source| StartError::Db {
            path: path.clone(),
            source,
        })?;
        // The lists imported into the same database (SQLite or PostgreSQL), unless `--lists`.
        let source = ScreeningSource::open(
            &config.lists,
            Some(config.db.as_path()),
            config.screened_externally,
            chrono::Utc::now().date_naive(),
        )?
        .with_max_list_age(
            config.max_list_age_days,
            Box::new(|| chrono::Utc::now().date_naive()),
        );
        if let Some(s) =
            source.stale_lists(chrono::Utc::now().date_naive(), config.max_list_age_days)
        {
            tracing::warn!(
                age_days = s.age_days,
                oldest = %s.oldest,
                max_age_days = s.max_age_days,
                "the lists are older than --max-list-age: decisions are held for review until they are updated"
            );
        }
        let source: &'static ScreeningSource = Box::leak(Box::new(source));
        let allow = db::load_allow(&conn).map_err(|source| StartError::Db { path, source })?;
        source.set_allow_list(AllowList { entries: allow });
        let (party_store, parties, parties_seen) =
            parties_api::open(rs, &config.db).map_err(|e| {
                StartError::Ruleset(format!("party records in `{}`: {e}", config.db.display()))
            })?;
        let parties: &'static exportgate_pipeline::Parties = Box::leak(Box::new(parties));
        Ok(AppState {
            rs,
            pipeline: Pipeline::new(rs, &[], source)
                .map_err(|e| StartError::Ruleset(e.to_string()))?
                .with_parties(parties),
            parties,
            party_store: Mutex::new(party_store),
            parties_seen: std::sync::atomic::AtomicU64::new(parties_seen),
            source,
            store: Mutex::new(store),
            db: Mutex::new(conn),
            keys: RwLock::new(HashMap::new()),
            metrics: metrics::Metrics::default(),
            started: Instant::now(),
            offload: postgres,
        })
    }

    /// The ledger store, locked.
    pub fn store(&self) -> std::sync::MutexGuard<'_, Box<dyn LedgerStore>> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The server tables, locked.
    pub fn conn(&self) -> std::sync::MutexGuard<'_, db::ServerDb> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How often `serve`'s watcher re-reads the cached keys and looks for allow-list clearances
/// made through another server.
pub const WATCH_EVERY: Duration = Duration::from_millis(250);

/// `serve`'s watcher: every [`WATCH_EVERY`], on its own connection to `db`, re-read every
/// cached API key ([`auth::refresh_keys`]) and compare the allow-list's version
/// ([`db::allow_version`]) with the last one seen, reloading the allow-list into the screening
/// source when it changed, and read the party records written since the last round
/// ([`parties_api::refresh`]). So a key revoked, a clearance made or a party record written
/// through any server or the CLI sharing the database applies on all within a second, and
/// requests never wait on these reads. Runs
/// until the process ends; a failed round is logged and retried on a new connection.
pub fn watch_shared_state(db_path: PathBuf, state: Shared) {
    let spawned = std::thread::Builder::new()
        .name("watch".into())
        .spawn(move || {
            let mut conn: Option<db::ServerDb> = None;
            let mut seen: Option<(i64, i64)> = None;
            loop {
                std::thread::sleep(WATCH_EVERY);
                if conn.is_none() {
                    conn = db::ServerDb::open(&db_path)
                        .map_err(
                            |e| tracing::warn!(error = %e, "the watcher cannot open the database"),
                        )
                        .ok();
                }
                let Some(c) = conn.as_ref() else { continue };
                let round = auth::refresh_keys(&state, c).and_then(|()| {
                    let v = db::allow_version(c)?;
                    if seen != Some(v) {
                        let all = db::load_allow(c)?;
                        state.source.set_allow_list(AllowList { entries: all });
                        seen = Some(v);
                    }
                    Ok(())
                });
                if let Err(e) = round {
                    tracing::warn!(error = %e, "the watcher failed; reconnecting");
                    conn = None;
                }
                // Party records written by another server or the CLI.
                if let Err(e) = parties_api::refresh(&state) {
                    tracing::warn!(error = %e, "the watcher cannot read the party records");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the watcher");
    }
}

/// The shared state handlers receive.
pub type Shared = Arc<AppState>;

async fn observe(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route
        .as_ref()
        .map_or(metrics::UNMATCHED_ROUTE, MatchedPath::as_str);
    // The path is copied only when the request log line is enabled.
    let uri_path = tracing::enabled!(tracing::Level::INFO).then(|| req.uri().path().to_string());
    let resp = next.run(req).await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    st.metrics
        .observe(metrics::method_label(&method), route, status, elapsed);
    if let Some(path) = uri_path {
        tracing::info!(
            method = %method,
            path = %path,
            route = %route,
            status,
            micros = elapsed.as_micros() as u64,
            "request"
        );
    }
    resp
}

/// Polls `fut` to completion on this thread, parking between wake-ups. Used on the blocking
/// pool, where no tokio runtime is entered, so the blocking PostgreSQL client may run inside.
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let mut fut = std::pin::pin!(fut);
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Runs `f` on a scoped thread outside any tokio runtime when `offload` (the database is
/// PostgreSQL and this may be a runtime worker), else here. For rare database reads on a path
/// that otherwise stays on the worker (an API key not in the cache).
pub fn off_runtime<T: Send>(offload: bool, f: impl FnOnce() -> T + Send) -> T {
    if !offload {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// On PostgreSQL, every API request (`/v1/...` but `/v1/check`, `/readyz`) is handled on tokio's blocking
/// pool: the blocking client cannot run on a runtime worker, and a request waiting on the
/// database never holds up the other connections of its worker (`/healthz` answers meanwhile).
/// On SQLite requests stay on their worker (the slow ones move to the blocking pool
/// themselves).
async fn off_worker(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // `/v1/check` moves only the orders that touch the database (see `api::check`).
    if !st.offload || path == "/v1/check" || !(path.starts_with("/v1/") || path == "/readyz") {
        return next.run(req).await;
    }
    match tokio::task::spawn_blocking(move || block_on(next.run(req))).await {
        Ok(resp) => resp,
        Err(_) => error::ApiError::internal("the request handler failed").into_response(),
    }
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("path", "no such endpoint; see /openapi.json")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    error::ApiError::internal("the request handler failed").into_response()
}

/// The yente-compatible routes (`yente.rs`).
fn yente_routes() -> Router<Shared> {
    Router::new()
        .route("/match/{dataset}", post(yente::match_entities))
        .route("/search/{dataset}", get(yente::search))
}

/// The router: every endpoint, the page, the limits.
pub fn app(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/v1/check", post(api::check))
        .route("/v1/ship", post(api::ship))
        .route("/v1/classify", post(api::classify))
        .route("/v1/screen", get(api::screen_get).post(api::screen_post))
        .route("/v1/regimes", get(api::regimes))
        .route("/v1/countries", get(api::countries))
        .route(
            "/v1/licences",
            get(ledger_api::list_licences).post(ledger_api::add_licence),
        )
        .route("/v1/licences/{number}", get(ledger_api::get_licence))
        .route("/v1/balances", get(ledger_api::balances))
        .route("/v1/reports/revenue-share", get(reports::revenue_share))
        .route("/v1/flows", get(flows_api::list).post(flows_api::add))
        .route("/v1/veus", get(veus_api::list).post(veus_api::add))
        .route("/v1/veus/{id}", get(veus_api::get))
        .route("/v1/veus/{id}/compute", post(veus_api::compute))
        .route("/v1/ledger/accounts/{id}", get(ledger_api::account))
        .route("/v1/ledger/requests", post(ledger_api::submit))
        .route(
            "/v1/ledger/allocations",
            post(ledger_api::ensure_allocation),
        )
        .route("/v1/audit", get(ledger_api::audit))
        .route("/v1/audit/verify", get(ledger_api::verify))
        .route(
            "/v1/keys",
            get(ledger_api::list_keys).post(ledger_api::create_key),
        )
        .route(
            "/v1/keys/{id}",
            axum::routing::delete(ledger_api::revoke_key),
        )
        .merge(parties_api::routes())
        .route("/v1/cases", get(cases::list))
        .route("/v1/cases/{id}", get(cases::get))
        .route("/v1/cases/{id}/release", post(cases::release))
        .route("/v1/cases/{id}/block", post(cases::block))
        .merge(yente_routes())
        .merge(web::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), off_worker))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Log as JSON lines on standard error; `RUST_LOG` filters (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A listening socket on `addr` that other threads may also bind (`SO_REUSEPORT` on Unix), so
/// the kernel spreads connections over one listener per worker thread.
fn bind_shared(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// A stream that records when it last moved a byte, for the idle timeout.
struct IdleIo {
    inner: tokio::net::TcpStream,
    /// Milliseconds since `base` at the last read or write that moved bytes.
    last: Arc<std::sync::atomic::AtomicU64>,
    base: tokio::time::Instant,
}

impl IdleIo {
    fn touch(&self) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.last.store(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

impl tokio::io::AsyncRead for IdleIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl tokio::io::AsyncWrite for IdleIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves once `stop` is true (holding no borrow of it after).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves one accepted connection until it ends, is idle too long, or `stop` turns true.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    limits: ServeLimits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let last = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let base = tokio::time::Instant::now();
    let io = IdleIo {
        inner: stream,
        last: last.clone(),
        base,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let service = hyper_util::service::TowerToHyperService::new(app);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    let idle = async {
        loop {
            let since = Duration::from_millis(last.load(std::sync::atomic::Ordering::Relaxed));
            let deadline = base + since + limits.idle_timeout;
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    };
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = idle => {
            tracing::debug!("closing an idle connection");
        }
        _ = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, conn.as_mut()).await;
        }
    }
}

/// Serve `app` on one listener until `stop` turns true: accept while fewer than
/// `limits.max_connections` connections are open (over all workers, `slots`), each served by
/// hyper with a header-read timer and watched for idleness.
async fn serve_on(
    listener: std::net::TcpListener,
    state: Shared,
    limits: ServeLimits,
    slots: Arc<tokio::sync::Semaphore>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Each request arms a timer (the 30 s timeout). Tokio wakes its driver (a system call)
    // whenever a new timer is due before the driver's next wake-up; a one-second tick keeps
    // that next wake-up close, so request timers are armed without it.
    let tick = tokio::spawn(async {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            every.tick().await;
        }
    });
    let app = app(state);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped(&mut stop) => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped(&mut stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                drop(permit);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (app, stop) = (app.clone(), stop.clone());
        connections.spawn(async move {
            serve_connection(stream, app, limits, stop).await;
            drop(permit);
        });
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
    // Graceful: the open connections finish their requests (each is told to stop).
    while connections.join_next().await.is_some() {}
    tick.abort();
    Ok(())
}

/// Open the state, bind, and serve until Ctrl-C or SIGTERM, on `workers` threads (at least
/// one). Each worker runs its own single-threaded runtime with its own listener on the same
/// address (`SO_REUSEPORT`): a request is parsed, decided and answered on one thread, with no
/// hand-over between threads. Blocks the calling thread.
pub fn serve(config: Config, workers: usize) -> Result<(), StartError> {
    serve_with(config, workers, ServeLimits::default())
}

/// [`serve`] with connection limits.
pub fn serve_with(config: Config, workers: usize, limits: ServeLimits) -> Result<(), StartError> {
    serve_with_replay(config, workers, limits, None)
}

/// [`serve_with`], and with `replay_every` the scheduled replay ([`replay_watch`]).
pub fn serve_with_replay(
    config: Config,
    workers: usize,
    limits: ServeLimits,
    replay_every: Option<Duration>,
) -> Result<(), StartError> {
    let workers = workers.max(1);
    let slots = Arc::new(tokio::sync::Semaphore::new(
        limits
            .max_connections
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
    ));
    let state = Arc::new(AppState::open(&config)?);
    watch_shared_state(config.db.clone(), state.clone());
    lists_watch::spawn(state.clone());
    let bind_err = |source| StartError::Bind {
        addr: config.addr,
        source,
    };
    let first = bind_shared(config.addr).map_err(bind_err)?;
    // With port 0 the others bind to the port the first one was given.
    let local = first.local_addr().map_err(bind_err)?;
    let others = (1..workers)
        .map(|_| bind_shared(local))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bind_err)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(bind_err)
    };
    let main_rt = runtime()?;
    if let Some(every) = replay_every {
        let source = replay_watch::ReplaySource {
            lists: config.lists.clone(),
            db: config.db.clone(),
            screened_externally: config.screened_externally,
        };
        replay_watch::spawn(state.clone(), source, every, stop_rx.clone()).map_err(bind_err)?;
    }
    let mut threads = Vec::new();
    for (i, listener) in others.into_iter().enumerate() {
        let rt = runtime()?;
        let (state, stop, slots) = (state.clone(), stop_rx.clone(), slots.clone());
        let handle = std::thread::Builder::new()
            .name(format!("serve-{}", i + 1))
            .spawn(move || rt.block_on(serve_on(listener, state, limits, slots, stop)))
            .map_err(bind_err)?;
        threads.push(handle);
    }
    let db_shown = exportgate_store::redact(&config.db.to_string_lossy());
    tracing::info!(addr = %local, db = %db_shown, backend = state.conn().backend(), lists = state.source.has_lists(), workers, "exportgate serving");
    // The address on standard output, so a parent process started with port 0 can read it.
    println!("listening on http://{local}");
    let result = main_rt.block_on(async {
        let mut served = tokio::spawn(serve_on(first, state, limits, slots, stop_rx));
        let result = tokio::select! {
            r = &mut served => r,
            _ = shutdown_signal() => {
                let _ = stop_tx.send(true);
                served.await
            }
        };
        // Whatever ended this worker ends the others.
        let _ = stop_tx.send(true);
        result.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    });
    for t in threads {
        if let Ok(Err(e)) = t.join() {
            tracing::warn!(error = %e, "a worker stopped with an error");
        }
    }
    result.map_err(bind_err)
}
