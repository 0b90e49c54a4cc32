//! The students CSV reader on arbitrary bytes: it must answer Ok or Err,
//! and its errors must format, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match aanwezig_import::read_students(data, "fuzz.csv") {
        Ok(rows) => {
            let mut out = Vec::new();
            aanwezig_import::write_students(&mut out, &rows).expect("writing to a Vec");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
