//! Romanisation of the scripts whose names are spelt more than one way in Latin letters:
//! Hangul (Revised Romanization, algorithmic from the syllable blocks; McCune–Reischauer
//! without breves; the popular South Korean spelling of names), kana (Hepburn, with the
//! contracted sounds, the doubled consonant of the small `tsu` and the long-vowel mark),
//! Japanese readings of common name and company kanji, and Greek nominative endings.
//!
//! The normaliser ([`crate::normalize`]) uses the primary forms for every name and the
//! others as variants ([`crate::Normalizer::variants`]).

use crate::normalize::Style;

/// A precomposed Hangul syllable block.
pub(crate) fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7A3)
}

/// Hiragana, katakana and the long-vowel mark.
pub(crate) fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3041..=0x3096 | 0x30A1..=0x30FA | 0x30FC)
}

const INITIAL_RR: [&str; 19] = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
];
/// McCune–Reischauer (without apostrophes) for a word-initial consonant.
const INITIAL_MR: [&str; 19] = [
    "k", "kk", "n", "t", "tt", "r", "m", "p", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p",
    "h",
];
const MEDIAL_RR: [&str; 21] = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "eu", "ui", "i",
];
/// McCune–Reischauer vowels without breves (ŏ → o, ŭ → u).
const MEDIAL_MR: [&str; 21] = [
    "a", "ae", "ya", "yae", "o", "e", "yo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
    "wi", "yu", "u", "ui", "i",
];
const FINAL_RR: [&str; 28] = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p",
    "t", "t", "ng", "t", "t", "k", "t", "p", "t",
];

/// Family names as commonly written in South Korea (the Revised Romanization of most of them
/// differs: 박 `bak`, 이 `i`, 최 `choe`).
const FAMILY_POPULAR: &[(char, &str)] = &[
    ('김', "kim"),
    ('이', "lee"),
    ('박', "park"),
    ('최', "choi"),
    ('정', "jung"),
    ('강', "kang"),
    ('조', "cho"),
    ('윤', "yoon"),
    ('장', "jang"),
    ('임', "lim"),
    ('한', "han"),
    ('오', "oh"),
    ('서', "seo"),
    ('신', "shin"),
    ('권', "kwon"),
    ('황', "hwang"),
    ('안', "ahn"),
    ('송', "song"),
    ('류', "ryu"),
    ('유', "yoo"),
    ('전', "jeon"),
    ('홍', "hong"),
    ('고', "ko"),
    ('문', "moon"),
    ('양', "yang"),
    ('손', "son"),
    ('배', "bae"),
    ('백', "baek"),
    ('허', "heo"),
    ('남', "nam"),
    ('심', "shim"),
    ('노', "noh"),
    ('하', "ha"),
    ('곽', "kwak"),
    ('성', "sung"),
    ('차', "cha"),
    ('주', "joo"),
    ('우', "woo"),
    ('구', "koo"),
    ('민', "min"),
    ('진', "jin"),
    ('나', "na"),
    ('지', "ji"),
    ('엄', "um"),
    ('변', "byun"),
    ('채', "chae"),
    ('원', "won"),
    ('천', "chun"),
    ('방', "bang"),
    ('공', "kong"),
    ('현', "hyun"),
    ('함', "ham"),
];

/// Family names as North Korea and McCune–Reischauer write them, where the plain rule
/// misses (리 `ri`, 최 `choe`).
const FAMILY_MR: &[(char, &str)] = &[('김', "kim"), ('이', "ri"), ('리', "ri"), ('박', "pak")];

/// One Hangul syllable block in `style`; `first` when it begins a written word (the family
/// name of a Korean name).
pub(crate) fn hangul_syllable(c: char, style: Style, first: bool) -> String {
    let code = c as u32 - 0xAC00;
    let (ini, med, fin) = (
        (code / 588) as usize,
        ((code % 588) / 28) as usize,
        (code % 28) as usize,
    );
    match style {
        Style::KoreanMr => {
            if first {
                if let Some((_, n)) = FAMILY_MR.iter().find(|(h, _)| *h == c) {
                    return (*n).to_string();
                }
            }
            let i = if first {
                INITIAL_MR[ini]
            } else {
                INITIAL_RR[ini]
            };
            format!("{i}{}{}", MEDIAL_MR[med], FINAL_RR[fin])
        }
        Style::KoreanPopular => {
            if first {
                if let Some((_, n)) = FAMILY_POPULAR.iter().find(|(h, _)| *h == c) {
                    return (*n).to_string();
                }
            }
            // -eong and -yeong are commonly written -ung and -young (Sung, Jung, Young).
            let m = match (MEDIAL_RR[med], FINAL_RR[fin]) {
                ("eo", "ng") => "u",
                ("yeo", "ng") => "you",
                (m, _) => m,
            };
            format!("{}{m}{}", INITIAL_RR[ini], FINAL_RR[fin])
        }
        _ => format!("{}{}{}", INITIAL_RR[ini], MEDIAL_RR[med], FINAL_RR[fin]),
    }
}

/// Hepburn for one kana (hiragana; katakana are mapped to it first).
fn kana_base(c: char) -> &'static str {
    const TABLE: &[&str] = &[
        // ぁ あ ぃ い ぅ う ぇ え ぉ お
        "a", "a", "i", "i", "u", "u", "e", "e", "o",
        "o", // か が き ぎ く ぐ け げ こ ご
        "ka", "ga", "ki", "gi", "ku", "gu", "ke", "ge", "ko", "go",
        // さ ざ し じ す ず せ ぜ そ ぞ
        "sa", "za", "shi", "ji", "su", "zu", "se", "ze", "so", "zo",
        // た だ ち ぢ っ つ づ て で と ど
        "ta", "da", "chi", "ji", "", "tsu", "zu", "te", "de", "to", "do",
        // な に ぬ ね の
        "na", "ni", "nu", "ne",
        "no", // は ば ぱ ひ び ぴ ふ ぶ ぷ へ べ ぺ ほ ぼ ぽ
        "ha", "ba", "pa", "hi", "bi", "pi", "fu", "bu", "pu", "he", "be", "pe", "ho", "bo", "po",
        // ま み む め も
        "ma", "mi", "mu", "me", "mo", // ゃ や ゅ ゆ ょ よ
        "ya", "ya", "yu", "yu", "yo", "yo", // ら り る れ ろ
        "ra", "ri", "ru", "re", "ro", // ゎ わ ゐ ゑ を ん ゔ ゕ ゖ
        "wa", "wa", "i", "e", "o", "n", "vu", "ka", "ke",
    ];
    let mut u = c as u32;
    if (0x30A1..=0x30F6).contains(&u) {
        u -= 0x60;
    }
    match u {
        0x3041..=0x3096 => TABLE[(u - 0x3041) as usize],
        _ => match c {
            'ヷ' => "va",
            'ヸ' => "vi",
            'ヹ' => "ve",
            'ヺ' => "vo",
            _ => "",
        },
    }
}

/// A small kana that contracts with the syllable before it (ゃ ゅ ょ, and the katakana
/// small vowels of loanwords: ファ `fa`, ティ `ti`).
fn small(c: char) -> Option<&'static str> {
    Some(match c {
        'ゃ' | 'ャ' => "ya",
        'ゅ' | 'ュ' => "yu",
        'ょ' | 'ョ' => "yo",
        'ぁ' | 'ァ' => "a",
        'ぃ' | 'ィ' => "i",
        'ぅ' | 'ゥ' => "u",
        'ぇ' | 'ェ' => "e",
        'ぉ' | 'ォ' => "o",
        _ => return None,
    })
}

/// A run of kana in (modified) Hepburn without macrons: きょうと `kyoto`... `kyouto`
/// (long vowels written as the kana write them), シャープ `shapu`, がっこう `gakkou`.
pub(crate) fn kana_to_hepburn(run: &[char]) -> String {
    let mut out = String::new();
    let mut double_next = false;
    let mut i = 0;
    while i < run.len() {
        let c = run[i];
        if matches!(c, 'っ' | 'ッ') {
            double_next = true;
            i += 1;
            continue;
        }
        if c == 'ー' {
            // The long-vowel mark: dropped (Hepburn writes a macron).
            i += 1;
            continue;
        }
        let mut syl = kana_base(c).to_string();
        if let Some(sm) = run.get(i + 1).copied().and_then(small) {
            if syl.len() >= 2 {
                let stem = &syl[..syl.len() - 1];
                syl = match (stem, sm.as_bytes()[0]) {
                    ("sh" | "ch" | "j", b'y') => format!("{stem}{}", &sm[1..]),
                    (_, b'y') if syl.ends_with('i') => format!("{stem}{sm}"),
                    ("f" | "t" | "d" | "v" | "w" | "ts", _) if sm.len() == 1 => {
                        format!("{stem}{sm}")
                    }
                    ("sh" | "ch" | "j", _) if sm == "e" => format!("{stem}e"),
                    _ => format!("{syl}{sm}"),
                };
                i += 1;
            }
        }
        if double_next {
            if let Some(f) = syl.chars().next().filter(|f| !"aeioun".contains(*f)) {
                out.push(if syl.starts_with("ch") { 't' } else { f });
            }
            double_next = false;
        }
        out.push_str(&syl);
        i += 1;
    }
    out
}

/// Japanese readings of kanji common in names and company names, longest first at each
/// place; the pinyin of other kanji stays.
const JAPANESE_READINGS: &[(&str, &str)] = &[
    // Family names (the most common ones).
    ("佐藤", "sato"),
    ("鈴木", "suzuki"),
    ("高橋", "takahashi"),
    ("田中", "tanaka"),
    ("伊藤", "ito"),
    ("渡辺", "watanabe"),
    ("渡邊", "watanabe"),
    ("山本", "yamamoto"),
    ("中村", "nakamura"),
    ("小林", "kobayashi"),
    ("加藤", "kato"),
    ("吉田", "yoshida"),
    ("山田", "yamada"),
    ("佐々木", "sasaki"),
    ("山口", "yamaguchi"),
    ("松本", "matsumoto"),
    ("井上", "inoue"),
    ("木村", "kimura"),
    ("斎藤", "saito"),
    ("斉藤", "saito"),
    ("清水", "shimizu"),
    ("山崎", "yamazaki"),
    ("森", "mori"),
    ("池田", "ikeda"),
    ("橋本", "hashimoto"),
    ("阿部", "abe"),
    ("石川", "ishikawa"),
    ("山下", "yamashita"),
    ("中島", "nakajima"),
    ("石井", "ishii"),
    ("小川", "ogawa"),
    ("前田", "maeda"),
    ("岡田", "okada"),
    ("長谷川", "hasegawa"),
    ("藤田", "fujita"),
    ("後藤", "goto"),
    ("近藤", "kondo"),
    ("村上", "murakami"),
    ("遠藤", "endo"),
    ("青木", "aoki"),
    ("坂本", "sakamoto"),
    ("福田", "fukuda"),
    ("太田", "ota"),
    ("西村", "nishimura"),
    ("藤井", "fujii"),
    ("岡本", "okamoto"),
    ("松田", "matsuda"),
    ("中川", "nakagawa"),
    ("原田", "harada"),
    ("小野", "ono"),
    ("竹内", "takeuchi"),
    ("金子", "kaneko"),
    ("和田", "wada"),
    ("中山", "nakayama"),
    ("石田", "ishida"),
    ("上田", "ueda"),
    ("森田", "morita"),
    ("小島", "kojima"),
    ("柴田", "shibata"),
    ("原", "hara"),
    ("宮崎", "miyazaki"),
    ("酒井", "sakai"),
    ("工藤", "kudo"),
    ("横山", "yokoyama"),
    ("宮本", "miyamoto"),
    ("内田", "uchida"),
    ("高木", "takagi"),
    ("安藤", "ando"),
    ("島田", "shimada"),
    ("谷口", "taniguchi"),
    ("大野", "ono"),
    ("高田", "takada"),
    ("丸山", "maruyama"),
    ("今井", "imai"),
    ("河野", "kono"),
    ("藤原", "fujiwara"),
    ("三浦", "miura"),
    ("野村", "nomura"),
    ("松井", "matsui"),
    ("菅", "suga"),
    ("岸田", "kishida"),
    ("安倍", "abe"),
    ("豊田", "toyota"),
    ("本田", "honda"),
    ("日立", "hitachi"),
    ("東芝", "toshiba"),
    ("三菱", "mitsubishi"),
    ("三井", "mitsui"),
    ("住友", "sumitomo"),
    ("富士通", "fujitsu"),
    ("富士", "fuji"),
    ("日本", "nippon"),
    ("東京", "tokyo"),
    ("大阪", "osaka"),
    ("京都", "kyoto"),
    // Given names.
    ("太郎", "taro"),
    ("次郎", "jiro"),
    ("三郎", "saburo"),
    ("一郎", "ichiro"),
    ("健", "ken"),
    ("誠", "makoto"),
    ("浩", "hiroshi"),
    ("翔", "sho"),
    ("大輔", "daisuke"),
    ("拓也", "takuya"),
    ("直樹", "naoki"),
    ("和也", "kazuya"),
    ("花子", "hanako"),
    ("洋子", "yoko"),
    ("恵子", "keiko"),
    ("幸子", "sachiko"),
    ("美穂", "miho"),
    ("由美", "yumi"),
    ("早苗", "sanae"),
    ("晋三", "shinzo"),
    ("文雄", "fumio"),
    ("義偉", "yoshihide"),
    // Company words.
    ("電機", "denki"),
    ("電気", "denki"),
    ("重工業", "jukogyo"),
    ("重工", "juko"),
    ("工業", "kogyo"),
    ("製作所", "seisakusho"),
    ("商事", "shoji"),
    ("物産", "bussan"),
    ("自動車", "jidosha"),
    ("通信", "tsushin"),
    ("化学", "kagaku"),
    ("精機", "seiki"),
    ("電子", "denshi"),
    ("産業", "sangyo"),
    ("製鉄", "seitetsu"),
    ("銀行", "ginko"),
];

/// The longest Japanese reading at the start of `chars`: characters used and the reading.
pub(crate) fn japanese_reading(chars: &[char]) -> Option<(usize, &'static str)> {
    let first = *chars.first()?;
    let mut best: Option<(usize, &'static str)> = None;
    for (k, r) in JAPANESE_READINGS {
        if !k.starts_with(first) {
            continue;
        }
        let n = k.chars().count();
        if n <= chars.len()
            && k.chars().zip(chars).all(|(a, b)| a == *b)
            && best.is_none_or(|(l, _)| n > l)
        {
            best = Some((n, r));
        }
    }
    best
}

/// Whether every kanji of the name has a Japanese reading in the table (a name read only in
/// part would mix readings and pinyin, and weigh its unread part less).
pub(crate) fn has_japanese_reading(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    let mut i = 0;
    let mut any = false;
    while i < chars.len() {
        if let Some((n, _)) = japanese_reading(&chars[i..]) {
            any = true;
            i += n;
        } else if crate::normalize::is_han(chars[i]) {
            return false;
        } else {
            i += 1;
        }
    }
    any
}

/// A Greek word without its nominative ending (`alexandros` → `alexandr`,
/// `nikolaos` → `nikola`), when enough of it is left.
pub(crate) fn greek_stem(word: &str) -> String {
    for end in ["os", "as", "is", "es", "ou"] {
        if let Some(stem) = word.strip_suffix(end) {
            if stem.len() >= 4 {
                return stem.to_string();
            }
        }
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rr(s: &str, style: Style) -> Vec<String> {
        s.chars()
            .enumerate()
            .map(|(i, c)| hangul_syllable(c, style, i == 0))
            .collect()
    }

    #[test]
    fn hangul_from_the_syllable_blocks() {
        assert_eq!(rr("김정은", Style::Primary), ["gim", "jeong", "eun"]);
        assert_eq!(rr("김정은", Style::KoreanMr), ["kim", "jong", "un"]);
        assert_eq!(rr("박지성", Style::KoreanPopular), ["park", "ji", "sung"]);
        assert_eq!(rr("서울", Style::Primary), ["seo", "ul"]);
        assert_eq!(rr("한국", Style::Primary), ["han", "guk"]);
        assert_eq!(rr("최영", Style::KoreanPopular), ["choi", "young"]);
    }

    #[test]
    fn kana_in_hepburn() {
        let h = |s: &str| kana_to_hepburn(&s.chars().collect::<Vec<_>>());
        assert_eq!(h("とうきょう"), "toukyou");
        assert_eq!(h("シャープ"), "shapu");
        assert_eq!(h("がっこう"), "gakkou");
        assert_eq!(h("まっちゃ"), "matcha");
        assert_eq!(h("ちゅうごく"), "chuugoku");
        assert_eq!(h("ソフトバンク"), "sofutobanku");
        assert_eq!(h("ファーウェイ"), "fauei");
        assert_eq!(h("じょうほう"), "jouhou");
    }

    #[test]
    fn japanese_readings_longest_first() {
        let c: Vec<char> = "長谷川健".chars().collect();
        assert_eq!(japanese_reading(&c), Some((3, "hasegawa")));
        assert_eq!(japanese_reading(&c[3..]), Some((1, "ken")));
        assert!(japanese_reading(&['习']).is_none());
    }
}
