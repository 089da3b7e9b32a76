//! Name normalisation: input hygiene, Unicode compatibility folding (full-width to
//! half-width), transliteration to Latin (pinyin for Chinese characters, `any_ascii` for
//! Cyrillic, Arabic, Greek, Hebrew, Hangul, kana and diacritics), tokenisation, legal-form
//! removal (rigour's `org_types.yml`), generic-word and place-name tagging, and per-token
//! phonetic keys.
//!
//! The output, a [`NormName`], is what the scorer compares.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use crate::legal_forms::LEGAL_FORMS;

/// Names longer than this many characters are refused as queries (and cut for list entries).
pub const MAX_NAME_CHARS: usize = 400;

/// A query name that cannot be screened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Empty or only whitespace.
    #[error("the name is empty")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`].
    #[error("the name is {chars} characters long; at most {max} are screened")]
    TooLong {
        /// Characters in the name.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// Contains a control character.
    #[error("the name contains the control character U+{code:04X} at character {position}")]
    ControlCharacter {
        /// The code point.
        code: u32,
        /// 1-based character position.
        position: usize,
    },
    /// Nothing left to compare after normalisation (only punctuation or symbols).
    #[error("the name `{name}` has no letters or digits to screen")]
    NoLetters {
        /// The name as given.
        name: String,
    },
}

/// Checks a query name: not empty, not too long, no control characters.
pub fn check_query(name: &str) -> Result<(), QueryError> {
    if name.trim().is_empty() {
        return Err(QueryError::Empty);
    }
    let mut chars = 0usize;
    for (i, c) in name.chars().enumerate() {
        chars += 1;
        if c.is_control() {
            return Err(QueryError::ControlCharacter {
                code: c as u32,
                position: i + 1,
            });
        }
    }
    if chars > MAX_NAME_CHARS {
        return Err(QueryError::TooLong {
            chars,
            max: MAX_NAME_CHARS,
        });
    }
    Ok(())
}

/// What a token is, for weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A distinctive word.
    Word,
    /// A generic word ("technology", "industry", 科技) or a place name ("Beijing"); compared
    /// by its symbol and weighted low.
    Generic,
    /// Digits; must be equal.
    Number,
}

/// One token of a normalised name.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Lower-case ASCII letters and digits.
    pub text: String,
    /// Phonetic fold (`ph`→`f`, `c`→`k`, `w`→`v`, doubles collapsed, ...).
    pub fold: String,
    /// Consonant skeleton of the fold (vowels dropped after the first letter); for tokens
    /// from an abjad, the abjad skeleton.
    pub skel: String,
    /// Abjad skeleton (all vowels and vowel letters dropped), to meet abjad tokens.
    pub abjad_skel: String,
    /// Kind of token.
    pub kind: TokenKind,
    /// For generic tokens, the symbol compared instead of the text (e.g. `technology`).
    pub symbol: Option<String>,
    /// Transliterated from an abjad (Arabic, Hebrew): written vowels are unreliable.
    pub abjad: bool,
    /// One pinyin syllable of a Chinese character.
    pub han: bool,
    /// The written word the token comes from (Chinese characters written together share
    /// one; a name written "志偉 陳" has two).
    pub group: u32,
    /// The set of bytes in `fold`, folded into 64 bits: two folds whose sets differ by more
    /// letters than an edit bound allows cannot be that close (see `score::token_similarity`).
    pub fold_letters: u64,
}

/// The bytes of `s` as a set, each byte at bit `byte % 64`.
pub fn letter_set(s: &str) -> u64 {
    s.bytes().fold(0, |m, b| m | 1 << (b % 64))
}

impl Token {
    /// The weight of the token in coverage scores.
    pub fn weight(&self) -> f32 {
        match self.kind {
            TokenKind::Generic => 0.3,
            TokenKind::Number => 1.0,
            // A pinyin syllable is a whole character, however short its spelling.
            TokenKind::Word if self.han => 1.0,
            TokenKind::Word if self.text.len() <= 2 => 0.5,
            TokenKind::Word => 1.0,
        }
    }
}

/// A normalised name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NormName {
    /// Tokens in order, legal forms removed.
    pub tokens: Vec<Token>,
    /// Generic legal forms found (e.g. `LLC`, `JSC`), for the explanation.
    pub legal_forms: Vec<String>,
    /// The folds of the distinctive tokens, concatenated in order.
    pub compact: String,
    /// The same, with the written words sorted first (the syllables of a Chinese or Korean
    /// word stay together, in order, and the words are then separated by a space).
    pub compact_sorted: String,
    /// Some token is a pinyin syllable.
    pub has_han: bool,
    /// Some token is transliterated from an abjad (Arabic, Hebrew).
    pub has_abjad: bool,
}

impl NormName {
    /// Distinctive (word and number) tokens.
    pub fn distinctive(&self) -> impl Iterator<Item = &Token> {
        self.tokens.iter().filter(|t| t.kind != TokenKind::Generic)
    }
}

/// Generic words and place names, in several languages and scripts, and the symbol each one
/// is compared by. Chinese entries are transliterated like any name, so 科技 becomes the
/// syllables `ke ji`, which this table maps to `technology`, as it does "Technologies".
const GENERIC_WORDS: &[(&str, &str)] = &[
    // technology
    ("technology", "technology"),
    ("technologies", "technology"),
    ("tech", "technology"),
    ("technik", "technology"),
    ("technologie", "technology"),
    ("tecnologia", "technology"),
    ("tecnologias", "technology"),
    ("tekhnologii", "technology"),
    ("tekhnologiya", "technology"),
    ("科技", "technology"),
    ("技术", "technology"),
    ("技術", "technology"),
    // science
    ("science", "science"),
    ("sciences", "science"),
    ("scientific", "science"),
    ("科学", "science"),
    // industry
    ("industry", "industry"),
    ("industries", "industry"),
    ("industrial", "industry"),
    ("industrie", "industry"),
    ("industria", "industry"),
    ("产业", "industry"),
    ("工业", "industry"),
    ("实业", "industry"),
    ("產業", "industry"),
    // information
    ("information", "information"),
    ("info", "information"),
    ("信息", "information"),
    // electronics
    ("electronic", "electronics"),
    ("electronics", "electronics"),
    ("elektronik", "electronics"),
    ("电子", "electronics"),
    ("電子", "electronics"),
    // group, holding, investment
    ("group", "group"),
    ("groupe", "group"),
    ("grupo", "group"),
    ("gruppa", "group"),
    ("集团", "group"),
    ("holding", "holding"),
    ("holdings", "holding"),
    ("控股", "holding"),
    ("investment", "investment"),
    ("investments", "investment"),
    ("投资", "investment"),
    // international, trading
    ("international", "international"),
    ("intl", "international"),
    ("internacional", "international"),
    ("国际", "international"),
    ("trading", "trading"),
    ("trade", "trading"),
    ("贸易", "trading"),
    ("import", "import"),
    ("imp", "import"),
    ("export", "export"),
    ("exp", "export"),
    ("进出口", "import export"),
    // engineering, development, research
    ("engineering", "engineering"),
    ("工程", "engineering"),
    ("development", "development"),
    ("发展", "development"),
    ("开发", "development"),
    ("research", "research"),
    ("研究", "research"),
    ("institute", "institute"),
    ("研究所", "institute"),
    ("研究院", "institute"),
    // systems, networks, equipment, materials, services
    ("system", "system"),
    ("systems", "system"),
    ("系统", "system"),
    ("network", "network"),
    ("networks", "network"),
    ("网络", "network"),
    ("equipment", "equipment"),
    ("设备", "equipment"),
    ("material", "material"),
    ("materials", "material"),
    ("材料", "material"),
    ("service", "service"),
    ("services", "service"),
    ("服务", "service"),
    ("solutions", "solutions"),
    ("software", "software"),
    ("软件", "software"),
    ("semiconductor", "semiconductor"),
    ("半导体", "semiconductor"),
    ("computer", "computer"),
    ("计算机", "computer"),
    ("communication", "communication"),
    ("communications", "communication"),
    ("通信", "communication"),
    ("logistics", "logistics"),
    ("物流", "logistics"),
    // stopwords
    ("the", "the"),
    ("of", "of"),
    ("and", "and"),
    ("for", "for"),
    ("de", "de"),
    ("la", "la"),
    ("del", "de"),
    ("des", "de"),
    ("du", "de"),
    ("und", "and"),
    ("et", "and"),
    ("y", "and"),
    // Arabic name particles: the article and "son of"
    ("al", "al"),
    ("el", "al"),
    ("bin", "bin"),
    ("ibn", "bin"),
    // places commonly prefixed to Chinese company names
    ("china", "china"),
    ("chinese", "china"),
    ("中国", "china"),
    ("beijing", "beijing"),
    ("北京", "beijing"),
    ("shanghai", "shanghai"),
    ("上海", "shanghai"),
    ("shenzhen", "shenzhen"),
    ("深圳", "shenzhen"),
    ("guangzhou", "guangzhou"),
    ("广州", "guangzhou"),
    ("tianjin", "tianjin"),
    ("天津", "tianjin"),
    ("chongqing", "chongqing"),
    ("重庆", "chongqing"),
    ("hangzhou", "hangzhou"),
    ("杭州", "hangzhou"),
    ("nanjing", "nanjing"),
    ("南京", "nanjing"),
    ("wuhan", "wuhan"),
    ("武汉", "wuhan"),
    ("wuxi", "wuxi"),
    ("无锡", "wuxi"),
    ("suzhou", "suzhou"),
    ("苏州", "suzhou"),
    ("chengdu", "chengdu"),
    ("成都", "chengdu"),
    ("xian", "xian"),
    ("西安", "xian"),
    ("qingdao", "qingdao"),
    ("青岛", "qingdao"),
    ("xiamen", "xiamen"),
    ("厦门", "xiamen"),
    ("dalian", "dalian"),
    ("大连", "dalian"),
    ("hefei", "hefei"),
    ("合肥", "hefei"),
    ("changsha", "changsha"),
    ("长沙", "changsha"),
    ("zhuhai", "zhuhai"),
    ("珠海", "zhuhai"),
    ("dongguan", "dongguan"),
    ("东莞", "dongguan"),
    ("harbin", "harbin"),
    ("哈尔滨", "harbin"),
    ("hong kong", "hongkong"),
    ("hongkong", "hongkong"),
    ("香港", "hongkong"),
    ("guangdong", "guangdong"),
    ("广东", "guangdong"),
    ("jiangsu", "jiangsu"),
    ("江苏", "jiangsu"),
    ("zhejiang", "zhejiang"),
    ("浙江", "zhejiang"),
    ("sichuan", "sichuan"),
    ("四川", "sichuan"),
    ("shandong", "shandong"),
    ("山东", "shandong"),
    ("zhongguo", "china"),
];

/// A phrase table matched on token sequences (longest match first).
#[derive(Debug, Default)]
struct PhraseTable {
    /// Key: tokens joined by a space.
    map: HashMap<String, String>,
    /// Longest phrase (in tokens) starting with a given first token.
    max_len_by_first: HashMap<String, usize>,
}

impl PhraseTable {
    fn insert(&mut self, tokens: &[RawTok], value: &str) {
        if tokens.is_empty() {
            return;
        }
        let keys: Vec<String> = tokens.iter().map(phrase_key).collect();
        self.map
            .entry(keys.join(" "))
            .or_insert_with(|| value.to_string());
        let m = self.max_len_by_first.entry(keys[0].clone()).or_insert(0);
        *m = (*m).max(tokens.len());
    }

    /// The longest phrase starting at `toks[i]`: its length and value.
    fn longest_at(&self, toks: &[RawTok], i: usize) -> Option<(usize, &str)> {
        let max = *self.max_len_by_first.get(&phrase_key(&toks[i]))?;
        let max = max.min(toks.len() - i);
        let mut key = String::new();
        let mut best = None;
        for len in 1..=max {
            if len > 1 {
                key.push(' ');
            }
            let t = &toks[i + len - 1];
            if t.hangul {
                key.push('^');
            } else if t.han {
                key.push('~');
            }
            key.push_str(&t.text);
            if let Some(v) = self.map.get(&key) {
                best = Some((len, v.as_str()));
            }
        }
        best
    }
}

/// Builds [`NormName`]s. Construct once (it compiles the legal-form and generic-word tables)
/// and share.
#[derive(Debug)]
pub struct Normalizer {
    legal: PhraseTable,
    generic: PhraseTable,
}

impl Default for Normalizer {
    fn default() -> Self {
        Normalizer::new()
    }
}

/// A phrase-table key for a token: pinyin syllables are marked, so that a syllable (奥, `ao`)
/// does not meet a Latin word spelt the same (the Russian legal form `AO`).
fn phrase_key(t: &RawTok) -> String {
    if t.hangul {
        format!("^{}", t.text)
    } else if t.han {
        format!("~{}", t.text)
    } else {
        t.text.clone()
    }
}

#[derive(Debug, Clone)]
struct RawTok {
    text: String,
    /// Written word the token belongs to: syllables of Chinese characters written together
    /// share one.
    group: u32,
    abjad: bool,
    han: bool,
    /// A Hangul syllable (also `han`: a closed set of syllables, compared whole); phrase
    /// tables keep it apart from the pinyin spelt the same (유 `yu` is not 玉 `yu`).
    hangul: bool,
}

impl Normalizer {
    /// Compiles the built-in tables.
    pub fn new() -> Normalizer {
        let mut legal = PhraseTable::default();
        for (alias, generic) in LEGAL_FORMS.iter().chain(EXTRA_LEGAL_FORMS) {
            legal.insert(&tokenize(alias), generic);
        }
        let mut generic = PhraseTable::default();
        for (word, symbol) in GENERIC_WORDS {
            generic.insert(&tokenize(word), symbol);
        }
        Normalizer { legal, generic }
    }

    /// Normalises a name (no hygiene checks: use [`check_query`] on user input first).
    pub fn normalize(&self, name: &str) -> NormName {
        self.normalize_styled(name, Style::Primary)
    }

    /// Other romanisations of a name whose script is romanised more than one way: Hangul in
    /// McCune–Reischauer and in the popular South Korean spelling, kanji in their Japanese
    /// readings (a table of common family names, given names and company words), Korean
    /// names in hanja in their Hangul readings (金正恩 → 김정은 → `kim jong un`), Greek
    /// without the nominative ending, Chinese names in Wade–Giles in pinyin (Mao Tse-tung →
    /// `mao zedong`). Empty for most names (Latin, Chinese, Cyrillic, Arabic, ...); never
    /// the primary form again.
    pub fn variants(&self, name: &str) -> Vec<NormName> {
        if name.is_ascii() || name.chars().all(|c| c.is_ascii() || "üÜ’‘ʻ".contains(c)) {
            let readings = crate::wade_giles::to_pinyin(name);
            if readings.is_empty() {
                return Vec::new();
            }
            let primary = self.normalize(name);
            let mut out: Vec<NormName> = Vec::new();
            for v in readings {
                let v = self.normalize(&v);
                if !v.tokens.is_empty()
                    && v.compact != primary.compact
                    && !out.iter().any(|o| o.compact == v.compact)
                {
                    out.push(v);
                }
            }
            return out;
        }
        let mut styles: Vec<Style> = Vec::new();
        let (mut hangul, mut han, mut greek) = (false, false, false);
        for c in name.chars() {
            hangul |= crate::translit::is_hangul(c);
            han |= is_han(c);
            greek |= matches!(c as u32, 0x0370..=0x03FF | 0x1F00..=0x1FFF);
        }
        if hangul {
            styles.extend([Style::KoreanMr, Style::KoreanPopular]);
        }
        if han && crate::translit::has_japanese_reading(name) {
            styles.push(Style::JapaneseReading);
        }
        if greek {
            styles.push(Style::GreekStem);
        }
        // A Korean name in hanja (金正恩) is also read as its Hangul (김정은) is.
        let korean = if han {
            crate::hanja::korean_reading(name)
        } else {
            None
        };
        if styles.is_empty() && korean.is_none() {
            return Vec::new();
        }
        let mut forms: Vec<(&str, Style)> = styles.into_iter().map(|st| (name, st)).collect();
        if let Some(k) = &korean {
            for st in [Style::Primary, Style::KoreanMr, Style::KoreanPopular] {
                forms.push((k, st));
            }
        }
        let primary = self.normalize(name);
        let mut out: Vec<NormName> = Vec::new();
        for (text, st) in forms {
            let v = self.normalize_styled(text, st);
            if !v.tokens.is_empty()
                && v.compact != primary.compact
                && !out.iter().any(|o| o.compact == v.compact)
            {
                out.push(v);
            }
        }
        out
    }

    /// [`Normalizer::normalize`] in a romanisation style.
    pub(crate) fn normalize_styled(&self, name: &str, style: Style) -> NormName {
        let cut: String = name.chars().take(MAX_NAME_CHARS).collect();
        let raw = join_initials(numbers_to_digits(tokenize_styled(&cut, style)));
        // Legal forms out, generic words tagged.
        let mut legal_forms = Vec::new();
        let mut kept: Vec<(RawTok, Option<String>)> = Vec::with_capacity(raw.len());
        let mut removed_legal: Vec<RawTok> = Vec::new();
        let mut i = 0;
        while i < raw.len() {
            if let Some((len, form)) = self
                .legal
                .longest_at(&raw, i)
                .filter(|&(len, _)| !syllable_of_longer_word(&raw, i, len))
            {
                if !legal_forms.iter().any(|f: &String| f == form) {
                    legal_forms.push(form.to_string());
                }
                removed_legal.extend(raw[i..i + len].iter().cloned());
                i += len;
                continue;
            }
            if let Some((len, sym)) = self.generic.longest_at(&raw, i) {
                let text: String = raw[i..i + len].iter().map(|t| t.text.as_str()).collect();
                kept.push((
                    RawTok {
                        text,
                        group: raw[i].group,
                        abjad: false,
                        han: false,
                        hangul: false,
                    },
                    Some(sym.to_string()),
                ));
                i += len;
                continue;
            }
            kept.push((raw[i].clone(), None));
            i += 1;
        }
        if kept.is_empty() {
            // A name made only of legal-form words ("Holding Company"): keep the words.
            kept = removed_legal.into_iter().map(|t| (t, None)).collect();
            legal_forms.clear();
        }
        // A word repeated ("Sergey Sergey Shoigu") counts once.
        let mut seen_words: Vec<String> = Vec::new();
        kept.retain(|(t, _)| {
            if t.han || seen_words.contains(&t.text) {
                return t.han;
            }
            seen_words.push(t.text.clone());
            true
        });
        let all_generic = kept.iter().all(|(_, s)| s.is_some());
        let tokens: Vec<Token> = kept
            .into_iter()
            .map(|(t, sym)| {
                let kind = if t.text.chars().all(|c| c.is_ascii_digit()) {
                    TokenKind::Number
                } else if sym.is_some() && !all_generic {
                    TokenKind::Generic
                } else {
                    TokenKind::Word
                };
                let f = fold(&t.text);
                let abjad_skel = abjad_skeleton(&t.text);
                let skel = if t.abjad {
                    abjad_skel.clone()
                } else {
                    skeleton(&f)
                };
                Token {
                    fold_letters: letter_set(&f),
                    abjad_skel,
                    symbol: if kind == TokenKind::Generic {
                        sym
                    } else {
                        None
                    },
                    fold: f,
                    skel,
                    kind,
                    text: t.text,
                    abjad: t.abjad,
                    han: t.han,
                    group: t.group,
                }
            })
            .collect();
        let folds: Vec<&str> = tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Generic)
            .map(|t| t.fold.as_str())
            .collect();
        let compact = folds.concat();
        // Sorted by written word: the syllables of one Chinese or Korean word keep their
        // order (광수 is not 수광), and the word boundaries stay (`kim kvangsu` is not
        // `kim kvang su` sorted).
        let compact_sorted = if tokens.iter().any(|t| t.han) {
            let mut words: Vec<String> = Vec::with_capacity(folds.len());
            let mut prev: Option<&Token> = None;
            for t in tokens.iter().filter(|t| t.kind != TokenKind::Generic) {
                match (prev, words.last_mut()) {
                    (Some(p), Some(w)) if p.han && t.han && p.group == t.group => {
                        w.push_str(&t.fold)
                    }
                    _ => words.push(t.fold.clone()),
                }
                prev = Some(t);
            }
            words.sort_unstable();
            words.join(" ")
        } else {
            let mut folds = folds;
            folds.sort_unstable();
            folds.concat()
        };
        NormName {
            has_han: tokens.iter().any(|t| t.han),
            has_abjad: tokens.iter().any(|t| t.abjad),
            tokens,
            legal_forms,
            compact,
            compact_sorted,
        }
    }
}

/// Common legal forms that rigour's table leaves to its generic-word lists: English company
/// words and their abbreviations, and the Russian abbreviations as transliterated.
const EXTRA_LEGAL_FORMS: &[(&str, &str)] = &[
    ("Corporation", "CORP"),
    ("Corp", "CORP"),
    ("Company", "CO"),
    ("Co", "CO"),
    ("Cos", "CO"),
    ("Company Limited", "LLC"),
    ("Co Ltd", "LLC"),
    ("LLC", "LLC"),
    ("L L C", "LLC"),
    ("Limited Liability Company", "LLC"),
    ("Limited Liability Partnership", "LP"),
    ("LLP", "LP"),
    ("Incorporated", "LLC"),
    ("JSC", "JSC"),
    ("OJSC", "JSC"),
    ("CJSC", "JSC"),
    ("PJSC", "JSC"),
    ("OAO", "JSC"),
    ("ZAO", "JSC"),
    ("PAO", "JSC"),
    ("AO", "JSC"),
    ("OOO", "LLC"),
    ("Joint Stock Company", "JSC"),
    ("Open Joint Stock Company", "JSC"),
    ("Closed Joint Stock Company", "JSC"),
    ("Public Joint Stock Company", "JSC"),
    ("Joint Stock Co", "JSC"),
];

/// Spelled-out numbers, ordinals and ordinal suffixes become digits: "Forty-Four" and
/// "Forty 4" become `44`, "First" and "1st" become `1`.
fn numbers_to_digits(raw: Vec<RawTok>) -> Vec<RawTok> {
    fn unit(t: &str) -> Option<u32> {
        Some(match t {
            "zero" => 0,
            "one" | "first" => 1,
            "two" | "second" => 2,
            "three" | "third" => 3,
            "four" | "fourth" => 4,
            "five" | "fifth" => 5,
            "six" | "sixth" => 6,
            "seven" | "seventh" => 7,
            "eight" | "eighth" => 8,
            "nine" | "ninth" => 9,
            "ten" | "tenth" => 10,
            "eleven" | "eleventh" => 11,
            "twelve" | "twelfth" => 12,
            "thirteen" | "thirteenth" => 13,
            "fourteen" | "fourteenth" => 14,
            "fifteen" | "fifteenth" => 15,
            "sixteen" | "sixteenth" => 16,
            "seventeen" | "seventeenth" => 17,
            "eighteen" | "eighteenth" => 18,
            "nineteen" | "nineteenth" => 19,
            _ => return None,
        })
    }
    fn tens(t: &str) -> Option<u32> {
        Some(match t {
            "twenty" | "twentieth" => 20,
            "thirty" | "thirtieth" => 30,
            "forty" | "fourty" | "fortieth" => 40,
            "fifty" | "fiftieth" => 50,
            "sixty" | "sixtieth" => 60,
            "seventy" | "seventieth" => 70,
            "eighty" | "eightieth" => 80,
            "ninety" | "ninetieth" => 90,
            _ => return None,
        })
    }
    fn ordinal_digits(t: &str) -> Option<&str> {
        let d = t
            .strip_suffix("st")
            .or_else(|| t.strip_suffix("nd"))
            .or_else(|| t.strip_suffix("rd"))
            .or_else(|| t.strip_suffix("th"))?;
        (!d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())).then_some(d)
    }
    if !raw.iter().any(|t| {
        !t.han
            && (t.text.as_bytes()[0].is_ascii_digit()
                || unit(&t.text).is_some()
                || tens(&t.text).is_some())
    }) {
        return raw;
    }
    let mut out: Vec<RawTok> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let t = &raw[i];
        if t.han {
            out.push(t.clone());
            i += 1;
            continue;
        }
        let number = |text: String| RawTok {
            text,
            group: t.group,
            abjad: false,
            han: false,
            hangul: false,
        };
        if let Some(d) = ordinal_digits(&t.text) {
            out.push(number(d.to_string()));
        } else if let Some(n) = tens(&t.text) {
            let next = raw.get(i + 1).filter(|x| !x.han).map(|x| x.text.as_str());
            let u = next.and_then(|x| {
                unit(x)
                    .filter(|&u| (1..10).contains(&u))
                    .or_else(|| x.parse::<u32>().ok().filter(|u| (1..10).contains(u)))
            });
            if let Some(u) = u {
                out.push(number((n + u).to_string()));
                i += 1;
            } else {
                out.push(number(n.to_string()));
            }
        } else if let Some(n) = unit(&t.text) {
            out.push(number(n.to_string()));
        } else {
            out.push(t.clone());
        }
        i += 1;
    }
    out
}

/// Runs of two or more single letters ("A.B.C.", "J.-C.") become one token (`abc`, `jc`).
fn join_initials(raw: Vec<RawTok>) -> Vec<RawTok> {
    let single =
        |t: &RawTok| !t.han && t.text.len() == 1 && t.text.as_bytes()[0].is_ascii_alphabetic();
    if !raw.windows(2).any(|w| single(&w[0]) && single(&w[1])) {
        return raw;
    }
    let mut out: Vec<RawTok> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let mut j = i;
        while j < raw.len() && single(&raw[j]) {
            j += 1;
        }
        if j - i >= 2 {
            out.push(RawTok {
                text: raw[i..j].iter().map(|t| t.text.as_str()).collect(),
                group: raw[i].group,
                abjad: false,
                han: false,
                hangul: false,
            });
            i = j;
        } else {
            out.push(raw[i].clone());
            i += 1;
        }
    }
    out
}

pub(crate) fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF | 0x2A700..=0x2EBEF)
}

fn is_abjad(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x05FF | 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

/// Splits into lower-case ASCII tokens, transliterating as it goes. Each Chinese character
/// becomes one pinyin syllable token, each Hangul syllable block one Revised Romanization
/// syllable token, and a run of kana one Hepburn word. Apostrophes join; other punctuation
/// splits.
fn tokenize(name: &str) -> Vec<RawTok> {
    tokenize_styled(name, Style::Primary)
}

/// [`tokenize`] in one of the romanisation styles of [`Normalizer::variants`].
fn tokenize_styled(name: &str, style: Style) -> Vec<RawTok> {
    let mut out: Vec<RawTok> = Vec::new();
    let mut cur = String::new();
    let mut cur_abjad = false;
    let mut cur_greek = false;
    let mut group = 0u32;
    let mut prev_block = false;
    let flush = |cur: &mut String,
                 abjad: &mut bool,
                 greek: &mut bool,
                 out: &mut Vec<RawTok>,
                 group: &mut u32| {
        if !cur.is_empty() {
            *group += 1;
            let mut text = std::mem::take(cur);
            if *greek && style == Style::GreekStem {
                text = crate::translit::greek_stem(&text);
            }
            out.push(RawTok {
                text,
                group: *group,
                abjad: *abjad,
                han: false,
                hangul: false,
            });
        }
        *abjad = false;
        *greek = false;
    };
    let chars: Vec<char> = name.nfkc().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let han = is_han(c);
        let hangul = crate::translit::is_hangul(c);
        let block = han || hangul;
        if block && !prev_block {
            group += 1;
        }
        prev_block = block;
        if block {
            flush(
                &mut cur,
                &mut cur_abjad,
                &mut cur_greek,
                &mut out,
                &mut group,
            );
        }
        if han && style == Style::JapaneseReading {
            if let Some((len, reading)) = crate::translit::japanese_reading(&chars[i..]) {
                for w in reading.split(' ') {
                    out.push(RawTok {
                        text: w.to_string(),
                        group,
                        abjad: false,
                        han: false,
                        hangul: false,
                    });
                }
                i += len;
                continue;
            }
        }
        if han {
            let syl = pinyin::ToPinyin::to_pinyin(&c).map(|p| p.plain().to_string());
            let syl = syl.unwrap_or_else(|| any_ascii::any_ascii_char(c).to_ascii_lowercase());
            let syl: String = syl.chars().filter(char::is_ascii_alphanumeric).collect();
            if !syl.is_empty() {
                out.push(RawTok {
                    text: syl,
                    group,
                    abjad: false,
                    han: true,
                    hangul: false,
                });
            }
            i += 1;
            continue;
        }
        if hangul {
            // One syllable a token, like pinyin; the first block of a written word is the
            // family name of a Korean name.
            let first = out.last().is_none_or(|t| t.group != group);
            for w in crate::translit::hangul_syllable(c, style, first).split(' ') {
                out.push(RawTok {
                    text: w.to_string(),
                    group,
                    abjad: false,
                    han: true,
                    hangul: true,
                });
            }
            i += 1;
            continue;
        }
        if crate::translit::is_kana(c) {
            let end = (i..chars.len())
                .find(|&j| !crate::translit::is_kana(chars[j]))
                .unwrap_or(chars.len());
            cur.push_str(&crate::translit::kana_to_hepburn(&chars[i..end]));
            i = end;
            continue;
        }
        i += 1;
        if matches!(c, '\'' | '’' | '‘' | 'ʼ' | 'ʻ' | '`' | '´' | 'ʿ' | 'ʾ') {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            cur.push(c.to_ascii_lowercase());
            continue;
        }
        if c.is_ascii() || c.is_whitespace() {
            flush(
                &mut cur,
                &mut cur_abjad,
                &mut cur_greek,
                &mut out,
                &mut group,
            );
            continue;
        }
        if !c.is_alphanumeric() {
            // Combining marks are dropped by any_ascii; other symbols split words.
            let t = any_ascii::any_ascii_char(c);
            if t.is_empty() {
                continue;
            }
            if !t.chars().any(|x| x.is_ascii_alphanumeric()) {
                flush(
                    &mut cur,
                    &mut cur_abjad,
                    &mut cur_greek,
                    &mut out,
                    &mut group,
                );
                continue;
            }
        }
        if is_abjad(c) {
            cur_abjad = true;
        }
        if matches!(c as u32, 0x0370..=0x03FF | 0x1F00..=0x1FFF) {
            cur_greek = true;
        }
        for x in any_ascii::any_ascii_char(c).chars() {
            if x.is_ascii_alphanumeric() {
                cur.push(x.to_ascii_lowercase());
            } else if x == ' ' {
                flush(
                    &mut cur,
                    &mut cur_abjad,
                    &mut cur_greek,
                    &mut out,
                    &mut group,
                );
            }
        }
    }
    flush(
        &mut cur,
        &mut cur_abjad,
        &mut cur_greek,
        &mut out,
        &mut group,
    );
    out
}

/// Whether a one-syllable legal form at `raw[i]` (㈜ and (유), read `ju` and `yu`) is a
/// syllable of a longer written word — of a name such as 주원 or 유진 — rather than the
/// abbreviation written on its own.
fn syllable_of_longer_word(raw: &[RawTok], i: usize, len: usize) -> bool {
    let t = &raw[i];
    len == 1
        && t.han
        && (i
            .checked_sub(1)
            .is_some_and(|p| raw[p].han && raw[p].group == t.group)
            || raw.get(i + 1).is_some_and(|n| n.han && n.group == t.group))
}

/// A romanisation style: the primary one every name gets, and the alternatives
/// [`Normalizer::variants`] adds for names in scripts that are romanised more than one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Pinyin, Revised Romanization, Hepburn, `any_ascii`.
    Primary,
    /// Hangul in McCune–Reischauer without breves, as North Korea and older sources write it
    /// (`Kim Jong Un`, `Pak`, `Ri`).
    KoreanMr,
    /// Hangul as South Korean names are commonly written: the family name in its usual
    /// spelling (`Park`, `Lee`, `Choi`), `-eong` as `-ung` (`Sung`, `Jung`, `Young`).
    KoreanPopular,
    /// Kanji read as Japanese names and company words (`山田` yamada, `電機` denki).
    JapaneseReading,
    /// Greek words without the nominative ending (`Alexandros` → `alexandr`).
    GreekStem,
}

/// Phonetic fold of a lower-case ASCII token: spelling variants of transliterated names
/// meet (`ph`/`f`, `c`/`k`/`q`, `w`/`v`, `y`/`i`, `ou`/`u`, `kh`/`h`, doubled
/// letters).
pub fn fold(t: &str) -> String {
    let b = t.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let n = b.get(i + 1).copied();
        let (rep, adv): (&str, usize) = match (c, n) {
            (b'p', Some(b'h')) => ("f", 2),
            (b't', Some(b'h')) => ("t", 2),
            (b'k', Some(b'h')) => ("h", 2),
            (b'g', Some(b'h')) => ("g", 2),
            (b'd', Some(b'h')) => ("d", 2),
            (b'c', Some(b'k')) => ("k", 2),
            (b'o', Some(b'u')) => ("u", 2),
            (b'o', Some(b'o')) => ("u", 2),
            (b'e', Some(b'e')) => ("i", 2),
            (b'c', Some(b'h')) => ("ch", 2),
            (b'c', Some(b'e' | b'i' | b'y')) => ("s", 1),
            (b'c', _) | (b'q', _) => ("k", 1),
            (b'w', _) => ("v", 1),
            (b'y', _) => ("i", 1),
            _ => {
                let s = &t[i..i + 1];
                (s, 1)
            }
        };
        if !out.ends_with(rep) || rep.len() > 1 || rep.as_bytes()[0].is_ascii_digit() {
            out.push_str(rep);
        }
        i += adv;
    }
    out
}

/// Consonant skeleton of a fold: the first letter, then the consonants.
pub fn skeleton(f: &str) -> String {
    let mut out = String::with_capacity(f.len());
    for (i, c) in f.chars().enumerate() {
        if i > 0 && matches!(c, 'a' | 'e' | 'i' | 'o' | 'u') {
            continue;
        }
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Skeleton of a token transliterated from an abjad: vowels and the vowel letters w, y, v
/// dropped everywhere, because the script does not write short vowels.
pub fn abjad_skeleton(t: &str) -> String {
    let f = fold(t);
    let mut out = String::with_capacity(f.len());
    for c in f.chars() {
        if matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'v' | 'y' | 'w') {
            continue;
        }
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(n: &NormName) -> Vec<String> {
        n.tokens.iter().map(|t| t.text.clone()).collect()
    }

    #[test]
    fn chinese_becomes_pinyin_and_legal_forms_go() {
        let n = Normalizer::new();
        let name = n.normalize("华为技术有限公司");
        assert_eq!(texts(&name), vec!["hua", "wei", "jishu"]);
        assert_eq!(name.compact, "huavei");
        assert_eq!(name.legal_forms, vec!["LLC"]);
        let name = n.normalize("Huawei Technologies Co., Ltd.");
        assert_eq!(name.compact, "huavei");
        assert_eq!(name.tokens[1].symbol.as_deref(), Some("technology"));
    }

    #[test]
    fn width_case_and_diacritics() {
        let n = Normalizer::new();
        assert_eq!(texts(&n.normalize("ＳＯＰＨＧＯ")), vec!["sophgo"]);
        assert_eq!(
            texts(&n.normalize("Raúl Çelik-Öz")),
            vec!["raul", "celik", "oz"]
        );
        assert_eq!(
            texts(&n.normalize("Владимир Путин")),
            vec!["vladimir", "putin"]
        );
    }

    #[test]
    fn folds() {
        assert_eq!(fold("sophgo"), fold("sofgo"));
        assert_eq!(skeleton(&fold("mohammed")), skeleton(&fold("muhammad")));
        assert_eq!(abjad_skeleton("mhmd"), abjad_skeleton("mohamed"));
    }

    #[test]
    fn hygiene() {
        assert_eq!(check_query("  "), Err(QueryError::Empty));
        assert!(matches!(
            check_query("a\u{7}b"),
            Err(QueryError::ControlCharacter {
                code: 7,
                position: 2
            })
        ));
        assert!(matches!(
            check_query(&"x".repeat(5000)),
            Err(QueryError::TooLong { .. })
        ));
        assert!(check_query("Huawei").is_ok());
    }
}
