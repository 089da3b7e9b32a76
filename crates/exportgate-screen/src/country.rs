//! Country names to ISO 3166 alpha-2 codes, for lists that give country names (OFAC, UN,
//! Japan) and for the party's country given on an order.
//!
//! The table covers the countries that appear in the lists we load; an unknown name is kept
//! as given (upper-cased), so that nothing is lost, and simply never equals a code.

/// `(ISO alpha-2, names...)`, names lower-case.
const COUNTRIES: &[(&str, &[&str])] = &[
    ("AF", &["afghanistan", "islamic republic of afghanistan"]),
    (
        "AE",
        &[
            "united arab emirates",
            "uae",
            "dubai",
            "sharjah",
            "abu dhabi",
        ],
    ),
    ("AL", &["albania"]),
    ("AM", &["armenia"]),
    ("AO", &["angola"]),
    ("AR", &["argentina"]),
    ("AT", &["austria"]),
    ("AU", &["australia"]),
    ("AZ", &["azerbaijan"]),
    ("BA", &["bosnia and herzegovina"]),
    ("BD", &["bangladesh"]),
    ("BE", &["belgium"]),
    ("BG", &["bulgaria"]),
    ("BH", &["bahrain"]),
    ("BR", &["brazil"]),
    ("BY", &["belarus"]),
    ("CA", &["canada"]),
    (
        "CD",
        &[
            "democratic republic of the congo",
            "congo, democratic republic of the",
            "drc",
        ],
    ),
    ("CF", &["central african republic"]),
    ("CG", &["congo", "republic of the congo"]),
    ("CH", &["switzerland"]),
    (
        "CN",
        &[
            "china",
            "people's republic of china",
            "prc",
            "china (prc)",
            "中国",
        ],
    ),
    ("CO", &["colombia"]),
    ("CU", &["cuba"]),
    ("CY", &["cyprus"]),
    ("CZ", &["czech republic", "czechia"]),
    ("DE", &["germany"]),
    ("DK", &["denmark"]),
    ("DZ", &["algeria"]),
    ("EC", &["ecuador"]),
    ("EG", &["egypt"]),
    ("ER", &["eritrea"]),
    ("ES", &["spain"]),
    ("ET", &["ethiopia"]),
    ("FI", &["finland"]),
    ("FR", &["france"]),
    ("GB", &["united kingdom", "uk", "great britain", "england"]),
    ("GE", &["georgia"]),
    ("GR", &["greece"]),
    ("GT", &["guatemala"]),
    ("HK", &["hong kong", "hong kong sar", "hong kong, china"]),
    ("HU", &["hungary"]),
    ("ID", &["indonesia"]),
    ("IE", &["ireland"]),
    ("IL", &["israel"]),
    ("IN", &["india"]),
    ("IQ", &["iraq"]),
    (
        "IR",
        &[
            "iran",
            "islamic republic of iran",
            "iran (islamic republic of)",
        ],
    ),
    ("IT", &["italy"]),
    ("JO", &["jordan"]),
    ("JP", &["japan"]),
    ("KE", &["kenya"]),
    ("KG", &["kyrgyzstan"]),
    ("KH", &["cambodia"]),
    (
        "KP",
        &[
            "north korea",
            "korea, north",
            "democratic people's republic of korea",
            "dprk",
        ],
    ),
    ("KR", &["south korea", "korea, south", "republic of korea"]),
    ("KW", &["kuwait"]),
    ("KZ", &["kazakhstan"]),
    ("LB", &["lebanon"]),
    ("LK", &["sri lanka"]),
    ("LR", &["liberia"]),
    ("LY", &["libya"]),
    ("MA", &["morocco"]),
    ("MD", &["moldova"]),
    ("ML", &["mali"]),
    ("MM", &["burma", "myanmar"]),
    ("MO", &["macau", "macao"]),
    ("MV", &["maldives"]),
    ("MX", &["mexico"]),
    ("MY", &["malaysia"]),
    ("NG", &["nigeria"]),
    ("NI", &["nicaragua"]),
    ("NL", &["netherlands"]),
    ("NO", &["norway"]),
    ("NZ", &["new zealand"]),
    ("OM", &["oman"]),
    ("PA", &["panama"]),
    ("PE", &["peru"]),
    ("PH", &["philippines"]),
    ("PK", &["pakistan"]),
    ("PL", &["poland"]),
    ("PS", &["palestinian", "palestine", "west bank", "gaza"]),
    ("PT", &["portugal"]),
    ("QA", &["qatar"]),
    ("RO", &["romania"]),
    ("RS", &["serbia"]),
    ("RU", &["russia", "russian federation"]),
    ("RW", &["rwanda"]),
    ("SA", &["saudi arabia"]),
    ("SD", &["sudan"]),
    ("SE", &["sweden"]),
    ("SG", &["singapore"]),
    ("SO", &["somalia"]),
    ("SS", &["south sudan"]),
    ("SY", &["syria", "syrian arab republic"]),
    ("TH", &["thailand"]),
    ("TJ", &["tajikistan"]),
    ("TM", &["turkmenistan"]),
    ("TR", &["turkey", "turkiye", "türkiye"]),
    ("TW", &["taiwan"]),
    ("TZ", &["tanzania"]),
    ("UA", &["ukraine"]),
    ("UG", &["uganda"]),
    ("US", &["united states", "united states of america", "usa"]),
    ("UZ", &["uzbekistan"]),
    ("VE", &["venezuela"]),
    ("VN", &["vietnam", "viet nam"]),
    ("YE", &["yemen"]),
    ("ZA", &["south africa"]),
    ("ZW", &["zimbabwe"]),
];

/// Returns the ISO alpha-2 code for a code or a country name, or `None` if unknown.
pub fn to_iso2(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if t.len() == 2 {
        let up = t.to_ascii_uppercase();
        return COUNTRIES.iter().find(|(c, _)| *c == up).map(|(c, _)| *c);
    }
    let low = t.to_lowercase();
    COUNTRIES
        .iter()
        .find(|(_, names)| names.contains(&low.as_str()))
        .map(|(c, _)| *c)
}

/// Normalises a country for storage: the ISO code if known, a two-letter code upper-cased,
/// else the text as given.
pub fn normalize_country(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Some(c) = to_iso2(t) {
        return Some(c.to_string());
    }
    if t.len() == 2 && t.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(t.to_ascii_uppercase());
    }
    Some(t.to_string())
}

/// Pushes a country onto a list unless it is empty or already there.
pub(crate) fn push_country(list: &mut Vec<String>, text: &str) {
    if let Some(c) = normalize_country(text) {
        if !list.contains(&c) {
            list.push(c);
        }
    }
}

/// Splits a leading country name off a text: "People's Republic of China Acme Co." gives
/// `("CN", "Acme Co.")`. The longest matching name wins; the rest must start at a word
/// boundary.
pub fn split_country_prefix(text: &str) -> Option<(&'static str, &str)> {
    let t = text.trim_start();
    let mut best: Option<(&'static str, usize)> = None;
    for (code, names) in COUNTRIES {
        for n in *names {
            let Some(head) = t.get(..n.len()) else {
                continue;
            };
            let rest = &t[n.len()..];
            if head.eq_ignore_ascii_case(n)
                && rest.starts_with(' ')
                && best.is_none_or(|(_, l)| n.len() > l)
            {
                best = Some((code, n.len()));
            }
        }
    }
    best.map(|(c, l)| (c, t[l..].trim()))
}
