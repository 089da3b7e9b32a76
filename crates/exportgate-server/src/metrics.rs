//! Request metrics in the Prometheus text format (`GET /metrics`): requests by route and
//! status, and a latency histogram by route. Counting is a map lookup under a short lock on
//! the counting thread's own shard (so worker threads do not contend for one lock); the
//! exposition adds the shards up.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The label for an HTTP method: one of the standard methods, else `other`, so a client
/// cannot add labels (and memory, and `/metrics` size) by inventing method names.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The route label for a request that matched no route: one label for all of them.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One route's counters: requests by method and status, and the latency histogram.
#[derive(Default)]
struct RouteStats {
    by_status: Vec<(String, u16, u64)>,
    latency: Histogram,
}

/// Shards of the per-route counters; a thread counts into one of them.
const SHARDS: usize = 8;

/// One shard, on a cache line of its own.
#[derive(Default)]
#[repr(align(128))]
struct Shard(Mutex<BTreeMap<String, RouteStats>>);

/// The shard this thread counts into: threads take shards in turn as they first count.
fn shard_index() -> usize {
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    shards: [Shard; SHARDS],
    /// Review cases opened since start.
    pub cases_opened: AtomicU64,
    /// Orders decided since start.
    pub decisions: AtomicU64,
}

impl Metrics {
    /// Count one request (no allocation once a route, method and status have been seen).
    /// `method` comes from [`method_label`] and `route` from the router's matched route or
    /// [`UNMATCHED_ROUTE`]: both from closed sets, never from the client's raw text.
    pub fn observe(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        let mut routes = self.shards[shard_index()]
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let r = match routes.get_mut(route) {
            Some(r) => r,
            None => routes.entry(route.to_string()).or_default(),
        };
        match r
            .by_status
            .iter_mut()
            .find(|(m, s, _)| *s == status && m == method)
        {
            Some((_, _, n)) => *n += 1,
            None => r.by_status.push((method.to_string(), status, 1)),
        }
        let secs = elapsed.as_secs_f64();
        let h = &mut r.latency;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Every shard's counters added up.
    fn merged(&self) -> BTreeMap<String, RouteStats> {
        let mut all: BTreeMap<String, RouteStats> = BTreeMap::new();
        for shard in &self.shards {
            let routes = shard.0.lock().unwrap_or_else(|e| e.into_inner());
            for (route, r) in routes.iter() {
                let into = all.entry(route.clone()).or_default();
                for (method, status, n) in &r.by_status {
                    match into
                        .by_status
                        .iter_mut()
                        .find(|(m, s, _)| s == status && m == method)
                    {
                        Some((_, _, total)) => *total += n,
                        None => into.by_status.push((method.clone(), *status, *n)),
                    }
                }
                for (total, n) in into.latency.buckets.iter_mut().zip(&r.latency.buckets) {
                    *total += n;
                }
                into.latency.count += r.latency.count;
                into.latency.sum += r.latency.sum;
            }
        }
        all
    }

    /// The Prometheus text exposition.
    pub fn render(&self, uptime: Duration) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP exportgate_http_requests_total HTTP requests by method, route and status.\n# TYPE exportgate_http_requests_total counter"
        );
        let routes = self.merged();
        for (route, r) in routes.iter() {
            let mut rows: Vec<&(String, u16, u64)> = r.by_status.iter().collect();
            rows.sort();
            for (method, status, n) in rows {
                let _ = writeln!(
                    out,
                    "exportgate_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP exportgate_http_request_duration_seconds Request latency by route.\n# TYPE exportgate_http_request_duration_seconds histogram"
        );
        for (route, r) in routes.iter() {
            let h = &r.latency;
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "exportgate_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "exportgate_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nexportgate_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\nexportgate_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP exportgate_decisions_total Orders decided.\n# TYPE exportgate_decisions_total counter\nexportgate_decisions_total {}",
            self.decisions.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP exportgate_cases_opened_total Review cases opened.\n# TYPE exportgate_cases_opened_total counter\nexportgate_cases_opened_total {}",
            self.cases_opened.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP exportgate_uptime_seconds Seconds since the server started.\n# TYPE exportgate_uptime_seconds gauge\nexportgate_uptime_seconds {}",
            uptime.as_secs()
        );
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
