//! Cross-script and romanisation recall: watchman's cross-script pairs (all 22 at
//! the default threshold), Hangul in its romanisations through the index, Japanese kanji
//! readings, Arabic names split and joined, and Cyrillic `ks`/`x`.

use chrono::NaiveDate;
use exportgate_screen::{
    name_score, AllowList, ListEntry, Normalizer, Party, ScoreParams, Screener, DEFAULT_THRESHOLD,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

#[test]
fn watchman_cross_script_pairs_all_22() {
    let text =
        std::fs::read_to_string(format!("{DATA}/eval/watchman/cross_script_pairs.csv")).unwrap();
    let norm = Normalizer::new();
    let params = ScoreParams::default();
    let mut hits = 0;
    let mut misses = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.splitn(4, ',').collect();
        if name_score(&norm, f[0], f[1], &params) >= DEFAULT_THRESHOLD {
            hits += 1;
        } else {
            misses.push(f[0]);
        }
    }
    assert_eq!(hits, 22, "missed {misses:?}");
}

#[test]
fn romanisations_meet_through_the_index() {
    let entry = |list: &str, name: &str, t: &str| {
        let mut e = ListEntry::new(list, list, name);
        e.entity_type = Some(t.to_string());
        e.assign_id();
        e
    };
    let s = Screener::new(
        vec![
            entry("UN", "KIM JONG UN", "Individual"),
            entry("SDN", "PARK Ji Sung", "Individual"),
            entry("EL", "Yamada Taro", "Individual"),
            entry("EL", "Mitsubishi Denki", "Entity"),
            entry("SDN", "ABDULLAH", "Individual"),
            entry("SDN", "Alexander PETROV", "Individual"),
            entry("SDN", "김철수", "Individual"),
        ],
        Vec::new(),
    );
    let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let top = |q: &str| {
        s.screen(&Party::named(q), day, &AllowList::new())
            .unwrap()
            .hits
            .first()
            .map(|h| h.name.clone())
    };
    assert_eq!(top("김정은").as_deref(), Some("KIM JONG UN"));
    assert_eq!(top("박지성").as_deref(), Some("PARK Ji Sung"));
    assert_eq!(top("山田太郎").as_deref(), Some("Yamada Taro"));
    assert_eq!(top("三菱電機").as_deref(), Some("Mitsubishi Denki"));
    assert_eq!(top("Александр Петров").as_deref(), Some("Alexander PETROV"));
    // An entry written in Hangul is indexed in its romanisations too.
    assert_eq!(top("Kim Chol Su").as_deref(), Some("김철수"));
    // Different people stay apart.
    assert_eq!(top("김정남"), None);
    assert_eq!(top("Lee Min Ho"), None);
}

#[test]
fn kana_and_hangul_tokens() {
    let norm = Normalizer::new();
    let texts = |s: &str| -> Vec<String> {
        norm.normalize(s)
            .tokens
            .into_iter()
            .map(|t| t.text)
            .collect()
    };
    assert_eq!(texts("シャープ"), ["shapu"]);
    assert_eq!(texts("김정은"), ["gim", "jeong", "eun"]);
    // The Korean legal form stays a legal form; 유 (`yu`) is not the pinyin syllable of 玉.
    assert_eq!(texts("삼성전자 주식회사"), ["sam", "seong", "jeon", "ja"]);
    assert_eq!(texts("玉 张"), ["yu", "zhang"]);
}

#[test]
fn one_syllable_legal_forms_only_as_a_word_of_their_own() {
    let norm = Normalizer::new();
    let texts = |s: &str| -> Vec<String> {
        norm.normalize(s)
            .tokens
            .into_iter()
            .map(|t| t.text)
            .collect()
    };
    // ㈜ (주) and (유) abbreviate 주식회사 and 유한회사 when written on their own ...
    assert_eq!(texts("㈜삼성전자"), ["sam", "seong", "jeon", "ja"]);
    assert_eq!(texts("(유) 한빛"), ["han", "bit"]);
    // ... but are syllables of names inside a longer word: 주원 is not "won", 유진 not "jin".
    assert_eq!(texts("주원 이"), ["ju", "won", "i"]);
    assert_eq!(texts("유진 박"), ["yu", "jin", "bak"]);
    // A lone 주 is still read as the abbreviation (the family name 주 written apart is lost:
    // a shorter name meets more entries, not fewer).
    assert_eq!(texts("영철 주"), ["yeong", "cheol"]);
    let params = ScoreParams::default();
    assert!(name_score(&norm, "주원 이", "RI WON HO", &params) < DEFAULT_THRESHOLD);
    assert!(name_score(&norm, "현주 김", "KIM, Hyon U", &params) < DEFAULT_THRESHOLD);
}

#[test]
fn syllables_of_a_korean_or_chinese_word_keep_their_order() {
    let norm = Normalizer::new();
    let params = ScoreParams::default();
    let score = |a: &str, b: &str| name_score(&norm, a, b, &params);
    // The same given name, in order: a hit (the yente negatives' 영철 김 meets KIM YONG
    // CHOL, a true name collision).
    assert!(score("김영철", "KIM YONG CHOL") >= DEFAULT_THRESHOLD);
    assert!(score("광수 김", "Kwang-su KIM") >= DEFAULT_THRESHOLD);
    // Its syllables the other way round are another given name.
    assert!(score("광수 김", "KIM, Su-Kwang") < DEFAULT_THRESHOLD);
    assert!(score("은정 김", "KIM, Jong Un") < DEFAULT_THRESHOLD);
    assert!(score("민석 최", "CH'OE SO'K MIN") < DEFAULT_THRESHOLD);
    assert!(score("영수 이", "RI SU YONG") < DEFAULT_THRESHOLD);
    // Latin names stay order-free.
    assert!(score("Su Kwang Kim", "KIM, Kwang Su") >= DEFAULT_THRESHOLD);
}

#[test]
fn wade_giles_meets_pinyin_and_characters() {
    let norm = Normalizer::new();
    let params = ScoreParams::default();
    for (a, b) in [
        ("Mao Tse-tung", "Mao Zedong"),
        ("Mao Tse-tung", "毛泽东"),
        ("Chou En-lai", "Zhou Enlai"),
        ("Teng Hsiao-p'ing", "Deng Xiaoping"),
        ("Chiang Ching-kuo", "蒋经国"),
        ("Chang Hsueh-liang", "Zhang Xueliang"),
        ("Tsai Ing-wen", "蔡英文"),
        ("Hsu Chih-mo", "Xu Zhimo"),
        ("K'ung Hsiang-hsi", "Kong Xiangxi"),
    ] {
        let s = name_score(&norm, a, b, &params);
        assert!(s >= DEFAULT_THRESHOLD, "{a} / {b}: {s}");
    }
    // Different people stay apart.
    assert!(name_score(&norm, "Mao Tse-tung", "Mao Zemin", &params) < DEFAULT_THRESHOLD);
    assert!(name_score(&norm, "Chou En-lai", "Zhou Yongkang", &params) < DEFAULT_THRESHOLD);
    // Through the index, both ways.
    let entry = |name: &str| {
        let mut e = ListEntry::new("SDN", "SDN", name);
        e.entity_type = Some("Individual".to_string());
        e.assign_id();
        e
    };
    let s = Screener::new(vec![entry("MAO Tse-tung"), entry("Zhou Enlai")], Vec::new());
    let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let top = |q: &str| {
        s.screen(&Party::named(q), day, &AllowList::new())
            .unwrap()
            .hits
            .first()
            .map(|h| h.name.clone())
    };
    assert_eq!(top("Mao Zedong").as_deref(), Some("MAO Tse-tung"));
    assert_eq!(top("毛泽东").as_deref(), Some("MAO Tse-tung"));
    assert_eq!(top("Chou En-lai").as_deref(), Some("Zhou Enlai"));
    assert_eq!(top("Mao Zemin"), None);
}

#[test]
fn korean_names_in_hanja_read_as_korean() {
    let norm = Normalizer::new();
    let params = ScoreParams::default();
    for (a, b) in [
        ("金正恩", "Kim Jong Un"),
        ("金日成", "Kim Il Sung"),
        ("崔龍海", "Choe Ryong Hae"),
        ("金正恩", "김정은"),
    ] {
        let s = name_score(&norm, a, b, &params);
        assert!(s >= DEFAULT_THRESHOLD, "{a} / {b}: {s}");
    }
    // The pinyin reading stays: 金正恩 is still jin zheng en.
    assert!(name_score(&norm, "金正恩", "Jin Zhengen", &params) >= DEFAULT_THRESHOLD);
    // Another given name is another person.
    assert!(name_score(&norm, "金正日", "Kim Jong Un", &params) < DEFAULT_THRESHOLD);
    let mut e = ListEntry::new("UN", "UN", "KIM JONG UN");
    e.entity_type = Some("Individual".to_string());
    e.assign_id();
    let s = Screener::new(vec![e], Vec::new());
    let day = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let hits = s
        .screen(&Party::named("金正恩"), day, &AllowList::new())
        .unwrap()
        .hits;
    assert_eq!(hits.first().map(|h| h.name.as_str()), Some("KIM JONG UN"));
}

#[test]
fn hebrew_vav_and_yod_as_consonants_or_vowels() {
    let norm = Normalizer::new();
    let params = ScoreParams::default();
    // ו is the v of David; the Latin spelling's consonants agree with all the letters.
    assert!(name_score(&norm, "דוד", "David", &params) >= DEFAULT_THRESHOLD);
    assert!(name_score(&norm, "משה", "Moshe", &params) >= DEFAULT_THRESHOLD);
    // A different consonant is another name.
    assert!(name_score(&norm, "דוד", "Daniel", &params) < DEFAULT_THRESHOLD);
    assert!(name_score(&norm, "דוד", "Dov", &params) < DEFAULT_THRESHOLD);
}
