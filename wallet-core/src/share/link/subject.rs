//! The patient's details ([`Subject`]) in a link, in their shortest exact
//! form: the receiver rebuilds the very text the grant's signature covers.
//!
//! A CBOR array `[birth, gender, [kind, value]…]`. The birth date is a day
//! number (days since 1970-01-01) when it is a plain `YYYY-MM-DD`; the gender
//! and an ID's kind are their index in [`GENDERS`] and [`KINDS`]; a CNIC or
//! ABHA number written in its usual groups (`35202-1234567-2`,
//! `91-4567-8901-2345`) is the number its digits make. Anything else travels
//! as the text it is. A phone number (only in a share of the details alone)
//! is a last pair, kind `phone`, as text. 16 bytes for a birth date, a gender and a CNIC, where
//! a CBOR map of the texts takes 48.

use ciborium::Value;

use super::LinkError;
use crate::share::grant::Subject;

const GENDERS: [&str; 4] = ["female", "male", "other", "unknown"];
const KINDS: [&str; 3] = ["cnic", "abha", "abha-address"];
/// The kind of the pair a phone number travels as (never an ID's kind:
/// [`Subject`]'s check refuses it there).
const PHONE: &str = "phone";
/// Digit groups of an ID kind written as a number, by index in [`KINDS`].
const GROUPS: [&[usize]; 3] = [&[5, 7, 1], &[2, 4, 4, 4], &[]];
/// The Julian day of 1970-01-01.
const EPOCH: i32 = 2_440_588;

/// `YYYY-MM-DD`, by hand (as [`crate::share::grant::date`] reads it).
fn ymd(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(super) fn pack(s: &Subject) -> Value {
    let birth = match &s.birth_date {
        None => Value::Null,
        Some(text) => match crate::share::grant::date(text) {
            Some(d) if ymd(d) == *text => Value::from(d.to_julian_day() - EPOCH),
            _ => Value::Text(text.clone()),
        },
    };
    let gender = match &s.gender {
        None => Value::Null,
        Some(g) => index_or_text(&GENDERS, g),
    };
    let mut out = vec![birth, gender];
    for (kind, value) in &s.ids {
        let at = KINDS.iter().position(|k| k == kind);
        let value = match at.and_then(|i| as_number(value, GROUPS[i])) {
            Some(n) => Value::from(n),
            None => Value::Text(value.clone()),
        };
        out.push(Value::Array(vec![index_or_text(&KINDS, kind), value]));
    }
    if let Some(phone) = &s.phone {
        out.push(Value::Array(vec![
            Value::Text(PHONE.into()),
            Value::Text(phone.clone()),
        ]));
    }
    Value::Array(out)
}

pub(super) fn unpack(v: Value) -> Result<Subject, LinkError> {
    let bad = || LinkError::Malformed("the patient's details are malformed".into());
    let Value::Array(items) = v else { return Err(bad()) };
    let mut items = items.into_iter();
    let birth_date = match items.next().ok_or_else(bad)? {
        Value::Null => None,
        Value::Text(t) => Some(t),
        Value::Integer(n) => {
            let day = i32::try_from(i128::from(n)).map_err(|_| bad())?;
            let date =
                time::Date::from_julian_day(day.checked_add(EPOCH).ok_or_else(bad)?).map_err(|_| bad())?;
            Some(ymd(date))
        }
        _ => return Err(bad()),
    };
    let gender = match items.next().ok_or_else(bad)? {
        Value::Null => None,
        other => Some(text_of(&GENDERS, other).ok_or_else(bad)?),
    };
    let (mut ids, mut phone) = (Vec::new(), None);
    for id in items {
        let Value::Array(pair) = id else { return Err(bad()) };
        let [kind, value]: [Value; 2] = pair.try_into().map_err(|_| bad())?;
        let kind = text_of(&KINDS, kind).ok_or_else(bad)?;
        if kind == PHONE {
            let Value::Text(number) = value else {
                return Err(bad());
            };
            phone = Some(number);
            continue;
        }
        let value = match value {
            Value::Text(t) => t,
            Value::Integer(n) => {
                let groups = KINDS
                    .iter()
                    .position(|k| *k == kind)
                    .map(|i| GROUPS[i])
                    .ok_or_else(bad)?;
                let n = u64::try_from(n).map_err(|_| bad())?;
                grouped(n, groups).ok_or_else(bad)?
            }
            _ => return Err(bad()),
        };
        ids.push((kind, value));
    }
    Ok(Subject {
        birth_date,
        gender,
        ids,
        phone,
    })
}

fn index_or_text(table: &[&str], text: &str) -> Value {
    match table.iter().position(|t| *t == text) {
        Some(i) => Value::from(i as u64),
        None => Value::Text(text.to_string()),
    }
}

fn text_of(table: &[&str], v: Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t),
        Value::Integer(n) => table.get(usize::try_from(n).ok()?).map(|t| t.to_string()),
        _ => None,
    }
}

/// The number `text`'s digits make, when `text` is exactly those digits in
/// `groups` joined by `-`.
fn as_number(text: &str, groups: &[usize]) -> Option<u64> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let n = digits.parse().ok()?;
    (grouped(n, groups)? == text).then_some(n)
}

/// `n` zero-padded to the groups' digits, in groups joined by `-`.
fn grouped(n: u64, groups: &[usize]) -> Option<String> {
    let width: usize = groups.iter().sum();
    let digits = format!("{n:0width$}");
    if width == 0 || digits.len() != width {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 0;
    for g in groups {
        out.push(&digits[at..at + g]);
        at += g;
    }
    Some(out.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &Subject) -> usize {
        let v = pack(s);
        let mut bytes = Vec::new();
        ciborium::into_writer(&v, &mut bytes).unwrap();
        assert_eq!(&unpack(v).unwrap(), s);
        bytes.len()
    }

    #[test]
    fn details_rebuild_exactly_in_few_bytes() {
        let usual = Subject {
            birth_date: Some("1968-04-12".into()),
            gender: Some("female".into()),
            ids: vec![("cnic".into(), "35202-1234567-2".into())],
            phone: None,
        };
        assert!(round_trip(&usual) <= 16, "{}", round_trip(&usual));
        let india = Subject {
            birth_date: Some("2016-09-03".into()),
            gender: Some("male".into()),
            ids: vec![
                ("abha".into(), "91-0456-7890-1234".into()),
                ("abha-address".into(), "zara@abdm".into()),
            ],
            phone: Some("+91 98765 43210".into()),
        };
        round_trip(&india);
        // Whatever is not in the usual form travels as text, unchanged.
        let odd = Subject {
            birth_date: Some("1968".into()),
            gender: Some("not said".into()),
            ids: vec![
                ("cnic".into(), "3520212345672".into()),
                ("passport".into(), "AB123".into()),
            ],
            phone: None,
        };
        round_trip(&odd);
        round_trip(&Subject::default());
        assert_eq!(
            round_trip(&Subject {
                birth_date: Some("1899-12-31".into()),
                ..Subject::default()
            }),
            5,
            "a date before 1970 is a negative day number"
        );
    }

    #[test]
    fn malformed_details_are_refused() {
        for v in [
            Value::Text("x".into()),
            Value::Array(vec![]),
            Value::Array(vec![Value::Null, Value::from(9)]),
            Value::Array(vec![Value::from(i64::MAX), Value::Null]),
            Value::Array(vec![
                Value::Null,
                Value::Null,
                Value::Array(vec![Value::from(2), Value::from(5)]),
            ]),
            Value::Array(vec![
                Value::Null,
                Value::Null,
                Value::Array(vec![Value::from(0), Value::from(u64::MAX)]),
            ]),
        ] {
            assert!(matches!(unpack(v), Err(LinkError::Malformed(_))));
        }
    }
}
