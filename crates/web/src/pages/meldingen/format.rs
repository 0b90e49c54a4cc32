//! Keys, labels and dates of the meldingen pages: kinds, statuses, periods and the deadline of 5 working days.

use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Calendar, MeldingKind, MeldingStatus};
use chrono::{Datelike, NaiveDate, Weekday};

pub(super) const KINDS: [MeldingKind; 4] = [
    MeldingKind::ZestienUur,
    MeldingKind::LangdurigRelatiefVerzuim,
    MeldingKind::LuxeVerzuim,
    MeldingKind::Overig,
];

pub(super) fn kind_key(k: MeldingKind) -> &'static str {
    match k {
        MeldingKind::ZestienUur => "zestien_uur",
        MeldingKind::ZestienUurAchttienPlus => "zestien_uur_achttien_plus",
        MeldingKind::LangdurigRelatiefVerzuim => "langdurig_relatief_verzuim",
        MeldingKind::LuxeVerzuim => "luxe_verzuim",
        MeldingKind::Overig => "overig",
    }
}

pub(super) const STATUSES: [MeldingStatus; 6] = [
    MeldingStatus::Concept,
    MeldingStatus::Geregistreerd,
    MeldingStatus::InBehandeling,
    MeldingStatus::Afgesloten,
    MeldingStatus::Ingetrokken,
    MeldingStatus::TerKennisgevingAangenomen,
];

pub(super) fn status_key(s: MeldingStatus) -> &'static str {
    match s {
        MeldingStatus::Concept => "concept",
        MeldingStatus::Geregistreerd => "geregistreerd",
        MeldingStatus::InBehandeling => "in_behandeling",
        MeldingStatus::Afgesloten => "afgesloten",
        MeldingStatus::Ingetrokken => "ingetrokken",
        MeldingStatus::TerKennisgevingAangenomen => "ter_kennisgeving_aangenomen",
    }
}

pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

pub(super) fn period(begin: NaiveDate, end: NaiveDate) -> String {
    if begin == end {
        date_nl(begin)
    } else {
        format!("{} tot en met {}", date_nl(begin), date_nl(end))
    }
}

/// Working days in (from, to]: the calendar's when there is one,
/// Monday–Friday otherwise.
fn working_days(cal: Option<&Calendar>, from: NaiveDate, to: NaiveDate) -> usize {
    from.iter_days()
        .skip(1)
        .take_while(|d| *d <= to)
        .filter(|d| match cal {
            Some(c) => c.is_working_day(*d),
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        })
        .count()
}

fn werkdagen(n: usize) -> String {
    if n == 1 {
        "1 werkdag".to_owned()
    } else {
        format!("{n} werkdagen")
    }
}

/// The deadline as the lists and the draft show it.
#[derive(Clone)]
pub(super) struct Due {
    pub(super) date: String,
    pub(super) text: String,
    pub(super) overdue: bool,
}

pub(super) fn due(
    cal: Option<&Calendar>,
    deadline: NaiveDate,
    today: NaiveDate,
    registered_on: Option<NaiveDate>,
) -> Due {
    let text = match registered_on {
        Some(r) if r > deadline => format!("gemeld op {}, na de termijn", date_nl(r)),
        Some(r) => format!("gemeld op {}, op tijd", date_nl(r)),
        None if today > deadline => match working_days(cal, deadline, today) {
            0 => "de termijn is verstreken".to_owned(),
            n => format!("{} te laat", werkdagen(n)),
        },
        None if today == deadline => "vandaag is de laatste dag".to_owned(),
        None => format!("nog {}", werkdagen(working_days(cal, today, deadline))),
    };
    Due {
        date: date_nl(deadline),
        text,
        overdue: registered_on.is_none() && today > deadline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_skip_weekends() {
        let fri = NaiveDate::from_ymd_opt(2025, 11, 14).expect("date");
        let tue = NaiveDate::from_ymd_opt(2025, 11, 18).expect("date");
        assert_eq!(working_days(None, fri, tue), 2);
        assert_eq!(due(None, tue, fri, None).text, "nog 2 werkdagen");
        let d = due(None, fri, tue, None);
        assert!(d.overdue);
        assert_eq!(d.text, "2 werkdagen te laat");
        assert_eq!(due(None, fri, fri, None).text, "vandaag is de laatste dag");
        assert!(!due(None, fri, tue, Some(tue)).overdue);
    }
}
