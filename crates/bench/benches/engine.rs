//! The engine on a full school year: all rules on all days for a whole
//! school, and one student re-evaluated after one changed lesson.
//!
//! `cargo bench -p aanwezig-bench --bench engine`

use std::hint::black_box;
use std::time::Duration;

use aanwezig_domain::{Category, Engine, Registration};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn all_rules_all_days(c: &mut Criterion) {
    let cal = aanwezig_bench::calendar();
    let policy = aanwezig_bench::policy();
    let engine = Engine::new(&cal, &policy);
    let mut group = c.benchmark_group("evaluate_all");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in [2_000usize, 20_000, 100_000] {
        let school = aanwezig_bench::school(&cal, n);
        group.throughput(Throughput::Elements(school.registration_count() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &school, |b, school| {
            b.iter(|| black_box(school.evaluate_all(&engine, None)));
        });
    }
    group.finish();
}

fn one_changed_lesson(c: &mut Criterion) {
    let cal = aanwezig_bench::calendar();
    let policy = aanwezig_bench::policy();
    let engine = Engine::new(&cal, &policy);
    let mut school = aanwezig_bench::school(&cal, 2_000);
    let i = 17;
    let mut toggle = false;
    c.bench_function("one_changed_lesson", |b| {
        b.iter(|| {
            // unknown → reported_sick and back: a parent called.
            toggle = !toggle;
            let category = if toggle {
                Category::Unknown
            } else {
                Category::ReportedSick
            };
            let reg = Registration {
                day: 40,
                minutes: 50,
                minutes_late: 0,
                lesson: 3,
                category,
            };
            school.upsert_lesson(i, reg);
            black_box(school.evaluate_one(&engine, i, None))
        });
    });
}

/// The same schools as an absence-only export gives them, with a
/// timetable per class and `presence = "implied"` (issue 10's target:
/// 100,000 students within 1 s).
fn implied_presence_with_a_timetable(c: &mut Criterion) {
    let cal = aanwezig_bench::calendar();
    let policy = aanwezig_bench::implied_policy();
    let engine = Engine::new(&cal, &policy);
    let mut group = c.benchmark_group("evaluate_all_implied_timetable");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in [2_000usize, 20_000, 100_000] {
        let school = aanwezig_bench::absences_school(&cal, n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &school, |b, school| {
            b.iter(|| black_box(school.evaluate_all(&engine, None)));
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    all_rules_all_days,
    one_changed_lesson,
    implied_presence_with_a_timetable
);
criterion_main!(benches);
