//! FHIR R4 `date`, `dateTime` and `instant` values.
//!
//! FHIR dates may be partial (`2024`, `2024-03`), and a time needs a zone.
//! The wallet keeps the original text (so exports give back what came in) and
//! derives one number, the UTC start of the period in seconds, for sorting and
//! for `--since` / `--until`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// How much of a FHIR date was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Precision {
    /// `YYYY`
    Year,
    /// `YYYY-MM`
    Month,
    /// `YYYY-MM-DD`
    Day,
    /// A full date and time with zone.
    Time,
}

/// A validated FHIR `date` or `dateTime`.
#[derive(Clone, PartialEq, Eq)]
pub struct FhirDateTime {
    text: String,
    start: i64,
    precision: Precision,
}

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{text}' is not a valid FHIR date or dateTime (expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)"
)]
pub struct DateError {
    text: String,
}

impl FhirDateTime {
    /// Parses FHIR `date`, `dateTime` or `instant` text.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let err = || DateError {
            text: text.to_string(),
        };
        let (date_part, time_part) = match text.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let mut fields = date_part.split('-');
        let year = fields.next().ok_or_else(err)?;
        let month = fields.next();
        let day = fields.next();
        if fields.next().is_some() || year.len() != 4 {
            return Err(err());
        }
        let year: i32 = digits(year).ok_or_else(err)?;
        let month_num: u8 = match month {
            Some(m) if m.len() == 2 => digits(m).ok_or_else(err)?,
            Some(_) => return Err(err()),
            None => 1,
        };
        let day_num: u8 = match day {
            Some(d) if d.len() == 2 => digits(d).ok_or_else(err)?,
            Some(_) => return Err(err()),
            None => 1,
        };
        let month_enum = Month::try_from(month_num).map_err(|_| err())?;
        let date = Date::from_calendar_date(year, month_enum, day_num).map_err(|_| err())?;
        let precision = match (month, day) {
            (None, _) => Precision::Year,
            (Some(_), None) => Precision::Month,
            _ => Precision::Day,
        };
        let start = match time_part {
            None => PrimitiveDateTime::new(date, Time::MIDNIGHT)
                .assume_utc()
                .unix_timestamp(),
            Some(t) => {
                if precision != Precision::Day {
                    return Err(err());
                }
                let (clock, offset) = split_zone(t).ok_or_else(err)?;
                let time = parse_clock(clock).ok_or_else(err)?;
                PrimitiveDateTime::new(date, time)
                    .assume_offset(offset)
                    .unix_timestamp()
            }
        };
        Ok(Self {
            text: text.to_string(),
            start,
            precision: if time_part.is_some() {
                Precision::Time
            } else {
                precision
            },
        })
    }

    /// A full-precision UTC dateTime for a moment (used for values the wallet creates).
    pub fn from_unix(seconds: i64) -> Self {
        let moment = OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            moment.year(),
            u8::from(moment.month()),
            moment.day(),
            moment.hour(),
            moment.minute(),
            moment.second()
        );
        Self {
            text,
            start: moment.unix_timestamp(),
            precision: Precision::Time,
        }
    }

    /// The text exactly as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The UTC start of the period, in seconds since 1970.
    pub fn start(&self) -> i64 {
        self.start
    }

    /// How much was given.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The calendar day (`YYYY-MM-DD`, or less when the date is partial).
    pub fn day(&self) -> &str {
        self.text.get(..10).unwrap_or(&self.text)
    }
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn split_zone(t: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = t.strip_suffix('Z') {
        return Some((clock, UtcOffset::UTC));
    }
    let idx = t.rfind(['+', '-'])?;
    let (clock, zone) = t.split_at(idx);
    let sign: i8 = if zone.starts_with('-') { -1 } else { 1 };
    let (hh, mm) = zone.get(1..)?.split_once(':')?;
    if hh.len() != 2 || mm.len() != 2 {
        return None;
    }
    let hours: i8 = digits(hh)?;
    let minutes: i8 = digits(mm)?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?;
    Some((clock, offset))
}

fn parse_clock(clock: &str) -> Option<Time> {
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    if let Some(f) = fraction
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut parts = hms.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, m, s): (u8, u8, u8) = (digits(h)?, digits(m)?, digits(s)?);
    // FHIR allows a leap second (60); fold it into the last second of the minute.
    Time::from_hms(h, m, s.min(59)).ok()
}

impl fmt::Display for FhirDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for FhirDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FhirDateTime({})", self.text)
    }
}

impl Serialize for FhirDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for FhirDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        FhirDateTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Parses a user-typed bound for `--since` / `--until`: a FHIR date or dateTime.
/// `until` bounds are inclusive of the whole period given (`--until 2024` means
/// through 31 December 2024).
pub fn parse_bound(text: &str, end_of_period: bool) -> Result<i64, DateError> {
    let parsed = FhirDateTime::parse(text)?;
    if !end_of_period {
        return Ok(parsed.start);
    }
    let next = match parsed.precision {
        Precision::Time => return Ok(parsed.start),
        Precision::Day => parsed.start + 86_400,
        Precision::Month => {
            let date = OffsetDateTime::from_unix_timestamp(parsed.start)
                .map_err(|_| DateError { text: text.into() })?
                .date();
            let (y, m) = if date.month() == Month::December {
                (date.year() + 1, Month::January)
            } else {
                (date.year(), date.month().next())
            };
            Date::from_calendar_date(y, m, 1)
                .map_err(|_| DateError { text: text.into() })?
                .midnight()
                .assume_utc()
                .unix_timestamp()
        }
        Precision::Year => {
            let year: i32 = text[..4].parse().map_err(|_| DateError { text: text.into() })?;
            Date::from_calendar_date(year + 1, Month::January, 1)
                .map_err(|_| DateError { text: text.into() })?
                .midnight()
                .assume_utc()
                .unix_timestamp()
        }
    };
    Ok(next - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_and_full_dates_parse() {
        assert_eq!(FhirDateTime::parse("1970").unwrap().start(), 0);
        assert_eq!(FhirDateTime::parse("1970-01-02").unwrap().start(), 86_400);
        assert_eq!(
            FhirDateTime::parse("1970-01-01T05:30:00+05:30").unwrap().start(),
            0
        );
        assert_eq!(
            FhirDateTime::parse("2024-02-29T10:00:00.123Z")
                .unwrap()
                .precision(),
            Precision::Time
        );
    }

    #[test]
    fn invalid_dates_are_refused() {
        for bad in [
            "",
            "24",
            "2024-1",
            "2024-13",
            "2023-02-29",
            "2024-01-01T10:00:00",
            "2024-01T10:00:00Z",
            "2024-01-01T25:00:00Z",
            "2024/01/01",
            "2024-01-01T10:00:00+5:30",
            "abcd",
        ] {
            assert!(FhirDateTime::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn until_bound_covers_the_whole_period() {
        assert_eq!(parse_bound("1970", true).unwrap(), 365 * 86_400 - 1);
        assert_eq!(parse_bound("1970-01", true).unwrap(), 31 * 86_400 - 1);
        assert_eq!(parse_bound("1970-12", true).unwrap(), 365 * 86_400 - 1);
        assert_eq!(parse_bound("1970-01-01", false).unwrap(), 0);
    }
}
