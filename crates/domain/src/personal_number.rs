//! The student's persoonsgebonden nummer: the BSN (burgerservicenummer) or,
//! for a student without one, the onderwijsnummer. A DUO verzuimmelding
//! needs one of them (Besluit verzuimmelding); nothing else in aanwezig
//! does, so they are optional on a [`Student`](crate::Student) and only
//! the coordinators see them (`aanwezig_app`'s `Permission::SeePersonalNumbers`).
//!
//! Both are nine digits with an elfproef check digit:
//!
//! - **BSN**: `9·d1 + 8·d2 + 7·d3 + 6·d4 + 5·d5 + 4·d6 + 3·d7 + 2·d8 − 1·d9`
//!   is divisible by 11, and the number is not all zeros. Spreadsheets drop
//!   a leading zero, so eight digits are read as `0` followed by them.
//! - **Onderwijsnummer**: the same weighted sum leaves remainder 5 when
//!   divided by 11, and the number starts with `1`. DUO publishes no
//!   specification of this check that we could find; two independent public
//!   implementations agree on it (python-stdnum's `nl.onderwijsnummer`,
//!   which also wants the prefix `10`, and a widely copied BSN/PGN/OWN
//!   validator, which wants the prefix `1`). We take the remainder 5 and the
//!   looser prefix `1`: the remainder alone already tells an onderwijsnummer
//!   from a BSN (whose remainder is 0).
//!
//! The values are sensitive. Their `Debug` hides the digits and they have no
//! `Display`, so a number cannot slip into a log line or an audit text by a
//! stray `{}` or `{:?}`; [`Bsn::as_str`] is the one, deliberate, way out.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text is not a [`Bsn`] or an [`Onderwijsnummer`]. The messages
/// are Dutch and never repeat the number itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("het {what} bevat andere tekens dan cijfers (spaties, punten en streepjes mogen)")]
    NotDigits { what: &'static str },
    #[error("een {what} heeft 9 cijfers, dit zijn er {digits}")]
    Length { what: &'static str, digits: usize },
    #[error("een BSN kan niet uit alleen nullen bestaan")]
    AllZeros,
    #[error("het {what} klopt niet: het voldoet niet aan de elfproef (een cijfer verkeerd of twee cijfers omgewisseld?)")]
    Checksum { what: &'static str },
    #[error("een onderwijsnummer begint met een 1")]
    OnderwijsnummerPrefix,
}

/// The nine digits of `s` after dropping spaces, dots and hyphens (the
/// ways people write `1234.56.782`); `pad` accepts eight digits as a
/// number that lost its leading zero in a spreadsheet.
fn nine_digits(s: &str, what: &'static str, pad: bool) -> Result<[u8; 9], NumberError> {
    let mut digits = Vec::with_capacity(9);
    for c in s.trim().chars() {
        match c {
            '0'..='9' => digits.push(c as u8 - b'0'),
            ' ' | '.' | '-' => {}
            _ => return Err(NumberError::NotDigits { what }),
        }
    }
    if pad && digits.len() == 8 {
        digits.insert(0, 0);
    }
    <[u8; 9]>::try_from(digits.as_slice()).map_err(|_| NumberError::Length {
        what,
        digits: digits.len(),
    })
}

/// `9·d1 + 8·d2 + … + 2·d8 − 1·d9` modulo 11 (0 to 10).
fn elfproef_remainder(d: &[u8; 9]) -> u8 {
    let sum: i32 = d[..8]
        .iter()
        .zip((2..=9).rev())
        .map(|(&digit, weight)| i32::from(digit) * weight)
        .sum::<i32>()
        - i32::from(d[8]);
    // rem_euclid of a positive modulus is in 0..11.
    sum.rem_euclid(11) as u8
}

fn to_text(d: &[u8; 9]) -> String {
    d.iter().map(|&x| char::from(b'0' + x)).collect()
}

/// A burgerservicenummer that passes the elfproef: nine digits, stored
/// without separators.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bsn(String);

impl Bsn {
    /// Checks and normalises a BSN: nine digits (eight are read with a
    /// leading zero), spaces, dots and hyphens ignored, elfproef passed,
    /// not all zeros.
    pub fn parse(s: &str) -> Result<Bsn, NumberError> {
        const WHAT: &str = "BSN";
        let d = nine_digits(s, WHAT, true)?;
        if d.iter().all(|&x| x == 0) {
            return Err(NumberError::AllZeros);
        }
        if elfproef_remainder(&d) != 0 {
            return Err(NumberError::Checksum { what: WHAT });
        }
        Ok(Bsn(to_text(&d)))
    }

    /// The nine digits. Show them only to those who may see them.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(<verborgen>)")
    }
}

impl TryFrom<String> for Bsn {
    type Error = NumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Bsn::parse(&s)
    }
}

impl From<Bsn> for String {
    fn from(b: Bsn) -> String {
        b.0
    }
}

/// An onderwijsnummer: DUO's number for a student without a BSN. Nine
/// digits starting with `1` whose elfproef sum leaves remainder 5 (see the
/// module docs for where that rule comes from).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Onderwijsnummer(String);

impl Onderwijsnummer {
    /// Checks and normalises an onderwijsnummer: nine digits, spaces, dots
    /// and hyphens ignored, starting with `1`, elfproef remainder 5.
    pub fn parse(s: &str) -> Result<Onderwijsnummer, NumberError> {
        const WHAT: &str = "onderwijsnummer";
        // No padding: an onderwijsnummer starts with 1, never with 0.
        let d = nine_digits(s, WHAT, false)?;
        if d[0] != 1 {
            return Err(NumberError::OnderwijsnummerPrefix);
        }
        if elfproef_remainder(&d) != 5 {
            return Err(NumberError::Checksum { what: WHAT });
        }
        Ok(Onderwijsnummer(to_text(&d)))
    }

    /// The nine digits. Show them only to those who may see them.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Onderwijsnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Onderwijsnummer(<verborgen>)")
    }
}

impl TryFrom<String> for Onderwijsnummer {
    type Error = NumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Onderwijsnummer::parse(&s)
    }
}

impl From<Onderwijsnummer> for String {
    fn from(n: Onderwijsnummer) -> String {
        n.0
    }
}

/// The number a DUO melding identifies the student by: the BSN when the
/// student has one, else the onderwijsnummer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonalNumber<'a> {
    Bsn(&'a Bsn),
    Onderwijsnummer(&'a Onderwijsnummer),
}

impl<'a> PersonalNumber<'a> {
    /// The BSN if given, else the onderwijsnummer, else `None`.
    pub fn of(bsn: Option<&'a Bsn>, own: Option<&'a Onderwijsnummer>) -> Option<Self> {
        match (bsn, own) {
            (Some(b), _) => Some(PersonalNumber::Bsn(b)),
            (None, Some(o)) => Some(PersonalNumber::Onderwijsnummer(o)),
            (None, None) => None,
        }
    }

    /// `BSN` or `onderwijsnummer`, as on DUO's form.
    pub fn label_nl(self) -> &'static str {
        match self {
            PersonalNumber::Bsn(_) => "BSN",
            PersonalNumber::Onderwijsnummer(_) => "onderwijsnummer",
        }
    }

    /// The nine digits.
    pub fn as_str(self) -> &'a str {
        match self {
            PersonalNumber::Bsn(b) => b.as_str(),
            PersonalNumber::Onderwijsnummer(o) => o.as_str(),
        }
    }
}

/// Which of the optional numbers a source of students speaks about. A
/// students file without a `bsn` column says nothing about BSNs, so the
/// numbers already known stay; a file with the column sets them, and an
/// empty cell there clears one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumbersGiven {
    pub bsn: bool,
    pub onderwijsnummer: bool,
}

impl NumbersGiven {
    /// Both numbers are given (a complete student record).
    pub const ALL: NumbersGiven = NumbersGiven {
        bsn: true,
        onderwijsnummer: true,
    };
    /// Neither is given: stored numbers are kept.
    pub const NONE: NumbersGiven = NumbersGiven {
        bsn: false,
        onderwijsnummer: false,
    };
}

/// Made-up numbers for tests and the demo school: numbers that pass the
/// checks, completed from eight chosen digits.
#[doc(hidden)]
pub mod fake {
    use super::*;

    /// The valid BSN that starts with these eight digits, if there is one
    /// (when the check digit would have to be 10 there is none).
    pub fn bsn_from(first: [u8; 8]) -> Option<Bsn> {
        complete(first, 0).and_then(|d| Bsn::parse(&to_text(&d)).ok())
    }

    /// The valid onderwijsnummer that starts with these eight digits (the
    /// first must be 1), if there is one.
    pub fn onderwijsnummer_from(first: [u8; 8]) -> Option<Onderwijsnummer> {
        complete(first, 5).and_then(|d| Onderwijsnummer::parse(&to_text(&d)).ok())
    }

    /// The ninth digit that makes the elfproef remainder `want`.
    fn complete(first: [u8; 8], want: u8) -> Option<[u8; 9]> {
        (0..=9u8).find_map(|last| {
            let mut d = [0u8; 9];
            d[..8].copy_from_slice(&first);
            d[8] = last;
            (elfproef_remainder(&d) == want).then_some(d)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_numbers() {
        // Examples published with the elfproef; not real people's numbers.
        assert_eq!(
            Bsn::parse("111222333").map(String::from).as_deref(),
            Ok("111222333")
        );
        assert_eq!(
            Bsn::parse("123456782").map(String::from).as_deref(),
            Ok("123456782")
        );
        assert_eq!(
            Bsn::parse("1234.56.782").map(String::from).as_deref(),
            Ok("123456782")
        );
        assert_eq!(
            Bsn::parse("111222334"),
            Err(NumberError::Checksum { what: "BSN" })
        );
        assert_eq!(
            Onderwijsnummer::parse("1012.22.331")
                .map(String::from)
                .as_deref(),
            Ok("101222331")
        );
        // A valid BSN is no onderwijsnummer: remainder 0, not 5.
        assert_eq!(
            Onderwijsnummer::parse("100252333"),
            Err(NumberError::Checksum {
                what: "onderwijsnummer"
            })
        );
        assert_eq!(
            Onderwijsnummer::parse("211222337"),
            Err(NumberError::OnderwijsnummerPrefix)
        );
    }

    #[test]
    fn eight_digits_are_a_bsn_without_its_leading_zero() {
        // 012345672: 0+8+14+18+20+20+18+14-2 = 110 = 10 × 11.
        assert_eq!(
            Bsn::parse("12345672").map(String::from).as_deref(),
            Ok("012345672")
        );
        assert_eq!(
            Onderwijsnummer::parse("10122233"),
            Err(NumberError::Length {
                what: "onderwijsnummer",
                digits: 8
            })
        );
    }

    #[test]
    fn bad_shapes_are_named() {
        assert_eq!(Bsn::parse("000000000"), Err(NumberError::AllZeros));
        assert_eq!(Bsn::parse("0000 0000"), Err(NumberError::AllZeros));
        assert_eq!(
            Bsn::parse("12345678901"),
            Err(NumberError::Length {
                what: "BSN",
                digits: 11
            })
        );
        assert_eq!(
            Bsn::parse(""),
            Err(NumberError::Length {
                what: "BSN",
                digits: 0
            })
        );
        assert_eq!(
            Bsn::parse("12345678x"),
            Err(NumberError::NotDigits { what: "BSN" })
        );
        assert_eq!(
            Bsn::parse("１２３４５６７８２"),
            Err(NumberError::NotDigits { what: "BSN" }),
            "full-width digits are not ASCII digits"
        );
        let msg = NumberError::Checksum { what: "BSN" }.to_string();
        assert!(msg.contains("elfproef"), "{msg}");
    }

    #[test]
    fn debug_hides_the_digits() {
        let b = Bsn::parse("123456782").unwrap();
        let o = Onderwijsnummer::parse("101222331").unwrap();
        let shown = format!("{b:?} {o:?} {:?}", PersonalNumber::of(Some(&b), None));
        assert!(
            !shown.contains("123456782") && !shown.contains("101222331"),
            "{shown}"
        );
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let b: Bsn = serde_json::from_str("\"123456782\"").unwrap();
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"123456782\"");
        assert!(serde_json::from_str::<Bsn>("\"123456783\"").is_err());
        assert!(serde_json::from_str::<Onderwijsnummer>("\"123456782\"").is_err());
    }

    #[test]
    fn the_bsn_comes_before_the_onderwijsnummer() {
        let b = Bsn::parse("123456782").unwrap();
        let o = Onderwijsnummer::parse("101222331").unwrap();
        let both = PersonalNumber::of(Some(&b), Some(&o)).unwrap();
        assert_eq!((both.label_nl(), both.as_str()), ("BSN", "123456782"));
        let own = PersonalNumber::of(None, Some(&o)).unwrap();
        assert_eq!(
            (own.label_nl(), own.as_str()),
            ("onderwijsnummer", "101222331")
        );
        assert_eq!(PersonalNumber::of(None, None), None);
    }

    fn eight() -> impl Strategy<Value = [u8; 8]> {
        proptest::array::uniform8(0u8..10)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The elfproef catches every single changed digit: changing digit
        /// i by δ changes the sum by weight·δ, and neither weight (1–9) nor
        /// δ (1–9) is a multiple of 11.
        #[test]
        fn one_changed_digit_fails(first in eight(), pos in 0usize..9, delta in 1u8..10) {
            if let Some(b) = fake::bsn_from(first) {
                let mut d: Vec<u8> = b.as_str().bytes().map(|c| c - b'0').collect();
                d[pos] = (d[pos] + delta) % 10;
                let changed: String = d.iter().map(|&x| char::from(b'0' + x)).collect();
                prop_assert!(Bsn::parse(&changed).is_err(), "{changed}");
            }
            let mut own = first;
            own[0] = 1;
            if let Some(o) = fake::onderwijsnummer_from(own) {
                let mut d: Vec<u8> = o.as_str().bytes().map(|c| c - b'0').collect();
                d[pos] = (d[pos] + delta) % 10;
                let changed: String = d.iter().map(|&x| char::from(b'0' + x)).collect();
                prop_assert!(Onderwijsnummer::parse(&changed).is_err(), "{changed}");
            }
        }

        /// Swapping two different adjacent digits fails too (their weights
        /// differ by 1, or by 3 for the last pair).
        #[test]
        fn swapped_neighbours_fail(first in eight(), pos in 0usize..8) {
            if let Some(b) = fake::bsn_from(first) {
                let mut d: Vec<u8> = b.as_str().bytes().collect();
                if d[pos] != d[pos + 1] {
                    d.swap(pos, pos + 1);
                    let swapped = String::from_utf8(d).unwrap();
                    prop_assert!(Bsn::parse(&swapped).is_err(), "{swapped}");
                }
            }
        }

        /// Exactly one of ten last digits completes eight digits to a BSN,
        /// unless the check would need a "10"; the same for onderwijsnummers.
        #[test]
        fn at_most_one_check_digit(first in eight()) {
            let text: String = first.iter().map(|&x| char::from(b'0' + x)).collect();
            let bsns = (0..10).filter(|l| Bsn::parse(&format!("{text}{l}")).is_ok()).count();
            prop_assert!(bsns <= 1);
            prop_assert_eq!(bsns == 1, fake::bsn_from(first).is_some() );
            let mut own = first;
            own[0] = 1;
            let text: String = own.iter().map(|&x| char::from(b'0' + x)).collect();
            let owns = (0..10)
                .filter(|l| Onderwijsnummer::parse(&format!("{text}{l}")).is_ok())
                .count();
            prop_assert!(owns <= 1);
        }

        /// No text is both a BSN and an onderwijsnummer, and parsing never
        /// panics.
        #[test]
        fn never_both(s in "[0-9 .x-]{0,12}") {
            let b = Bsn::parse(&s);
            let o = Onderwijsnummer::parse(&s);
            prop_assert!(!(b.is_ok() && o.is_ok()));
            if let Ok(b) = b {
                prop_assert_eq!(Bsn::parse(b.as_str()), Ok(b.clone()));
                prop_assert_eq!(b.as_str().len(), 9);
            }
        }
    }
}
