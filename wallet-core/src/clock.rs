//! The time, as the edges give it.
//!
//! The library does not read the system clock on its own: the vault, the
//! plugin host and the relay each hold a [`Clock`] that their edge (the CLI,
//! the local server, `amanat relay`) sets, and the flows that take a time
//! (grant checks, relay status, share creation) take it as an argument. Tests
//! hand in [`Clock::Fixed`] to see what a wallet does at a given moment.

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The machine's clock.
    #[default]
    System,
    /// A fixed moment (Unix seconds): for tests and reproducible runs.
    Fixed(i64),
}

impl Clock {
    /// Unix seconds now.
    pub fn now(self) -> i64 {
        match self {
            Clock::System => time::OffsetDateTime::now_utc().unix_timestamp(),
            Clock::Fixed(t) => t,
        }
    }

    /// Today's date, `YYYY-MM-DD` in UTC (ages and new profiles are dated by it).
    pub fn today(self) -> String {
        crate::fhir::date::FhirDateTime::from_unix(self.now())
            .day()
            .to_string()
    }

    /// Unix milliseconds now (the relay's rate limiter counts in them).
    pub fn now_ms(self) -> i64 {
        match self {
            Clock::System => {
                let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
                i64::try_from(ms).unwrap_or(i64::MAX)
            }
            Clock::Fixed(t) => t.saturating_mul(1000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn a_fixed_clock_stands_still_and_the_system_clock_is_today() {
        assert_eq!(Clock::Fixed(1_700_000_000).now(), 1_700_000_000);
        assert_eq!(Clock::Fixed(1_700_000_000).now_ms(), 1_700_000_000_000);
        assert_eq!(Clock::Fixed(1_700_000_000).today(), "2023-11-14");
        // Later than this code was written, and seconds and milliseconds agree.
        let (s, ms) = (Clock::System.now(), Clock::System.now_ms());
        assert!(s > 1_790_000_000, "{s}");
        assert!((ms / 1000 - s).abs() <= 1, "{ms} {s}");
    }
}
