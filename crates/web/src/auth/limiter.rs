//! The sign-in limiter: growing delays per (account, address) and a
//! budget per address, in bounded memory whatever is sent.
//!
//! The policy (docs/security.md, "Sign-in and sessions"):
//!
//! - **Per account and address**: [`FREE_ATTEMPTS`] failed sign-ins cost
//!   nothing; after that each further attempt waits [`FIRST_DELAY`],
//!   doubling per failure up to [`MAX_DELAY`]. The count is forgotten
//!   [`PAIR_FORGET`] after the last failure, and at a good sign-in. The
//!   same account from another address is not slowed down: wrong
//!   passwords typed elsewhere never lock the real user out.
//! - **Per address**: a budget of [`ADDRESS_BURST`] sign-in attempts that
//!   refills by one every [`ADDRESS_REFILL`] (a GCRA / token bucket); a
//!   good sign-in gives its attempt back. IPv6 addresses count per /64,
//!   the block one subscriber gets.
//!
//! An attempt is counted when it starts, before the password is checked,
//! so that concurrent guesses see each other. A refused attempt (still
//! waiting) changes nothing and stores nothing.
//!
//! Memory: an account is stored only as a valid user name (at most
//! [`MAX_NAME_BYTES`] bytes, inline), an address as 17 bytes, and both maps
//! are LRU caches with a hard size ([`MAX_PAIRS`], [`MAX_ADDRESSES`]) from
//! which expired entries are dropped on every attempt. governor and the
//! like limit the rate of all requests; here only sign-ins count and a
//! success clears the account's count, so the two maps are kept here over
//! hashlink's `LruCache`.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use hashlink::LruCache;

/// Failed sign-ins per (account, address) before any delay.
pub const FREE_ATTEMPTS: u32 = 5;
/// The wait after the first failure past [`FREE_ATTEMPTS`]; it doubles with
/// every further failure.
pub const FIRST_DELAY: Duration = Duration::seconds(1);
/// The longest wait between two attempts on one account from one address.
pub const MAX_DELAY: Duration = Duration::minutes(5);
/// An (account, address) count is forgotten this long after its last
/// failure (longer than [`MAX_DELAY`], so waiting out the delay does not
/// reset the count).
pub const PAIR_FORGET: Duration = Duration::hours(1);
/// Sign-in attempts one address may make at once.
pub const ADDRESS_BURST: u32 = 30;
/// One attempt of an address's budget comes back per this time.
pub const ADDRESS_REFILL: Duration = Duration::seconds(20);
/// The most (account, address) counts kept.
pub const MAX_PAIRS: usize = 50_000;
/// The most address budgets kept.
pub const MAX_ADDRESSES: usize = 50_000;
/// The longest user name `aanwezig_auth::check_username` allows, in bytes
/// (its names are ASCII).
pub const MAX_NAME_BYTES: usize = 64;

/// An address as the limiter counts it: IPv4 as is, IPv6 by its /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Net(IpAddr);

impl Net {
    pub fn of(ip: IpAddr) -> Net {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                Net(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
            v4 => Net(v4),
        }
    }
}

/// A user name as a key: at most [`MAX_NAME_BYTES`] bytes, kept inline so
/// an entry's size never depends on what was typed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Name {
    len: u8,
    bytes: [u8; MAX_NAME_BYTES],
}

impl Name {
    /// `None` for anything longer than a user name can be.
    fn new(name: &str) -> Option<Name> {
        let b = name.as_bytes();
        if b.is_empty() || b.len() > MAX_NAME_BYTES {
            return None;
        }
        let mut bytes = [0; MAX_NAME_BYTES];
        bytes[..b.len()].copy_from_slice(b);
        Some(Name {
            len: b.len() as u8,
            bytes,
        })
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.bytes[..usize::from(self.len)];
        write!(f, "{:?}", String::from_utf8_lossy(s))
    }
}

/// Failures of one account from one address.
#[derive(Clone, Copy, Debug)]
struct Pair {
    failures: u32,
    last: DateTime<Utc>,
}

impl Pair {
    fn next_allowed(&self) -> DateTime<Utc> {
        self.last + delay_after(self.failures)
    }
}

/// The wait after `failures` failures of one account from one address.
pub fn delay_after(failures: u32) -> Duration {
    if failures < FREE_ATTEMPTS {
        return Duration::zero();
    }
    let doublings = (failures - FREE_ATTEMPTS).min(20);
    (FIRST_DELAY * (1 << doublings)).min(MAX_DELAY)
}

/// One address's budget, as a GCRA: `tat` is when the budget is full again.
#[derive(Clone, Copy, Debug)]
struct Budget {
    tat: DateTime<Utc>,
    updated: DateTime<Utc>,
}

/// The budget's span: a full budget is this much time in credit.
fn address_window() -> Duration {
    ADDRESS_REFILL * ADDRESS_BURST as i32
}

struct Maps {
    pairs: LruCache<(Net, Name), Pair>,
    addresses: LruCache<Net, Budget>,
}

/// How much the limiter holds, for tests and measurements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimiterStats {
    pub pairs: usize,
    pub addresses: usize,
    /// An estimate of the heap the two maps use: per entry the key, the
    /// value, two list pointers and the allocator's header; per entry also
    /// a hash-table slot and control byte (a table at most half empty).
    pub approx_bytes: usize,
}

/// Counts sign-in attempts (see the module docs).
pub struct LoginLimiter {
    maps: Mutex<Maps>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::with_capacity(MAX_PAIRS, MAX_ADDRESSES)
    }
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter")
            .field("stats", &self.stats())
            .finish()
    }
}

impl LoginLimiter {
    /// A limiter keeping at most `pairs` and `addresses` entries.
    pub fn with_capacity(pairs: usize, addresses: usize) -> LoginLimiter {
        LoginLimiter {
            maps: Mutex::new(Maps {
                pairs: LruCache::new(pairs.max(1)),
                addresses: LruCache::new(addresses.max(1)),
            }),
        }
    }

    /// Starts a sign-in attempt for `account` (a valid, lower-cased user
    /// name; `None` for a name no account can have, which counts against
    /// the address only) from `ip`: counts it, or returns how long to wait
    /// first. A refused attempt stores nothing.
    pub fn attempt(
        &self,
        account: Option<&str>,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<(), Duration> {
        let Ok(mut maps) = self.maps.lock() else {
            // A panic while counting: refuse rather than let guesses through.
            return Err(FIRST_DELAY);
        };
        maps.expire(now);
        let net = Net::of(ip);
        let name = account.and_then(Name::new);

        let budget = maps.addresses.peek(&net).copied();
        let tat = budget.map_or(now, |b| b.tat.max(now));
        let allowed_at = tat - address_window() + ADDRESS_REFILL;
        let mut wait = (allowed_at > now).then(|| allowed_at - now);
        let pair = name.and_then(|n| maps.pairs.peek(&(net, n)).copied());
        if let Some(p) = pair {
            let next = p.next_allowed();
            if next > now {
                let w = next - now;
                wait = Some(wait.map_or(w, |x| x.max(w)));
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        maps.addresses.insert(
            net,
            Budget {
                tat: tat + ADDRESS_REFILL,
                updated: now,
            },
        );
        if let Some(n) = name {
            let failures = pair.map_or(0, |p| p.failures).saturating_add(1);
            maps.pairs.insert(
                (net, n),
                Pair {
                    failures,
                    last: now,
                },
            );
        }
        Ok(())
    }

    /// A good sign-in: forgets the account's failures from this address and
    /// gives the attempt back to the address's budget.
    pub fn success(&self, account: &str, ip: IpAddr) {
        let Ok(mut maps) = self.maps.lock() else {
            return;
        };
        let net = Net::of(ip);
        if let Some(n) = Name::new(account) {
            maps.pairs.remove(&(net, n));
        }
        if let Some(b) = maps.addresses.peek_mut(&net) {
            b.tat -= ADDRESS_REFILL;
        }
    }

    /// What the limiter holds now.
    pub fn stats(&self) -> LimiterStats {
        let (pairs, addresses) = self
            .maps
            .lock()
            .map(|m| (m.pairs.len(), m.addresses.len()))
            .unwrap_or_default();
        const LINKS_AND_HEADER: usize = 2 * size_of::<usize>() + 16;
        const SLOT: usize = 2 * (size_of::<usize>() + 1);
        let pair_entry = size_of::<(Net, Name)>() + size_of::<Pair>() + LINKS_AND_HEADER + SLOT;
        let address_entry = size_of::<Net>() + size_of::<Budget>() + LINKS_AND_HEADER + SLOT;
        LimiterStats {
            pairs,
            addresses,
            approx_bytes: pairs * pair_entry + addresses * address_entry,
        }
    }
}

impl Maps {
    /// Drops expired entries. Every insert happens at "now", so the least
    /// recently used entry is also the least recently updated one: popping
    /// from that end while expired finds them all, each once.
    fn expire(&mut self, now: DateTime<Utc>) {
        while let Some((_, p)) = self.pairs.iter().next() {
            if now - p.last < PAIR_FORGET {
                break;
            }
            self.pairs.remove_lru();
        }
        while let Some((_, b)) = self.addresses.iter().next() {
            if now - b.updated < address_window() && b.tat > now {
                break;
            }
            self.addresses.remove_lru();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    fn t0() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn delays_grow_per_account_and_address() {
        let l = LoginLimiter::default();
        let a = ip("192.0.2.1");
        let now = t0();
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(l.attempt(Some("mentor"), a, now), Ok(()));
        }
        assert_eq!(l.attempt(Some("mentor"), a, now), Err(Duration::seconds(1)));
        // Another address, and another account, are not slowed down.
        assert_eq!(l.attempt(Some("mentor"), ip("198.51.100.9"), now), Ok(()));
        assert_eq!(l.attempt(Some("zorg"), a, now), Ok(()));
        // The delay doubles with every failure, up to MAX_DELAY.
        let mut now = now;
        let mut expected = Duration::seconds(1);
        for _ in 0..12 {
            now += expected;
            assert_eq!(l.attempt(Some("mentor"), a, now), Ok(()));
            expected = (expected * 2).min(MAX_DELAY);
            assert_eq!(l.attempt(Some("mentor"), a, now), Err(expected));
        }
        assert_eq!(expected, MAX_DELAY);
        // A good sign-in forgets the count.
        now += expected;
        l.attempt(Some("mentor"), a, now).unwrap();
        l.success("mentor", a);
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(l.attempt(Some("mentor"), a, now), Ok(()));
        }
        // And so does an hour without failures.
        assert!(l.attempt(Some("mentor"), a, now).is_err());
        assert_eq!(l.attempt(Some("mentor"), a, now + PAIR_FORGET), Ok(()));
    }

    #[test]
    fn an_address_has_a_budget_that_refills() {
        let l = LoginLimiter::default();
        let a = ip("192.0.2.1");
        let now = t0();
        for i in 0..ADDRESS_BURST {
            assert_eq!(l.attempt(Some(&format!("u{i}")), a, now), Ok(()), "{i}");
        }
        assert_eq!(l.attempt(Some("nieuw"), a, now), Err(ADDRESS_REFILL));
        assert_eq!(l.attempt(None, a, now), Err(ADDRESS_REFILL));
        assert_eq!(l.attempt(Some("nieuw"), ip("192.0.2.2"), now), Ok(()));
        // One attempt comes back per ADDRESS_REFILL.
        let later = now + ADDRESS_REFILL;
        assert_eq!(l.attempt(Some("nieuw"), a, later), Ok(()));
        assert_eq!(l.attempt(Some("nieuw2"), a, later), Err(ADDRESS_REFILL));
        // A good sign-in gives its attempt back.
        l.success("nieuw", a);
        assert_eq!(l.attempt(Some("nieuw2"), a, later), Ok(()));
    }

    #[test]
    fn ipv6_counts_per_64() {
        let l = LoginLimiter::default();
        let now = t0();
        for i in 0..ADDRESS_BURST {
            let addr = ip(&format!("2001:db8:1:2:{i:x}::1"));
            assert_eq!(l.attempt(None, addr, now), Ok(()));
        }
        assert!(l.attempt(None, ip("2001:db8:1:2:ffff::9"), now).is_err());
        assert_eq!(l.attempt(None, ip("2001:db8:1:3::1"), now), Ok(()));
        // IPv4-mapped is IPv4.
        assert_eq!(Net::of(ip("::ffff:192.0.2.1")), Net::of(ip("192.0.2.1")));
    }

    #[test]
    fn refused_attempts_store_nothing() {
        let l = LoginLimiter::default();
        let a = ip("192.0.2.1");
        for i in 0..ADDRESS_BURST {
            l.attempt(Some(&format!("u{i}")), a, t0()).unwrap();
        }
        let before = l.stats();
        for i in 0..10_000 {
            assert!(l.attempt(Some(&format!("x{i}")), a, t0()).is_err());
        }
        assert_eq!(l.stats(), before, "a blocked address adds no keys");
    }

    #[test]
    fn names_longer_than_a_user_name_are_not_stored() {
        let l = LoginLimiter::default();
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        l.attempt(Some(&long), ip("192.0.2.1"), t0()).unwrap();
        assert_eq!(l.stats().pairs, 0);
        assert_eq!(l.stats().addresses, 1);
        assert!(size_of::<(Net, Name)>() <= MAX_NAME_BYTES + 24);
    }

    #[test]
    fn entries_expire() {
        let l = LoginLimiter::default();
        for i in 0..100u8 {
            l.attempt(Some("mentor"), IpAddr::from([192, 0, 2, i]), t0())
                .unwrap();
        }
        assert_eq!(l.stats().pairs, 100);
        assert_eq!(l.stats().addresses, 100);
        // Any attempt after the windows drops what expired.
        l.attempt(None, ip("198.51.100.1"), t0() + address_window())
            .unwrap();
        assert_eq!(l.stats().addresses, 1, "budgets refilled are dropped");
        assert_eq!(l.stats().pairs, 100, "counts last an hour");
        l.attempt(None, ip("198.51.100.1"), t0() + PAIR_FORGET)
            .unwrap();
        assert_eq!(l.stats().pairs, 0);
    }

    /// 100,000 hostile sign-in attempts on `l`, `step` apart: 1 MB names,
    /// random valid names and one real one, from random IPv4 and IPv6
    /// addresses, a few fixed ones and one that is soon blocked. Returns
    /// (counted, refused).
    fn hostile(l: &LoginLimiter, step: Duration) -> (u32, u32) {
        let mut rng = SmallRng::seed_from_u64(8);
        let huge = "x".repeat(1 << 20);
        let blocked = ip("203.0.113.66");
        let mut now = t0();
        let (mut counted, mut refused) = (0, 0);
        for i in 0..100_000u32 {
            now += step;
            let addr = match i % 4 {
                0 => blocked,
                1 => IpAddr::from(rng.gen::<[u8; 4]>()),
                2 => IpAddr::from(rng.gen::<[u8; 16]>()),
                _ => IpAddr::from([10, 0, (i % 7) as u8, 1]),
            };
            let name: String = match i % 3 {
                0 => huge.clone(),
                1 => (0..rng.gen_range(2..=64))
                    .map(|_| char::from(b'a' + rng.gen_range(0..26)))
                    .collect(),
                _ => "mentor".to_owned(),
            };
            // The handler passes only valid user names; the limiter must
            // hold its bound even when handed anything.
            match l.attempt(Some(&name), addr, now) {
                Ok(()) => counted += 1,
                Err(_) => refused += 1,
            }
        }
        (counted, refused)
    }

    /// The measurement of issue 8: after 100,000 hostile sign-in attempts
    /// the limiter holds at most its two capacities, about 12 MB at the
    /// very most; with time moving (10 ms apart) expiry keeps it far
    /// below. Prints what it holds (`--nocapture`).
    #[test]
    fn memory_is_bounded_after_100_000_hostile_sign_ins() {
        let per_pair = size_of::<(Net, Name)>() + size_of::<Pair>() + 2 * 8 + 16 + 18;
        let per_address = size_of::<Net>() + size_of::<Budget>() + 2 * 8 + 16 + 18;
        let ceiling = MAX_PAIRS * per_pair + MAX_ADDRESSES * per_address;
        assert!(ceiling <= 12 << 20, "the ceiling is {ceiling} bytes");
        for (label, step) in [
            ("10 ms apart", Duration::milliseconds(10)),
            ("all at one instant", Duration::zero()),
        ] {
            let l = LoginLimiter::default();
            let (counted, refused) = hostile(&l, step);
            let stats = l.stats();
            println!(
                "100,000 hostile attempts {label} ({counted} counted, {refused} refused): \
                 {} pair keys, {} address keys, about {} KiB (ceiling {} KiB)",
                stats.pairs,
                stats.addresses,
                stats.approx_bytes / 1024,
                ceiling / 1024
            );
            assert!(stats.pairs <= MAX_PAIRS, "{label}");
            assert!(stats.addresses <= MAX_ADDRESSES, "{label}");
            assert!(stats.approx_bytes <= ceiling, "{label}");
            assert!(
                refused >= 20_000,
                "{label}: the blocked address was refused"
            );
        }
    }

    #[test]
    fn a_full_map_evicts_the_least_recently_used() {
        let l = LoginLimiter::with_capacity(10, 10);
        for i in 0..1000u16 {
            let [hi, lo] = i.to_be_bytes();
            l.attempt(Some("mentor"), IpAddr::from([10, 1, hi, lo]), t0())
                .unwrap();
        }
        let s = l.stats();
        assert_eq!((s.pairs, s.addresses), (10, 10));
    }
}
