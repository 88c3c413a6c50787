//! WHEN and DATE arguments. WHEN is an RFC 3339 time, a local date-time without an offset, or a
//! date alone; a date alone means that day in the owner's time zone: its start for `--at` and
//! `--since`, its end for `--until` (sent as the start of the next day, because the server's
//! `until` is exclusive). Times go to the server as RFC 3339 with their offset.

use std::str::FromStr;

use chrono::{
    DateTime, Days, FixedOffset, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    TimeDelta, TimeZone, Utc,
};

const WHEN_FORMS: &str = "use RFC 3339 (2026-12-15T14:30:00+01:00), a local time (2026-12-15T14:30) or a date (2026-12-15)";

/// A point in time as the owner typed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A full RFC 3339 time: used as given.
    Instant(DateTime<FixedOffset>),
    /// A date and time without offset: in the owner's time zone.
    LocalTime(NaiveDateTime),
    /// A whole day in the owner's time zone.
    Day(NaiveDate),
}

impl FromStr for When {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(When::Instant(t));
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
                return Ok(When::LocalTime(t));
            }
        }
        if let Ok(d) = parse_date(s) {
            return Ok(When::Day(d));
        }
        Err(format!("{s:?} is not a time: {WHEN_FORMS}"))
    }
}

impl When {
    /// The time meant by `--at` or `--since`: a day's start.
    pub fn start(&self) -> DateTime<FixedOffset> {
        self.start_in(&Local)
    }

    /// The exclusive bound meant by `--until`: a day's end, that is the next day's start.
    pub fn end(&self) -> DateTime<FixedOffset> {
        self.end_in(&Local)
    }

    pub fn start_in<Tz: TimeZone>(&self, tz: &Tz) -> DateTime<FixedOffset> {
        match *self {
            When::Instant(t) => t,
            When::LocalTime(t) => first_valid_at_or_after(t, |t| tz.from_local_datetime(&t)),
            When::Day(d) => start_of_day(tz, d),
        }
    }

    pub fn end_in<Tz: TimeZone>(&self, tz: &Tz) -> DateTime<FixedOffset> {
        match *self {
            When::Day(d) => start_of_day(tz, d.checked_add_days(Days::new(1)).unwrap_or(d)),
            _ => self.start_in(tz),
        }
    }
}

/// The first moment of `day` in `tz`.
pub fn start_of_day<Tz: TimeZone>(tz: &Tz, day: NaiveDate) -> DateTime<FixedOffset> {
    first_valid_at_or_after(day.and_time(NaiveTime::MIN), |t| tz.from_local_datetime(&t))
}

/// The earliest real time at or after the wall-clock time `t`: a time repeated by a DST change
/// is taken at its first occurrence, and one skipped by a DST gap (some zones skip midnight)
/// moves to the end of the gap.
fn first_valid_at_or_after<Tz: TimeZone>(
    t: NaiveDateTime,
    resolve: impl Fn(NaiveDateTime) -> LocalResult<DateTime<Tz>>,
) -> DateTime<FixedOffset> {
    // Gaps are whole minutes and never longer than a day.
    for minutes in 0..=24 * 60 {
        let candidate = t + TimeDelta::minutes(minutes);
        if let Some(found) = resolve(candidate).earliest() {
            return found.fixed_offset();
        }
    }
    Utc.from_utc_datetime(&t).fixed_offset()
}

/// A DATE argument: `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(format!(
            "{s:?} is not a date: write it YYYY-MM-DD, e.g. 2026-12-15"
        ));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a day of the calendar"))
}

/// The owner's today.
pub fn today() -> NaiveDate {
    Local::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plus_one() -> FixedOffset {
        FixedOffset::east_opt(3600).unwrap()
    }

    #[test]
    fn a_date_alone_means_the_start_of_that_day_in_the_owners_zone() {
        let w: When = "2026-11-12".parse().unwrap();
        assert_eq!(w, When::Day(NaiveDate::from_ymd_opt(2026, 11, 12).unwrap()));
        assert_eq!(
            w.start_in(&plus_one()).to_rfc3339(),
            "2026-11-12T00:00:00+01:00"
        );
    }

    #[test]
    fn until_a_date_means_the_end_of_that_day() {
        let w: When = "2026-12-31".parse().unwrap();
        assert_eq!(
            w.end_in(&plus_one()).to_rfc3339(),
            "2027-01-01T00:00:00+01:00"
        );
        let leap: When = "2028-02-28".parse().unwrap();
        assert_eq!(leap.end_in(&Utc).to_rfc3339(), "2028-02-29T00:00:00+00:00");
    }

    #[test]
    fn rfc3339_is_taken_as_given_for_since_and_until() {
        let w: When = "2026-11-12T14:30:00-05:00".parse().unwrap();
        assert_eq!(
            w.start_in(&plus_one()).to_rfc3339(),
            "2026-11-12T14:30:00-05:00"
        );
        assert_eq!(
            w.end_in(&plus_one()).to_rfc3339(),
            "2026-11-12T14:30:00-05:00"
        );
        let z: When = "2026-11-12T14:30:00Z".parse().unwrap();
        assert_eq!(
            z.start_in(&plus_one()).to_rfc3339(),
            "2026-11-12T14:30:00+00:00"
        );
    }

    #[test]
    fn a_time_without_offset_is_local() {
        let w: When = "2026-11-12T14:30".parse().unwrap();
        assert_eq!(
            w.start_in(&plus_one()).to_rfc3339(),
            "2026-11-12T14:30:00+01:00"
        );
        let w: When = "2026-11-12 09:05:07".parse().unwrap();
        assert_eq!(
            w.end_in(&plus_one()).to_rfc3339(),
            "2026-11-12T09:05:07+01:00"
        );
    }

    #[test]
    fn a_midnight_skipped_by_dst_moves_to_the_end_of_the_gap() {
        // A zone that jumps from 00:00 to 01:00 (+00:00 → +01:00), as some have done.
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let resolve = |t: NaiveDateTime| {
            if t.hour_is_in_gap() {
                LocalResult::None
            } else {
                plus_one().from_local_datetime(&t)
            }
        };
        let found = first_valid_at_or_after(day.and_time(NaiveTime::MIN), resolve);
        assert_eq!(found.to_rfc3339(), "2026-03-29T01:00:00+01:00");
    }

    trait InGap {
        fn hour_is_in_gap(&self) -> bool;
    }
    impl InGap for NaiveDateTime {
        fn hour_is_in_gap(&self) -> bool {
            use chrono::Timelike;
            self.hour() == 0
        }
    }

    #[test]
    fn bad_whens_and_dates_say_what_to_write() {
        for bad in [
            "yesterday",
            "2026-13-01",
            "12/11/2026",
            "2026-11-12T25:00",
            "",
        ] {
            let e = bad.parse::<When>().unwrap_err();
            assert!(e.contains("RFC 3339"), "{bad}: {e}");
        }
        assert!(parse_date("2026-02-30").unwrap_err().contains("calendar"));
        assert!(parse_date("2026-2-3").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("2026-11-12T10:00:00Z").is_err());
        assert_eq!(
            parse_date("2026-02-03").unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 3).unwrap()
        );
    }
}
