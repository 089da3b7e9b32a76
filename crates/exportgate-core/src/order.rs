//! Orders: the input of a licence decision, and their validation against the ruleset.

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::country::CountryCode;
use crate::ruleset::Ruleset;
use crate::spec::{Spec, SpecError};

pub use crate::facts::{check_fact_test, Fact, FactValue};
pub use crate::records::Owner;

/// The first order date the rules cover: the ruleset holds no regime in force before it, so an
/// earlier date would be decided against rules that did not yet exist.
pub const FIRST_ORDER_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2022, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// The horizon: the last order date the rules are kept for. Later dates are refused rather than
/// decided against rules that may have changed by then.
pub const LAST_ORDER_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2030, 12, 31) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// Checks an order date against the range the rules cover; the error names the field `date`.
pub fn check_order_date(date: NaiveDate) -> Result<(), SpecError> {
    if date < FIRST_ORDER_DATE || date > LAST_ORDER_DATE {
        return Err(SpecError::new(
            "date",
            format!(
                "{date} is outside the dates the rules cover ({FIRST_ORDER_DATE} to \
                 {LAST_ORDER_DATE})"
            ),
        ));
    }
    Ok(())
}

/// Checks an order id: not empty, no control characters; the error names the field `id`.
fn check_order_id(id: &str) -> Result<(), SpecError> {
    if id.trim().is_empty() {
        return Err(SpecError::new("id", "must not be empty"));
    }
    if let Some((i, c)) = id.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(SpecError::new(
            "id",
            format!(
                "contains the control character U+{:04X} at character {}",
                c as u32,
                i + 1
            ),
        ));
    }
    Ok(())
}

/// What is ordered: a catalog id or an inline spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Spec>,
}

/// A party to the order: exporter, consignee, end user or intermediary. Its names and codes are
/// [`CompactString`]s: most fit inline, so copying a party record's identity into an order
/// allocates nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// The party's name; may be left out when `party_id` names a party record.
    #[serde(default)]
    #[schemars(with = "String")]
    pub name: CompactString,
    /// A party record (`exportgate parties`) whose identity and current due-diligence facts
    /// the decision draws on; what the order line gives overrides the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub party_id: Option<CompactString>,
    /// Where the party is located.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub country: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub headquarters: Option<CompactString>,
    /// Where the ultimate parent is headquartered (the party's own country when it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub parent_headquarters: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// Ownership has been checked for listed owners (affiliates rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_checked: Option<bool>,
    /// The party's role in the trade: `foundry`, `osat`, `distributor`, `reseller`,
    /// `freight_forwarder`, `oem`, `data_centre`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub role: Option<CompactString>,
}

/// What the items will be used for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndUse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub id: String,
    #[serde(deserialize_with = "crate::iso_date::deserialize")]
    pub date: NaiveDate,
    pub item: OrderItem,
    pub quantity: u64,
    pub destination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter: Option<Party>,
    pub consignee: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_user: Option<Party>,
    /// A reseller or freight forwarder between the exporter and the consignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intermediary: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_use: Option<EndUse>,
    /// Facts for the diversion red flags; each missing fact is reported as unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_diligence: Option<DueDiligence>,
    /// Order value in US dollars (reported by the simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_usd: Option<f64>,
    /// Who packaged the die into the final IC (the foundry rule's transistor-count rebuttal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packaging: Option<Packaging>,
    /// The Data Center VEU authorisation (UVEU/NVEU, 15 CFR 748.15) the consignee receives the
    /// items under, by its id on the ledger (`exportgate veu add`). Read by the pipeline only:
    /// under the AI Diffusion framework, `ship` draws a Tier 2 order's TPP on the VEU's
    /// compute instead of the country allocation, within the VEU's shares and caps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub veu: Option<String>,
    /// The party records linked to the order (set by `kyc::PartyIndex::attach`, never read
    /// from input).
    #[serde(skip)]
    pub kyc: Option<std::sync::Arc<crate::records::Kyc>>,
}

/// Who packaged the die, and where: under Note 1 to 3A090.a (90 FR 5298) a transistor count
/// below the threshold rebuts the foundry presumption only when the die was packaged by the
/// front-end fabricator outside Macau and Country Group D:5 (Note 1.b) or by an approved OSAT
/// company listed in Supp. No. 7 to part 740 (Note 1.c), on that packager's attestation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Packaging {
    /// `front_end_fabricator`, `approved_osat` or `other`.
    pub by: String,
    /// Where it was packaged; needed when the front-end fabricator packaged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The packagers [`Packaging::by`] may name.
pub const PACKAGERS: [&str; 3] = ["front_end_fabricator", "approved_osat", "other"];

/// Know-your-customer facts behind the diversion red flags (BIS guidance of 13 May 2025).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DueDiligence {
    /// When the customer first ordered advanced ICs from the exporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_since: Option<NaiveDate>,
    /// Orders the customer placed before this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_orders: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_history_years: Option<f64>,
    /// `minimal` or `established`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_presence: Option<String>,
    /// The customer showed a business need for the ICs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_need_shown: Option<bool>,
    /// `residential`, `commercial`, `data_centre` or `freight_forwarder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_address_type: Option<String>,
    /// The delivery address is specific and consistent with the customer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_address_consistent: Option<bool>,
    /// A data centre showed power and cooling for the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_centre_capacity_shown: Option<bool>,
    /// Stated data-centre power capacity, MW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_capacity_mw: Option<f64>,
    /// The sale runs through the exporter's normal distribution channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal_distribution: Option<bool>,
    /// `none`, `reseller` or `freight_forwarder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intermediary: Option<String>,
    /// IaaS: operations of the model the customer will train.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_operations: Option<f64>,
    /// The exporter has checked this transaction against the party and reporting conditions of
    /// License Exception HBM (15 CFR 740.25), which exportgate does not model (their text was
    /// not read): without this statement the exception is not offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hbm_exception_conditions_met: Option<bool>,
}

impl DueDiligence {
    /// A fact the order line gives (`quantity` and `tpp_total` come from the order, not from
    /// here; the documents only from party records).
    pub fn fact(&self, fact: Fact) -> Option<FactValue> {
        match fact {
            Fact::CustomerSince => self.customer_since.map(FactValue::Date),
            Fact::PriorOrders => self.prior_orders.map(|n| FactValue::Number(f64::from(n))),
            Fact::BusinessHistoryYears => self.business_history_years.map(FactValue::Number),
            Fact::OnlinePresence => self
                .online_presence
                .as_deref()
                .map(|s| FactValue::Text(s.into())),
            Fact::BusinessNeedShown => self.business_need_shown.map(FactValue::Bool),
            Fact::DeliveryAddressType => self
                .delivery_address_type
                .as_deref()
                .map(|s| FactValue::Text(s.into())),
            Fact::DeliveryAddressConsistent => {
                self.delivery_address_consistent.map(FactValue::Bool)
            }
            Fact::DataCentreCapacityShown => self.data_centre_capacity_shown.map(FactValue::Bool),
            Fact::StatedCapacityMw => self.stated_capacity_mw.map(FactValue::Number),
            Fact::NormalDistribution => self.normal_distribution.map(FactValue::Bool),
            Fact::Intermediary => self
                .intermediary
                .as_deref()
                .map(|s| FactValue::Text(s.into())),
            Fact::TrainingOperations => self.training_operations.map(FactValue::Number),
            Fact::HbmExceptionConditionsMet => {
                self.hbm_exception_conditions_met.map(FactValue::Bool)
            }
            Fact::Quantity
            | Fact::TppTotal
            | Fact::EndUseStatement
            | Fact::SiteVisit
            | Fact::CapacityEvidence => None,
        }
    }
}

/// A party with its countries resolved; borrows the rest from the order.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedParty<'a> {
    pub name: &'a str,
    pub country: Option<CountryCode>,
    pub headquarters: Option<CountryCode>,
    pub parent_headquarters: Option<CountryCode>,
    pub owners: &'a [Owner],
    pub ownership_checked: Option<bool>,
    pub role: Option<&'a str>,
}

/// An order checked against the ruleset: countries resolved, the item's spec found.
#[derive(Debug, Clone)]
pub struct ResolvedOrder<'a> {
    pub order: &'a Order,
    pub chip: Option<&'a str>,
    pub spec: &'a Spec,
    pub destination: CountryCode,
    pub exporter: Option<ResolvedParty<'a>>,
    pub consignee: ResolvedParty<'a>,
    /// Defaults to the consignee.
    pub end_user: ResolvedParty<'a>,
    /// Where the die was packaged, when the order says.
    pub packaging_country: Option<CountryCode>,
}

/// Resolve an optional country field (`{party}.{field}`); the field is named only on error.
fn country(
    rs: &Ruleset,
    party: &str,
    field: &str,
    value: Option<&str>,
) -> Result<Option<CountryCode>, SpecError> {
    match value {
        None => Ok(None),
        Some(v) => rs.countries.code(v).map(Some).ok_or_else(|| {
            SpecError::new(format!("{party}.{field}"), format!("unknown country `{v}`"))
        }),
    }
}

fn party<'a>(rs: &Ruleset, field: &str, p: &'a Party) -> Result<ResolvedParty<'a>, SpecError> {
    if p.name.trim().is_empty() {
        if let Some(id) = &p.party_id {
            // The pipeline fills the name from the record; without one the id is unknown.
            return Err(SpecError::new(
                format!("{field}.party_id"),
                format!("unknown party `{id}`: no party record gives its name (see `exportgate parties list`)"),
            ));
        }
        return Err(SpecError::new(format!("{field}.name"), "must not be empty"));
    }
    for (i, o) in p.owners.iter().enumerate() {
        if !o.percent.is_finite() || o.percent < 0.0 || o.percent > 100.0 {
            return Err(SpecError::new(
                format!("{field}.owners[{i}].percent"),
                "must be between 0 and 100",
            ));
        }
    }
    Ok(ResolvedParty {
        name: &p.name,
        country: country(rs, field, "country", p.country.as_deref())?,
        headquarters: country(rs, field, "headquarters", p.headquarters.as_deref())?,
        parent_headquarters: country(
            rs,
            field,
            "parent_headquarters",
            p.parent_headquarters.as_deref(),
        )?,
        owners: &p.owners,
        ownership_checked: p.ownership_checked,
        role: p.role.as_deref(),
    })
}

impl Order {
    /// Parse one order from JSON.
    pub fn from_json(text: &str) -> Result<Order, SpecError> {
        // The fast path; the slower path-tracking parse runs only to name the field at fault.
        // (serde_json: sonic-rs, used for output, parsed these lines no faster.)
        serde_json::from_str(text).or_else(|_| crate::spec::parse_json(text))
    }

    /// Check the order against the ruleset and resolve its references.
    pub fn resolve<'a>(&'a self, rs: &'a Ruleset) -> Result<ResolvedOrder<'a>, SpecError> {
        check_order_id(&self.id)?;
        check_order_date(self.date)?;
        if self.quantity == 0 {
            return Err(SpecError::new("quantity", "must be at least 1"));
        }
        if let Some(v) = self.value_usd {
            if !v.is_finite() || v < 0.0 {
                return Err(SpecError::new("value_usd", "must be a non-negative number"));
            }
        }
        let (chip, spec) = match (&self.item.chip, &self.item.spec) {
            (Some(id), None) => {
                let e = rs
                    .catalog
                    .get(id)
                    .ok_or_else(|| rs.catalog.unknown(id, "item.chip"))?;
                (Some(e.id.as_str()), &e.spec)
            }
            (None, Some(spec)) => {
                spec.validate("item.spec.")?;
                (None, spec)
            }
            _ => {
                return Err(SpecError::new(
                    "item",
                    "give exactly one of `chip` or `spec`",
                ))
            }
        };
        let destination = rs.countries.code(&self.destination).ok_or_else(|| {
            SpecError::new(
                "destination",
                format!("unknown country `{}`", self.destination),
            )
        })?;
        let consignee = party(rs, "consignee", &self.consignee)?;
        if let Some(u) = &self.end_use {
            for (i, tag) in u.tags.iter().enumerate() {
                if !rs.end_use_tags.contains(tag) {
                    return Err(SpecError::new(
                        format!("end_use.tags[{i}]"),
                        format!(
                            "unknown end-use tag `{tag}`; the known tags are {} \
                             (`exportgate tags` says what each means)",
                            rs.end_use_tags.names()
                        ),
                    ));
                }
            }
        }
        let end_user = match &self.end_user {
            Some(p) => party(rs, "end_user", p)?,
            None => consignee,
        };
        if let Some(p) = &self.intermediary {
            party(rs, "intermediary", p)?;
        }
        let exporter = match &self.exporter {
            Some(p) => Some(party(rs, "exporter", p)?),
            None => None,
        };
        let packaging_country = match &self.packaging {
            Some(pk) => {
                if !PACKAGERS.contains(&pk.by.as_str()) {
                    return Err(SpecError::new(
                        "packaging.by",
                        format!(
                            "unknown packager `{}`; give one of {}",
                            pk.by,
                            PACKAGERS.join(", ")
                        ),
                    ));
                }
                country(rs, "packaging", "country", pk.country.as_deref())?
            }
            None => None,
        };
        Ok(ResolvedOrder {
            order: self,
            chip,
            spec,
            destination,
            exporter,
            consignee,
            end_user,
            packaging_country,
        })
    }
}
