//! One definition per legal concept the rules name: the licence exceptions and the item flags,
//! each an enum with its wire name (the name the regime data and decisions use). The ruleset's
//! validation lists ([`crate::ruleset::EXCEPTIONS`], [`crate::ruleset::FLAGS`]), the choice of
//! an exception and the flag lookup are written from these. (ECCNs are [`crate::eccn::Eccn`];
//! due-diligence fact names are in [`crate::facts`].)

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

#[cfg(test)]
mod tests {
    use super::*;

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
