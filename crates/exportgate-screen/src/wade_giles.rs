//! Wade–Giles → pinyin, syllable by syllable from tables, for Chinese names written the older
//! way (Mao Tse-tung → Mao Zedong, Hsu → Xu, Chiang Ching-kuo → Jiang Jingguo).
//!
//! A word is converted only when every syllable of it (the parts between hyphens) parses as
//! an initial and a final of Wade–Giles; a name is converted only when at least one word shows
//! it is Wade–Giles (syllables joined by a hyphen, an aspirate apostrophe, or a spelling
//! pinyin does not have: `hs`, `ts`, `tz`, `-ih`, `-ung`, `-ien`, `-ieh`, ...). The converted
//! syllables of a word are written together, as pinyin writes a given name (`zedong`).
//!
//! The apostrophe that marks an aspirate (`ch'`, `k'`, `p'`, `t'`, `ts'`) is often left out
//! (Tsai Ing-wen is 蔡 Cai): a name with such initials written without it gets two readings,
//! unaspirated (as the system writes it: `tse` → `ze`) and aspirated (`tsai` → `cai`).

/// Initials, longest first: spelling, unaspirated reading, aspirated reading (when an
/// apostrophe is missing), whether the spelling is Wade–Giles only.
const INITIALS: &[(&str, &str, &str, bool)] = &[
    ("ch'", "ch", "ch", true),
    ("ts'", "c", "c", true),
    ("tz'", "c", "c", true),
    ("k'", "k", "k", true),
    ("p'", "p", "p", true),
    ("t'", "t", "t", true),
    ("hs", "x", "x", true),
    ("ch", "zh", "ch", false),
    ("ts", "z", "c", true),
    ("tz", "z", "c", true),
    ("ss", "s", "s", true),
    ("sz", "s", "s", true),
    ("sh", "sh", "sh", false),
    ("p", "b", "p", false),
    ("t", "d", "t", false),
    ("k", "g", "k", false),
    ("j", "r", "r", false),
    ("m", "m", "m", false),
    ("f", "f", "f", false),
    ("n", "n", "n", false),
    ("l", "l", "l", false),
    ("h", "h", "h", false),
    ("s", "s", "s", false),
    ("y", "y", "y", false),
    ("w", "w", "w", false),
    ("", "", "", false),
];

/// Finals: spelling, pinyin, whether the spelling is Wade–Giles only. `o` and `u` depend on
/// the initial and are handled in [`syllable`].
const FINALS: &[(&str, &str, bool)] = &[
    ("a", "a", false),
    ("ai", "ai", false),
    ("an", "an", false),
    ("ang", "ang", false),
    ("ao", "ao", false),
    ("e", "e", false),
    ("eh", "e", true),
    ("ei", "ei", false),
    ("en", "en", false),
    ("eng", "eng", false),
    ("erh", "er", true),
    ("i", "i", false),
    ("ia", "ia", false),
    ("iang", "iang", false),
    ("iao", "iao", false),
    ("ieh", "ie", true),
    ("ien", "ian", true),
    ("ih", "i", true),
    ("in", "in", false),
    ("ing", "ing", false),
    ("iu", "iu", false),
    ("iung", "iong", true),
    ("o", "o", false),
    ("ou", "ou", false),
    ("u", "u", false),
    ("ua", "ua", false),
    ("uai", "uai", false),
    ("uan", "uan", false),
    ("uang", "uang", false),
    ("ueh", "ue", true),
    ("uei", "ui", true),
    ("ui", "ui", false),
    ("un", "un", false),
    ("ung", "ong", true),
    ("uo", "uo", false),
    ("ü", "u", true),
    ("üan", "uan", true),
    ("üeh", "ue", true),
    ("ün", "un", true),
];

/// One syllable in pinyin: (unaspirated reading, aspirated reading, Wade–Giles only).
fn syllable(s: &str, build: bool) -> Option<(String, String, bool)> {
    for &(ini, plain, asp, ini_marked) in INITIALS {
        let Some(rest) = s.strip_prefix(ini) else {
            continue;
        };
        let Some(&(_, fin, fin_marked)) = FINALS.iter().find(|(f, _, _)| *f == rest) else {
            continue;
        };
        // Palatals: ch, ch', hs before i or ü are j, q, x.
        let palatal = rest.starts_with(['i', 'ü']) && rest != "ih";
        let read = |init: &str| -> String {
            let init = match (init, palatal) {
                ("zh", true) => "j",
                ("ch", true) => "q",
                (i, _) => i,
            };
            let fin = match (ini, rest) {
                // tzu, ssu: the apical vowel is i in pinyin.
                ("tz" | "tz'" | "ts" | "ts'" | "ss" | "sz", "u") => "i",
                // o after k, k', h and alone is e; after the dentals and retroflexes uo.
                ("k" | "k'" | "h" | "", "o") => "e",
                (
                    "t" | "t'" | "n" | "l" | "ts" | "ts'" | "tz" | "tz'" | "s" | "ch" | "ch'"
                    | "sh" | "j",
                    "o",
                ) => "uo",
                _ => fin,
            };
            match (init, fin) {
                // Syllables with no initial: i, in, ing are yi, yin, ying.
                ("", "i" | "in" | "ing") => format!("y{fin}"),
                ("y", "e") => "ye".to_string(),
                ("y", "en") => "yan".to_string(),
                _ => format!("{init}{fin}"),
            }
        };
        // j before a or e (jen, jan, jo) and the palatal ch/sh spellings pinyin lacks (chia,
        // shih) also show Wade–Giles.
        let marked = ini_marked
            || fin_marked
            || (ini == "j" && !rest.starts_with(['i', 'u']))
            || (matches!(ini, "ch" | "sh") && palatal && rest != "i");
        if !build {
            return Some((String::new(), String::new(), marked));
        }
        return Some((read(plain), read(asp), marked));
    }
    None
}

/// A word (syllables joined by hyphens): its two readings and whether it is marked.
fn word(w: &str, build: bool) -> Option<(String, String, bool)> {
    let mut marked = w.contains('-');
    let (mut plain, mut asp) = (String::new(), String::new());
    for p in w.split('-') {
        if p.is_empty() || p.starts_with('\'') || p.matches('\'').count() > 1 {
            return None;
        }
        let (a, b, m) = syllable(p, build)?;
        marked |= m || p.contains('\'');
        plain.push_str(&a);
        asp.push_str(&b);
    }
    Some((plain, asp, marked))
}

/// The pinyin readings of a name written in Wade–Giles: none when no word of it shows
/// Wade–Giles; else the unaspirated reading and, when it differs, the aspirated one. Words
/// that do not parse stay as written.
pub(crate) fn to_pinyin(name: &str) -> Vec<String> {
    if !maybe_marked(name) {
        return Vec::new();
    }
    let lower: String = name
        .chars()
        .map(|c| match c {
            '’' | '‘' | 'ʻ' | 'ʼ' | '`' | '´' => '\'',
            'Ü' => 'ü',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let is_part = |c: char| c.is_ascii_lowercase() || c == '\'' || c == '-' || c == 'ü';
    // First only whether some word shows Wade–Giles, building nothing.
    let any_marked = lower
        .split(|c: char| !is_part(c))
        .filter_map(|w| word(w.trim_matches(['-', '\'']), false))
        .any(|(_, _, m)| m);
    if !any_marked {
        return Vec::new();
    }
    let (mut plain, mut asp) = (String::new(), String::new());
    let mut marked = false;
    let mut converted = false;
    let mut rest = lower.as_str();
    while let Some(start) = rest.find(is_part) {
        plain.push_str(&rest[..start]);
        asp.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c| !is_part(c)).unwrap_or(rest.len());
        let w = rest[..end].trim_matches(['-', '\'']);
        match word(w, true) {
            Some((p, a, m)) => {
                marked |= m;
                converted |= p != w || a != w;
                plain.push_str(&p);
                asp.push_str(&a);
            }
            None => {
                plain.push_str(&rest[..end]);
                asp.push_str(&rest[..end]);
            }
        }
        rest = &rest[end..];
    }
    plain.push_str(rest);
    asp.push_str(rest);
    if !marked || !converted {
        return Vec::new();
    }
    if asp == plain {
        vec![plain]
    } else {
        vec![plain, asp]
    }
}

/// A quick test, without allocating, that some word could show Wade–Giles (a hyphen, an
/// apostrophe or a non-ASCII letter, a marked initial at its start or a marked final at its
/// end); most Latin names fail it and skip the conversion.
fn maybe_marked(name: &str) -> bool {
    name.split(|c: char| c.is_ascii() && !c.is_ascii_alphanumeric() && c != '-' && c != '\'')
        .any(|w| {
            let b = w.as_bytes();
            if b.len() < 2 {
                return false;
            }
            if b.iter().any(|&c| c == b'-' || c == b'\'' || !c.is_ascii()) {
                return true;
            }
            let starts =
                |p: &str| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
            let ends = |p: &str| {
                b.len() >= p.len() && b[b.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes())
            };
            ["hs", "ts", "tz", "ss", "sz", "j", "chi", "shi"]
                .iter()
                .any(|p| starts(p))
                || ["eh", "ih", "ien", "ung", "uei", "erh"]
                    .iter()
                    .any(|p| ends(p))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names() {
        assert_eq!(to_pinyin("Mao Tse-tung")[0], "mao zedong");
        assert_eq!(to_pinyin("Chou En-lai")[0], "zhou enlai");
        assert_eq!(to_pinyin("Teng Hsiao-p'ing")[0], "deng xiaoping");
        assert_eq!(to_pinyin("Chiang Ching-kuo")[0], "jiang jingguo");
        assert_eq!(to_pinyin("Chang Hsueh-liang")[0], "zhang xueliang");
        assert_eq!(to_pinyin("Hsu Chih-mo")[0], "xu zhimo");
        assert!(to_pinyin("Tsai Ing-wen").contains(&"cai yingwen".to_string()));
        assert_eq!(to_pinyin("Ch'ien Hsüeh-sen")[0], "qian xuesen");
        assert_eq!(to_pinyin("Yen Hsi-shan")[0], "yan xishan");
        assert_eq!(to_pinyin("K'ung Hsiang-hsi")[0], "kong xiangxi");
        assert_eq!(to_pinyin("Tzu-hsi")[0], "zixi");
        assert_eq!(to_pinyin("Jen Pi-shih")[0], "ren bishi");
    }

    #[test]
    fn not_wade_giles() {
        // Nothing marks these as Wade–Giles (pinyin or other names).
        assert!(to_pinyin("Wang Wei").is_empty());
        assert!(to_pinyin("Chang Wei").is_empty());
        assert!(to_pinyin("John Smith").is_empty());
        assert!(to_pinyin("Xi Jinping").is_empty());
        assert!(to_pinyin("Jean-Pierre Dupont").is_empty());
        assert!(to_pinyin("O'Brien").is_empty());
        // Lin Piao is Lin Biao, but nothing in the spelling says it is not pinyin.
        assert!(to_pinyin("Lin Piao").is_empty());
        // A word that does not parse stays as written.
        assert_eq!(to_pinyin("Lee Teng-hui")[0], "lee denghui");
    }
}
