//! Quota periods on the UTC calendar: when a user's data quota starts
//! counting again. Pure arithmetic on Unix seconds (no time zones, no
//! leap seconds, as Unix time itself).

const DAY: i64 = 86_400;

/// When a quota resets. Hours are UTC, 0..=23.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    /// One period forever: the quota is a lifetime allowance.
    Never,
    Daily {
        hour: u8,
    },
    /// `weekday` 1 = Monday ..= 7 = Sunday (ISO 8601).
    Weekly {
        weekday: u8,
        hour: u8,
    },
    /// `day` 1..=31; in months shorter than `day` the reset falls on the
    /// month's last day (31 means "the last day of every month").
    Monthly {
        day: u8,
        hour: u8,
    },
}

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d`
/// (`m` 1..=12, `d` 1..=31), by the era-of-400-years method.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = i64::from((m + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(d) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `(year, month, day)` of day `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` of year `y`.
pub fn month_len(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The reset instant of `reset` in month `m` of year `y` (monthly only).
fn monthly_instant(y: i64, m: u32, day: u8, hour: u8) -> i64 {
    let d = u32::from(day).min(month_len(y, m));
    days_from_civil(y, m, d) * DAY + i64::from(hour) * 3600
}

fn month_before(y: i64, m: u32) -> (i64, u32) {
    if m == 1 {
        (y - 1, 12)
    } else {
        (y, m - 1)
    }
}

fn month_after(y: i64, m: u32) -> (i64, u32) {
    if m == 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

impl Reset {
    /// The start of the period that contains `now` (the latest reset
    /// instant at or before `now`); `i64::MIN` for [`Reset::Never`].
    pub fn period_start(self, now: i64) -> i64 {
        match self {
            Reset::Never => i64::MIN,
            Reset::Daily { hour } => {
                let offset = i64::from(hour) * 3600;
                (now - offset).div_euclid(DAY) * DAY + offset
            }
            Reset::Weekly { weekday, hour } => {
                // Day 0 (1970-01-01) was a Thursday, ISO weekday 4.
                let offset = (i64::from(weekday) - 4).rem_euclid(7) * DAY + i64::from(hour) * 3600;
                (now - offset).div_euclid(7 * DAY) * 7 * DAY + offset
            }
            Reset::Monthly { day, hour } => {
                let (y, m, _) = civil_from_days(now.div_euclid(DAY));
                let this_month = monthly_instant(y, m, day, hour);
                if this_month <= now {
                    this_month
                } else {
                    let (py, pm) = month_before(y, m);
                    monthly_instant(py, pm, day, hour)
                }
            }
        }
    }

    /// The first reset instant after `now`; `None` for [`Reset::Never`].
    pub fn next_reset(self, now: i64) -> Option<i64> {
        let start = self.period_start(now);
        match self {
            Reset::Never => None,
            Reset::Daily { .. } => Some(start + DAY),
            Reset::Weekly { .. } => Some(start + 7 * DAY),
            Reset::Monthly { day, hour } => {
                let (y, m, _) = civil_from_days(start.div_euclid(DAY));
                let (ny, nm) = month_after(y, m);
                Some(monthly_instant(ny, nm, day, hour))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(y: i64, m: u32, d: u32, h: i64) -> i64 {
        days_from_civil(y, m, d) * DAY + h * 3600
    }

    #[test]
    fn civil_dates_round_trip_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(month_len(2100, 2), 28);
        assert_eq!(month_len(2000, 2), 29);
    }

    #[test]
    fn monthly_resets_clamp_to_short_months_and_leap_days() {
        let last = Reset::Monthly { day: 31, hour: 0 };
        // Mid-February of a leap year: the period began on Jan 31 and ends
        // on Feb 29, the month's last day.
        assert_eq!(last.period_start(at(2028, 2, 15, 12)), at(2028, 1, 31, 0));
        assert_eq!(
            last.next_reset(at(2028, 2, 15, 12)),
            Some(at(2028, 2, 29, 0))
        );
        assert_eq!(
            last.next_reset(at(2027, 2, 15, 12)),
            Some(at(2027, 2, 28, 0))
        );
        // From Feb 29 the next reset is Mar 31, not Mar 29.
        assert_eq!(
            last.next_reset(at(2028, 2, 29, 1)),
            Some(at(2028, 3, 31, 0))
        );
        let first = Reset::Monthly { day: 1, hour: 6 };
        assert_eq!(first.period_start(at(2027, 1, 1, 5)), at(2026, 12, 1, 6));
        assert_eq!(first.period_start(at(2027, 1, 1, 6)), at(2027, 1, 1, 6));
    }

    #[test]
    fn daily_and_weekly_resets_fall_on_their_hour_and_day() {
        let daily = Reset::Daily { hour: 3 };
        assert_eq!(daily.period_start(at(2026, 12, 3, 2)), at(2026, 12, 2, 3));
        assert_eq!(daily.period_start(at(2026, 12, 3, 3)), at(2026, 12, 3, 3));
        // 2026-12-03 is a Thursday; Monday 2026-11-30 starts its week.
        let monday = Reset::Weekly {
            weekday: 1,
            hour: 0,
        };
        assert_eq!(
            monday.period_start(at(2026, 12, 3, 17)),
            at(2026, 11, 30, 0)
        );
        assert_eq!(
            monday.next_reset(at(2026, 12, 3, 17)),
            Some(at(2026, 12, 7, 0))
        );
        let sunday = Reset::Weekly {
            weekday: 7,
            hour: 23,
        };
        assert_eq!(
            sunday.period_start(at(2026, 12, 6, 23)),
            at(2026, 12, 6, 23)
        );
        assert_eq!(Reset::Never.next_reset(0), None);
    }

    fn resets() -> impl Strategy<Value = Reset> {
        prop_oneof![
            Just(Reset::Never),
            (0u8..24).prop_map(|hour| Reset::Daily { hour }),
            (1u8..=7, 0u8..24).prop_map(|(weekday, hour)| Reset::Weekly { weekday, hour }),
            (
                prop_oneof![Just(1u8), Just(28), Just(29), Just(30), Just(31), 1u8..=31],
                0u8..24
            )
                .prop_map(|(day, hour)| Reset::Monthly { day, hour }),
        ]
    }

    proptest! {
        #[test]
        fn days_and_dates_are_inverse(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m) && d >= 1 && d <= month_len(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        /// Every instant lies in exactly one period: its start is at or
        /// before it, the next reset after it, and the next period starts
        /// exactly at that reset. Periods are at most 31 days long.
        #[test]
        fn periods_tile_time(reset in resets(), now in 0i64..8_000_000_000) {
            let start = reset.period_start(now);
            prop_assert!(start <= now);
            if let Some(next) = reset.next_reset(now) {
                prop_assert!(now < next);
                prop_assert!(next - start <= 31 * DAY);
                prop_assert_eq!(reset.period_start(next), next);
                prop_assert_eq!(reset.period_start(next - 1), start);
            }
        }
    }
}
