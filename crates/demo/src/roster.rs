//! The people of the demo school: students with Dutch-sounding names, their
//! classes in leerjaar 1–6, and one mentor per class.
//!
//! The roster is drawn sequentially from one RNG (it is cheap: a few strings
//! per student), so it does not depend on how the registrations are
//! parallelised.

use aanwezig_domain::{Bsn, Calendar, Onderwijsnummer, Student, StudentId};
use chrono::{Datelike, Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::pattern::Pattern;

/// Students per class the roster aims for.
pub const CLASS_SIZE: usize = 27;

/// The first student number; the others follow in order.
pub const FIRST_STUDENT_ID: u64 = 100_001;

/// Share of the students per leerjaar 1..=6, in percent. The upper years are
/// smaller because vmbo ends after year 4 and havo after year 5.
const LEERJAAR_WEIGHTS: [usize; 6] = [20, 19, 18, 17, 15, 11];

/// A mentor (class tutor): the account the demo logs in with to see a class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mentor {
    /// User name, `mentor_` and the class in lower case (`mentor_2b`).
    pub username: String,
    /// Name shown in the interface.
    pub display_name: String,
    /// The classes this mentor is mentor of (one in the demo).
    pub classes: Vec<String>,
}

pub(crate) struct Roster {
    pub students: Vec<Student>,
    pub patterns: Vec<Pattern>,
    pub mentors: Vec<Mentor>,
}

const FIRST_NAMES: &[&str] = &[
    "Daan", "Sem", "Noah", "Lucas", "Levi", "Finn", "Milan", "Jesse", "Bram", "Thijs", "Luuk",
    "Ruben", "Tim", "Lars", "Sven", "Gijs", "Jasper", "Stijn", "Thomas", "Max", "Julian", "Mees",
    "Siem", "Teun", "Hidde", "Jelle", "Wessel", "Jorn", "Rik", "Niels", "Pepijn", "Koen", "Tygo",
    "Boaz", "Joep", "Floris", "Olivier", "Mohammed", "Yusuf", "Ayoub", "Mehmet", "Omar", "Rayan",
    "Kevin", "Dylan", "Tobias", "Sietse", "Wiebe", "Jan", "Emma", "Julia", "Mila", "Tess",
    "Sophie", "Zoë", "Sara", "Anna", "Evi", "Noor", "Saar", "Lotte", "Fenna", "Lieke", "Fleur",
    "Isa", "Roos", "Sanne", "Femke", "Jasmijn", "Nina", "Eva", "Lisa", "Maud", "Liv", "Yara",
    "Lynn", "Esmee", "Iris", "Floor", "Amber", "Demi", "Britt", "Merel", "Vera", "Ilse", "Anouk",
    "Hanna", "Nora", "Elin", "Fatima", "Yasmin", "Amira", "Aya", "Selin", "Ilayda", "Sofia",
    "Jada", "Dewi", "Griet", "Sjoukje", "Hylke", "Romy",
];

const LAST_NAMES: &[&str] = &[
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "van der Linden",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van den Heuvel",
    "van der Veen",
    "van den Broek",
    "de Bruijn",
    "de Jong",
    "van Dijk",
    "Janssen",
    "Postma",
    "Hoekstra",
    "Bosma",
    "Huisman",
    "Kuipers",
    "Veenstra",
    "Wiersma",
    "Zijlstra",
    "Boersma",
    "Smid",
    "Pruim",
    "Schuiling",
    "Tuinstra",
    "Hofstede",
    "Wolters",
    "Meester",
    "Oosterhuis",
    "Bolhuis",
    "Nijenhuis",
    "Haveman",
    "Kamminga",
    "Drenth",
    "Zuidema",
    "Venema",
    "Kramer",
    "Vink",
    "Prins",
    "van der Wal",
    "Scholten",
    "Timmer",
    "Koster",
    "Hoving",
    "Boonstra",
    "Dam",
    "Mol",
    "Groen",
    "Lubbers",
    "Knol",
    "Brink",
    "Wijk",
    "Hoekman",
    "van Beek",
    "ter Horst",
    "ten Brink",
    "van 't Hof",
    "Yilmaz",
    "El Amrani",
    "Kaya",
    "Bouzid",
    "Nguyen",
    "Öztürk",
    "Pinas",
    "Martina",
    "Kowalski",
    "Haddou",
    "Rahimi",
    "Schaap",
    "Nieuwenhuis",
    "Stoker",
    "Elzinga",
    "Mellema",
    "Zwiers",
    "van Dam",
    "de Lange",
];

/// How many students of each pattern a block of 200 holds. Dealing the
/// patterns per block (shuffled) instead of drawing each student's pattern
/// independently means even a small school of 200 holds every group.
const BLOCK: [(Pattern, usize); 8] = [
    (Pattern::Regular, 140),
    (Pattern::FrequentSick, 20),
    (Pattern::LongIllness, 6),
    (Pattern::Skipper, 16),
    (Pattern::ChronicLate, 10),
    (Pattern::HolidayAbsence, 4),
    (Pattern::LongTermUnexplained, 1),
    (Pattern::LeaveOnly, 3),
];

/// Size of one pattern block: every 200 students hold 140 regular, 20
/// frequently sick, 6 long-ill, 16 skippers, 10 chronic late-comers, 4
/// holiday absentees, 1 long-term unexplained and 3 leave-only students.
pub const BLOCK_SIZE: usize = 200;

pub(crate) fn roster(cal: &Calendar, n: usize, seed: u64) -> Roster {
    // A fixed tweak keeps the roster stream apart from the per-student
    // streams, which are seeded from the same `seed`.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_CAFE_F00D_0001);
    let start_year = school_start_year(cal);

    let per_year = split_by_weight(n, &LEERJAAR_WEIGHTS);
    let mut students = Vec::with_capacity(n);
    let mut mentors = Vec::new();
    let mut classes_by_year: Vec<Vec<String>> = Vec::with_capacity(6);
    for (i, &count) in per_year.iter().enumerate() {
        let leerjaar = i + 1;
        let n_classes = if count == 0 {
            0
        } else {
            ((count + CLASS_SIZE / 2) / CLASS_SIZE).max(1)
        };
        let classes: Vec<String> = (0..n_classes)
            .map(|k| format!("{leerjaar}{}", class_letters(k)))
            .collect();
        for class in &classes {
            mentors.push(Mentor {
                username: format!("mentor_{}", class.to_lowercase()),
                display_name: person_name(&mut rng),
                classes: vec![class.clone()],
            });
        }
        classes_by_year.push(classes);
    }

    // Upper years first: they enrolled earliest and so hold the lowest
    // student numbers, as in a real administration.
    let mut index: u64 = 0;
    for leerjaar in (1..=6usize).rev() {
        let classes = &classes_by_year[leerjaar - 1];
        for pos in 0..per_year[leerjaar - 1] {
            let class = &classes[pos % classes.len()];
            let id = StudentId::parse(&(FIRST_STUDENT_ID + index).to_string());
            index += 1;
            let Ok(id) = id else {
                continue; // unreachable: a decimal number is a valid id
            };
            let (bsn, onderwijsnummer) = demo_numbers(index - 1);
            students.push(Student {
                id,
                name: person_name(&mut rng),
                class: class.clone(),
                mentor: format!("mentor_{}", class.to_lowercase()),
                date_of_birth: date_of_birth(&mut rng, start_year, leerjaar),
                bsn,
                onderwijsnummer,
            });
        }
    }

    // Patterns come from their own stream, so a larger school deals its
    // first blocks exactly like a smaller one with the same seed.
    let mut deal_rng = ChaCha8Rng::seed_from_u64(seed ^ 0xB10C_DEA1_0000_0200);
    let patterns = deal_patterns(&mut deal_rng, students.len());
    Roster {
        students,
        patterns,
        mentors,
    }
}

/// Made-up personal numbers for the `index`-th student, from the index
/// alone (so the random streams are untouched): BSNs `999nnnnn?` and
/// onderwijsnummers `109nnnnn?`, with `?` the elfproef check digit. Most
/// students get a BSN; every tenth an onderwijsnummer instead; every
/// tenth (and those whose eight digits have no check digit) neither, so
/// that the demo shows a DUO melding that cannot be registered yet. Each
/// number belongs to one index: from the 100,000th student on there are
/// none (a students file may not repeat a number). These numbers are
/// invented for the demo and belong to no one we know of.
pub(crate) fn demo_numbers(index: u64) -> (Option<Bsn>, Option<Onderwijsnummer>) {
    if index >= 100_000 {
        return (None, None);
    }
    let digits = |prefix: [u8; 3]| {
        let mut d = [0u8; 8];
        d[..3].copy_from_slice(&prefix);
        for (k, slot) in d[3..].iter_mut().enumerate() {
            let shift = 10u64.pow(4 - k as u32);
            *slot = ((index / shift) % 10) as u8;
        }
        d
    };
    match index % 10 {
        8 => (
            None,
            aanwezig_domain::personal_number::fake::onderwijsnummer_from(digits([1, 0, 9])),
        ),
        9 => (None, None),
        _ => (
            aanwezig_domain::personal_number::fake::bsn_from(digits([9, 9, 9])),
            None,
        ),
    }
}

/// The calendar year in which the (first) school year starts: a year that
/// begins in August 2025 is 2025.
fn school_start_year(cal: &Calendar) -> i32 {
    let first = cal
        .years()
        .first()
        .map_or_else(|| cal.date(0), |y| y.first_day);
    if first.month() >= 7 {
        first.year()
    } else {
        first.year() - 1
    }
}

fn deal_patterns(rng: &mut ChaCha8Rng, n: usize) -> Vec<Pattern> {
    let mut out = Vec::with_capacity(n + BLOCK_SIZE);
    let mut block: Vec<Pattern> = BLOCK
        .iter()
        .flat_map(|&(p, k)| std::iter::repeat_n(p, k))
        .collect();
    while out.len() < n {
        block.shuffle(rng);
        out.extend_from_slice(&block);
    }
    out.truncate(n);
    out
}

/// Splits `n` by percentage weights with the largest-remainder method, so
/// the parts add up to exactly `n`.
fn split_by_weight(n: usize, weights: &[usize; 6]) -> [usize; 6] {
    let total: usize = weights.iter().sum();
    let mut parts = [0usize; 6];
    let mut rest: Vec<(usize, usize)> = Vec::with_capacity(6);
    for (i, w) in weights.iter().enumerate() {
        parts[i] = n * w / total;
        rest.push((n * w % total, i));
    }
    let mut left = n - parts.iter().sum::<usize>();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rest {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// `A`…`Z`, then `AA`, `AB`…: a school with more than 26 classes in a year
/// (only in benchmark-sized schools) still gets unique names.
fn class_letters(k: usize) -> String {
    let mut k = k + 1;
    let mut letters = Vec::new();
    while k > 0 {
        k -= 1;
        letters.push(char::from(b'A' + u8::try_from(k % 26).unwrap_or(0)));
        k /= 26;
    }
    letters.iter().rev().collect()
}

fn person_name(rng: &mut ChaCha8Rng) -> String {
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    format!("{first} {last}")
}

/// A date of birth that fits the leerjaar: a first-year student of a year
/// starting in 2025 was born between 1 October 2012 and 30 September 2013
/// (so turns 12 or 13 during the year); each later year is a year older.
/// About one in twelve students in years 2–5 repeated a year (zittenblijver)
/// and is a year older still; year 6 is never older than 18.
fn date_of_birth(rng: &mut ChaCha8Rng, start_year: i32, leerjaar: usize) -> NaiveDate {
    let mut older = i32::try_from(leerjaar).unwrap_or(1) - 1;
    if (2..=5).contains(&leerjaar) && rng.gen_ratio(1, 12) {
        older += 1;
    }
    let from = NaiveDate::from_ymd_opt(start_year - 13 - older, 10, 1).unwrap_or_default();
    from.checked_add_days(Days::new(rng.gen_range(0..365)))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_letters_are_bijective_base_26() {
        assert_eq!(class_letters(0), "A");
        assert_eq!(class_letters(25), "Z");
        assert_eq!(class_letters(26), "AA");
        assert_eq!(class_letters(27), "AB");
        assert_eq!(class_letters(26 + 26 * 26), "AAA");
    }

    #[test]
    fn weights_split_exactly() {
        for n in [0, 1, 5, 199, 2000, 100_000] {
            assert_eq!(
                split_by_weight(n, &LEERJAAR_WEIGHTS).iter().sum::<usize>(),
                n
            );
        }
        assert_eq!(BLOCK.iter().map(|b| b.1).sum::<usize>(), BLOCK_SIZE);
    }
}

#[cfg(test)]
mod number_tests {
    use super::demo_numbers;

    /// A school of up to 100,000 demo students has no number twice (the
    /// students import refuses a repeated BSN), and most have one.
    #[test]
    fn demo_numbers_never_repeat() {
        let mut seen = std::collections::HashSet::new();
        let mut with = 0;
        for i in 0..100_000u64 {
            let (bsn, onr) = demo_numbers(i);
            for n in [bsn.map(String::from), onr.map(String::from)]
                .into_iter()
                .flatten()
            {
                assert!(seen.insert(n.clone()), "{n} twice (index {i})");
                with += 1;
            }
        }
        assert!(with > 70_000, "{with}");
        assert_eq!(demo_numbers(100_000), (None, None));
    }
}
