//! Files shipped inside the binary: the calendars for region noord and the
//! policy presets, so that `aanwezig demo` works on a fresh machine without
//! any file at hand.

/// School year 2025–2026, region noord.
pub const CALENDAR_2025_2026_NOORD: &str =
    include_str!("../../../data/calendars/2025-2026-noord.toml");
/// School year 2026–2027, region noord (dates partly unconfirmed, see the file).
pub const CALENDAR_2026_2027_NOORD: &str =
    include_str!("../../../data/calendars/2026-2027-noord.toml");
/// rules.md's policy with typical Magister codes.
pub const POLICY_MAGISTER: &str = include_str!("../../../data/policy/magister.toml");
/// rules.md's policy with typical Somtoday codes.
pub const POLICY_SOMTODAY: &str = include_str!("../../../data/policy/somtoday.toml");
