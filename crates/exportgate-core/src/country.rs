//! Countries (ISO 3166-1) and EAR Country Groups with their dated membership history.
//!
//! Membership is asked as of a date: a country is in a group on `date` when one of its
//! intervals has `from <= date < to`. Hong Kong is treated as China for group membership.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;

/// An ISO 3166-1 alpha-2 code: two upper-case ASCII letters, stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parse two upper-case ASCII letters.
    pub fn parse(text: &str) -> Option<CountryCode> {
        match text.as_bytes() {
            [a, b] => CountryCode::parse_bytes([*a, *b]),
            _ => None,
        }
    }

    /// Two ASCII upper-case letters.
    pub fn parse_bytes(bytes: [u8; 2]) -> Option<CountryCode> {
        bytes
            .iter()
            .all(u8::is_ascii_uppercase)
            .then_some(CountryCode(bytes))
    }

    /// A dense index, 0..676, in code order (`AA` is 0): tables indexed by it need no hashing.
    pub fn slot(&self) -> usize {
        usize::from(self.0[0] - b'A') * 26 + usize::from(self.0[1] - b'A')
    }

    pub fn as_str(&self) -> &str {
        // INVARIANT (ascii): both bytes are ASCII upper-case letters, checked in `parse`.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl std::fmt::Display for CountryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryRecord {
    code: String,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    treat_as: Option<String>,
}

/// One continuous membership of a country in a group.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Membership {
    pub country: String,
    /// Inclusive; `None` = a member since before the engine's horizon.
    pub from: Option<NaiveDate>,
    /// Exclusive; `None` = still a member.
    pub to: Option<NaiveDate>,
    pub confidence: Confidence,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Membership {
    fn covers(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= date) && self.to.is_none_or(|t| date < t)
    }
}

#[derive(Debug, Clone, Deserialize)]
struct GroupRecord {
    #[serde(default)]
    title: String,
    #[serde(default)]
    citation: String,
    members: Vec<Membership>,
}

#[derive(Debug, Clone, Deserialize)]
struct CountriesFile {
    /// The file format's version; this build reads version 1 only.
    version: u32,
    countries: Vec<CountryRecord>,
    groups: BTreeMap<String, GroupRecord>,
}

/// A country as the engine knows it.
#[derive(Debug, Clone)]
pub struct Country {
    pub code: CountryCode,
    pub name: String,
    /// The country whose group memberships this one takes (Hong Kong → China).
    pub treat_as: Option<CountryCode>,
}

/// The answer to "is X in group G on date D".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupAnswer {
    pub member: bool,
    /// The interval (or its absence) rests on an unconfirmed fact.
    pub unconfirmed: bool,
}

/// One group: its name, title, citation, and each member's intervals.
#[derive(Debug, Clone)]
struct Group {
    name: String,
    title: String,
    citation: String,
    /// Each country's intervals, indexed by [`CountryCode::slot`].
    members: Vec<Vec<Membership>>,
}

/// Slots in a table indexed by [`CountryCode::slot`].
const SLOTS: usize = 26 * 26;

/// Every country and every group's dated membership.
#[derive(Debug, Clone)]
pub struct Countries {
    /// Indexed by [`CountryCode::slot`]: lookups on the decision path are array reads.
    countries: Vec<Option<Country>>,
    by_name: HashMap<String, CountryCode>,
    /// Sorted by name; compiled rules address a group by its position ([`GroupId`]).
    groups: Vec<Group>,
}

/// A group resolved once by name ([`Countries::group_id`]), so the decision path reads an
/// array instead of comparing names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupId(usize);

/// A problem in the country data file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("countries data: {0}")]
pub struct CountryDataError(String);

impl Countries {
    /// Parse and validate the countries data file.
    pub fn from_json(text: &str) -> Result<Countries, CountryDataError> {
        let file: CountriesFile =
            serde_json::from_str(text).map_err(|e| CountryDataError(e.to_string()))?;
        if file.version != 1 {
            return Err(CountryDataError(format!(
                "countries format version {} is not one this build reads (1)",
                file.version
            )));
        }
        let mut countries: Vec<Option<Country>> = vec![None; SLOTS];
        let mut by_name = HashMap::new();
        for c in &file.countries {
            let code = CountryCode::parse(&c.code)
                .ok_or_else(|| CountryDataError(format!("bad country code `{}`", c.code)))?;
            let treat_as = match &c.treat_as {
                Some(t) => Some(
                    CountryCode::parse(t)
                        .ok_or_else(|| CountryDataError(format!("bad `treat_as` code `{t}`")))?,
                ),
                None => None,
            };
            by_name.insert(normalise(&c.name), code);
            for alias in &c.aliases {
                by_name.entry(normalise(alias)).or_insert(code);
            }
            countries[code.slot()] = Some(Country {
                code,
                name: c.name.clone(),
                treat_as,
            });
        }
        // `file.groups` is a BTreeMap: the groups come out sorted by name.
        let mut groups = Vec::with_capacity(file.groups.len());
        for (name, g) in file.groups {
            for m in &g.members {
                if CountryCode::parse(&m.country).is_none_or(|c| countries[c.slot()].is_none()) {
                    return Err(CountryDataError(format!(
                        "group `{name}` names unknown country `{}`",
                        m.country
                    )));
                }
                if let (Some(f), Some(t)) = (m.from, m.to) {
                    if t <= f {
                        return Err(CountryDataError(format!(
                            "group `{name}`, country `{}`: interval ends before it starts",
                            m.country
                        )));
                    }
                }
            }
            let mut members: Vec<Vec<Membership>> = vec![Vec::new(); SLOTS];
            for m in g.members {
                // INVARIANT (known): checked against `countries` just above.
                if let Some(code) = CountryCode::parse(&m.country) {
                    members[code.slot()].push(m);
                }
            }
            groups.push(Group {
                name,
                title: g.title,
                citation: g.citation,
                members,
            });
        }
        Ok(Countries {
            countries,
            by_name,
            groups,
        })
    }

    /// Look up a code (`AE`) or a name or alias (`United Arab Emirates`, `UAE`).
    pub fn resolve(&self, text: &str) -> Option<&Country> {
        let t = text.trim();
        let upper = match t.as_bytes() {
            [a, b] => CountryCode::parse_bytes([a.to_ascii_uppercase(), b.to_ascii_uppercase()]),
            _ => None,
        };
        if let Some(c) = upper.and_then(|code| self.countries[code.slot()].as_ref()) {
            return Some(c);
        }
        self.by_name
            .get(&normalise(t))
            .and_then(|code| self.countries[code.slot()].as_ref())
    }

    /// A country by its exact code.
    pub fn get(&self, code: &str) -> Option<&Country> {
        self.countries[CountryCode::parse(code)?.slot()].as_ref()
    }

    /// All countries, sorted by code.
    pub fn all(&self) -> impl Iterator<Item = &Country> {
        self.countries.iter().flatten()
    }

    /// Whether a group of this name exists.
    pub fn has_group(&self, group: &str) -> bool {
        self.group_id(group).is_some()
    }

    /// Names of the groups, sorted.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|g| g.name.as_str())
    }

    /// The title of a group (`National Security`, ...).
    pub fn group_title(&self, group: &str) -> Option<&str> {
        self.group(self.group_id(group)).map(|g| g.title.as_str())
    }

    /// The citation of a group.
    pub fn group_citation(&self, group: &str) -> Option<&str> {
        self.group(self.group_id(group))
            .map(|g| g.citation.as_str())
    }

    /// The code whose group memberships apply (Hong Kong → China).
    pub fn effective<'a>(&'a self, code: &'a CountryCode) -> &'a CountryCode {
        self.countries[code.slot()]
            .as_ref()
            .and_then(|c| c.treat_as.as_ref())
            .unwrap_or(code)
    }

    /// The id of a group, for [`Countries::in_group_id`].
    pub fn group_id(&self, group: &str) -> Option<GroupId> {
        self.groups
            .binary_search_by(|g| g.name.as_str().cmp(group))
            .ok()
            .map(GroupId)
    }

    fn group(&self, id: Option<GroupId>) -> Option<&Group> {
        id.and_then(|GroupId(i)| self.groups.get(i))
    }

    /// Is `code` in `group` on `date`? An unknown group is an unconfirmed "no".
    pub fn in_group(&self, code: &CountryCode, group: &str, date: NaiveDate) -> GroupAnswer {
        self.in_group_id(code, self.group_id(group), date)
    }

    /// [`Countries::in_group`] for a group resolved with [`Countries::group_id`] (`None`: an
    /// unknown group).
    pub fn in_group_id(
        &self,
        code: &CountryCode,
        group: Option<GroupId>,
        date: NaiveDate,
    ) -> GroupAnswer {
        match self.group(group) {
            Some(g) => self.member_of(g, code, date),
            None => GroupAnswer {
                member: false,
                unconfirmed: true,
            },
        }
    }

    fn member_of(&self, g: &Group, code: &CountryCode, date: NaiveDate) -> GroupAnswer {
        let code = self.effective(code);
        let mut unconfirmed = false;
        for m in &g.members[code.slot()] {
            if m.covers(date) {
                return GroupAnswer {
                    member: true,
                    unconfirmed: m.confidence.is_unconfirmed(),
                };
            }
            // An unconfirmed interval that does not cover the date leaves the answer unsure.
            unconfirmed |= m.confidence.is_unconfirmed();
        }
        GroupAnswer {
            member: false,
            unconfirmed,
        }
    }

    /// The groups `code` belongs to on `date`.
    pub fn groups_of(&self, code: &CountryCode, date: NaiveDate) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| self.member_of(g, code, date).member)
            .map(|g| g.name.clone())
            .collect()
    }

    /// Parse a code that must exist in the table.
    pub fn code(&self, text: &str) -> Option<CountryCode> {
        self.resolve(text).map(|c| c.code)
    }
}

fn normalise(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group addressed by its compiled id answers exactly as by its name, for every group,
    /// every country and a date in each year of the data; an unknown group is an unconfirmed no.
    #[test]
    fn group_ids_answer_as_group_names() {
        let rs = crate::Ruleset::embedded().unwrap();
        let c = &rs.countries;
        let names: Vec<String> = c.group_names().map(str::to_string).collect();
        assert!(!names.is_empty());
        for name in &names {
            let id = c.group_id(name);
            assert!(id.is_some(), "{name}");
            for country in c.all() {
                for year in 2020..=2027 {
                    let date = NaiveDate::from_ymd_opt(year, 6, 1).unwrap();
                    assert_eq!(
                        c.in_group_id(&country.code, id, date),
                        c.in_group(&country.code, name, date),
                        "{name} {} {date}",
                        country.code
                    );
                }
            }
        }
        let unknown = GroupAnswer {
            member: false,
            unconfirmed: true,
        };
        assert_eq!(c.group_id("no-such-group"), None);
        let il = c.code("IL").unwrap();
        let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        assert_eq!(c.in_group_id(&il, None, day), unknown);
        assert_eq!(c.in_group(&il, "no-such-group", day), unknown);
    }
}
