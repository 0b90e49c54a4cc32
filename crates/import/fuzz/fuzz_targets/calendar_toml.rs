//! The calendar readers on arbitrary text. A calendar that parses must
//! also survive being written back and read again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match aanwezig_import::parse_school_years(&text, "fuzz.toml") {
        Ok(years) => {
            let again = aanwezig_import::calendar_to_toml(&years);
            let _ = aanwezig_import::parse_school_years(&again, "again.toml");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Err(e) = aanwezig_import::parse_calendar(&text, "fuzz.toml") {
        let _ = e.to_string();
    }
});
