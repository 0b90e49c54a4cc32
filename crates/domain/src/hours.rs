//! Hours of unexplained absence, kept exactly.
//!
//! rules.md §2 counts a lesson of 60 minutes or less as one hour and a longer
//! one as minutes/60; late arrival counts `minutes_late/60`. Keeping the value
//! in minutes makes every sum exact (a 100-minute block is 100, not 1.666…).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number of hours, stored as whole minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hours(u32);

impl Hours {
    /// Zero hours.
    pub const ZERO: Hours = Hours(0);

    /// `minutes` minutes.
    pub const fn from_minutes(minutes: u32) -> Hours {
        Hours(minutes)
    }

    /// Whole hours.
    pub const fn from_hours(hours: u32) -> Hours {
        Hours(hours * 60)
    }

    /// The value in minutes.
    pub const fn minutes(self) -> u32 {
        self.0
    }

    /// The value in hours, as a float (for display and JSON only).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 60.0
    }

    /// Hours from a float given in a policy file; `None` when negative or
    /// not finite. Rounded to the minute.
    pub fn from_f64(hours: f64) -> Option<Hours> {
        if !hours.is_finite() || !(0.0..=1.0e6).contains(&hours) {
            return None;
        }
        // In range by the check above.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let minutes = (hours * 60.0).round() as u32;
        Some(Hours(minutes))
    }
}

impl Add for Hours {
    type Output = Hours;
    fn add(self, rhs: Hours) -> Hours {
        Hours(self.0 + rhs.0)
    }
}

impl AddAssign for Hours {
    fn add_assign(&mut self, rhs: Hours) {
        self.0 += rhs.0;
    }
}

impl Sub for Hours {
    type Output = Hours;
    fn sub(self, rhs: Hours) -> Hours {
        Hours(self.0.saturating_sub(rhs.0))
    }
}

/// Dutch notation: `16`, `1,5`, `1⅔` is shown as `1,67`.
impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(60) {
            write!(f, "{}", self.0 / 60)
        } else {
            let s = format!("{:.2}", self.as_f64());
            let s = s.trim_end_matches('0');
            f.write_str(&s.replace('.', ","))
        }
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Two decimals are plenty for a figure shown to people; the exact
        // value stays available in minutes inside the engine.
        s.serialize_f64((self.as_f64() * 100.0).round() / 100.0)
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Hours::from_f64(v).ok_or_else(|| {
            serde::de::Error::custom(format!("{v} is geen geldig aantal uren (0 of meer)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_in_dutch_notation() {
        assert_eq!(Hours::from_hours(16).to_string(), "16");
        assert_eq!(Hours::from_minutes(90).to_string(), "1,5");
        assert_eq!(Hours::from_minutes(100).to_string(), "1,67");
    }

    #[test]
    fn rejects_negative_hours() {
        assert_eq!(Hours::from_f64(-1.0), None);
        assert_eq!(Hours::from_f64(f64::NAN), None);
        assert_eq!(Hours::from_f64(0.5), Some(Hours::from_minutes(30)));
    }
}
