//! The Rijksoverheid school-holiday JSON readers on arbitrary text, for
//! every region (and one that does not exist).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for region in ["noord", "midden", "zuid", "Heel Nederland"] {
        if let Err(e) = aanwezig_import::parse_rijksoverheid_all(&text, "fuzz.json", region) {
            let _ = e.to_string();
        }
    }
    if let Err(e) = aanwezig_import::parse_rijksoverheid(&text, "fuzz.json", "noord") {
        let _ = e.to_string();
    }
});
