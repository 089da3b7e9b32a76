//! Rendering a report: a terminal table, and a self-contained HTML page whose charts are
//! inline SVG (no scripts, fonts, images or styles fetched from anywhere).

use std::fmt::Write as _;

use crate::report::{ByOutcome, Group, Report, ScenarioReport, Stats, OUTCOMES};

/// Group digits in threes: `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A large number in short form: `1.23 B`, `45.6 M`, `7.8 k`.
pub fn short(x: f64) -> String {
    let a = x.abs();
    if a >= 1e12 {
        format!("{:.2} T", x / 1e12)
    } else if a >= 1e9 {
        format!("{:.2} B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{}", x.round() as i64)
    }
}

fn pct(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.1}%", 100.0 * part / whole)
    } else {
        "-".into()
    }
}

/// How a scenario is evaluated, in one line.
fn setting(s: &ScenarioReport) -> String {
    let mut parts = vec![match s.as_of {
        Some(d) => format!("every order as of {d}"),
        None => "each order's own date".to_string(),
    }];
    if !s.forced.is_empty() {
        parts.push(format!("forced: {}", s.forced.join(", ")));
    }
    if !s.patched.is_empty() {
        parts.push(format!("patched: {}", s.patched.join(", ")));
    }
    if !s.added.is_empty() {
        parts.push(format!("added: {}", s.added.join(", ")));
    }
    parts.join("; ")
}

type Measure = (&'static str, fn(&Stats) -> f64, fn(f64) -> String);

const MEASURES: [Measure; 4] = [
    ("ORDERS", |s| s.orders as f64, |x| thousands(x as u64)),
    ("UNITS", |s| s.units as f64, |x| thousands(x as u64)),
    ("TPP", |s| s.tpp as f64, short),
    ("VALUE (USD)", |s| s.value_usd, short),
];

/// The noun for a count: `one` for 1, `many` otherwise.
fn noun(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The terminal table.
pub fn table(r: &Report, max_flips: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} {} under {} {} (flips measured against `{}`)\n",
        thousands(r.orders),
        noun(r.orders, "order", "orders"),
        r.scenarios.len(),
        noun(r.scenarios.len() as u64, "scenario", "scenarios"),
        r.baseline
    );
    let w = r
        .scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(8)
        .max(18);
    for s in &r.scenarios {
        let _ = writeln!(o, "  {:<w$}  {}", s.name, setting(s));
        if let Some(d) = &s.description {
            let _ = writeln!(o, "  {:<w$}  {d}", "");
        }
    }
    for (title, get, fmt) in MEASURES {
        let _ = write!(o, "\n{:<22}", format!("{title} BY OUTCOME"));
        for s in &r.scenarios {
            let _ = write!(o, " {:>w$}", s.name);
        }
        o.push('\n');
        for (i, out) in OUTCOMES.iter().enumerate() {
            let _ = write!(o, "{:<22}", out.as_str());
            for s in &r.scenarios {
                let v = get(&s.by_outcome.0[i]);
                let cell = format!("{} {:>6}", fmt(v), pct(v, get(&s.totals)));
                let _ = write!(o, " {cell:>w$}");
            }
            o.push('\n');
        }
        let _ = write!(o, "{:<22}", "total");
        for s in &r.scenarios {
            let _ = write!(o, " {:>w$}", format!("{}       ", fmt(get(&s.totals))));
        }
        o.push('\n');
    }
    for s in &r.scenarios {
        breakdown(&mut o, "TIER", s, &s.by_tier, usize::MAX);
    }
    for s in &r.scenarios {
        breakdown(
            &mut o,
            "DESTINATION (top 15 by orders)",
            s,
            &s.by_destination,
            15,
        );
    }
    for s in &r.scenarios {
        breakdown(&mut o, "CHIP", s, &s.by_chip, usize::MAX);
    }
    for s in &r.scenarios {
        if s.allocations.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "\nALLOCATION USE — {} (licence-required orders the rule reached; not enforced by the engine)",
            s.name
        );
        let _ = writeln!(
            o,
            "{:<34} {:<5} {:>8} {:>12} {:>12} {:>8}",
            "rule", "dest", "orders", "TPP counted", "allocation", "share"
        );
        for a in s.allocations.iter().take(15) {
            let _ = writeln!(
                o,
                "{:<34} {:<5} {:>8} {:>12} {:>12} {:>8}",
                a.rule,
                a.destination,
                thousands(a.orders),
                short(a.tpp_counted),
                short(a.allocation_tpp),
                a.share
                    .map(|x| format!("{:.1}%", x * 100.0))
                    .unwrap_or_else(|| "-".into())
            );
        }
    }
    for s in &r.scenarios {
        veu_table(&mut o, s);
        caps_table(&mut o, s);
    }
    let _ = writeln!(
        o,
        "\nFLIPS against `{}`: {} {} outcome",
        r.baseline,
        thousands(r.flips.len() as u64),
        noun(r.flips.len() as u64, "order changes", "orders change")
    );
    if !r.transitions.is_empty() {
        let _ = writeln!(
            o,
            "{:<w$}  {:<44} {:>8} {:>10} {:>10} {:>10}  rules that made the difference (orders)",
            "scenario", "from → to", "orders", "units", "TPP", "value"
        );
    }
    for t in &r.transitions {
        let rules: Vec<String> = t
            .rules
            .iter()
            .take(4)
            .map(|(r, n)| format!("{r} ({})", thousands(*n)))
            .collect();
        let _ = writeln!(
            o,
            "{:<w$}  {:<44} {:>8} {:>10} {:>10} {:>10}  {}",
            t.scenario,
            format!("{} → {}", t.from, t.to),
            thousands(t.stats.orders),
            thousands(t.stats.units),
            short(t.stats.tpp as f64),
            short(t.stats.value_usd),
            rules.join(", ")
        );
    }
    if !r.flips.is_empty() && max_flips > 0 {
        let _ = writeln!(
            o,
            "\nFIRST {} FLIPS (every flip is in --format json)",
            max_flips.min(r.flips.len())
        );
        for f in r.flips.iter().take(max_flips) {
            let outs: Vec<String> = r
                .scenarios
                .iter()
                .map(|s| {
                    format!(
                        "{}={}",
                        s.name,
                        f.outcomes.get(&s.name).copied().unwrap_or("-")
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "{:<12} {:<3} {:<22} {:>6}  {}  [{}]",
                f.id,
                f.destination,
                f.chip.as_deref().unwrap_or("(spec)"),
                f.quantity,
                outs.join(" "),
                f.rules.join(", ")
            );
        }
    }
    if !r.errors.is_empty() {
        let _ = writeln!(o, "\nERRORS: {} lines could not be decided", r.errors.len());
        for e in r.errors.iter().take(20) {
            let _ = writeln!(
                o,
                "  {}{}{}{}",
                e.line.map(|l| format!("line {l}: ")).unwrap_or_default(),
                e.id.as_ref().map(|i| format!("{i}: ")).unwrap_or_default(),
                if e.field == "line" {
                    String::new()
                } else {
                    format!("field `{}`: ", e.field)
                },
                e.message
            );
        }
    }
    o
}

fn sorted_groups(
    map: &std::collections::BTreeMap<String, Group>,
    limit: usize,
) -> Vec<(&String, &Group)> {
    let mut v: Vec<_> = map.iter().collect();
    if limit != usize::MAX {
        v.sort_by(|a, b| b.1.total.orders.cmp(&a.1.total.orders).then(a.0.cmp(b.0)));
        v.truncate(limit);
    }
    v
}

fn breakdown(
    o: &mut String,
    what: &str,
    s: &ScenarioReport,
    map: &std::collections::BTreeMap<String, Group>,
    limit: usize,
) {
    let _ = writeln!(o, "\nBY {what} — {}", s.name);
    let _ = writeln!(
        o,
        "{:<24} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "", "orders", "no_lic", "exception", "licensed", "lic_req", "hold", "units", "TPP", "value"
    );
    for (k, g) in sorted_groups(map, limit) {
        let by = |i: usize| thousands(g.by_outcome.0[i].orders);
        let _ = writeln!(
            o,
            "{:<24} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}",
            k,
            thousands(g.total.orders),
            by(0),
            by(1),
            by(2),
            by(3),
            by(4),
            thousands(g.total.units),
            short(g.total.tpp as f64),
            short(g.total.value_usd)
        );
    }
}

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Outcome colours, in [`OUTCOMES`] order.
const COLOURS: [&str; 5] = ["#2e7d32", "#0277bd", "#6a1b9a", "#ef6c00", "#c62828"];
const LABELS: [&str; 5] = [
    "no licence required",
    "licence exception",
    "licensed",
    "licence required",
    "hold for review",
];

fn legend() -> String {
    let mut s = String::from("<div class=\"legend\">");
    for (c, l) in COLOURS.iter().zip(LABELS) {
        let _ = write!(s, "<span><i style=\"background:{c}\"></i>{l}</span>");
    }
    s.push_str("</div>");
    s
}

/// Horizontal bars stacked by outcome, one per row. With `share`, each bar is 100% of its
/// row; otherwise bars are to scale with the largest row.
fn stacked(rows: &[(String, [f64; 5])], share: bool, fmt: fn(f64) -> String) -> String {
    // Wide enough for the longest label (about 7 px a character at 12 px).
    let longest = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = (longest as f64 * 7.2 + 16.0).clamp(120.0, 380.0);
    let bar_w = 1000.0 - label_w;
    let total_w = 110.0;
    let h = 26.0;
    let gap = 8.0;
    let height = rows.len() as f64 * (h + gap) + gap;
    let width = label_w + bar_w + total_w;
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
        .fold(0.0_f64, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">"
    );
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = gap + i as f64 * (h + gap);
        let total: f64 = values.iter().sum();
        let scale = if share {
            if total > 0.0 {
                bar_w / total
            } else {
                0.0
            }
        } else if max > 0.0 {
            bar_w / max
        } else {
            0.0
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"lbl\">{}</text>",
            label_w - 8.0,
            y + h * 0.68,
            esc(label)
        );
        let mut x = label_w;
        for (k, v) in values.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let w = v * scale;
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{}\"><title>{}: {} ({})</title></rect>",
                COLOURS[k],
                LABELS[k],
                fmt(*v),
                pct(*v, total)
            );
            let text = if share { pct(*v, total) } else { fmt(*v) };
            if w > 9.0 * text.len() as f64 {
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"in\">{}</text>",
                    x + w / 2.0,
                    y + h * 0.68,
                    esc(&text)
                );
            }
            x += w;
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tot\">{}</text>",
            if share {
                label_w + bar_w + 8.0
            } else {
                x + 8.0
            },
            y + h * 0.68,
            esc(&fmt(total))
        );
    }
    s.push_str("</svg>");
    s
}

fn values(by: &ByOutcome, get: fn(&Stats) -> f64) -> [f64; 5] {
    let mut v = [0.0; 5];
    for (i, s) in by.0.iter().enumerate() {
        v[i] = get(s);
    }
    v
}

fn fmt_count(x: f64) -> String {
    thousands(x as u64)
}

fn fmt_usd(x: f64) -> String {
    format!("${}", short(x))
}

const STYLE: &str = r#"
body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;margin:24px 32px;color:#1d1d1f;background:#fff;max-width:1320px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:30px 0 8px;border-bottom:2px solid #e0e0e0;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px;color:#444}
p.sub{color:#555;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}
th,td{padding:4px 10px;border-bottom:1px solid #e6e6e6;text-align:right;vertical-align:top;white-space:nowrap}
td.w{white-space:normal}
th{background:#f5f5f7;font-weight:600;white-space:normal}
td.l,th.l{text-align:left}
code{font-family:"DejaVu Sans Mono",monospace;font-size:12px;background:#f3f3f3;padding:1px 4px;border-radius:3px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:260px;flex:1}
.card b{font-size:15px}.card div{font-size:13px;color:#444;margin-top:4px}
.legend{font-size:13px;margin:4px 0 8px}.legend span{margin-right:18px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border-radius:2px}
svg text{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;font-size:12px}
svg text.in{fill:#fff;font-weight:600}svg text.tot{fill:#333}svg text.lbl{fill:#222}
.grid{display:grid;grid-template-columns:1fr;gap:4px}
.note{font-size:12px;color:#666}
"#;

/// The self-contained HTML report.
pub fn html(r: &Report, max_flips: usize) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>exportgate what-if simulation</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        o,
        "<h1>What-if simulation</h1><p class=\"sub\">{} {} under {} {}; flips are measured against <b>{}</b>. {} {} outcome.</p>",
        thousands(r.orders),
        noun(r.orders, "order", "orders"),
        r.scenarios.len(),
        noun(r.scenarios.len() as u64, "scenario", "scenarios"),
        esc(&r.baseline),
        thousands(r.flips.len() as u64),
        noun(r.flips.len() as u64, "order changes", "orders change")
    );
    o.push_str("<div class=\"cards\">");
    for s in &r.scenarios {
        let _ = write!(
            o,
            "<div class=\"card\"><b>{}</b><div>{}</div>{}<div>{} decided, {} errors</div></div>",
            esc(&s.name),
            esc(&setting(s)),
            s.description
                .as_ref()
                .map(|d| format!("<div>{}</div>", esc(d)))
                .unwrap_or_default(),
            thousands(s.decided),
            thousands(s.errors)
        );
    }
    o.push_str("</div>");

    o.push_str("<h2>Outcomes</h2>");
    o.push_str(&legend());
    for (title, get, fmt) in [
        (
            "Orders",
            (|s: &Stats| s.orders as f64) as fn(&Stats) -> f64,
            fmt_count as fn(f64) -> String,
        ),
        ("Value (USD)", |s: &Stats| s.value_usd, fmt_usd),
        ("TPP", |s: &Stats| s.tpp as f64, short),
    ] {
        let rows: Vec<(String, [f64; 5])> = r
            .scenarios
            .iter()
            .map(|s| (s.name.clone(), values(&s.by_outcome, get)))
            .collect();
        let _ = write!(
            o,
            "<h3>{title} by outcome</h3>{}",
            stacked(&rows, true, fmt)
        );
    }
    // The numbers behind the charts.
    o.push_str("<table><tr><th class=\"l\" rowspan=\"2\">outcome</th>");
    for s in &r.scenarios {
        let _ = write!(
            o,
            "<th colspan=\"4\" style=\"text-align:center\">{}</th>",
            esc(&s.name)
        );
    }
    o.push_str("</tr><tr>");
    for _ in &r.scenarios {
        o.push_str("<th>orders</th><th>units</th><th>TPP</th><th>value</th>");
    }
    o.push_str("</tr>");
    for (i, out) in OUTCOMES.iter().enumerate() {
        let _ = write!(o, "<tr><td class=\"l\">{}</td>", out.as_str());
        for s in &r.scenarios {
            let st = &s.by_outcome.0[i];
            let _ = write!(
                o,
                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                thousands(st.orders),
                thousands(st.units),
                short(st.tpp as f64),
                fmt_usd(st.value_usd)
            );
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");

    // Tiers.
    let mut tiers: Vec<String> = r
        .scenarios
        .iter()
        .flat_map(|s| s.by_tier.keys().cloned())
        .collect();
    tiers.sort();
    tiers.dedup();
    if !tiers.is_empty() {
        let labels: Vec<String> = r
            .scenarios
            .iter()
            .flat_map(|s| s.tiers.iter().map(|(k, v)| format!("{k}: {v}")))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let _ = write!(
            o,
            "<h2>By AI Diffusion tier</h2><p class=\"note\">{}</p>",
            esc(&labels.join(" · "))
        );
        o.push_str(&legend());
        for (title, get, fmt) in [
            (
                "Orders",
                (|s: &Stats| s.orders as f64) as fn(&Stats) -> f64,
                fmt_count as fn(f64) -> String,
            ),
            ("Value (USD)", |s: &Stats| s.value_usd, fmt_usd),
        ] {
            let mut rows = Vec::new();
            for t in &tiers {
                for s in &r.scenarios {
                    if let Some(g) = s.by_tier.get(t) {
                        rows.push((format!("{t} · {}", s.name), values(&g.by_outcome, get)));
                    }
                }
            }
            let _ = write!(o, "<h3>{title} by tier</h3>{}", stacked(&rows, false, fmt));
        }
    }

    // Destinations: the 12 largest by orders in the baseline.
    if let Some(first) = r.scenarios.first() {
        let top = sorted_groups(&first.by_destination, 12);
        let _ = write!(o, "<h2>Top destinations (orders)</h2>{}", legend());
        let mut rows = Vec::new();
        for (d, _) in &top {
            for s in &r.scenarios {
                if let Some(g) = s.by_destination.get(*d) {
                    rows.push((
                        format!("{d} · {}", s.name),
                        values(&g.by_outcome, |s| s.orders as f64),
                    ));
                }
            }
        }
        o.push_str(&stacked(&rows, false, fmt_count));
    }

    // Flips.
    let _ = write!(o, "<h2>Flips against {}</h2>", esc(&r.baseline));
    if r.transitions.is_empty() {
        o.push_str("<p>No order changes outcome.</p>");
    } else {
        let max = r
            .transitions
            .iter()
            .map(|t| t.stats.orders)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        o.push_str("<table><tr><th class=\"l\">scenario</th><th class=\"l\">from → to</th><th class=\"l\"></th><th>orders</th><th>units</th><th>TPP</th><th>value</th><th class=\"l\">rules that made the difference (orders)</th></tr>");
        for t in &r.transitions {
            let k = OUTCOMES
                .iter()
                .position(|x| x.as_str() == t.to)
                .unwrap_or(0);
            let w = 160.0 * t.stats.orders as f64 / max;
            let rules: Vec<String> = t
                .rules
                .iter()
                .take(5)
                .map(|(r, n)| format!("<code>{}</code> ({})", esc(r), thousands(*n)))
                .collect();
            let _ = write!(
                o,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{} → {}</td><td class=\"l\"><svg width=\"164\" height=\"14\"><rect width=\"{w:.1}\" height=\"14\" fill=\"{}\"/></svg></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l w\">{}</td></tr>",
                esc(&t.scenario),
                t.from,
                t.to,
                COLOURS[k],
                thousands(t.stats.orders),
                thousands(t.stats.units),
                short(t.stats.tpp as f64),
                fmt_usd(t.stats.value_usd),
                rules.join(", ")
            );
        }
        o.push_str("</table>");
    }

    // Allocations.
    for s in &r.scenarios {
        if s.allocations.is_empty() {
            continue;
        }
        let _ = write!(
            o,
            "<h3>Allocation use — {}</h3><p class=\"note\">TPP counted by licence-required orders the allocation rule reached, over the whole book; the engine records allocations but does not enforce them.</p><table><tr><th class=\"l\">rule</th><th class=\"l\">destination</th><th>orders</th><th>TPP counted</th><th>allocation</th><th>share</th></tr>",
            esc(&s.name)
        );
        for a in s.allocations.iter().take(12) {
            let _ = write!(
                o,
                "<tr><td class=\"l\"><code>{}</code></td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.rule),
                esc(&a.destination),
                thousands(a.orders),
                short(a.tpp_counted),
                short(a.allocation_tpp),
                a.share
                    .map(|x| format!("{:.1}%", x * 100.0))
                    .unwrap_or_else(|| "-".into())
            );
        }
        o.push_str("</table>");
    }

    for s in &r.scenarios {
        caps_html(&mut o, s);
    }

    // Chips.
    o.push_str("<h2>By chip</h2><table><tr><th class=\"l\">chip</th>");
    for s in &r.scenarios {
        let _ = write!(
            o,
            "<th>{0} orders</th><th>{0} licence req. + hold</th>",
            esc(&s.name)
        );
    }
    o.push_str("</tr>");
    let mut chips: Vec<&String> = r.scenarios.iter().flat_map(|s| s.by_chip.keys()).collect();
    chips.sort();
    chips.dedup();
    for c in chips {
        let _ = write!(o, "<tr><td class=\"l\">{}</td>", esc(c));
        for s in &r.scenarios {
            match s.by_chip.get(c) {
                Some(g) => {
                    let strict = g.by_outcome.0[3].orders + g.by_outcome.0[4].orders;
                    let _ = write!(
                        o,
                        "<td>{}</td><td>{} ({})</td>",
                        thousands(g.total.orders),
                        thousands(strict),
                        pct(strict as f64, g.total.orders as f64)
                    );
                }
                None => o.push_str("<td>-</td><td>-</td>"),
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>");

    // The flips themselves.
    if !r.flips.is_empty() {
        let _ = write!(
            o,
            "<h2>Orders that flip</h2><p class=\"note\">The first {} of {} (all of them are in the JSON output).</p><table><tr><th class=\"l\">order</th><th class=\"l\">dest.</th><th class=\"l\">chip</th><th>qty</th><th>TPP</th>",
            max_flips.min(r.flips.len()),
            thousands(r.flips.len() as u64)
        );
        for s in &r.scenarios {
            let _ = write!(o, "<th class=\"l\">{}</th>", esc(&s.name));
        }
        o.push_str("<th class=\"l\">rules that made the difference</th></tr>");
        for f in r.flips.iter().take(max_flips) {
            let _ = write!(
                o,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td>",
                esc(&f.id),
                esc(&f.destination),
                esc(f.chip.as_deref().unwrap_or("(spec)")),
                thousands(f.quantity),
                short(f.tpp as f64)
            );
            for s in &r.scenarios {
                let out = f.outcomes.get(&s.name).copied().unwrap_or("-");
                let k = OUTCOMES.iter().position(|x| x.as_str() == out);
                let colour = k.map(|k| COLOURS[k]).unwrap_or("#333");
                let _ = write!(
                    o,
                    "<td class=\"l\" style=\"color:{colour}\">{}</td>",
                    esc(out)
                );
            }
            let rules: Vec<String> = f
                .rules
                .iter()
                .map(|r| format!("<code>{}</code>", esc(r)))
                .collect();
            let _ = write!(o, "<td class=\"l w\">{}</td></tr>", rules.join(" "));
        }
        o.push_str("</table>");
    }
    if !r.errors.is_empty() {
        let _ = write!(
            o,
            "<h2>Errors</h2><p>{} lines could not be decided.</p><table><tr><th class=\"l\">line</th><th class=\"l\">order</th><th class=\"l\">field</th><th class=\"l\">problem</th></tr>",
            thousands(r.errors.len() as u64)
        );
        for e in r.errors.iter().take(50) {
            let _ = write!(
                o,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                e.line.map(|l| l.to_string()).unwrap_or_default(),
                esc(e.id.as_deref().unwrap_or("")),
                esc(&e.field),
                esc(&e.message)
            );
        }
        o.push_str("</table>");
    }
    o.push_str("<p class=\"note\">Generated by <code>exportgate simulate</code>. Self-contained: no scripts, fonts or images are fetched.</p></body></html>\n");
    o
}

/// The VEU section of a scenario (with `--veu`): what each VEU could absorb and its headroom.
fn veu_table(o: &mut String, s: &ScenarioReport) {
    let Some(v) = &s.veu else {
        return;
    };
    let _ = writeln!(
        o,
        "\nVEU ABSORPTION — {} ({} orders need a licence only because of the Tier 2 requirement; {} a VEU could absorb, {} not)",
        s.name,
        thousands(v.eligible_orders),
        thousands(v.absorbed_orders),
        thousands(v.not_absorbed_orders)
    );
    let _ = writeln!(
        o,
        "{:<24} {:<9} {:>8} {:>14} {:>14} {:>14}",
        "veu", "kind", "orders", "TPP absorbed", "total TPP", "outside T1"
    );
    for a in &v.veus {
        let _ = writeln!(
            o,
            "{:<24} {:<9} {:>8} {:>14} {:>14} {:>14}{}",
            a.veu,
            a.kind,
            thousands(a.orders),
            thousands(a.tpp),
            thousands(a.total_tpp),
            thousands(a.outside_tier1_tpp),
            if a.unconfirmed {
                "  (caps unconfirmed)"
            } else {
                ""
            }
        );
        for (c, h) in &a.countries {
            let room = if h.headroom_tpp >= u64::MAX / 4 {
                "no limit of its own".to_owned()
            } else {
                format!("{} TPP", thousands(h.headroom_tpp))
            };
            let _ = writeln!(o, "  {c:<4} {:>14} TPP  headroom {room}", thousands(h.tpp));
        }
        if !a.order_ids.is_empty() {
            let more = a.orders.saturating_sub(a.order_ids.len() as u64);
            let _ = writeln!(
                o,
                "  orders: {}{}",
                a.order_ids.join(", "),
                if more > 0 {
                    format!(" and {} more", thousands(more))
                } else {
                    String::new()
                }
            );
        }
    }
}

/// The volume-cap section of a scenario: the orders a capped licence covers, those the cap
/// would refuse (with `ship`'s numbers), and the products' flows; or that caps were not applied.
fn caps_table(o: &mut String, s: &ScenarioReport) {
    let Some(c) = &s.volume_caps else {
        return;
    };
    if !c.applied {
        let _ = writeln!(
            o,
            "\nVOLUME CAPS — {}: not applied ({})",
            s.name,
            c.note.as_deref().unwrap_or("no database")
        );
        return;
    }
    let _ = writeln!(
        o,
        "\nVOLUME CAPS — {} ({} orders under a capped licence: {} within the cap, {} left to an uncapped licence, {} refused for the cap)",
        s.name,
        thousands(c.capped_orders),
        thousands(c.drawn_orders),
        thousands(c.uncapped_orders),
        thousands(c.refused_orders)
    );
    let _ = writeln!(
        o,
        "{:<24} {:>14} {:>14} {:>14} {:>14}",
        "product", "US recorded", "US in book", "capped rec.", "capped in book"
    );
    for p in &c.products {
        let _ = writeln!(
            o,
            "{:<24} {:>14} {:>14} {:>14} {:>14}",
            p.product,
            thousands(p.us_units_recorded),
            thousands(p.us_units_book),
            thousands(p.capped_units_recorded),
            thousands(p.capped_units_book)
        );
    }
    for r in &c.refused {
        for l in &r.refusals {
            let _ = writeln!(
                o,
                "  {} ({}): licence {}: {}",
                r.id, r.destination, l.licence, l.refusal
            );
        }
    }
    let more = c.refused_orders.saturating_sub(c.refused.len() as u64);
    if more > 0 {
        let _ = writeln!(o, "  and {} more refused", thousands(more));
    }
}

/// The volume-cap section of a scenario in the HTML page (the table's VOLUME CAPS section).
fn caps_html(o: &mut String, s: &ScenarioReport) {
    let Some(c) = &s.volume_caps else {
        return;
    };
    if !c.applied {
        let _ = write!(
            o,
            "<h3>Volume caps — {}</h3><p class=\"note\">Not applied: {}</p>",
            esc(&s.name),
            esc(c.note.as_deref().unwrap_or("no database"))
        );
        return;
    }
    let _ = write!(
        o,
        "<h3>Volume caps — {}</h3><p class=\"note\">{} orders under a capped licence: {} within the cap, {} left to an uncapped licence, {} refused for the cap.</p><table><tr><th class=\"l\">order</th><th class=\"l\">dest.</th><th class=\"l\">licence</th><th class=\"l\">refusal</th></tr>",
        esc(&s.name),
        thousands(c.capped_orders),
        thousands(c.drawn_orders),
        thousands(c.uncapped_orders),
        thousands(c.refused_orders)
    );
    for r in c.refused.iter().take(20) {
        for l in &r.refusals {
            let _ = write!(
                o,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                esc(&r.id),
                esc(&r.destination),
                esc(&l.licence),
                esc(&l.refusal)
            );
        }
    }
    o.push_str("</table>");
}
