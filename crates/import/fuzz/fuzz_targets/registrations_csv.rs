//! The registrations CSV reader on arbitrary bytes, against the shipped
//! 2025-2026 calendar and the Magister policy (so valid-looking rows reach
//! every check). Student numbers ending in 9 are "unknown".
#![no_main]

use std::sync::LazyLock;

use aanwezig_domain::{Calendar, Policy};
use libfuzzer_sys::fuzz_target;

static CAL: LazyLock<Calendar> = LazyLock::new(|| {
    aanwezig_import::parse_calendar(
        include_str!("../../../../data/calendars/2025-2026-noord.toml"),
        "2025-2026-noord.toml",
    )
    .expect("the shipped calendar parses")
});

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    aanwezig_import::parse_policy(
        include_str!("../../../../data/policy/magister.toml"),
        "magister.toml",
    )
    .expect("the shipped policy parses")
});

fuzz_target!(|data: &[u8]| {
    let known = |id: &str| !id.ends_with('9');
    match aanwezig_import::read_registrations(data, "fuzz.csv", &CAL, &POLICY, known) {
        Ok(records) => {
            let mut out = Vec::new();
            aanwezig_import::write_registrations(&mut out, &records).expect("writing to a Vec");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
