//! Set membership: whether a country is in a compiled destination set ([`CountrySet`]) on a
//! date, why (for explanations), and the set in words. Evaluation uses it; it reads only the
//! countries and their Country Group history.

use chrono::NaiveDate;

use crate::country::{Countries, CountryCode};
use crate::rules::CountrySet;

impl CountrySet {
    /// The set in words, for explanations: its label, else its groups, countries and named
    /// sets (by their labels) joined by "or", with the exceptions after "not".
    pub fn describe(&self) -> String {
        let set = self;
        if let Some(l) = &set.label {
            return l.clone();
        }
        let mut parts: Vec<String> = set
            .groups
            .iter()
            .map(|g| format!("Country Group {}", g.name))
            .collect();
        parts.extend(set.countries.iter().map(|c| c.to_string()));
        // A named set reads as its label ("Macau or Country Group D:5"), not its key (`d5_macau`).
        parts.extend(set.sets.iter().map(|n| n.label.clone()));
        if set.all {
            parts.push("any country".into());
        }
        let mut s = parts.join(" or ");
        let ex: Vec<String> = set
            .except_groups
            .iter()
            .map(|g| format!("Country Group {}", g.name))
            .chain(set.except_countries.iter().map(|c| c.to_string()))
            .chain(set.except_sets.iter().map(|n| n.label.clone()))
            .collect();
        if !ex.is_empty() {
            s.push_str(&format!(" (not {})", ex.join(" or ")));
        }
        s
    }

    /// Is `code` in the set on `date` (membership alone; see [`Ruleset::contains`]).
    ///
    /// [`Ruleset::contains`]: crate::Ruleset::contains
    pub fn contains(&self, countries: &Countries, code: &CountryCode, date: NaiveDate) -> bool {
        self.membership(countries, code, date).0
    }

    /// Is `code` in the set on `date`? (member, unconfirmed, why).
    pub(crate) fn membership<'a>(
        &'a self,
        countries: &Countries,
        code: &CountryCode,
        date: NaiveDate,
    ) -> (bool, bool, SetWhy<'a>) {
        let set = self;
        let eff = *countries.effective(code);
        let is = |c: &CountryCode| c == code || *c == eff;
        let mut unconfirmed = false;
        let mut matched = if set.all { Some(Matched::Any) } else { None };
        if matched.is_none() {
            matched = set
                .countries
                .iter()
                .find(|c| is(c))
                .map(|_| Matched::Country);
        }
        for g in &set.groups {
            if matched.is_some() {
                break;
            }
            let a = countries.in_group_id(code, Some(g.id), date);
            unconfirmed |= a.unconfirmed;
            if a.member {
                matched = Some(Matched::Group(&g.name));
            }
        }
        for n in &set.sets {
            if matched.is_some() {
                break;
            }
            let (m, u, _) = n.set.membership(countries, code, date);
            unconfirmed |= u;
            if m {
                matched = Some(Matched::Set(&n.label));
            }
        }
        let Some(what) = matched else {
            return (false, unconfirmed, SetWhy::NotIn(set));
        };
        if set.except_countries.iter().any(is) {
            return (
                false,
                unconfirmed,
                SetWhy::Excluded(set, what, Matched::Country),
            );
        }
        for g in &set.except_groups {
            let a = countries.in_group_id(code, Some(g.id), date);
            unconfirmed |= a.unconfirmed;
            if a.member {
                return (
                    false,
                    unconfirmed,
                    SetWhy::Excluded(set, what, Matched::Group(&g.name)),
                );
            }
        }
        for n in &set.except_sets {
            let (m, u, _) = n.set.membership(countries, code, date);
            unconfirmed |= u;
            if m {
                return (
                    false,
                    unconfirmed,
                    SetWhy::Excluded(set, what, Matched::Set(&n.label)),
                );
            }
        }
        (true, unconfirmed, SetWhy::In(set, what))
    }
}

/// What made a country a member of a set, or not.
pub(crate) enum SetWhy<'a> {
    NotIn(&'a CountrySet),
    In(&'a CountrySet, Matched<'a>),
    Excluded(&'a CountrySet, Matched<'a>, Matched<'a>),
}

#[derive(Clone, Copy)]
pub(crate) enum Matched<'a> {
    Any,
    /// Named by the rule (or the country it counts as, such as Hong Kong as China).
    Country,
    Group(&'a str),
    Set(&'a str),
}

impl Matched<'_> {
    /// Why the country is in `set`, in words: a country the rule names is "in" the set's label
    /// (or "named by the rule"), never "in AE".
    fn membership(self, set: &CountrySet) -> String {
        match self {
            Matched::Any => "within the rule's reach (every country)".to_string(),
            Matched::Country => match &set.label {
                Some(label) => format!("in {label}"),
                None => "named by the rule".to_string(),
            },
            Matched::Group(g) => format!("in Country Group {g}"),
            Matched::Set(s) => format!("in {s}"),
        }
    }
}

impl std::fmt::Display for SetWhy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetWhy::NotIn(set) => write!(f, "not in {}", set.describe()),
            SetWhy::In(set, m) => f.write_str(&m.membership(set)),
            SetWhy::Excluded(set, m, x) => {
                let except = match x {
                    Matched::Country => "named as an exception".to_string(),
                    Matched::Group(g) => format!("excepted as a member of Country Group {g}"),
                    Matched::Set(s) => format!("excepted as in {s}"),
                    Matched::Any => "excepted everywhere".to_string(),
                };
                write!(f, "{} but {except}", m.membership(set))
            }
        }
    }
}
