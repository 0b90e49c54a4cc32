//! Same-site addresses built from data: every dynamic path segment is
//! percent-encoded, so that a student number or class with `/ ? # %` or a
//! space stays one segment in links and redirects. (`.` and `..` cannot be
//! encoded away — browsers resolve `%2E%2E` too — so
//! [`StudentId::parse`](aanwezig_domain::StudentId::parse) refuses them.)

use aanwezig_domain::StudentId;

/// One path segment, percent-encoded: everything but RFC 3986's unreserved
/// characters.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/leerlingen/{id}`, the student's page; deeper pages append to it.
pub fn student(id: &StudentId) -> String {
    format!("/leerlingen/{}", segment(id.as_str()))
}

/// [`student`] for a number held as text.
pub fn student_str(id: &str) -> String {
    format!("/leerlingen/{}", segment(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("2A"), "2A");
        assert_eq!(segment("H 4/a"), "H%204%2Fa");
        assert_eq!(segment("a?b#c%d"), "a%3Fb%23c%25d");
    }

    #[test]
    fn student_paths_keep_the_number_in_one_segment() {
        let id = StudentId::parse("12/../x?y#z").expect("valid");
        assert_eq!(student(&id), "/leerlingen/12%2F..%2Fx%3Fy%23z");
    }
}
