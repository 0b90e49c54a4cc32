//! The CSV files: exact headers, and every row parses back to the records.

mod common;

use aanwezig_demo::{generate, DemoConfig, REGISTRATIONS_HEADER, STUDENTS_HEADER};
use aanwezig_domain::Category;
use common::{calendar, ymd};

#[test]
fn students_csv_parses_back() {
    let cal = calendar();
    let s = generate(
        &cal,
        &DemoConfig {
            students: 60,
            seed: 3,
            until: None,
        },
    );
    let mut buf = Vec::new();
    s.write_students_csv(&mut buf).expect("write");
    let text = String::from_utf8(buf).expect("utf-8");
    assert!(text
        .starts_with("student_id,name,class,mentor,date_of_birth,left_on,bsn,onderwijsnummer\n"));
    assert_eq!(
        STUDENTS_HEADER.join(","),
        "student_id,name,class,mentor,date_of_birth,left_on,bsn,onderwijsnummer"
    );

    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 60);
    for (row, st) in rows.iter().zip(&s.students) {
        assert_eq!(&row[0], st.id.as_str());
        assert_eq!(&row[1], st.name);
        assert_eq!(&row[2], st.class);
        assert_eq!(&row[3], st.mentor);
        assert_eq!(&row[4], st.date_of_birth.format("%Y-%m-%d").to_string());
        assert_eq!(&row[5], "");
        assert_eq!(&row[6], st.bsn.as_ref().map_or("", |b| b.as_str()));
        assert_eq!(
            &row[7],
            st.onderwijsnummer.as_ref().map_or("", |o| o.as_str())
        );
    }
    // The demo has students with a BSN, with an onderwijsnummer and with
    // neither, and the import reads the file back with them.
    let with_bsn = s.students.iter().filter(|x| x.bsn.is_some()).count();
    let with_own = s
        .students
        .iter()
        .filter(|x| x.onderwijsnummer.is_some())
        .count();
    let neither = s
        .students
        .iter()
        .filter(|x| x.personal_number().is_none())
        .count();
    assert!(
        with_bsn > 30 && with_own > 0 && neither > 0,
        "{with_bsn} {with_own} {neither}"
    );
    let back = aanwezig_import::read_students(text.as_bytes(), "students.csv").expect("reads");
    let back: Vec<_> = back.into_iter().map(|r| r.student).collect();
    assert_eq!(back, s.students);
}

#[test]
fn registrations_csv_parses_back_to_the_records() {
    let cal = calendar();
    let s = generate(
        &cal,
        &DemoConfig {
            students: 210,
            seed: 12,
            until: Some(ymd(2025, 12, 19)),
        },
    );
    let mut buf = Vec::new();
    let mut calls = Vec::new();
    s.write_registrations_csv(&cal, &mut buf, |n| calls.push(n))
        .expect("write");
    assert_eq!(calls.len(), 210);
    assert_eq!(calls.last().copied(), Some(s.total_registrations()));
    assert!(calls.windows(2).all(|w| w[0] <= w[1]));

    let text = String::from_utf8(buf).expect("utf-8");
    let header = "student_id,date,lesson,minutes,code,category,minutes_late,note";
    assert_eq!(text.lines().next(), Some(header));
    assert_eq!(REGISTRATIONS_HEADER.join(","), header);
    assert!(text.contains(",1,50,,present,0,\n"), "present row shape");

    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut rows = rdr.records().map(|r| r.expect("row"));
    let mut absences = 0;
    for i in 0..s.students.len() {
        for rec in s.records(&cal, i) {
            let row = rows.next().expect("a row per registration");
            assert_eq!(row.len(), 8);
            assert_eq!(&row[0], rec.student.as_str());
            assert_eq!(&row[1], rec.date.format("%Y-%m-%d").to_string());
            assert_eq!(row[2].parse::<u8>().expect("lesson"), rec.lesson);
            assert_eq!(row[3].parse::<u16>().expect("minutes"), rec.minutes);
            match &rec.code {
                Some(code) => {
                    absences += 1;
                    assert_eq!(&row[4], code);
                    assert_eq!(&row[5], "");
                }
                None => {
                    assert_eq!(&row[4], "");
                    assert_eq!(Category::parse(&row[5]), Some(rec.category));
                }
            }
            assert_eq!(
                row[6].parse::<u16>().expect("minutes_late"),
                rec.minutes_late
            );
            assert_eq!(&row[7], "");
        }
    }
    assert!(rows.next().is_none(), "no extra rows");
    assert!(absences > 0);
}
