//! OnlinePBX export file names: `YY.MM.DD-HH:MM:SS_<ext>_<number>.mp3` for outbound calls
//! (the 3-digit operator extension first) and `YY.MM.DD-HH:MM:SS_<number>_<ext>.mp3` for
//! inbound calls (the 9-digit client number first).

use time::{Date, Month, PrimitiveDateTime, Time};

use crate::CallType;

/// What an OnlinePBX file name says about its call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxFileName {
    /// As the PBX wrote it (local time of the PBX, no zone).
    pub started_at: PrimitiveDateTime,
    pub operator_code: String,
    /// The client's number, 9 national digits.
    pub client_number: String,
    pub call_type: CallType,
}

/// Parses a file name in the OnlinePBX form; `None` for any other name.
pub fn parse_pbx_file_name(file_name: &str) -> Option<PbxFileName> {
    let base = file_name.rsplit(['/', '\\']).next()?;
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    let mut parts = stem.split('_');
    let (stamp, first, second) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let started_at = parse_stamp(stamp)?;
    let all_digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (operator_code, client_number, call_type) = if all_digits(first, 3) && all_digits(second, 9)
    {
        (first, second, CallType::Outbound)
    } else if all_digits(first, 9) && all_digits(second, 3) {
        (second, first, CallType::Inbound)
    } else {
        return None;
    };
    Some(PbxFileName {
        started_at,
        operator_code: operator_code.to_owned(),
        client_number: client_number.to_owned(),
        call_type,
    })
}

/// `YY.MM.DD-HH:MM:SS` (some exports replace the colons, which file systems dislike, by dots).
fn parse_stamp(stamp: &str) -> Option<PrimitiveDateTime> {
    let (date, clock) = stamp.split_once('-')?;
    let numbers = |text: &str, separators: &[char]| -> Option<Vec<u8>> {
        let values: Option<Vec<u8>> = text.split(separators).map(|p| p.parse().ok()).collect();
        values.filter(|v| v.len() == 3)
    };
    let d = numbers(date, &['.'])?;
    let t = numbers(clock, &[':', '.'])?;
    let date =
        Date::from_calendar_date(2000 + i32::from(d[0]), Month::try_from(d[1]).ok()?, d[2]).ok()?;
    let time = Time::from_hms(t[0], t[1], t[2]).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn outbound_names_have_the_extension_first() {
        let parsed = parse_pbx_file_name("24.03.15-09:41:07_101_901234567.mp3").unwrap();
        assert_eq!(parsed.started_at, datetime!(2024-03-15 09:41:07));
        assert_eq!(parsed.operator_code, "101");
        assert_eq!(parsed.client_number, "901234567");
        assert_eq!(parsed.call_type, CallType::Outbound);
    }

    #[test]
    fn inbound_names_have_the_number_first() {
        let parsed = parse_pbx_file_name("uploads/24.12.31-23.59.59_935551122_204.wav").unwrap();
        assert_eq!(parsed.started_at, datetime!(2024-12-31 23:59:59));
        assert_eq!(parsed.operator_code, "204");
        assert_eq!(parsed.client_number, "935551122");
        assert_eq!(parsed.call_type, CallType::Inbound);
    }

    #[test]
    fn other_names_are_not_guessed_at() {
        for name in [
            "call.mp3",
            "24.03.15-09:41:07_101.mp3",
            "24.03.15-09:41:07_1011_901234567.mp3",
            "24.13.15-09:41:07_101_901234567.mp3",
            "24.03.15-25:41:07_101_901234567.mp3",
            "24.03.15-09:41:07_101_901234567_x.mp3",
        ] {
            assert_eq!(parse_pbx_file_name(name), None, "{name}");
        }
    }
}
