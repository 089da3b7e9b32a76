//! Pairwise name scoring with per-feature scores.
//!
//! Two features compare the names, and the name score is the larger one:
//! * **token alignment**: tokens are paired greedily by similarity (exact, phonetic fold,
//!   consonant skeleton, bounded edit distance, initials), in any order; the score is the
//!   weighted coverage of both names, where unmatched list-side tokens count for less than
//!   unmatched query tokens, and generic words and place names weigh little;
//! * **compact**: the distinctive tokens concatenated (in order, and sorted) and compared by
//!   edit distance, so "hua wei" meets "Huawei" and "Abdul Rahman" meets "Abdulrahman".
//!
//! Then qualifiers: differing numbers cut the score (`Vessel 1` is not `Vessel 2`), and the
//! party's country, when given, adds or subtracts a little.

use serde::{Deserialize, Serialize};

use crate::normalize::{abjad_skeleton, NormName, Token, TokenKind};

/// Tunable weights of the scorer. The defaults are the documented, evaluated settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreParams {
    /// Weight of an unmatched query token, relative to a matched one.
    pub query_unmatched_weight: f32,
    /// Weight of an unmatched list-entry token, relative to a matched one.
    pub entry_unmatched_weight: f32,
    /// Factor applied when both names carry numbers and they differ.
    pub number_mismatch_factor: f32,
    /// Added to the denominator per unit of weight left unmatched on *both* sides (the
    /// smaller of the two sums): a name part that differs is stronger evidence against a
    /// match than a name part missing on one side.
    pub conflict_weight: f32,
    /// Similarity of an initial to a word starting with that letter.
    pub initial_similarity: f32,
    /// Added when the party's country is one of the entry's countries.
    pub country_match_bonus: f32,
    /// Subtracted when the party's country is given, the entry has countries, and none match.
    pub country_mismatch_penalty: f32,
}

impl Default for ScoreParams {
    fn default() -> Self {
        ScoreParams {
            query_unmatched_weight: 1.0,
            entry_unmatched_weight: 0.5,
            number_mismatch_factor: 0.7,
            conflict_weight: 1.0,
            initial_similarity: 0.8,
            country_match_bonus: 0.03,
            country_mismatch_penalty: 0.03,
        }
    }
}

/// One pair of tokens the alignment matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenMatch {
    /// Query token (normalised).
    pub query: String,
    /// List-entry token (normalised).
    pub entry: String,
    /// Similarity in [0, 1].
    pub similarity: f32,
}

/// Per-feature scores of one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Weighted token coverage of both names.
    pub token_alignment: f32,
    /// Edit-distance similarity of the concatenated distinctive tokens.
    pub compact: f32,
    /// The name score: the larger of the two, after the number qualifier.
    pub name: f32,
    /// Set when numbers in the two names differ.
    pub number_mismatch: bool,
    /// Country adjustment applied (positive, negative or zero).
    pub country: f32,
    /// Legal forms found in the query and in the entry name.
    pub legal_forms: (Vec<String>, Vec<String>),
    /// Rarity of the query's distinctive tokens in the lists: the smallest inverse document
    /// frequency over the index, divided by that of a token seen once (1 = rare, near 0 = in
    /// most names). Set by the screener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rarity: Option<f32>,
    /// Set when the hit rests on one token common in the lists, matched against an alias
    /// shorter than the entry's name: the hit is then never certain.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub common_token_only: bool,
}

/// The result of comparing two normalised names.
#[derive(Debug, Clone, PartialEq)]
pub struct PairScore {
    /// Final score in [0, 1].
    pub score: f32,
    /// The features behind it.
    pub features: Features,
    /// Token pairs matched by the alignment.
    pub tokens_matched: Vec<TokenMatch>,
}

/// Similarity of two tokens in [0, 1]; 0 means "not the same word".
pub fn token_similarity(a: &Token, b: &Token) -> f32 {
    if a.kind == TokenKind::Generic && b.kind == TokenKind::Generic {
        let same = a.text == b.text || (a.symbol.is_some() && a.symbol == b.symbol);
        return if same { 1.0 } else { 0.0 };
    }
    if a.text == b.text {
        return 1.0;
    }
    if a.kind == TokenKind::Number || b.kind == TokenKind::Number {
        return 0.0;
    }
    if a.fold == b.fold {
        return 0.95;
    }
    if a.han || b.han {
        // Pinyin syllables are a closed set: a syllable that differs is another character.
        return 0.0;
    }
    if a.abjad || b.abjad {
        let (sa, sb) = (&a.abjad_skel, &b.abjad_skel);
        if sa == sb && sa.len() >= 3 {
            return 0.9;
        }
        if sa == sb && sa.len() == 2 {
            return 0.8;
        }
        // A one-consonant word: علي (`ly`) is Ali, when both spellings are that short.
        // (its Latin spelling a vowel, the consonant, a vowel: the first vowel is the letter
        // the script writes as a consonant, ع or ا).
        let latin = if a.abjad { b } else { a };
        if sa == sb
            && sa.len() == 1
            && a.text.len() <= 3
            && b.text.len() <= 3
            && !latin.abjad
            && latin.text.len() == 3
            && latin.text.starts_with(['a', 'e', 'i', 'o', 'u'])
            && latin.text.ends_with(['a', 'e', 'i', 'o', 'u'])
        {
            return 0.8;
        }
        if sa.len() >= 4 && sb.len() >= 4 && levenshtein(sa, sb) == 1 {
            return 0.75;
        }
        // The letters w, y, v are vowels or consonants in an abjad (Hebrew ו in דוד, David):
        // the Latin spelling's consonants, v and w included, agree with all the letters.
        let script = if a.abjad { a } else { b };
        if !latin.abjad && latin.skel.len() >= 3 && skeleton_is(&script.fold, &latin.skel) {
            return 0.85;
        }
        return 0.0;
    }
    let (fa, fb) = (a.fold.as_str(), b.fold.as_str());
    if fa.len() == 1 || fb.len() == 1 {
        // An initial against a word with that first letter.
        return if fa.as_bytes()[0] == fb.as_bytes()[0] {
            0.5
        } else {
            0.0
        };
    }
    let max_len = fa.len().max(fb.len());
    let min_len = fa.len().min(fb.len());
    if min_len <= 3 {
        return 0.0;
    }
    let allowed = (max_len / 4).max(1);
    let skel_match = a.skel == b.skel && a.skel.len() >= 3 && fa.as_bytes()[0] == fb.as_bytes()[0];
    if max_len - min_len > allowed {
        return if skel_match { 0.85 } else { 0.0 };
    }
    // Each byte one fold has and the other lacks needs an edit of its own: a cheap bound
    // that settles most unlike pairs before the edit distance.
    let (la, lb) = (a.fold_letters, b.fold_letters);
    let apart = (la & !lb).count_ones().max((lb & !la).count_ones()) as usize;
    let d = if apart > allowed {
        allowed + 1
    } else {
        levenshtein_bounded(fa, fb, allowed)
    };
    let mut sim: f32 = if d <= allowed {
        1.0 - 0.12 * d as f32
    } else {
        0.0
    };
    if skel_match {
        sim = sim.max(0.85);
    }
    const X: u64 = 1 << (b'x' % 64);
    if sim == 0.0 && (la ^ lb) & X != 0 && fa.contains('x') != fb.contains('x') {
        // Alexander / Aleksandr: `x` and `ks` are one sound.
        let (xa, xb) = (fa.replace("ks", "x"), fb.replace("ks", "x"));
        let max_len = xa.len().max(xb.len());
        let allowed = (max_len / 4).max(1);
        let d = levenshtein_bounded(&xa, &xb, allowed);
        if d <= allowed && d < max_len {
            sim = 0.95 - 0.12 * d as f32;
        }
    }
    sim
}

/// Whether `crate::normalize::skeleton(fold) == skel`, without allocating.
fn skeleton_is(fold: &str, skel: &str) -> bool {
    let mut want = skel.bytes();
    let mut last: Option<u8> = None;
    for (i, c) in fold.bytes().enumerate() {
        if i > 0 && matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') {
            continue;
        }
        if last == Some(c) {
            continue;
        }
        last = Some(c);
        if want.next() != Some(c) {
            return false;
        }
    }
    want.next().is_none()
}

/// Compares a query name with a list-entry name.
pub fn compare(q: &NormName, c: &NormName, params: &ScoreParams) -> PairScore {
    compare_with(q, c, params, true)
}

/// [`compare`], leaving out the explanation (matched tokens, legal forms) unless `explain`.
pub fn compare_with(q: &NormName, c: &NormName, params: &ScoreParams, explain: bool) -> PairScore {
    let (alignment, tokens_matched) = align(q, c, params, explain);
    let compact = compact_score(q, c);
    let mut name = alignment.max(compact);
    let number_mismatch = numbers_differ(q, c);
    if number_mismatch {
        name *= params.number_mismatch_factor;
    }
    PairScore {
        score: name.clamp(0.0, 1.0),
        features: Features {
            token_alignment: alignment,
            compact,
            name,
            number_mismatch,
            country: 0.0,
            legal_forms: if explain {
                (q.legal_forms.clone(), c.legal_forms.clone())
            } else {
                (Vec::new(), Vec::new())
            },
            rarity: None,
            common_token_only: false,
        },
        tokens_matched,
    }
}

fn align(
    q: &NormName,
    c: &NormName,
    params: &ScoreParams,
    explain: bool,
) -> (f32, Vec<TokenMatch>) {
    let (nq, nc) = (q.tokens.len(), c.tokens.len());
    if nq == 0 || nc == 0 {
        return (0.0, Vec::new());
    }
    // Small names (nearly all) use stack buffers: no allocation per comparison.
    let (mut bq, mut bc) = ([false; 48], [false; 48]);
    let (mut vq, mut vc) = (Vec::new(), Vec::new());
    let used_q: &mut [bool] = if nq <= 48 {
        &mut bq[..nq]
    } else {
        vq.resize(nq, false);
        &mut vq
    };
    let used_c: &mut [bool] = if nc <= 48 {
        &mut bc[..nc]
    } else {
        vc.resize(nc, false);
        &mut vc
    };
    let mut matched = 0.0f32;
    let mut matched_total = 0.0f32;
    let mut out = Vec::new();
    // Runs of pinyin syllables on one side that spell a word on the other: 志伟 (zhi wei)
    // against "Zhiwei", 华为 (hua wei) against "Huawei".
    if q.has_han || c.has_han {
        merge_han_runs(
            &q.tokens,
            &c.tokens,
            used_q,
            used_c,
            &mut matched,
            &mut matched_total,
            &mut out,
            true,
            explain,
        );
        merge_han_runs(
            &c.tokens,
            &q.tokens,
            used_c,
            used_q,
            &mut matched,
            &mut matched_total,
            &mut out,
            false,
            explain,
        );
    }
    // Acronyms in the query against the words they abbreviate: "PLA" and "People's
    // Liberation Army", "J.-C." (`jc`) and "Jean-Claude". Not the other way: a list entry
    // written as letters ("JSC RDC") would meet every name with those initials.
    merge_acronyms(
        &q.tokens,
        &c.tokens,
        used_q,
        used_c,
        &mut matched,
        &mut matched_total,
        &mut out,
        true,
        explain,
    );
    let mut initial_bonus = 0.0f32;
    // Token pairs of the greedy step, kept when syllables' order may need checking.
    let check_order = q.has_han || c.has_han;
    let mut paired: Vec<(usize, usize, f32, f32)> = Vec::new();
    PAIRS.with(|cell| {
        let mut pairs = cell.borrow_mut();
        pairs.clear();
        for (i, a) in q.tokens.iter().enumerate() {
            if used_q[i] {
                continue;
            }
            for (j, b) in c.tokens.iter().enumerate() {
                if used_c[j] {
                    continue;
                }
                let s = token_similarity(a, b);
                if s > 0.0 {
                    pairs.push((s, i, j));
                }
            }
        }
        pairs.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        for &(s, i, j) in pairs.iter() {
            if used_q[i] || used_c[j] {
                continue;
            }
            used_q[i] = true;
            used_c[j] = true;
            let w = q.tokens[i].weight() + c.tokens[j].weight();
            let (a, b) = (&q.tokens[i], &c.tokens[j]);
            if (a.fold.len() == 1 || b.fold.len() == 1)
                && a.kind == TokenKind::Word
                && b.kind == TokenKind::Word
            {
                // An initial is strong evidence only when the rest of the names agree (below).
                initial_bonus += (params.initial_similarity - s).max(0.0) * w;
            }
            matched += s * w;
            matched_total += w;
            if check_order {
                paired.push((i, j, s, w));
            }
            if explain {
                out.push(TokenMatch {
                    query: q.tokens[i].text.clone(),
                    entry: c.tokens[j].text.clone(),
                    similarity: s,
                });
            }
        }
    });
    if check_order {
        // The syllables of one written Chinese or Korean word are read in order: 광수
        // (gwang su) is not "Su-Kwang", 은정 not "Jong Un". A syllable met out of order is
        // left unmatched.
        let mut kept: Vec<(usize, usize)> = Vec::with_capacity(paired.len());
        for &(i, j, s, w) in &paired {
            let out_of_order = kept.iter().any(|&(i2, j2)| {
                let same_q = q.tokens[i].han && q.tokens[i2].group == q.tokens[i].group;
                let same_c = c.tokens[j].han && c.tokens[j2].group == c.tokens[j].group;
                (same_q || same_c) && (i2 < i) != (j2 < j)
            });
            if out_of_order {
                used_q[i] = false;
                used_c[j] = false;
                matched -= s * w;
                matched_total -= w;
                if explain {
                    out.retain(|m| !(m.query == q.tokens[i].text && m.entry == c.tokens[j].text));
                }
            } else {
                kept.push((i, j));
            }
        }
    }
    let unmatched = |toks: &[Token], used: &[bool]| -> f32 {
        toks.iter()
            .zip(used)
            .filter(|(_, u)| !**u)
            .map(|(t, _)| t.weight())
            .sum()
    };
    let distinct = |toks: &[Token], used: &[bool]| -> f32 {
        toks.iter()
            .zip(used)
            .filter(|(t, u)| !**u && t.kind != TokenKind::Generic)
            .map(|(t, _)| t.weight())
            .sum()
    };
    let (dq, dc) = (distinct(&q.tokens, used_q), distinct(&c.tokens, used_c));
    let conflict = dq.min(dc);
    if dq == 0.0 && dc == 0.0 {
        matched += initial_bonus;
    }
    let denominator = matched_total
        + params.query_unmatched_weight * unmatched(&q.tokens, used_q)
        + params.entry_unmatched_weight * unmatched(&c.tokens, used_c)
        + params.conflict_weight * conflict
        + partial_han_words(&q.tokens, used_q)
        + partial_han_words(&c.tokens, used_c);
    if denominator <= 0.0 {
        return (0.0, out);
    }
    (matched / denominator, out)
}

/// The weight of the unmatched syllables of short Chinese words (2 or 3 characters written
/// together, such as a given name) of which other syllables matched: 志偉 is not 志.
fn partial_han_words(toks: &[Token], used: &[bool]) -> f32 {
    let mut extra = 0.0;
    let mut i = 0;
    while i < toks.len() {
        let mut j = i + 1;
        while j < toks.len() && toks[j].han && toks[i].han && toks[j].group == toks[i].group {
            j += 1;
        }
        let n = j - i;
        if toks[i].han && (2..=3).contains(&n) {
            let hit = used[i..j].iter().filter(|u| **u).count();
            if hit > 0 && hit < n {
                extra += toks[i..j]
                    .iter()
                    .zip(&used[i..j])
                    .filter(|(t, u)| !**u && t.kind == TokenKind::Word)
                    .map(|(t, _)| t.weight())
                    .sum::<f32>();
            }
        }
        i = j;
    }
    extra
}

/// Matches an acronym of 2 to 5 letters in `a` against a run of as many words in `b` that
/// start with its letters, when `b` does not spell the acronym itself.
#[allow(clippy::too_many_arguments)]
fn merge_acronyms(
    a: &[Token],
    b: &[Token],
    used_a: &mut [bool],
    used_b: &mut [bool],
    matched: &mut f32,
    matched_total: &mut f32,
    out: &mut Vec<TokenMatch>,
    a_is_query: bool,
    explain: bool,
) {
    const SIM: f32 = 0.9;
    if b.len() < 2 {
        return;
    }
    for (i, ta) in a.iter().enumerate() {
        let n = ta.text.len();
        if used_a[i]
            || ta.han
            || ta.kind != TokenKind::Word
            || !(2..=5).contains(&n)
            || n > b.len()
            || !ta.text.bytes().all(|x| x.is_ascii_alphabetic())
            || b.iter().any(|t| t.text == ta.text)
        {
            continue;
        }
        let letters = ta.text.as_bytes();
        let start = (0..=b.len() - n).find(|&s| {
            b[s..s + n]
                .iter()
                .zip(&used_b[s..s + n])
                .zip(letters)
                .all(|((t, u), l)| {
                    !*u && !t.han && t.kind != TokenKind::Number && t.text.as_bytes()[0] == *l
                })
        });
        let Some(s) = start else { continue };
        let w: f32 = b[s..s + n].iter().map(Token::weight).sum::<f32>() + ta.weight();
        *matched += SIM * w;
        *matched_total += w;
        used_a[i] = true;
        for u in used_b[s..s + n].iter_mut() {
            *u = true;
        }
        if explain {
            let run: Vec<&str> = b[s..s + n].iter().map(|t| t.text.as_str()).collect();
            let (query, entry) = if a_is_query {
                (ta.text.clone(), run.join(" "))
            } else {
                (run.join(" "), ta.text.clone())
            };
            out.push(TokenMatch {
                query,
                entry,
                similarity: SIM,
            });
        }
    }
}

thread_local! {
    /// Candidate token pairs of one alignment, reused across comparisons.
    static PAIRS: std::cell::RefCell<Vec<(f32, usize, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Matches runs of 2 to 4 pinyin syllables in `a` against whole words of `b`.
#[allow(clippy::too_many_arguments)]
fn merge_han_runs(
    a: &[Token],
    b: &[Token],
    used_a: &mut [bool],
    used_b: &mut [bool],
    matched: &mut f32,
    matched_total: &mut f32,
    out: &mut Vec<TokenMatch>,
    a_is_query: bool,
    explain: bool,
) {
    if !a.iter().any(|t| t.han) {
        return;
    }
    for (j, tb) in b.iter().enumerate() {
        if used_b[j] || tb.han || tb.kind != TokenKind::Word {
            continue;
        }
        // Syllables against the word by their folds, then by their letters (the fold of
        // "Jingguo" writes one `g`, the syllables `jing` and `guo` two).
        'start: for (i, by_text) in (0..a.len()).flat_map(|i| [(i, false), (i, true)]) {
            // Walk syllables while they spell a prefix of the word, without allocating.
            let target = if by_text {
                tb.text.as_bytes()
            } else {
                tb.fold.as_bytes()
            };
            let mut pos = 0usize;
            for k in 0..4 {
                let Some(t) = a.get(i + k) else {
                    continue 'start;
                };
                if !t.han || used_a[i + k] || t.group != a[i].group {
                    continue 'start;
                }
                let f = if by_text {
                    t.text.as_bytes()
                } else {
                    t.fold.as_bytes()
                };
                if !target[pos..].starts_with(f) {
                    continue 'start;
                }
                pos += f.len();
                if k >= 1 && pos == target.len() {
                    let w: f32 = a[i..=i + k].iter().map(Token::weight).sum::<f32>() + tb.weight();
                    *matched += w;
                    *matched_total += w;
                    for u in used_a[i..=i + k].iter_mut() {
                        *u = true;
                    }
                    used_b[j] = true;
                    if explain {
                        let run: Vec<&str> = a[i..=i + k].iter().map(|t| t.text.as_str()).collect();
                        let (query, entry) = if a_is_query {
                            (run.join(" "), tb.text.clone())
                        } else {
                            (tb.text.clone(), run.join(" "))
                        };
                        out.push(TokenMatch {
                            query,
                            entry,
                            similarity: 1.0,
                        });
                    }
                    break 'start;
                }
                if pos >= target.len() {
                    continue 'start;
                }
            }
        }
    }
}

fn compact_score(q: &NormName, c: &NormName) -> f32 {
    if q.compact.len() < 4 || c.compact.len() < 4 {
        return 0.0;
    }
    // A name from an abjad (Arabic, Hebrew) writes no short vowels and splits words where the
    // Latin spelling may not (عبد الله, Abdullah): the consonants of the whole names agree.
    let words = |n: &NormName| {
        n.tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Generic)
            .count()
    };
    if q.has_abjad != c.has_abjad && words(q) != words(c) && words(q).min(words(c)) == 1 {
        let (sq, sc) = (abjad_skeleton(&q.compact), abjad_skeleton(&c.compact));
        if sq.len() >= 4 && sq == sc {
            return 0.9;
        }
    }
    let count = |n: &NormName| {
        n.tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Generic)
            .count()
    };
    let identical = q.compact == c.compact || q.compact_sorted == c.compact_sorted;
    // Joining only explains a difference in spacing: with equal token counts the alignment
    // is the better judge, unless the joined strings are identical.
    if !identical && count(q) == count(c) {
        return 0.0;
    }
    // A ratio of 0.8 needs lengths within 20 % of each other.
    let (lq, lc) = (q.compact.len() as f32, c.compact.len() as f32);
    if !identical && lq.min(lc) < 0.8 * lq.max(lc) {
        return 0.0;
    }
    let ratio = |a: &str, b: &str| {
        if a == b {
            return 1.0;
        }
        // Only ratios of 0.8 and above count: stop counting edits past that.
        let max_len = a.len().max(b.len());
        let d = levenshtein_bounded(a, b, max_len / 5 + 1) as f32;
        1.0 - d / max_len as f32
    };
    let r = ratio(&q.compact, &c.compact).max(ratio(&q.compact_sorted, &c.compact_sorted));
    // Joining only explains a difference in spacing: with equal token counts the alignment
    // is the better judge, unless the joined strings are identical.
    let count = |n: &NormName| {
        n.tokens
            .iter()
            .filter(|t| t.kind != TokenKind::Generic)
            .count()
    };
    if r < 1.0 && count(q) == count(c) {
        return 0.0;
    }
    if r < 0.8 {
        return 0.0;
    }
    // Pinyin syllables are a closed set: a syllable spelt differently is another character.
    if r < 1.0 && (q.has_han || c.has_han) {
        return 0.0;
    }
    // Generic words present on one side only lower the score a little.
    fn generic(n: &NormName) -> Vec<&str> {
        n.tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Generic)
            .filter_map(|t| t.symbol.as_deref())
            .collect()
    }
    let (gq, gc) = (generic(q), generic(c));
    let unmatched = gq.iter().filter(|s| !gc.contains(s)).count()
        + gc.iter().filter(|s| !gq.contains(s)).count();
    // Edits cost more in short strings: scale the ratio so that one edit in a short name
    // does not pass as a match.
    (r - 0.03 * unmatched as f32).max(0.0)
}

fn numbers_differ(q: &NormName, c: &NormName) -> bool {
    fn nums(n: &NormName) -> Vec<&str> {
        let mut v: Vec<&str> = n
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Number)
            .map(|t| t.text.trim_start_matches('0'))
            .collect();
        v.sort_unstable();
        v
    }
    let (a, b) = (nums(q), nums(c));
    !a.is_empty() && !b.is_empty() && a != b
}

/// [`levenshtein`], stopping early once the distance is known to exceed `max`: the result is
/// exact when it is at most `max`, and some value above `max` otherwise.
pub fn levenshtein_bounded(a: &str, b: &str, max: usize) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = b.len() + 1;
    if n > 64 || a.len() > 128 {
        return levenshtein(
            std::str::from_utf8(a).unwrap_or(""),
            std::str::from_utf8(b).unwrap_or(""),
        );
    }
    // Most pairs scored are unlike words: the bag distance (bytes one has that the other
    // lacks) is a lower bound of the edit distance, with transpositions too, and cheap.
    if bag_distance(a, b) > max {
        return max + 1;
    }
    // Cells hold distances of at most 64 (`n` ≤ 64): bytes keep the rows in two cache lines.
    let mut buf = [0u8; 192];
    let (prev2, rest) = buf.split_at_mut(n);
    let (prev, rest) = rest.split_at_mut(n);
    let cur = &mut rest[..n];
    for (j, r) in prev.iter_mut().enumerate() {
        *r = j as u8;
    }
    let bound = max.min(255) as u8;
    for i in 0..a.len() {
        cur[0] = (i + 1) as u8;
        let mut row_min = cur[0];
        for j in 0..b.len() {
            let cost = u8::from(a[i] != b[j]);
            let mut v = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                v = v.min(prev2[j - 1] + 1);
            }
            cur[j + 1] = v;
            row_min = row_min.min(v);
        }
        // With transpositions a value can come from two rows back: stop only when both
        // rows exceed the bound.
        if usize::from(row_min) > max && prev.iter().copied().min().unwrap_or(0) > bound {
            return max + 1;
        }
        prev2.copy_from_slice(prev);
        prev.copy_from_slice(cur);
    }
    usize::from(prev[b.len()])
}

/// The larger count of bytes one string has beyond the other's, as multisets: no edit
/// sequence is shorter (a substitution, insertion or deletion changes each count by at most
/// one, a transposition by none).
fn bag_distance(a: &[u8], b: &[u8]) -> usize {
    let mut counts = [0i8; 256];
    for &x in a {
        counts[usize::from(x)] += 1;
    }
    for &x in b {
        counts[usize::from(x)] -= 1;
    }
    let (mut extra_a, mut extra_b) = (0usize, 0usize);
    for &x in a.iter().chain(b) {
        let c = &mut counts[usize::from(x)];
        if *c > 0 {
            extra_a += *c as usize;
        } else if *c < 0 {
            extra_b += c.unsigned_abs() as usize;
        }
        *c = 0;
    }
    extra_a.max(extra_b)
}

/// Edit distance over bytes (tokens are ASCII) counting an adjacent transposition as one
/// edit (optimal string alignment), without allocating for strings of up to 63 bytes.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = b.len() + 1;
    let mut stack = [0usize; 192];
    let mut heap;
    let buf: &mut [usize] = if n <= 64 {
        &mut stack
    } else {
        heap = vec![0usize; 3 * n];
        &mut heap
    };
    let (prev2, rest) = buf.split_at_mut(n);
    let (prev, rest) = rest.split_at_mut(n);
    let cur = &mut rest[..n];
    for (j, r) in prev.iter_mut().enumerate() {
        *r = j;
    }
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(a[i] != b[j]);
            let mut v = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                v = v.min(prev2[j - 1] + 1);
            }
            cur[j + 1] = v;
        }
        prev2.copy_from_slice(prev);
        prev.copy_from_slice(cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use crate::normalize::Normalizer;

    fn score(a: &str, b: &str) -> f32 {
        let n = Normalizer::new();
        super::compare(
            &n.normalize(a),
            &n.normalize(b),
            &super::ScoreParams::default(),
        )
        .score
    }

    #[test]
    fn numbers_written_as_words_and_ordinals_meet_digits() {
        assert!(score("Brigade Forty-Four", "Brigade 44") >= 0.95);
        assert!(score("1st International Bank", "First International Bank") >= 0.95);
        assert!(score("Vessel 1", "Vessel 2") < 0.8);
    }

    #[test]
    fn acronyms_initials_and_legal_forms() {
        assert!(score("PLA", "People's Liberation Army") >= 0.8);
        assert!(score("ABC Co.", "A.B.C. Company") >= 0.95);
        assert!(score("C.B.A. Company", "A.B.C. Company") < 0.8);
        assert!(score("V. Putin", "Vladimir Putin") >= 0.8);
        assert!(score("Microsoft Corporation", "Microsoft Corp.") >= 0.95);
        // A list entry written as letters does not expand into a query's words.
        assert!(score("Radhika Dominic Cheema", "JSC RDC") < 0.8);
    }

    #[test]
    fn a_differing_name_part_counts_against() {
        assert!(
            score(
                "TAHIR JALIL HABBUSH AL-DULAIMI",
                "TAHIR JALIL HABBUSH AL-TIKRITI"
            ) < 0.8
        );
        // A part missing on one side is weaker evidence against.
        assert!(score("AKHTAR MANSOUR", "AKHTAR MOHAMMAD MANSOUR") >= 0.8);
        // Half of a two-character given name is not the name.
        assert!(score("志偉 陳", "CHEN, Zhi") < 0.8);
        assert!(score("志偉 陳", "CHEN, Zhiwei") >= 0.95);
    }

    #[test]
    fn skeleton_is_the_skeleton() {
        for (f, other) in [
            ("dvd", "david"),
            ("mhmd", "mohammed"),
            ("aali", "ali"),
            ("david", "dvd"),
            ("abba", "ab"),
        ] {
            let sk = crate::normalize::skeleton(f);
            assert!(super::skeleton_is(f, &sk), "{f}");
            let so = crate::normalize::skeleton(other);
            assert_eq!(super::skeleton_is(f, &so), sk == so, "{f} / {other}");
        }
    }

    #[test]
    fn levenshtein_matches_strsim() {
        for (a, b) in [
            ("", ""),
            ("sophgo", "sofgo"),
            ("kitten", "sitting"),
            ("a", ""),
            ("huawei", "huavei"),
        ] {
            assert_eq!(
                super::levenshtein(a, b),
                strsim::levenshtein(a, b),
                "{a} {b}"
            );
        }
        assert_eq!(super::levenshtein("lakahl", "lakhal"), 1);
        for (a, b) in [
            ("sophgo", "sofgo"),
            ("kitten", "sitting"),
            ("abcdef", "badcfe"),
            ("huawei", "xyz"),
        ] {
            let d = super::levenshtein(a, b);
            for max in 0..8 {
                let bd = super::levenshtein_bounded(a, b, max);
                assert!(if d <= max { bd == d } else { bd > max }, "{a} {b} {max}");
            }
        }
        let long = "x".repeat(80);
        assert_eq!(super::levenshtein(&long, "xx"), 78);
    }

    proptest::proptest! {
        /// The bounded distance (with its bag-distance shortcut) agrees with the optimal
        /// string alignment distance wherever that is within the bound.
        #[test]
        fn bounded_levenshtein_agrees_with_osa(a in "[a-f]{0,12}", b in "[a-f]{0,12}", max in 0usize..6) {
            let d = strsim::osa_distance(&a, &b);
            let bd = super::levenshtein_bounded(&a, &b, max);
            proptest::prop_assert!(if d <= max { bd == d } else { bd > max }, "{} {} {} {} {}", a, b, max, d, bd);
        }
    }
}
