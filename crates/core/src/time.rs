//! Deadlines and time zones. An instant is stored in UTC; a solicitation shows it in its own
//! time zone (America/New_York unless it says otherwise), the way notices of funding write
//! "11:59 pm Eastern". A `Clock` lets tests control "now".

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The time zone used when a solicitation names none.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::America::New_York;

/// A time-zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time zone name such as America/New_York or America/Los_Angeles")]
pub struct UnknownTimeZone(pub String);

/// Parses an IANA time-zone name.
pub fn parse_time_zone(name: &str) -> Result<Tz, UnknownTimeZone> {
    name.trim().parse::<Tz>().map_err(|_| UnknownTimeZone(name.to_string()))
}

/// The instant of a wall-clock date and time in a zone. For a time that falls in a
/// daylight-saving gap the later valid instant is used; for an ambiguous one, the earlier.
pub fn instant_in_zone(date: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let local = date.and_time(time);
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(local + Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local)),
    }
}

/// The usual deadline of a notice of funding: 11:59 pm on the given date in the zone.
pub fn end_of_day_deadline(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    instant_in_zone(date, NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default(), tz)
}

/// "November 30, 2026, 11:59 pm EST".
pub fn format_instant(at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let hour = local.format("%-I:%M").to_string();
    let ampm = local.format("%P").to_string();
    format!("{}, {hour} {ampm} {}", local.format("%B %-d, %Y"), local.format("%Z"))
}

/// "November 30, 2026".
pub fn format_date(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%B %-d, %Y").to_string()
}

/// Time left until a deadline in plain words ("12 days, 4 hours", "35 minutes", "closed").
pub fn time_left(now: DateTime<Utc>, deadline: DateTime<Utc>) -> String {
    let left = deadline - now;
    if left <= Duration::zero() {
        return "closed".to_string();
    }
    let days = left.num_days();
    let hours = left.num_hours() % 24;
    let minutes = left.num_minutes() % 60;
    let unit = |n: i64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if days > 0 {
        if hours > 0 {
            format!("{}, {}", unit(days, "day"), unit(hours, "hour"))
        } else {
            unit(days, "day")
        }
    } else if hours > 0 {
        format!("{}, {}", unit(hours, "hour"), unit(minutes, "minute"))
    } else if minutes > 0 {
        unit(minutes, "minute")
    } else {
        "less than a minute".to_string()
    }
}

/// Where "now" comes from. Production uses the system clock; tests set the time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The server's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stays where a test puts it.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(t)))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }
    pub fn advance(&self, by: Duration) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *g += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eastern_deadline_is_stored_in_utc_and_shown_in_zone() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        let at = end_of_day_deadline(d, DEFAULT_TIME_ZONE);
        assert_eq!(at.to_rfc3339(), "2026-12-16T04:59:00+00:00");
        assert_eq!(format_instant(at, DEFAULT_TIME_ZONE), "December 15, 2026, 11:59 pm EST");
        let summer = end_of_day_deadline(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), DEFAULT_TIME_ZONE);
        assert_eq!(format_instant(summer, DEFAULT_TIME_ZONE), "July 1, 2026, 11:59 pm EDT");
    }

    #[test]
    fn daylight_saving_gap_moves_forward() {
        let tz = DEFAULT_TIME_ZONE;
        let d = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let t = instant_in_zone(d, NaiveTime::from_hms_opt(2, 30, 0).unwrap(), tz);
        assert_eq!(format_instant(t, tz), "March 8, 2026, 3:30 am EDT");
    }

    #[test]
    fn time_left_reads_plainly() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            time_left(now, now + Duration::days(12) + Duration::hours(4)),
            "12 days, 4 hours"
        );
        assert_eq!(time_left(now, now + Duration::days(1)), "1 day");
        assert_eq!(time_left(now, now + Duration::minutes(35)), "35 minutes");
        assert_eq!(time_left(now, now + Duration::seconds(20)), "less than a minute");
        assert_eq!(time_left(now, now - Duration::seconds(1)), "closed");
    }

    #[test]
    fn unknown_zone_is_named() {
        let e = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(e.to_string().contains("Mars/Olympus"));
        assert_eq!(parse_time_zone("America/Chicago").unwrap(), chrono_tz::America::Chicago);
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let t = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let c = FixedClock::at(t);
        assert_eq!(c.now(), t);
        c.advance(Duration::seconds(1));
        assert_eq!(c.now(), t + Duration::seconds(1));
    }
}
