//! The policy reader on arbitrary text. A policy that parses must also
//! survive being written back and read again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match aanwezig_import::parse_policy(&text, "fuzz.toml") {
        Ok(policy) => {
            let again = aanwezig_import::policy_to_toml(&policy);
            let _ = aanwezig_import::parse_policy(&again, "again.toml");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
