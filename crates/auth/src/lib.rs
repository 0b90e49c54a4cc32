//! Passwords and session tokens for aanwezig.
//!
//! This is not storage and not web: the CLI (`aanwezig user`) and the web
//! app both hash, check and generate passwords, so the rules live once,
//! here.
//!
//! - Passwords are hashed with argon2id at OWASP's recommended minimum
//!   (m = 19 MiB, t = 2, p = 1) with a random salt, stored as a PHC string
//!   (`$argon2id$v=19$m=19456,t=2,p=1$…`). The parameters travel inside the
//!   string, so raising them later still verifies old hashes.
//! - Session tokens are 32 random bytes (hex). Only their SHA-256
//!   ([`token_hash`]) is stored, so a leaked database does not hand out
//!   sessions.
//! - Randomness comes from the operating system (`OsRng`) everywhere.

use std::fmt;
use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng as HashRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// What can go wrong while hashing a password.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// argon2 refused the input or its parameters. Its own error type only
    /// implements `std::error::Error` with a feature we do not need, so the
    /// message is kept.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// argon2id memory cost in KiB (OWASP Password Storage Cheat Sheet).
pub const ARGON2_M_KIB: u32 = 19_456;
/// argon2id iterations.
pub const ARGON2_T: u32 = 2;
/// argon2id parallelism.
pub const ARGON2_P: u32 = 1;

/// The minimum length of a password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The hasher with the parameters above.
fn argon2() -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `pw` with argon2id and a fresh random salt, as a PHC string.
///
/// Takes about 20-50 ms in a release build (far more in a debug build) by
/// design: run it off the async executor (`spawn_blocking`) in a server.
pub fn hash_password(pw: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut HashRng);
    argon2()?
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `pw` matches the PHC string `phc`. The comparison is the
/// password-hash crate's constant-time one; a malformed `phc` never
/// matches.
///
/// The parameters come from `phc` itself, so hashes made with other
/// parameters (older, or a future stronger setting) still verify.
///
/// The argon2 working memory (19 MiB at our parameters) is taken from a
/// small pool and given back, instead of being allocated for every check:
/// freed blocks of that size stay in the allocator's arenas, and a burst
/// of sign-ins otherwise left the server holding well over a gigabyte.
pub fn verify_password(pw: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_VERIFY_M_KIB {
        return false;
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let mut memory = BlockPool::take(params.block_count());
    let hashed = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(pw.as_bytes(), salt, &mut out, &mut memory[..])
        .is_ok();
    BlockPool::give_back(memory);
    hashed && Output::new(&out).is_ok_and(|o| o == expected)
}

/// The largest argon2 memory cost a stored hash may ask for (256 MiB): a
/// hash with more is refused rather than allocated.
const MAX_VERIFY_M_KIB: u32 = 256 * 1024;

/// Working memory for argon2, kept between checks. A server runs a few
/// checks at a time (the web crate allows 4), so a few buffers are kept
/// and any beyond those are freed.
struct BlockPool;

/// Buffers kept in [`BlockPool`].
const KEPT_BUFFERS: usize = 4;

static POOL: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

impl BlockPool {
    fn take(blocks: usize) -> Vec<Block> {
        let spare = POOL.lock().map(|mut p| p.pop()).unwrap_or(None);
        let mut memory = spare.unwrap_or_default();
        // argon2 overwrites every block before reading it.
        memory.resize(blocks, Block::default());
        memory
    }

    fn give_back(memory: Vec<Block>) {
        if let Ok(mut pool) = POOL.lock() {
            if pool.len() < KEPT_BUFFERS {
                pool.push(memory);
            }
        }
    }
}

/// A hash of a random password nobody knows, made once, for
/// [`verify_password_or_dummy`].
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_password(&new_token()).ok());

/// Verifies `pw` against `phc`, or, when there is no such user (`None`),
/// against a dummy hash and returns `false`.
///
/// A sign-in form should call this for unknown usernames too: answering
/// an unknown name without the ~argon2 delay would tell an attacker which
/// usernames exist.
pub fn verify_password_or_dummy(pw: &str, phc: Option<&str>) -> bool {
    match phc {
        Some(phc) => verify_password(pw, phc),
        None => {
            if let Some(dummy) = DUMMY_HASH.as_deref() {
                let _ = verify_password(pw, dummy);
            }
            false
        }
    }
}

/// Checks a new password against the school's rules, with the reason in
/// Dutch when it is refused: at least [`MIN_PASSWORD_CHARS`] characters,
/// not one character repeated, not the username.
///
/// Deliberately no composition rules (a digit, a capital…): NIST SP 800-63B
/// advises length over composition, and generated passphrases pass.
pub fn check_password_strength(pw: &str, username: &str) -> Result<(), String> {
    let chars = pw.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "het wachtwoord is te kort: minstens {MIN_PASSWORD_CHARS} tekens, dit zijn er {chars}"
        ));
    }
    let mut it = pw.chars();
    if let Some(first) = it.next() {
        if it.all(|c| c == first) {
            return Err("het wachtwoord bestaat uit één en hetzelfde teken".to_owned());
        }
    }
    let name = username.trim();
    if !name.is_empty() && pw.trim().to_lowercase() == name.to_lowercase() {
        return Err("het wachtwoord mag niet gelijk zijn aan de gebruikersnaam".to_owned());
    }
    Ok(())
}

/// Checks a username: 2–64 characters of `a-z`, `0-9`, `.`, `_` and `-`.
/// Lower case only, so that `Jan` and `jan` can never be two people; a
/// sign-in form should lower-case what is typed before looking it up.
pub fn check_username(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if !(2..=64).contains(&n) {
        return Err(format!(
            "de gebruikersnaam moet 2 tot 64 tekens lang zijn, {name:?} heeft er {n}"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
    {
        return Err(format!(
            "de gebruikersnaam {name:?} bevat {c:?}: alleen kleine letters a-z, cijfers, '.', '_' en '-' mogen"
        ));
    }
    Ok(())
}

/// Letters and digits that cannot be mistaken for one another when read
/// aloud or copied from paper: no `0 O o 1 l I`.
const UNAMBIGUOUS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Groups and group length of a generated password: `xxxx-xxxx-xxxx-xxxx-xxxx`.
const GROUPS: usize = 5;
const GROUP_LEN: usize = 4;

/// A new random password of 20 characters from an unambiguous alphabet of
/// 55, in groups of four (`Rk7m-xQ2p-…`): about 115 bits, from the
/// operating system's random source. It always passes
/// [`check_password_strength`] for any username (the groups' dashes alone
/// rule out the single-character and username cases).
pub fn generate_password() -> String {
    let mut out = String::with_capacity(GROUPS * (GROUP_LEN + 1));
    for g in 0..GROUPS {
        if g > 0 {
            out.push('-');
        }
        for _ in 0..GROUP_LEN {
            // gen_range is unbiased (rejection sampling).
            let i = OsRng.gen_range(0..UNAMBIGUOUS.len());
            out.push(char::from(UNAMBIGUOUS[i]));
        }
    }
    out
}

/// A new secret session token: 32 random bytes from the operating system,
/// as 64 lower-case hex characters (safe in a cookie and a URL).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The hex SHA-256 of a token: what the store keeps instead of the token.
/// A plain hash is enough (no salt, no argon2) because the token has 256
/// random bits, nothing to guess.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// A secret string (a password, a session token) whose `Debug` and
/// `Display` never show it, so it cannot end up in a log by accident.
/// [`Secret::expose`] is the one deliberate way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<verborgen>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<verborgen>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_and_uses_owasp_argon2id() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("", &h));
        // A fresh salt every time.
        assert_ne!(h, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn malformed_hashes_never_verify() {
        for bad in [
            "",
            "plain",
            "$argon2id$v=19$m=19456,t=2,p=1$xx$yy",
            "$2b$12$abc",
        ] {
            assert!(!verify_password("anything", bad), "{bad}");
        }
    }

    #[test]
    fn hashes_with_other_parameters_still_verify() {
        let params = Params::new(8, 1, 1, None).unwrap();
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut HashRng);
        let phc = weak
            .hash_password(b"oud wachtwoord", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("oud wachtwoord", &phc));
        assert!(!verify_password("nieuw wachtwoord", &phc));
    }

    #[test]
    fn concurrent_checks_reuse_a_bounded_pool_of_working_memory() {
        let h = hash_password("twaalf tekens!").unwrap();
        let weak = {
            let params = Params::new(8, 1, 1, None).unwrap();
            let salt = SaltString::generate(&mut HashRng);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"klein", &salt)
                .unwrap()
                .to_string()
        };
        std::thread::scope(|s| {
            for i in 0..8 {
                let (h, weak) = (&h, &weak);
                s.spawn(move || {
                    // Buffers of either size come and go through the pool.
                    assert!(verify_password("twaalf tekens!", h));
                    assert!(!verify_password(&format!("fout {i}"), h));
                    assert!(verify_password("klein", weak));
                });
            }
        });
        assert!(POOL.lock().unwrap().len() <= KEPT_BUFFERS);
    }

    #[test]
    fn dummy_verification_is_always_false() {
        assert!(!verify_password_or_dummy("whatever", None));
        let h = hash_password("twaalf tekens!").unwrap();
        assert!(verify_password_or_dummy("twaalf tekens!", Some(&h)));
        assert!(!verify_password_or_dummy("dertien tekens", Some(&h)));
    }

    #[test]
    fn strength_rules_in_dutch() {
        assert!(check_password_strength("kort", "jan")
            .unwrap_err()
            .contains("minstens 12"));
        // Twelve characters counted as characters, not bytes.
        assert!(check_password_strength("ëëëëëëëëëëëa", "jan").is_ok());
        assert!(check_password_strength("ëëëëëëëëëëë", "jan").is_err());
        assert!(check_password_strength("aaaaaaaaaaaaaaaa", "jan")
            .unwrap_err()
            .contains("hetzelfde teken"));
        assert!(check_password_strength("Jan.Jansen.2B", "jan.jansen.2b")
            .unwrap_err()
            .contains("gebruikersnaam"));
        assert!(check_password_strength("lang genoeg wachtwoord", "jan").is_ok());
        assert!(check_password_strength("lang genoeg wachtwoord", "").is_ok());
    }

    #[test]
    fn usernames() {
        for ok in ["jb", "jan.jansen", "m_de-vries2", &"a".repeat(64)] {
            assert!(check_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "j",
            "",
            "Jan",
            "jan jansen",
            "jan@school.nl",
            "jé",
            &"a".repeat(65),
        ] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_passwords_are_strong_unambiguous_and_different() {
        let a = generate_password();
        let b = generate_password();
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
        assert_eq!(a.split('-').count(), 5);
        assert!(a.split('-').all(|g| g.len() == 4));
        for c in a.chars().filter(|&c| c != '-') {
            assert!(UNAMBIGUOUS.contains(&(c as u8)), "{c}");
            assert!(!"0Oo1lI".contains(c), "{c}");
        }
        assert!(check_password_strength(&a, "jan").is_ok());
        assert!(
            check_password_strength(&a, &a).is_err(),
            "the username rule still applies"
        );
    }

    #[test]
    fn tokens_are_random_hex_and_hashes_are_sha256() {
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(t, new_token());
        // Known answer: SHA-256("abc").
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(token_hash(&t), token_hash(&t));
        assert_ne!(token_hash(&t), t);
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = Secret::new("geheim-wachtwoord");
        assert_eq!(format!("{s:?}"), "Secret(<verborgen>)");
        assert_eq!(format!("{s}"), "<verborgen>");
        assert_eq!(s.expose(), "geheim-wachtwoord");
    }
}
