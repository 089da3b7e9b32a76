//! The shape of `exportgate-core`, checked (issue 18): no module of the core imports a module
//! that imports it back (the import graph, built from the `crate::…` paths of the non-test
//! code, has no cycle), and no function in the core's sources is longer than 120 lines.
//!
//! And no block of six or more lines is repeated in the core's non-test code, to the letter
//! (white space aside; comments, attributes, `use` lines and lines of punctuation alone do
//! not count).
//!
//! It lives outside the core because the core's own tests may not read files (its
//! `clippy.toml`). Run: `cargo test -p exportgate --test core_structure`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The fewest lines a repeated block must have to be reported.
const MIN_REPEAT: usize = 6;

/// The lines that count for repeats, as (line number, text with white space folded): the
/// non-test code without blank lines, comment lines, attributes (`#[...]`, over several lines
/// too), `use` lines and lines of punctuation alone (`}`, `});`, `..`).
fn counted_lines(text: &str) -> Vec<(usize, String)> {
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = Vec::new();
    let mut in_attribute = 0i32;
    for (i, line) in text.lines().enumerate() {
        let folded = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if in_attribute > 0 || folded.starts_with("#[") {
            in_attribute += folded.matches('[').count() as i32 - folded.matches(']').count() as i32;
            continue;
        }
        let punctuation_only = folded.chars().all(|c| "{}()[];,. ".contains(c));
        if punctuation_only
            || folded.starts_with("//")
            || folded.starts_with("use ")
            || folded.starts_with("pub use ")
        {
            continue;
        }
        out.push((i + 1, folded));
    }
    out
}

/// Blocks of [`MIN_REPEAT`] counted lines that stand in more than one place, each as the
/// places (`file:line`) where it starts; overlapping windows of one long repeat are reported
/// once, by its first window.
fn repeats(files: &[(String, String)]) -> Vec<Vec<String>> {
    let mut seen: BTreeMap<Vec<&str>, Vec<(usize, usize)>> = BTreeMap::new();
    let counted: Vec<Vec<(usize, String)>> =
        files.iter().map(|(_, text)| counted_lines(text)).collect();
    for (f, lines) in counted.iter().enumerate() {
        for k in 0..lines.len().saturating_sub(MIN_REPEAT - 1) {
            let key: Vec<&str> = lines[k..k + MIN_REPEAT]
                .iter()
                .map(|(_, s)| s.as_str())
                .collect();
            seen.entry(key).or_default().push((f, k));
        }
    }
    let mut reported: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut out = Vec::new();
    let mut groups: Vec<&Vec<(usize, usize)>> = seen.values().filter(|v| v.len() > 1).collect();
    groups.sort();
    for places in groups {
        // A window that continues a reported one (the next window of the same repeat).
        if places
            .iter()
            .all(|&(f, k)| k > 0 && reported.contains(&(f, k - 1)))
        {
            reported.extend(places.iter().copied());
            continue;
        }
        reported.extend(places.iter().copied());
        out.push(
            places
                .iter()
                .map(|&(f, k)| format!("{}.rs:{}", files[f].0, counted[f][k].0))
                .collect(),
        );
    }
    out
}

/// The longest a function of the core may be, in lines from `fn` to its closing brace.
const MAX_FN_LINES: usize = 120;

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../exportgate-core/src")
}

/// Every `.rs` file of the core, as (module name, text), `lib` for the crate root.
fn sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(core_src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    paths.sort();
    for p in paths {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        out.push((name, std::fs::read_to_string(&p).unwrap()));
    }
    assert!(
        out.len() > 5,
        "the core's sources were not found at {}",
        core_src().display()
    );
    out
}

/// The text with comments, string literals and char literals blanked out (same length, same
/// lines), so that braces and paths in them do not count.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if rest.starts_with(b"r\"") || rest.starts_with(b"r#") {
            // A raw string: r"…" or r#…#"…"#…#.
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                out.push(b[i]);
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let start = i + 2 + hashes;
            let end = (start..b.len())
                .find(|&j| b[j..].starts_with(&close))
                .map_or(b.len(), |j| j + close.len());
            out.extend(b[i..end].iter().map(|&c| blank(c)));
            i = end;
        } else if b[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    out.push(b' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let lit_end = if rest.get(1) == Some(&b'\\') {
                (i + 2..b.len()).find(|&j| b[j] == b'\'')
            } else {
                // One UTF-8 character, then a quote.
                let ch = std::str::from_utf8(&b[i + 1..(i + 5).min(b.len())])
                    .or_else(|e| std::str::from_utf8(&b[i + 1..i + 1 + e.valid_up_to()]))
                    .ok()
                    .and_then(|s| s.chars().next());
                ch.and_then(|c| {
                    let j = i + 1 + c.len_utf8();
                    (b.get(j) == Some(&b'\'')).then_some(j)
                })
            };
            match lit_end {
                Some(j) => {
                    out.extend(std::iter::repeat_n(b' ', j + 1 - i));
                    i = j + 1;
                }
                None => {
                    out.push(b'\'');
                    i += 1;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The code before the module's `#[cfg(test)]` tests (test code may use anything).
fn non_test(code: &str) -> &str {
    match code.find("#[cfg(test)]") {
        Some(at) => &code[..at],
        None => code,
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first path segments named after `crate::` in `code`: `crate::a::b` gives `a`,
/// `crate::{a::x, B}` gives `a` and `B`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| is_ident(c) || c == '$') {
            continue;
        }
        let trimmed = rest.trim_start();
        if let Some(group) = trimmed.strip_prefix('{') {
            // Up to the matching brace; top-level items separated by commas.
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    let head: String = item.trim().chars().take_while(|&c| is_ident(c)).collect();
                    if !head.is_empty() {
                        out.push(head);
                    }
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else if depth == 1 {
                    item.push(c);
                }
            }
        } else {
            let head: String = trimmed.chars().take_while(|&c| is_ident(c)).collect();
            if !head.is_empty() {
                out.push(head);
            }
        }
    }
    out
}

/// What `lib.rs` re-exports: item name → the module it comes from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for stmt in lib.split(';') {
        let Some(path) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module: String = path.chars().take_while(|&c| is_ident(c)).collect();
        let items = path[module.len()..].trim_start_matches("::");
        let items = items.trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let name = item.split(" as ").last().unwrap().trim();
            if !name.is_empty() {
                out.insert(name.to_string(), module.clone());
            }
        }
    }
    out
}

/// The core's module import graph: module → the modules it names (itself and `lib` left out).
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let srcs = sources();
    let modules: BTreeSet<String> = srcs.iter().map(|(m, _)| m.clone()).collect();
    let lib = code_only(&srcs.iter().find(|(m, _)| m == "lib").unwrap().1);
    let re = reexports(&lib);
    let mut graph = BTreeMap::new();
    for (m, text) in &srcs {
        if m == "lib" {
            continue;
        }
        let code = code_only(text);
        let mut deps = BTreeSet::new();
        for head in crate_paths(non_test(&code)) {
            let target = if modules.contains(&head) {
                Some(head)
            } else {
                re.get(&head).cloned()
            };
            if let Some(t) = target.filter(|t| t != m && t != "lib") {
                deps.insert(t);
            }
        }
        graph.insert(m.clone(), deps);
    }
    graph
}

/// Every cycle of the graph, each once, as the path that closes it (`a → b → a`).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Strongly connected components (Tarjan), then one cycle through each component.
    struct St<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        comps: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut St<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.comps.push(comp);
            }
        }
    }
    let mut s = St {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        comps: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    // For each component, the shortest way back from its first module to itself.
    s.comps
        .iter()
        .map(|comp| {
            let start = comp[0];
            let inside: BTreeSet<&str> = comp.iter().copied().collect();
            let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut seen = BTreeSet::from([start]);
            let mut last = start;
            'bfs: while let Some(v) = queue.pop_front() {
                for w in graph[v].iter().map(String::as_str) {
                    if w == start {
                        last = v;
                        break 'bfs;
                    }
                    if inside.contains(w) && seen.insert(w) {
                        prev.insert(w, v);
                        queue.push_back(w);
                    }
                }
            }
            let mut path = vec![start.to_string()];
            let mut v = last;
            while v != start {
                path.push(v.to_string());
                v = prev[v];
            }
            path.push(start.to_string());
            let n = path.len();
            path[1..n - 1].reverse();
            let all = comp.join(", ");
            let mut p = path;
            p.push(format!("(component: {all})"));
            p
        })
        .collect()
}

/// Every function of `code` longer than `max` lines: (name, first line, lines).
fn long_functions(code: &str, max: usize) -> Vec<(String, usize, usize)> {
    let bytes = code.as_bytes();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(off) = code[from..].find("fn ") {
        let at = from + off;
        from = at + 3;
        if at > 0 && is_ident(code[..at].chars().next_back().unwrap()) {
            continue;
        }
        let name: String = code[at + 3..]
            .chars()
            .take_while(|&c| is_ident(c))
            .collect();
        if name.is_empty() {
            continue; // `fn(` pointer types
        }
        // The body: the first `{` at bracket depth 0 before any `;` (a declaration has none).
        let mut depth = 0i32;
        let mut open = None;
        for (j, &c) in bytes.iter().enumerate().skip(at) {
            match c {
                b'(' | b'[' | b'<' => depth += 1,
                b')' | b']' | b'>' if depth > 0 => depth -= 1,
                b';' if depth == 0 => break,
                b'{' if depth <= 0 => {
                    open = Some(j);
                    break;
                }
                _ => {}
            }
        }
        let Some(open) = open else { continue };
        let mut braces = 0;
        let mut close = bytes.len() - 1;
        for (j, &c) in bytes.iter().enumerate().skip(open) {
            match c {
                b'{' => braces += 1,
                b'}' => {
                    braces -= 1;
                    if braces == 0 {
                        close = j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let (first, last) = (line_of(at), line_of(close));
        let lines = last - first + 1;
        if lines > max {
            out.push((name, first, lines));
        }
    }
    out
}

#[test]
fn the_core_has_no_import_cycle() {
    let graph = import_graph();
    let found = cycles(&graph);
    let mut report = String::new();
    for (m, deps) in &graph {
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        report += &format!("  {m} → {}\n", deps.join(", "));
    }
    println!("the core's module imports:\n{report}");
    assert!(
        found.is_empty(),
        "exportgate-core has import cycles (a module importing a module that imports it \
         back):\n{}\nall imports:\n{report}",
        found
            .iter()
            .map(|c| format!("  {}", c.join(" → ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn no_function_of_the_core_is_over_120_lines() {
    let mut long = Vec::new();
    for (m, text) in sources() {
        for (name, line, lines) in long_functions(&code_only(&text), MAX_FN_LINES) {
            long.push(format!("  {m}.rs:{line} fn {name}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "functions of exportgate-core over {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_block_of_six_lines_is_repeated_in_the_core() {
    let found = repeats(&sources());
    assert!(
        found.is_empty(),
        "blocks of {MIN_REPEAT} or more lines repeated in exportgate-core (put them in one \
         function or type):\n{}",
        found
            .iter()
            .map(|places| format!("  {}", places.join(" = ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The checks themselves: a cycle is found and reported, imports in groups and through the
/// crate root's re-exports count, comments and strings do not, and a long function is seen.
#[test]
fn the_checks_see_what_they_should() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into_iter().map(String::from).collect()))
    .collect();
    let c = cycles(&g);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0][..4], ["a", "b", "c", "a"]);

    let code = code_only(
        "use crate::{a::X, B};\n// crate::c\nlet s = \"crate::d\"; let c = '{'; crate::e::f();\n",
    );
    assert_eq!(crate_paths(&code), ["a", "B", "e"]);
    let re = reexports("pub use x::{B, C as D};\npub use y::Z;");
    assert_eq!(re["B"], "x");
    assert_eq!(re["D"], "x");
    assert_eq!(re["Z"], "y");

    let body = "    let x = 1;\n".repeat(130);
    let long = format!("fn short() {{\n}}\nfn long<'a>(x: &'a str) -> Vec<u8> {{\n{body}}}\n");
    let found = long_functions(&code_only(&long), MAX_FN_LINES);
    assert_eq!(found, [("long".to_string(), 3, 132)]);

    // Seven repeated lines are one repeat; attributes, comments and braces do not count.
    let block: String = (0..7)
        .map(|i| format!("    let v{i} = f({i});\n"))
        .collect();
    let a = format!("fn a() {{\n{block}}}\n");
    let b = format!("#[inline]\nfn b() {{\n    // note\n{block}}}\n#[cfg(test)]\nmod tests {{}}\n");
    let found = repeats(&[("a".into(), a.clone()), ("b".into(), b)]);
    assert_eq!(found, [vec!["a.rs:2".to_string(), "b.rs:4".to_string()]]);
    let derive =
        "#[derive(\n    Debug,\n    Clone,\n    Copy,\n    PartialEq,\n    Eq,\n    Hash,\n)]\n";
    let found = repeats(&[("c".into(), derive.into()), ("d".into(), derive.into())]);
    assert!(found.is_empty(), "{found:?}");
    assert!(repeats(&[("a".into(), a)]).is_empty());
}
