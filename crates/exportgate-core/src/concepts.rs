//! One definition per legal concept the rules name: the licence exceptions and the item flags,
//! each an enum with its wire name (the name the regime data and decisions use). The ruleset's
//! validation lists ([`crate::ruleset::EXCEPTIONS`], [`crate::ruleset::FLAGS`]), the choice of
//! an exception and the flag lookup are written from these. The due-diligence facts
//! ([`Fact`]) too: the names regime data tests, orders give and party records hold; what a
//! fact's value is and how a test is checked are in [`crate::facts`]. (ECCNs are
//! [`crate::eccn::Eccn`].)

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A licence exception a requirement may be met by (15 CFR part 740).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LicenceException {
    /// Notified Advanced Computing (740.8).
    Nac,
    /// Advanced Compute Authorized (740.8).
    Aca,
    /// Low Processing Performance (AI Diffusion).
    Lpp,
    /// Artificial Intelligence Authorization (AI Diffusion).
    Aia,
    /// Advanced Compute Manufacturing (AI Diffusion).
    Acm,
    /// High-bandwidth memory (740.25).
    Hbm,
}

impl LicenceException {
    /// Every exception, in the order the data's validation names them.
    pub const ALL: [LicenceException; 6] = [
        LicenceException::Nac,
        LicenceException::Aca,
        LicenceException::Lpp,
        LicenceException::Aia,
        LicenceException::Acm,
        LicenceException::Hbm,
    ];

    /// The order in which a decision prefers an exception that meets every requirement.
    pub const PREFERENCE: [LicenceException; 6] = [
        LicenceException::Aca,
        LicenceException::Aia,
        LicenceException::Hbm,
        LicenceException::Nac,
        LicenceException::Lpp,
        LicenceException::Acm,
    ];

    /// The wire name (`NAC`, `ACA`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            LicenceException::Nac => "NAC",
            LicenceException::Aca => "ACA",
            LicenceException::Lpp => "LPP",
            LicenceException::Aia => "AIA",
            LicenceException::Acm => "ACM",
            LicenceException::Hbm => "HBM",
        }
    }

    /// The exception of a wire name.
    pub fn parse(name: &str) -> Option<LicenceException> {
        LicenceException::ALL
            .into_iter()
            .find(|x| x.as_str() == name)
    }
}

/// A fact about an item that rules test (`items.flags`, `items.not_flags`), set by the
/// classification ([`crate::classify::Flags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemFlag {
    NacAcaEligible,
    HbmExceptionEligible,
    Jan2026Ceiling,
    H20Class,
    FoundryPresumption,
    Prc3a090,
    Datacenter,
}

impl ItemFlag {
    /// Every flag, in the order the data's validation names them.
    pub const ALL: [ItemFlag; 7] = [
        ItemFlag::NacAcaEligible,
        ItemFlag::HbmExceptionEligible,
        ItemFlag::Jan2026Ceiling,
        ItemFlag::H20Class,
        ItemFlag::FoundryPresumption,
        ItemFlag::Prc3a090,
        ItemFlag::Datacenter,
    ];

    /// The wire name (`h20_class`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemFlag::NacAcaEligible => "nac_aca_eligible",
            ItemFlag::HbmExceptionEligible => "hbm_exception_eligible",
            ItemFlag::Jan2026Ceiling => "jan2026_ceiling",
            ItemFlag::H20Class => "h20_class",
            ItemFlag::FoundryPresumption => "foundry_presumption",
            ItemFlag::Prc3a090 => "prc_3a090",
            ItemFlag::Datacenter => "datacenter",
        }
    }

    /// The flag of a wire name.
    pub fn parse(name: &str) -> Option<ItemFlag> {
        ItemFlag::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The kind of a fact's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    Date,
    Number,
    Bool,
    Text,
}

impl FactKind {
    /// The kind's name in messages: `date`, `number`, `bool`, `text`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FactKind::Date => "date",
            FactKind::Number => "number",
            FactKind::Bool => "bool",
            FactKind::Text => "text",
        }
    }
}

/// A set of facts (a bit per [`Fact::index`]): the facts a decision drew from one source.
/// Serialised as their wire names in the order of [`Fact::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FactSet(u32);

// Every fact has its bit.
const _: () = assert!(Fact::COUNT <= u32::BITS as usize);

impl FactSet {
    /// Adds a fact.
    pub fn insert(&mut self, fact: Fact) {
        self.0 |= 1 << fact.index();
    }

    /// Whether the set holds `fact`.
    pub fn contains(self, fact: Fact) -> bool {
        self.0 & (1 << fact.index()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Every fact of both sets.
    pub fn union(self, other: FactSet) -> FactSet {
        FactSet(self.0 | other.0)
    }

    /// The facts of this set that `other` lacks.
    pub fn minus(self, other: FactSet) -> FactSet {
        FactSet(self.0 & !other.0)
    }

    /// The facts in the order of [`Fact::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Fact> {
        Fact::ALL.into_iter().filter(move |f| self.contains(*f))
    }

    /// The wire names, in the order of [`Fact::ALL`].
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Fact::as_str).collect()
    }
}

impl Serialize for FactSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for f in self.iter() {
            seq.serialize_element(f.as_str())?;
        }
        seq.end()
    }
}

/// A due-diligence fact: the red-flag facts of an order's `due_diligence` (which a party
/// record may hold too), the two order facts `quantity` and `tpp_total` (a rule may test them,
/// a record cannot hold them), and the documents a record may hold (`true`: on file), which
/// no rule tests. The order of the variants is the order a decision reports fact sources in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fact {
    CustomerSince,
    PriorOrders,
    BusinessHistoryYears,
    OnlinePresence,
    BusinessNeedShown,
    DeliveryAddressType,
    DeliveryAddressConsistent,
    DataCentreCapacityShown,
    StatedCapacityMw,
    NormalDistribution,
    Intermediary,
    TrainingOperations,
    HbmExceptionConditionsMet,
    Quantity,
    TppTotal,
    EndUseStatement,
    SiteVisit,
    CapacityEvidence,
}

impl Fact {
    /// How many facts there are: the length of an array indexed by [`Fact::index`].
    pub const COUNT: usize = 18;

    /// Every fact, in the order of [`Fact::index`].
    pub const ALL: [Fact; Fact::COUNT] = [
        Fact::CustomerSince,
        Fact::PriorOrders,
        Fact::BusinessHistoryYears,
        Fact::OnlinePresence,
        Fact::BusinessNeedShown,
        Fact::DeliveryAddressType,
        Fact::DeliveryAddressConsistent,
        Fact::DataCentreCapacityShown,
        Fact::StatedCapacityMw,
        Fact::NormalDistribution,
        Fact::Intermediary,
        Fact::TrainingOperations,
        Fact::HbmExceptionConditionsMet,
        Fact::Quantity,
        Fact::TppTotal,
        Fact::EndUseStatement,
        Fact::SiteVisit,
        Fact::CapacityEvidence,
    ];

    /// The facts a party record may hold, in the order a decision reports their sources:
    /// the red-flag facts, then the documents.
    pub const ON_RECORD: [Fact; 16] = {
        let mut out = [Fact::CustomerSince; 16];
        let (mut i, mut j) = (0, 0);
        while i < Fact::COUNT {
            if Fact::ALL[i].on_record() {
                out[j] = Fact::ALL[i];
                j += 1;
            }
            i += 1;
        }
        out
    };

    /// The fact's position in [`Fact::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The wire name: the field of an order's `due_diligence`, the key of a party record's
    /// `facts`, the `fact` of a fact test in regime data.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fact::CustomerSince => "customer_since",
            Fact::PriorOrders => "prior_orders",
            Fact::BusinessHistoryYears => "business_history_years",
            Fact::OnlinePresence => "online_presence",
            Fact::BusinessNeedShown => "business_need_shown",
            Fact::DeliveryAddressType => "delivery_address_type",
            Fact::DeliveryAddressConsistent => "delivery_address_consistent",
            Fact::DataCentreCapacityShown => "data_centre_capacity_shown",
            Fact::StatedCapacityMw => "stated_capacity_mw",
            Fact::NormalDistribution => "normal_distribution",
            Fact::Intermediary => "intermediary",
            Fact::TrainingOperations => "training_operations",
            Fact::HbmExceptionConditionsMet => "hbm_exception_conditions_met",
            Fact::Quantity => "quantity",
            Fact::TppTotal => "tpp_total",
            Fact::EndUseStatement => "end_use_statement",
            Fact::SiteVisit => "site_visit",
            Fact::CapacityEvidence => "capacity_evidence",
        }
    }

    /// The fact with this wire name.
    pub fn parse(name: &str) -> Option<Fact> {
        Fact::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The kind of the fact's value.
    pub const fn kind(self) -> FactKind {
        match self {
            Fact::CustomerSince => FactKind::Date,
            Fact::PriorOrders
            | Fact::BusinessHistoryYears
            | Fact::StatedCapacityMw
            | Fact::TrainingOperations
            | Fact::Quantity
            | Fact::TppTotal => FactKind::Number,
            Fact::OnlinePresence | Fact::DeliveryAddressType | Fact::Intermediary => FactKind::Text,
            Fact::BusinessNeedShown
            | Fact::DeliveryAddressConsistent
            | Fact::DataCentreCapacityShown
            | Fact::NormalDistribution
            | Fact::HbmExceptionConditionsMet
            | Fact::EndUseStatement
            | Fact::SiteVisit
            | Fact::CapacityEvidence => FactKind::Bool,
        }
    }

    /// A document a party record may hold (`true`: on file); no rule tests it.
    pub const fn is_document(self) -> bool {
        matches!(
            self,
            Fact::EndUseStatement | Fact::SiteVisit | Fact::CapacityEvidence
        )
    }

    /// An order fact (`quantity`, `tpp_total`): not about the party, so never on its record.
    pub const fn order_only(self) -> bool {
        matches!(self, Fact::Quantity | Fact::TppTotal)
    }

    /// A party record may hold it.
    pub const fn on_record(self) -> bool {
        !self.order_only()
    }

    /// A rule may test it.
    pub const fn testable(self) -> bool {
        !self.is_document()
    }
}

impl Serialize for Fact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Fact {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fact, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Fact::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown fact `{name}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fact set lists its facts by wire name in the order of `Fact::ALL`, whatever order
    /// they were added in, each once.
    #[test]
    fn a_fact_set_serialises_its_names_in_fact_order() {
        let mut set = FactSet::default();
        assert!(set.is_empty());
        for f in [Fact::SiteVisit, Fact::CustomerSince, Fact::SiteVisit] {
            set.insert(f);
        }
        let mut other = FactSet::default();
        other.insert(Fact::PriorOrders);
        let set = set.union(other);
        assert_eq!(set.len(), 3);
        assert_eq!(set.minus(other).len(), 2);
        assert!(set.contains(Fact::PriorOrders) && !set.contains(Fact::Quantity));
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["customer_since","prior_orders","site_visit"]"#
        );
    }

    #[test]
    fn every_wire_name_parses_back() {
        for x in LicenceException::ALL {
            assert_eq!(LicenceException::parse(x.as_str()), Some(x));
        }
        for f in ItemFlag::ALL {
            assert_eq!(ItemFlag::parse(f.as_str()), Some(f));
        }
        assert_eq!(LicenceException::parse("nac"), None);
        assert_eq!(ItemFlag::parse("H20_class"), None);
    }
}
