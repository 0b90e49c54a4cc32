//! `aanwezig demo`: a realistic synthetic school in the canonical formats,
//! imported into the database and evaluated, so that one command shows what
//! aanwezig does.

use crate::session::Database;
use std::fs::File;
use std::io::{BufWriter, Write};

use aanwezig_demo::{DemoConfig, DemoSchool};
use aanwezig_domain::{Calendar, RegistrationRecord, SchoolYear};
use aanwezig_storage::{ImportSource, Store, StoredStudent};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use indicatif::ProgressBar;

use crate::commands::{evaluate, import};
use crate::{presets, render, session, DemoArgs, ImportArgs, Scope};

/// The shipped school years (region noord).
pub fn shipped_years() -> anyhow::Result<Vec<SchoolYear>> {
    let mut years = aanwezig_import::parse_school_years(
        presets::CALENDAR_2025_2026_NOORD,
        "2025-2026-noord.toml",
    )?;
    years.extend(aanwezig_import::parse_school_years(
        presets::CALENDAR_2026_2027_NOORD,
        "2026-2027-noord.toml",
    )?);
    Ok(years)
}

/// The school year a demo made on `until` covers: the latest one that has
/// started by then (the first one when none has).
pub fn demo_year(years: &[SchoolYear], until: NaiveDate) -> Option<SchoolYear> {
    years
        .iter()
        .filter(|y| y.first_day <= until)
        .max_by_key(|y| y.first_day)
        .or_else(|| years.first())
        .cloned()
}

/// A generated demo school and the school year it covers.
pub struct Generated {
    pub year: SchoolYear,
    pub cal: Calendar,
    pub school: DemoSchool,
    /// The last date with lessons.
    pub until: NaiveDate,
}

/// Generates the demo school for the school year holding `until`.
pub fn generate(students: usize, seed: u64, until: NaiveDate) -> anyhow::Result<Generated> {
    let years = shipped_years()?;
    let year = demo_year(&years, until).context("geen schooljaar in de meegeleverde kalenders")?;
    let cal = Calendar::new(vec![year.clone()])?;
    let until = until.min(year.last_day);
    let school = aanwezig_demo::generate(
        &cal,
        &DemoConfig {
            students,
            seed,
            until: Some(until),
        },
    );
    Ok(Generated {
        year,
        cal,
        school,
        until,
    })
}

/// Generates the demo school and stores it directly (no files): calendar,
/// policy, students and registrations.
pub async fn load_demo(
    store: &dyn Store,
    students: usize,
    seed: u64,
    until: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<DemoSchool> {
    let g = generate(students, seed, until)?;
    store
        .save_calendar(std::slice::from_ref(&g.year), "demo", now)
        .await?;
    let policy = aanwezig_import::parse_policy(presets::POLICY_MAGISTER, "magister.toml")?;
    store.save_policy(&policy, "demo", now).await?;
    let stored: Vec<StoredStudent> = g
        .school
        .students
        .iter()
        .map(|s| StoredStudent {
            student: s.clone(),
            left_on: None,
        })
        .collect();
    store.upsert_students(&stored).await?;
    let records: Vec<RegistrationRecord> = (0..g.school.students.len())
        .flat_map(|i| g.school.records(&g.cal, i).collect::<Vec<_>>())
        .collect();
    let pb = ProgressBar::new(records.len() as u64).with_message("demoschool inlezen");
    let source = ImportSource {
        file_name: "demo".into(),
        sha256: String::new(),
        imported_by: "demo".into(),
        at: now,
    };
    store
        .import_registrations(&records, &source, &|n| pb.set_position(n))
        .await?;
    pb.finish_and_clear();
    println!(
        "Demoschool geladen: {} leerlingen, {} registraties, schooljaar {} tot en met {}.",
        g.school.students.len(),
        records.len(),
        g.year.name,
        g.until
    );
    Ok(g.school)
}

/// `aanwezig demo`.
pub async fn run(
    db: &Database,
    args: &DemoArgs,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let until = args.until.unwrap_or(today);
    let Generated {
        year,
        cal,
        school,
        until: gen_until,
    } = generate(args.students, args.seed, until)?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("map {} maken", args.out.display()))?;
    let path = |name: &str| args.out.join(name);
    std::fs::write(
        path("calendar.toml"),
        aanwezig_import::calendar_to_toml(std::slice::from_ref(&year)),
    )?;
    std::fs::write(path("policy.toml"), presets::POLICY_MAGISTER)?;
    let mut w = BufWriter::new(File::create(path("students.csv"))?);
    school.write_students_csv(&mut w)?;
    w.flush()?;
    let pb = ProgressBar::new_spinner().with_message("registraties schrijven");
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path("registrations.csv"))?);
    school.write_registrations_csv(&cal, &mut w, |n| pb.set_position(n))?;
    w.flush()?;
    pb.finish_and_clear();
    println!(
        "Demoschool in {}: {} leerlingen, schooljaar {} tot en met {}.",
        args.out.display(),
        school.students.len(),
        year.name,
        gen_until
    );
    if args.no_import {
        return Ok(());
    }

    let store = session::open_store(db).await?;
    let import_args = ImportArgs {
        calendars: vec![path("calendar.toml")],
        rijksoverheid: None,
        region: "noord".into(),
        policy: Some(path("policy.toml")),
        students: Some(path("students.csv")),
        registrations: vec![path("registrations.csv")],
        timetable: None,
        format: None,
        presence: None,
        from: None,
        until: None,
        add_codes: false,
        by: "demo".into(),
    };
    import::import_into(
        store.as_ref(),
        &import_args,
        today,
        now,
        import::Progress::Bar,
    )
    .await
    .map_err(import::ImportFailed::print_notes)?
    .print();
    println!("Database: {}\n", db);
    let loaded = session::from_store(store.as_ref()).await?;
    store.close().await;
    let out = evaluate::evaluate(&loaded, until, Scope::Week, None)?;
    print!("{}", render::table(&out, &loaded));
    Ok(())
}
