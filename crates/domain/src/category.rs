//! Absence categories (rules.md §2) and sets of them.
//!
//! Every school code maps to exactly one [`Category`]; the rules only ever
//! look at categories, never at codes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a registered lesson means for the stappenplan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Category {
    /// aanwezig
    Present = 0,
    /// te laat zonder geldige reden: unexplained, counts `minutes_late`
    LateUnexcused = 1,
    /// te laat met geldige reden: present for every rule
    LateExcused = 2,
    /// afgemeld door ouders/verzorgers wegens ziekte
    ReportedSick = 3,
    /// afgemeld door ouders/verzorgers om een andere reden
    ReportedOther = 4,
    /// geoorloofd door school: verlof, vrijstelling, schorsing, schoolactiviteit
    Authorized = 5,
    /// onbekend afwezig: no report received
    Unknown = 6,
    /// ongeoorloofd: reason not accepted, spijbelen
    Unauthorized = 7,
    /// not an absence at all (boeken of huiswerk vergeten)
    NotAbsence = 8,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 9] = [
        Category::Present,
        Category::LateUnexcused,
        Category::LateExcused,
        Category::ReportedSick,
        Category::ReportedOther,
        Category::Authorized,
        Category::Unknown,
        Category::Unauthorized,
        Category::NotAbsence,
    ];

    /// The identifier used in files and JSON (`reported_sick`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Present => "present",
            Category::LateUnexcused => "late_unexcused",
            Category::LateExcused => "late_excused",
            Category::ReportedSick => "reported_sick",
            Category::ReportedOther => "reported_other",
            Category::Authorized => "authorized",
            Category::Unknown => "unknown",
            Category::Unauthorized => "unauthorized",
            Category::NotAbsence => "not_absence",
        }
    }

    /// Parses the identifier written by [`Category::as_str`].
    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The Dutch label shown to users.
    pub fn label_nl(self) -> &'static str {
        match self {
            Category::Present => "aanwezig",
            Category::LateUnexcused => "te laat zonder geldige reden",
            Category::LateExcused => "te laat met geldige reden",
            Category::ReportedSick => "ziek gemeld",
            Category::ReportedOther => "afgemeld om een andere reden",
            Category::Authorized => "geoorloofd afwezig",
            Category::Unknown => "onbekend afwezig",
            Category::Unauthorized => "ongeoorloofd afwezig",
            Category::NotAbsence => "geen verzuim",
        }
    }

    /// True for the categories that mean the student missed the lesson
    /// (rules.md §2, "whole-day absent").
    pub fn is_absence(self) -> bool {
        matches!(
            self,
            Category::ReportedSick
                | Category::ReportedOther
                | Category::Authorized
                | Category::Unknown
                | Category::Unauthorized
        )
    }

    /// True when the lesson counts as attended for the attendance rate.
    pub fn is_attended(self) -> bool {
        !self.is_absence()
    }

    fn bit(self) -> u16 {
        1 << (self as u8)
    }

    /// Inverse of `self as u8`.
    pub fn from_u8(v: u8) -> Option<Category> {
        Category::ALL.get(usize::from(v)).copied()
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of categories, as used by the policy (`afmelding_categories`, …).
///
/// Serialised as a list of category identifiers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CategorySet(u16);

impl CategorySet {
    /// The empty set.
    pub const EMPTY: CategorySet = CategorySet(0);

    /// A set of the given categories.
    pub fn of(categories: &[Category]) -> CategorySet {
        CategorySet(categories.iter().fold(0, |acc, c| acc | c.bit()))
    }

    /// Whether `c` is in the set.
    #[inline]
    pub fn contains(self, c: Category) -> bool {
        self.0 & c.bit() != 0
    }

    /// Whether the set holds no category.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl fmt::Debug for CategorySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for CategorySet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for CategorySet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Category>::deserialize(d)?;
        Ok(CategorySet::of(&list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(Category::from_u8(c as u8), Some(c));
        }
        assert_eq!(Category::parse("ziek"), None);
    }

    #[test]
    fn absence_categories_are_the_five_of_rules_md() {
        let absent: Vec<_> = Category::ALL
            .into_iter()
            .filter(|c| c.is_absence())
            .collect();
        assert_eq!(
            absent,
            [
                Category::ReportedSick,
                Category::ReportedOther,
                Category::Authorized,
                Category::Unknown,
                Category::Unauthorized
            ]
        );
    }

    #[test]
    fn sets_hold_exactly_their_members() {
        let s = CategorySet::of(&[Category::Unknown, Category::Unauthorized]);
        assert!(s.contains(Category::Unknown));
        assert!(!s.contains(Category::Present));
        assert_eq!(s.iter().count(), 2);
    }
}
