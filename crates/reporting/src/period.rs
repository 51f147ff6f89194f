//! The period a figure covers, and its cut into day, week or month buckets at the caller's
//! local midnight (a call at 23:30 UTC belongs to the next day in Tashkent).
//!
//! Adapters never do time-zone arithmetic: they group by [`SLOT_MS`] slots of UTC time and
//! [`Buckets::index_of`] places each slot. Every zone's offset is a whole number of quarter
//! hours, so a bucket boundary never falls inside a slot.

use dialix_kernel::{DomainError, FieldErrors};
use jiff::Timestamp;
use jiff::civil;
use jiff::tz::TimeZone;
use time::{Date, Month, OffsetDateTime};

/// The width of the UTC slots adapters group by: a quarter of an hour.
pub const SLOT_MS: i64 = 15 * 60 * 1000;
/// The longest period one request may cover.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// The period when the request names none: the last 30 days, today included.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;

/// How a series is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Granularity {
    #[default]
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 3] = [Granularity::Day, Granularity::Week, Granularity::Month];

    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }
}

/// Whole local days `start_date..=end_date` in `timezone`, as the UTC range `[start, end)`.
#[derive(Debug, Clone)]
pub struct Period {
    pub start_date: Date,
    pub end_date: Date,
    pub timezone: String,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    zone: TimeZone,
}

impl Period {
    /// The period the request asked for; missing dates default to the last
    /// [`DEFAULT_PERIOD_DAYS`] days up to today (in `timezone`). 422 for an inverted or too
    /// long range.
    pub fn new(
        start_date: Option<Date>,
        end_date: Option<Date>,
        timezone: &str,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let zone = TimeZone::get(timezone)
            .map_err(|e| DomainError::internal(format!("time zone {timezone}: {e}")))?;
        let today = to_time_date(
            timestamp(now.unix_timestamp() * 1000)
                .to_zoned(zone.clone())
                .date(),
        );
        let end_date = end_date.unwrap_or(today);
        let start_date =
            start_date.unwrap_or_else(|| end_date - time::Duration::days(DEFAULT_PERIOD_DAYS - 1));
        let mut errors = FieldErrors::new();
        errors.check(
            start_date <= end_date,
            "start_date",
            "must be on or before end_date",
        );
        errors.check(
            (end_date - start_date).whole_days() < MAX_PERIOD_DAYS,
            "end_date",
            format!("the period may cover at most {MAX_PERIOD_DAYS} days"),
        );
        errors.into_result()?;
        Ok(Self::between(start_date, end_date, timezone, zone))
    }

    fn between(start_date: Date, end_date: Date, timezone: &str, zone: TimeZone) -> Self {
        let start = local_midnight(&zone, start_date);
        let end = local_midnight(&zone, end_date.next_day().unwrap_or(end_date));
        Self {
            start_date,
            end_date,
            timezone: timezone.to_owned(),
            start: from_ms(start),
            end: from_ms(end),
            zone,
        }
    }

    /// The period of the same number of days just before this one (for "change against the
    /// previous period").
    pub fn previous(&self) -> Period {
        let days = self.days();
        let end_date = self.start_date.previous_day().unwrap_or(self.start_date);
        let start_date = end_date - time::Duration::days(days - 1);
        Self::between(start_date, end_date, &self.timezone, self.zone.clone())
    }

    /// The number of local days covered.
    pub fn days(&self) -> i64 {
        (self.end_date - self.start_date).whole_days() + 1
    }

    pub fn start_ms(&self) -> i64 {
        millis(self.start)
    }

    pub fn end_ms(&self) -> i64 {
        millis(self.end)
    }

    /// The buckets of the period, in order, every one present (empty ones too).
    pub fn buckets(&self, granularity: Granularity) -> Buckets {
        let mut items = Vec::new();
        let mut label = bucket_label(self.start_date, granularity);
        while label <= self.end_date {
            let next = next_label(label, granularity);
            let from = label.max(self.start_date);
            items.push(Bucket {
                start_date: label,
                start_ms: local_midnight(&self.zone, from),
            });
            label = next;
        }
        Buckets {
            granularity,
            items,
            end_ms: self.end_ms(),
        }
    }
}

/// One bucket: its label (the day, the week's Monday or the month's first day, which may
/// precede the period when it starts mid-week or mid-month) and where it starts in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start_date: Date,
    pub start_ms: i64,
}

/// A period's buckets.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub granularity: Granularity,
    pub items: Vec<Bucket>,
    end_ms: i64,
}

impl Buckets {
    /// The bucket holding the instant `at_ms` (Unix milliseconds), if it is in the period.
    pub fn index_of(&self, at_ms: i64) -> Option<usize> {
        if at_ms >= self.end_ms || self.items.first().is_none_or(|b| at_ms < b.start_ms) {
            return None;
        }
        Some(self.items.partition_point(|b| b.start_ms <= at_ms) - 1)
    }

    /// The bucket of a [`SLOT_MS`] slot as adapters report it (`call_at / SLOT_MS`).
    pub fn index_of_slot(&self, slot: i64) -> Option<usize> {
        self.index_of(slot * SLOT_MS)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

fn bucket_label(date: Date, granularity: Granularity) -> Date {
    match granularity {
        Granularity::Day => date,
        Granularity::Week => {
            date - time::Duration::days(i64::from(date.weekday().number_days_from_monday()))
        }
        Granularity::Month => date.replace_day(1).unwrap_or(date),
    }
}

fn next_label(label: Date, granularity: Granularity) -> Date {
    match granularity {
        Granularity::Day => label + time::Duration::days(1),
        Granularity::Week => label + time::Duration::days(7),
        Granularity::Month => {
            let (year, month) = match label.month() {
                Month::December => (label.year() + 1, Month::January),
                month => (label.year(), month.next()),
            };
            Date::from_calendar_date(year, month, 1).unwrap_or(label)
        }
    }
}

/// Unix milliseconds of `date`'s first instant in `zone` (the next valid instant when
/// midnight falls in a daylight-saving gap).
fn local_midnight(zone: &TimeZone, date: Date) -> i64 {
    civil::date(date.year() as i16, date.month() as i8, date.day() as i8)
        .to_zoned(zone.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or_else(|_| millis(date.midnight().assume_utc()))
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn to_time_date(date: civil::Date) -> Date {
    Date::from_calendar_date(
        i32::from(date.year()),
        Month::try_from(date.month() as u8).unwrap_or(Month::January),
        date.day() as u8,
    )
    .unwrap_or(Date::MIN)
}

fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn period(start: Date, end: Date, zone: &str) -> Period {
        Period::new(
            Some(start),
            Some(end),
            zone,
            datetime!(2026-12-07 12:00 UTC),
        )
        .unwrap()
    }

    #[test]
    fn a_call_at_23_30_utc_is_the_next_day_in_tashkent() {
        let p = period(
            date!(2026 - 11 - 01),
            date!(2026 - 11 - 03),
            "Asia/Tashkent",
        );
        let days = p.buckets(Granularity::Day);
        assert_eq!(days.len(), 3);
        // Tashkent is UTC+5: 1 November starts at 31 October 19:00 UTC.
        assert_eq!(
            days.items[0].start_ms,
            millis(datetime!(2026-10-31 19:00 UTC))
        );
        let late = millis(datetime!(2026-11-01 23:30 UTC));
        assert_eq!(days.index_of(late), Some(1));
        assert_eq!(days.index_of_slot(late / SLOT_MS), Some(1));
        let before = millis(datetime!(2026-10-31 18:59 UTC));
        assert_eq!(days.index_of(before), None);
        assert_eq!(days.index_of(p.end_ms()), None);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-11-04 is a Wednesday.
        let p = period(date!(2026 - 11 - 04), date!(2026 - 12 - 02), "UTC");
        let weeks = p.buckets(Granularity::Week);
        let labels: Vec<Date> = weeks.items.iter().map(|b| b.start_date).collect();
        assert_eq!(
            labels,
            [
                date!(2026 - 11 - 02),
                date!(2026 - 11 - 09),
                date!(2026 - 11 - 16),
                date!(2026 - 11 - 23),
                date!(2026 - 11 - 30)
            ]
        );
        // The first week is clipped to the period.
        assert_eq!(weeks.items[0].start_ms, p.start_ms());
        let months = p.buckets(Granularity::Month);
        let labels: Vec<Date> = months.items.iter().map(|b| b.start_date).collect();
        assert_eq!(labels, [date!(2026 - 11 - 01), date!(2026 - 12 - 01)]);
        assert_eq!(
            months.items[1].start_ms,
            millis(datetime!(2026-12-01 00:00 UTC))
        );
    }

    #[test]
    fn daylight_saving_days_are_23_and_25_hours_long() {
        let p = period(
            date!(2026 - 03 - 28),
            date!(2026 - 03 - 30),
            "Europe/Berlin",
        );
        let days = p.buckets(Granularity::Day);
        let lengths: Vec<i64> = days
            .items
            .windows(2)
            .map(|w| (w[1].start_ms - w[0].start_ms) / 3_600_000)
            .collect();
        assert_eq!(lengths, [24, 23]);
    }

    #[test]
    fn the_default_period_is_the_last_30_days_and_previous_has_the_same_length() {
        let p = Period::new(None, None, "Asia/Tashkent", datetime!(2026-12-06 20:00 UTC)).unwrap();
        // 20:00 UTC is already 7 December in Tashkent.
        assert_eq!(p.end_date, date!(2026 - 12 - 07));
        assert_eq!(p.start_date, date!(2026 - 11 - 08));
        assert_eq!(p.days(), 30);
        let previous = p.previous();
        assert_eq!(previous.end_date, date!(2026 - 11 - 07));
        assert_eq!(previous.days(), 30);
        assert_eq!(previous.end_ms(), p.start_ms());
    }

    #[test]
    fn inverted_and_too_long_ranges_are_refused() {
        let now = datetime!(2026-12-07 12:00 UTC);
        let inverted = Period::new(
            Some(date!(2026 - 12 - 02)),
            Some(date!(2026 - 12 - 01)),
            "UTC",
            now,
        );
        assert!(matches!(inverted, Err(DomainError::Validation(_))));
        let long = Period::new(
            Some(date!(2025 - 01 - 01)),
            Some(date!(2026 - 12 - 01)),
            "UTC",
            now,
        );
        assert!(matches!(long, Err(DomainError::Validation(_))));
    }

    #[test]
    fn granularities_round_trip() {
        for g in Granularity::ALL {
            assert_eq!(Granularity::parse(g.as_str()), Some(g));
        }
        assert_eq!(Granularity::parse("hour"), None);
    }
}
