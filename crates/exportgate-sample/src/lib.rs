//! exportgate-sample: a deterministic generator of realistic order books.
//!
//! The same seed gives the same book on every machine (ChaCha8). Destinations are weighted by
//! data-centre markets, chips span generations, and parties are drawn from clean names and,
//! when given, from real list names, with the facts the rules need (headquarters, parents,
//! ownership, end use) present at realistic rates and sometimes missing. Pure: no I/O, no clock.

use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, HashMap};

use exportgate_core::kyc::{EstablishedFact, PartyRecord};
use exportgate_core::order::{DueDiligence, EndUse, Order, OrderItem, Owner, Party};
use exportgate_core::CompactString;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Destination weights, roughly by data-centre market size (per mille).
const DESTINATIONS: &[(&str, u32)] = &[
    ("US", 260),
    ("CN", 70),
    ("HK", 15),
    ("JP", 45),
    ("KR", 35),
    ("TW", 40),
    ("SG", 40),
    ("IN", 45),
    ("DE", 45),
    ("GB", 45),
    ("FR", 25),
    ("NL", 25),
    ("IE", 20),
    ("SE", 10),
    ("CA", 30),
    ("AU", 20),
    ("AE", 35),
    ("SA", 30),
    ("QA", 5),
    ("IL", 20),
    ("MY", 35),
    ("VN", 15),
    ("TH", 10),
    ("ID", 10),
    ("BR", 15),
    ("MX", 10),
    ("PL", 10),
    ("CH", 10),
    ("TR", 5),
    ("KZ", 3),
    ("MO", 2),
    ("RU", 2),
    ("KH", 3),
];

/// Chips across generations, with weights.
const CHIPS: &[(&str, u32)] = &[
    ("nvidia-a100", 40),
    ("nvidia-h100-sxm", 120),
    ("nvidia-h100-pcie", 40),
    ("nvidia-h200", 90),
    ("nvidia-h20", 60),
    ("nvidia-b200", 80),
    ("nvidia-gb200", 40),
    ("nvidia-b300", 40),
    ("nvidia-l40s", 50),
    ("nvidia-l40", 20),
    ("nvidia-l20", 20),
    ("nvidia-l2", 10),
    ("nvidia-rtx-4090", 40),
    ("nvidia-rtx-4090d", 20),
    ("nvidia-rtx-5090", 30),
    ("nvidia-rtx-5090d", 15),
    ("nvidia-rtx-pro-6000", 20),
    ("amd-mi300x", 40),
    ("amd-mi325x", 25),
    ("amd-mi355x", 20),
    ("amd-mi308x", 10),
    ("intel-gaudi3", 15),
    ("google-tpu-v5p", 5),
    ("huawei-ascend-910b", 4),
    ("huawei-ascend-910c", 3),
    ("hbm3e", 15),
    ("hbm3", 10),
    ("nvidia-hgx-h100-8gpu", 30),
];

const COMPANY_WORDS: &[&str] = &[
    "Aurora",
    "Boreal",
    "Cobalt",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orion",
    "Pinnacle",
    "Quartz",
    "Riverside",
    "Summit",
    "Tidal",
    "Umber",
    "Vertex",
    "Willow",
    "Xenon",
    "Yarrow",
    "Zenith",
];
const COMPANY_KINDS: &[&str] = &[
    "Cloud",
    "Compute",
    "Data Centers",
    "AI Labs",
    "Systems",
    "Networks",
    "Hosting",
    "Research",
];
const END_USES: &[(&[&str], &str)] = &[
    (&["inference"], "model serving"),
    (&["iaas"], "cloud infrastructure"),
    (&["ai_training"], "training of language models"),
    (&["research"], "university research cluster"),
    (&["rendering"], "visual effects rendering"),
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct BookSpec {
    pub orders: usize,
    pub seed: u64,
    /// First order date; orders spread over `days` days after it.
    pub start: NaiveDate,
    pub days: i64,
    /// Real names (e.g. Entity List entries) to draw a small share of parties from.
    pub list_names: Vec<(String, String)>,
}

impl BookSpec {
    pub fn new(orders: usize, seed: u64) -> BookSpec {
        BookSpec {
            orders,
            seed,
            start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default(),
            days: 365 * 4,
            list_names: Vec::new(),
        }
    }
}

fn weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (item, w) in items {
        if pick < *w {
            return item;
        }
        pick -= w;
    }
    &items[items.len() - 1].0
}

/// A customer's stable facts, drawn once per customer.
struct Customer {
    /// Shows diversion red flags (about 3% of customers).
    suspicious: bool,
    name: String,
    country: String,
    headquarters: Option<String>,
    parent: Option<String>,
    owners: Vec<Owner>,
    checked: bool,
}

fn customer(rng: &mut ChaCha8Rng, index: usize, spec: &BookSpec) -> Customer {
    let country = weighted(rng, DESTINATIONS).to_string();
    if !spec.list_names.is_empty() && rng.random_ratio(1, 100) {
        let (name, c) = &spec.list_names[rng.random_range(0..spec.list_names.len())];
        let c = if c.len() == 2 {
            c.clone()
        } else {
            country.clone()
        };
        return Customer {
            suspicious: false,
            name: name.clone(),
            country: c.clone(),
            headquarters: Some(c.clone()),
            parent: Some(c),
            owners: Vec::new(),
            checked: true,
        };
    }
    let name = format!(
        "{} {} {}",
        COMPANY_WORDS[rng.random_range(0..COMPANY_WORDS.len())],
        COMPANY_KINDS[rng.random_range(0..COMPANY_KINDS.len())],
        index
    );
    // Most customers are headquartered where they are; some are subsidiaries of foreign parents.
    let parent = match rng.random_range(0..100) {
        0..=79 => Some(country.clone()),
        80..=87 => Some("US".to_string()),
        88..=92 => Some("CN".to_string()),
        93..=96 => Some(weighted(rng, DESTINATIONS).to_string()),
        _ => None,
    };
    let headquarters = if rng.random_ratio(1, 50) {
        None
    } else {
        Some(country.clone())
    };
    let owners = if rng.random_ratio(1, 200) {
        vec![Owner {
            name: "Listed Holding Co.".into(),
            percent: f64::from(rng.random_range(30..80u32)),
            listed: Some("EL".into()),
        }]
    } else {
        Vec::new()
    };
    let suspicious = rng.random_ratio(3, 100);
    Customer {
        suspicious,
        name,
        country,
        headquarters,
        parent,
        owners,
        checked: !rng.random_ratio(1, 40),
    }
}

/// Know-your-customer facts at rough, realistic rates: most customers are established and
/// clean; a few show the diversion red flags; some facts are simply not recorded.
fn due_diligence(rng: &mut ChaCha8Rng, c: &Customer, quantity: u64) -> DueDiligence {
    let mut d = DueDiligence::default();
    let maybe = |rng: &mut ChaCha8Rng, percent_known: u32| rng.random_range(0..100) < percent_known;
    if maybe(rng, 90) {
        let year = if c.suspicious {
            rng.random_range(2023..=2025)
        } else {
            rng.random_range(2012..=2025)
        };
        d.customer_since = NaiveDate::from_ymd_opt(year, rng.random_range(1..=12), 1);
    }
    if maybe(rng, 90) {
        d.prior_orders = Some(if c.suspicious && rng.random_ratio(1, 2) {
            0
        } else {
            rng.random_range(0..200)
        });
    }
    if maybe(rng, 80) {
        d.online_presence = Some(
            if c.suspicious && rng.random_ratio(1, 2) {
                "minimal"
            } else {
                "established"
            }
            .into(),
        );
    }
    if maybe(rng, 85) {
        d.business_need_shown = Some(!(c.suspicious && rng.random_ratio(1, 3)));
    }
    if maybe(rng, 95) {
        let kind = if c.suspicious && quantity >= 8 && rng.random_ratio(1, 4) {
            "residential"
        } else if rng.random_ratio(3, 4) {
            "data_centre"
        } else {
            "commercial"
        };
        d.delivery_address_type = Some(kind.into());
        if kind == "data_centre" {
            d.data_centre_capacity_shown = Some(!(c.suspicious && rng.random_ratio(1, 3)));
            d.stated_capacity_mw = Some(f64::from(rng.random_range(1..200u32)));
        }
    }
    if maybe(rng, 95) {
        d.delivery_address_consistent = Some(!(c.suspicious && rng.random_ratio(1, 4)));
    }
    if maybe(rng, 90) {
        let via = if c.suspicious && rng.random_ratio(1, 2) {
            "freight_forwarder"
        } else {
            "none"
        };
        d.intermediary = Some(via.into());
        d.normal_distribution = Some(via == "none");
    }
    d
}

/// Generate a book of orders.
pub fn generate(spec: &BookSpec) -> Vec<Order> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let customers: Vec<Customer> = (0..(spec.orders / 20).max(10))
        .map(|i| customer(&mut rng, i, spec))
        .collect();
    let mut dates: Vec<i64> = (0..spec.orders)
        .map(|_| rng.random_range(0..spec.days.max(1)))
        .collect();
    dates.sort_unstable();
    (0..spec.orders)
        .map(|i| {
            let c = &customers[rng.random_range(0..customers.len())];
            let chip = weighted(&mut rng, CHIPS).to_string();
            let quantity = match rng.random_range(0..100) {
                0..=59 => rng.random_range(1..=16),
                60..=89 => rng.random_range(16..=256),
                _ => rng.random_range(256..=4096),
            };
            let (tags, text) = END_USES[rng.random_range(0..END_USES.len())];
            let exporter_country = if rng.random_ratio(9, 10) {
                "US"
            } else {
                *weighted(&mut rng, &[("SG", 1), ("TW", 1), ("MY", 1), ("DE", 1)])
            };
            Order {
                id: format!("o-{:07}", i + 1),
                date: spec.start + Duration::days(dates[i]),
                item: OrderItem {
                    chip: Some(chip),
                    spec: None,
                },
                quantity,
                destination: c.country.clone(),
                exporter: Some(Party {
                    name: "Exporter Inc.".into(),
                    country: Some(exporter_country.into()),
                    ..Party::default()
                }),
                consignee: Party {
                    name: c.name.as_str().into(),
                    country: Some(c.country.as_str().into()),
                    headquarters: c.headquarters.as_deref().map(Into::into),
                    parent_headquarters: c.parent.as_deref().map(Into::into),
                    owners: c.owners.clone(),
                    ownership_checked: Some(c.checked),
                    role: None,
                    party_id: None,
                },
                end_user: None,
                intermediary: None,
                end_use: Some(EndUse {
                    text: Some(text.into()),
                    tags: tags.iter().map(|t| t.to_string()).collect(),
                }),
                due_diligence: Some(due_diligence(&mut rng, c, quantity)),
                value_usd: Some(f64::from(rng.random_range(8_000..40_000u32)) * quantity as f64),
                packaging: None,
                veu: None,
                kyc: None,
            }
        })
        .collect()
}

/// A book whose customers are party records (issue 16): one record per consignee, holding the
/// facts its first order carried, established the day before the book starts by the sample
/// KYC desk. About one record in ten is stale (its review date falls mid-book, so later orders
/// see its facts as unknown) and one in ten incomplete (a high-severity fact missing). Orders
/// name their party by `party_id` (85%), by name and country only (10%), or carry their facts
/// inline as today (5%, the order's facts overriding the record's).
pub fn generate_with_parties(spec: &BookSpec) -> (Vec<PartyRecord>, Vec<Order>) {
    let mut orders = generate(spec);
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x6b79_635f_7061_7274);
    let established = spec.start - Duration::days(1);
    let by = "sample KYC desk";
    let mut ids: HashMap<CompactString, usize> = HashMap::new();
    let mut parties: Vec<PartyRecord> = Vec::new();
    for o in &mut orders {
        let key = o.consignee.name.clone();
        let n = *ids.entry(key).or_insert_with(|| {
            let c = &o.consignee;
            let mut facts = BTreeMap::new();
            if let Some(d) = &o.due_diligence {
                let v = serde_json::to_value(d).unwrap_or_default();
                for (k, v) in v.as_object().into_iter().flatten() {
                    facts.insert(
                        k.clone(),
                        EstablishedFact {
                            value: v.clone(),
                            established,
                            by: by.into(),
                        },
                    );
                }
            }
            if rng.random_ratio(7, 10) {
                facts.insert(
                    "end_use_statement".into(),
                    EstablishedFact {
                        value: serde_json::Value::Bool(true),
                        established,
                        by: by.into(),
                    },
                );
            }
            if rng.random_ratio(1, 10) {
                facts.remove(if rng.random_ratio(1, 2) {
                    "business_need_shown"
                } else {
                    "delivery_address_consistent"
                });
            }
            let review_by = if rng.random_ratio(1, 10) {
                spec.start + Duration::days(rng.random_range(0..spec.days.max(1)))
            } else {
                spec.start + Duration::days(spec.days + 365)
            };
            parties.push(PartyRecord {
                id: format!("p-{:06}", parties.len() + 1).into(),
                name: c.name.clone(),
                aliases: Vec::new(),
                kinds: vec!["customer".into(), "consignee".into()],
                country: c
                    .country
                    .clone()
                    .unwrap_or_else(|| o.destination.as_str().into()),
                headquarters: c.headquarters.clone(),
                parent_headquarters: c.parent_headquarters.clone(),
                owners: c.owners.clone(),
                ownership_checked: c.ownership_checked,
                role: c.role.clone(),
                facts,
                review_by,
            });
            parties.len() - 1
        });
        match rng.random_range(0..100) {
            0..=84 => {
                o.consignee = Party {
                    party_id: Some(parties[n].id.clone()),
                    ..Party::default()
                };
                o.due_diligence = None;
            }
            85..=94 => {
                o.consignee = Party {
                    name: parties[n].name.clone(),
                    country: Some(parties[n].country.clone()),
                    ..Party::default()
                };
                o.due_diligence = None;
            }
            _ => {}
        }
    }
    (parties, orders)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_with_parties_references_valid_records() {
        let rs = exportgate_core::Ruleset::embedded().unwrap();
        let (parties, orders) = generate_with_parties(&BookSpec::new(2_000, 3));
        assert_eq!(parties.len(), 100, "one record per consignee, orders / 20");
        let checked: Vec<_> = parties
            .iter()
            .map(|p| exportgate_core::kyc::CheckedParty::new(p.clone(), &rs).unwrap())
            .collect();
        let ix = exportgate_core::kyc::PartyIndex::new(checked, &rs);
        let (mut by_id, mut by_name, mut stale) = (0, 0, 0);
        for o in &orders {
            let mut o = o.clone();
            ix.attach(&mut o, &rs).unwrap();
            let Some(k) = &o.kyc else { continue };
            match k.links[0].matched_by {
                "party_id" => by_id += 1,
                _ => by_name += 1,
            }
            stale += usize::from(!k.links[0].party.current_on(o.date));
        }
        assert!(by_id > 1_500 && by_name > 100, "{by_id} {by_name}");
        assert!(stale > 0, "some orders see a stale record");
        assert!(parties
            .iter()
            .any(|p| !p.facts.contains_key("business_need_shown")));
        assert_eq!(generate_with_parties(&BookSpec::new(2_000, 3)).0, parties);
    }

    #[test]
    fn the_same_seed_gives_the_same_book() {
        let a = generate(&BookSpec::new(500, 7));
        let b = generate(&BookSpec::new(500, 7));
        assert_eq!(a, b);
        assert_ne!(a, generate(&BookSpec::new(500, 8)));
    }

    #[test]
    fn every_generated_order_resolves_against_the_ruleset() {
        let rs = exportgate_core::Ruleset::embedded().unwrap();
        for o in generate(&BookSpec::new(2_000, 1)) {
            o.resolve(&rs).unwrap_or_else(|e| panic!("{}: {e}", o.id));
        }
    }
}
