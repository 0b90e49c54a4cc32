//! The workbook readers (calamine underneath) on arbitrary bytes: written
//! to a temporary `.xlsx` and `.ods` file and read as students and as
//! registrations.
#![no_main]

use std::io::Write as _;
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

fn read_as(data: &[u8], suffix: &str) {
    let mut file = tempfile::Builder::new()
        .prefix("fuzz")
        .suffix(suffix)
        .tempfile()
        .expect("a temporary file");
    file.write_all(data).expect("writing the temporary file");
    file.flush().expect("flushing the temporary file");
    let path = file.path();
    if let Err(e) = aanwezig_import::read_students_file(path) {
        let _ = e.to_string();
    }
    let known = |id: &str| !id.ends_with('9');
    if let Err(e) = aanwezig_import::read_registrations_file(path, &CAL, &POLICY, known) {
        let _ = e.to_string();
    }
}

static QUIET_HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    // The reader catches calamine's panics and answers with an error; the
    // abort-on-panic hook of libfuzzer-sys would end the run before that.
    // A panic that escapes the reader still aborts: libfuzzer-sys catches
    // it around this closure.
    QUIET_HOOK.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{info}"))));
    read_as(data, ".xlsx");
    read_as(data, ".ods");
});
