//! Readings the patient takes at home and enters by hand: blood pressure,
//! glucose, weight, HbA1c, temperature, oxygen saturation, pulse.
//!
//! Each becomes a proper FHIR R4 `Observation`: LOINC code, UCUM unit, the
//! vital-signs profile for the vital signs (glucose and HbA1c are
//! laboratory values, so they sit with the lab's results and share their
//! charts), the patient as `performer` and a note saying it was entered by
//! the patient. Values are stored in the unit the charts use (mg/dL, kg, °C,
//! %); a value given in another common unit (mmol/L, lb, °F, mmol/mol) is
//! converted and the note keeps what was typed. A value no living person can
//! have is refused with the range it must lie in: a typo must not become a
//! record a doctor later reads.
//!
//! One contract for every edge: the CLI's `amanat add` and the web wallet's
//! quick form both send a [`NewReading`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::fhir::Resource;
use crate::fhir::date::FhirDateTime;
use crate::profile::Profile;
use crate::record::{NewRecord, Source};

/// What was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Blood pressure, `systolic/diastolic`.
    Bp,
    /// Blood glucose (random, or fasting).
    Glucose,
    /// Body weight.
    Weight,
    /// Haemoglobin A1c.
    Hba1c,
    /// Body temperature.
    Temperature,
    /// Oxygen saturation (pulse oximeter).
    Spo2,
    /// Heart rate.
    Pulse,
}

/// A unit a reading may be typed in, with the values possible in it.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    /// How people write it, for messages and the web form.
    pub label: &'static str,
    /// Other spellings accepted (lowercase).
    aliases: &'static [&'static str],
    /// Lowest possible value in this unit.
    low: f64,
    /// Highest possible value in this unit.
    high: f64,
    /// To the stored unit.
    to_stored: fn(f64) -> f64,
}

fn same(v: f64) -> f64 {
    v
}

/// One measurement kind: its codes, the unit it is stored in, the units
/// accepted.
struct Spec {
    name: &'static str,
    /// The record's title: what people call it.
    label: &'static str,
    loinc: &'static str,
    display: &'static str,
    vital: Option<&'static str>,
    ucum: &'static str,
    decimals: u32,
    units: &'static [Unit],
    example: &'static str,
}

const MMHG: Unit = Unit {
    label: "mmHg",
    aliases: &["mm[hg]", "mm hg"],
    low: 20.0,
    high: 300.0,
    to_stored: same,
};

/// Where a systolic and a diastolic pressure can lie, mmHg.
const SYSTOLIC: (f64, f64) = (50.0, 300.0);
const DIASTOLIC: (f64, f64) = (20.0, 200.0);

/// Glucose: 1 mmol/L is 18.016 mg/dL (molar mass 180.16 g/mol).
const GLUCOSE_UNITS: &[Unit] = &[
    Unit {
        label: "mg/dL",
        aliases: &["mg/dl", "mgdl"],
        low: 10.0,
        high: 1000.0,
        to_stored: same,
    },
    Unit {
        label: "mmol/L",
        aliases: &["mmol/l", "mmol"],
        low: 0.6,
        high: 55.0,
        to_stored: |v| v * 18.016,
    },
];

const WEIGHT_UNITS: &[Unit] = &[
    Unit {
        label: "kg",
        aliases: &["kgs", "kilo", "kilos"],
        low: 0.3,
        high: 400.0,
        to_stored: same,
    },
    Unit {
        label: "lb",
        aliases: &["lbs", "[lb_av]", "pound", "pounds"],
        low: 0.7,
        high: 880.0,
        to_stored: |v| v * 0.453_592_37,
    },
];

/// HbA1c: NGSP % = IFCC mmol/mol / 10.929 + 2.15.
const HBA1C_UNITS: &[Unit] = &[
    Unit {
        label: "%",
        aliases: &["percent", "pct"],
        low: 3.0,
        high: 20.0,
        to_stored: same,
    },
    Unit {
        label: "mmol/mol",
        aliases: &["mmol/mol"],
        low: 9.0,
        high: 195.0,
        to_stored: |v| v / 10.929 + 2.15,
    },
];

const TEMPERATURE_UNITS: &[Unit] = &[
    Unit {
        label: "°C",
        aliases: &["c", "cel", "celsius", "degc"],
        low: 25.0,
        high: 45.0,
        to_stored: same,
    },
    Unit {
        label: "°F",
        aliases: &["f", "[degf]", "fahrenheit", "degf"],
        low: 77.0,
        high: 113.0,
        to_stored: |v| (v - 32.0) * 5.0 / 9.0,
    },
];

const PERCENT_SPO2: &[Unit] = &[Unit {
    label: "%",
    aliases: &["percent"],
    low: 50.0,
    high: 100.0,
    to_stored: same,
}];

const PER_MINUTE: &[Unit] = &[Unit {
    label: "/min",
    aliases: &["bpm", "beats/min", "per minute"],
    low: 20.0,
    high: 250.0,
    to_stored: same,
}];

impl Kind {
    /// Every kind, in the order the web form shows them.
    pub const ALL: [Kind; 7] = [
        Kind::Bp,
        Kind::Glucose,
        Kind::Weight,
        Kind::Hba1c,
        Kind::Temperature,
        Kind::Spo2,
        Kind::Pulse,
    ];

    /// The command-line name (`bp`, `glucose`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bp => "bp",
            Kind::Glucose => "glucose",
            Kind::Weight => "weight",
            Kind::Hba1c => "hba1c",
            Kind::Temperature => "temperature",
            Kind::Spo2 => "spo2",
            Kind::Pulse => "pulse",
        }
    }

    /// The units it may be typed in; the first is the default and what is stored.
    pub fn units(self) -> &'static [Unit] {
        self.spec().units
    }

    /// How a value is written, e.g. `132/84`.
    pub fn example(self) -> &'static str {
        self.spec().example
    }

    fn spec(self) -> &'static Spec {
        const SPECS: [Spec; 7] = [
            Spec {
                name: "blood pressure",
                label: "Blood pressure",
                loinc: "85354-9",
                display: "Blood pressure panel with all children optional",
                vital: Some("bp"),
                ucum: "mm[Hg]",
                decimals: 0,
                units: &[MMHG],
                example: "132/84",
            },
            Spec {
                name: "glucose",
                label: "Glucose",
                loinc: "2339-0",
                display: "Glucose [Mass/volume] in Blood",
                vital: None,
                ucum: "mg/dL",
                decimals: 0,
                units: GLUCOSE_UNITS,
                example: "142",
            },
            Spec {
                name: "weight",
                label: "Body weight",
                loinc: "29463-7",
                display: "Body weight",
                vital: Some("bodyweight"),
                ucum: "kg",
                decimals: 1,
                units: WEIGHT_UNITS,
                example: "71.5",
            },
            Spec {
                name: "HbA1c",
                label: "HbA1c",
                loinc: "4548-4",
                display: "Hemoglobin A1c/Hemoglobin.total in Blood",
                vital: None,
                ucum: "%",
                decimals: 1,
                units: HBA1C_UNITS,
                example: "6.9",
            },
            Spec {
                name: "temperature",
                label: "Body temperature",
                loinc: "8310-5",
                display: "Body temperature",
                vital: Some("bodytemp"),
                ucum: "Cel",
                decimals: 1,
                units: TEMPERATURE_UNITS,
                example: "37.2",
            },
            Spec {
                name: "oxygen saturation",
                label: "Oxygen saturation",
                loinc: "2708-6",
                display: "Oxygen saturation in Arterial blood",
                vital: Some("oxygensat"),
                ucum: "%",
                decimals: 0,
                units: PERCENT_SPO2,
                example: "97",
            },
            Spec {
                name: "pulse",
                label: "Pulse",
                loinc: "8867-4",
                display: "Heart rate",
                vital: Some("heartrate"),
                ucum: "/min",
                decimals: 0,
                units: PER_MINUTE,
                example: "72",
            },
        ];
        &SPECS[Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)]
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec().name)
    }
}

impl FromStr for Kind {
    type Err = ReadingError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim().to_lowercase();
        let alias = match t.as_str() {
            "blood-pressure" | "bloodpressure" => "bp",
            "sugar" | "blood-sugar" => "glucose",
            "a1c" => "hba1c",
            "temp" => "temperature",
            "oxygen" | "sat" | "saturation" => "spo2",
            "heart-rate" | "hr" => "pulse",
            other => other,
        };
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == alias)
            .ok_or(ReadingError::Kind(text.to_string()))
    }
}

/// A reading as the patient gives it: `POST /api/readings`, and `amanat add`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReading {
    /// What was measured.
    pub kind: Kind,
    /// As typed: `132/84`, `142`, `71.5` (Urdu and Hindi digits too).
    pub value: String,
    /// The unit typed in [default: the kind's first unit; °F for a
    /// temperature only °F can be].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A glucose taken fasting (before breakfast).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fasting: bool,
    /// When it was taken, as a FHIR date or dateTime [default: now].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Why a reading was refused. Nothing is saved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadingError {
    /// Not a kind the wallet knows.
    #[error(
        "'{0}' is not a reading Amanat knows: use bp, glucose, weight, hba1c, temperature, spo2 or pulse"
    )]
    Kind(String),
    /// The value is not a number (or two, for blood pressure).
    #[error("'{text}' is not a {kind} reading: write it like {example}")]
    Format {
        /// What was being entered.
        kind: Kind,
        /// What was typed.
        text: String,
        /// How it is written.
        example: &'static str,
    },
    /// A unit that does not measure this.
    #[error("{kind} is not measured in '{unit}': use {allowed}")]
    Unit {
        /// What was being entered.
        kind: Kind,
        /// The unit typed.
        unit: String,
        /// The units that do.
        allowed: String,
    },
    /// A value no living person has.
    #[error("{what} {value} {unit} is not possible: it must lie between {low} and {high} {unit}{hint}")]
    Impossible {
        /// What was measured (`systolic blood pressure`).
        what: String,
        /// The value typed.
        value: String,
        /// Its unit.
        unit: &'static str,
        /// Possible range, low end.
        low: f64,
        /// Possible range, high end.
        high: f64,
        /// A likely fix (another unit), or empty.
        hint: String,
    },
    /// Systolic at or below diastolic.
    #[error(
        "blood pressure {systolic}/{diastolic}: the first number (systolic) must be higher than the second (diastolic)"
    )]
    Order {
        /// As typed.
        systolic: String,
        /// As typed.
        diastolic: String,
    },
    /// `fasting` on something other than glucose.
    #[error("only a glucose reading can be fasting")]
    Fasting,
    /// `at` is not a date.
    #[error("'{0}' is not a date and time: write 2026-11-30 or 2026-11-30T08:15:00+05:00")]
    At(String),
    /// `at` is later than now.
    #[error("{0} is in the future: a reading is entered after it is taken")]
    Future(String),
}

/// Reads `٣`, `۳` and `३` as `3`, so a value typed on an Urdu or Hindi
/// keyboard means what it says.
fn ascii_digits(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| {
            let zero = match c {
                '\u{0660}'..='\u{0669}' => 0x0660,
                '\u{06F0}'..='\u{06F9}' => 0x06F0,
                '\u{0966}'..='\u{096F}' => 0x0966,
                '٫' => return '.',
                _ => return c,
            };
            char::from(b'0' + (c as u32 - zero) as u8)
        })
        .collect()
}

/// A plain decimal number: digits with at most one `.` (or `,`), nothing else.
fn number(text: &str) -> Option<f64> {
    let t = text.trim().replace(',', ".");
    let ok = !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.matches('.').count() <= 1
        && t.chars().any(|c| c.is_ascii_digit());
    ok.then(|| t.parse().ok()).flatten()
}

fn round(value: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(decimals as i32);
    (value * f).round() / f
}

/// The unit a reading is typed in.
fn unit_of(kind: Kind, given: Option<&str>, value: Option<f64>) -> Result<Unit, ReadingError> {
    let units = kind.units();
    match given.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => {
            let lower = u.to_lowercase();
            units
                .iter()
                .find(|x| x.label.to_lowercase() == lower || x.aliases.contains(&lower.as_str()))
                .copied()
                .ok_or_else(|| ReadingError::Unit {
                    kind,
                    unit: u.to_string(),
                    allowed: units.iter().map(|x| x.label).collect::<Vec<_>>().join(" or "),
                })
        }
        // A temperature only Fahrenheit can be is Fahrenheit: the ranges do not overlap.
        None if kind == Kind::Temperature => Ok(units
            .iter()
            .find(|x| value.is_some_and(|v| v >= x.low && v <= x.high))
            .copied()
            .unwrap_or(units[0])),
        None => Ok(units[0]),
    }
}

/// Checks a value against what is possible, suggesting another unit where
/// the value fits it.
fn check(
    what: &str,
    text: &str,
    value: f64,
    unit: Unit,
    range: (f64, f64),
    kind: Kind,
) -> Result<(), ReadingError> {
    if value >= range.0 && value <= range.1 {
        return Ok(());
    }
    let hint = kind
        .units()
        .iter()
        .find(|other| other.label != unit.label && value >= other.low && value <= other.high)
        .map(|other| format!(" (if it is in {}, say so: --unit {})", other.label, other.label))
        .unwrap_or_default();
    Err(ReadingError::Impossible {
        what: what.to_string(),
        value: text.trim().to_string(),
        unit: unit.label,
        low: range.0,
        high: range.1,
        hint,
    })
}

fn quantity(value: f64, spec: &Spec) -> Value {
    let unit = if spec.ucum == "mm[Hg]" {
        "mmHg"
    } else if spec.ucum == "Cel" {
        "°C"
    } else {
        spec.ucum
    };
    json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": spec.ucum})
}

fn loinc(code: &str, display: &str, text: &str) -> Value {
    json!({"coding": [{"system": "http://loinc.org", "code": code, "display": display}], "text": text})
}

/// Who the reading is about and who took it: the profile, by name and, where
/// it has one, national ID (a logical reference: the wallet keeps no
/// `Patient` resource of its own).
fn patient_reference(who: &Profile, role: &str) -> Value {
    let mut r = json!({"display": format!("{}{role}", who.name)});
    let id = who
        .cnic
        .as_ref()
        .map(|c| json!({"type": {"text": "CNIC"}, "value": c.to_string()}))
        .or_else(|| {
            who.abha_number.as_ref().map(
                |a| json!({"system": "https://healthid.ndhm.gov.in", "type": {"text": "ABHA number"}, "value": a.to_string()}),
            )
        });
    if let Some(id) = id {
        r["identifier"] = id;
    }
    r
}

/// When the reading was taken: `at`, else now; never in the future.
fn taken_at(at: Option<&str>, now: i64) -> Result<FhirDateTime, ReadingError> {
    let Some(text) = at.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(FhirDateTime::from_unix(now));
    };
    let when = FhirDateTime::parse(text).map_err(|_| ReadingError::At(text.to_string()))?;
    if when.start() > now {
        return Err(ReadingError::Future(text.to_string()));
    }
    Ok(when)
}

/// The FHIR `Observation` for a reading, or why it cannot be one.
pub fn observation(reading: &NewReading, who: &Profile, now: i64) -> Result<Resource, ReadingError> {
    let kind = reading.kind;
    let spec = kind.spec();
    if reading.fasting && kind != Kind::Glucose {
        return Err(ReadingError::Fasting);
    }
    let text = ascii_digits(&reading.value);
    let bad = || ReadingError::Format {
        kind,
        text: reading.value.trim().to_string(),
        example: spec.example,
    };
    let effective = taken_at(reading.at.as_deref(), now)?;
    let (code, display, label) = if reading.fasting {
        (
            "1558-6",
            "Fasting glucose [Mass/volume] in Serum or Plasma",
            "Fasting glucose",
        )
    } else {
        (spec.loinc, spec.display, spec.label)
    };
    let mut obs = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{
            "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": if spec.vital.is_some() { "vital-signs" } else { "laboratory" },
                "display": if spec.vital.is_some() { "Vital Signs" } else { "Laboratory" },
            }]
        }],
        "code": loinc(code, display, label),
        "subject": patient_reference(who, ""),
        "effectiveDateTime": effective.as_str(),
        "issued": FhirDateTime::from_unix(now).as_str(),
        "performer": [patient_reference(who, " (the patient)")],
    });
    if let Some(profile) = spec.vital {
        obs["meta"] = json!({"profile": [format!("http://hl7.org/fhir/StructureDefinition/{profile}")]});
    }
    let typed_as;
    if kind == Kind::Bp {
        let (s, d) = text.split_once('/').ok_or_else(bad)?;
        let (sv, dv) = (number(s).ok_or_else(bad)?, number(d).ok_or_else(bad)?);
        let unit = unit_of(kind, reading.unit.as_deref(), None)?;
        check("systolic blood pressure", s, sv, unit, SYSTOLIC, kind)?;
        check("diastolic blood pressure", d, dv, unit, DIASTOLIC, kind)?;
        if sv <= dv {
            return Err(ReadingError::Order {
                systolic: s.trim().to_string(),
                diastolic: d.trim().to_string(),
            });
        }
        obs["component"] = json!([
            {"code": loinc("8480-6", "Systolic blood pressure", "Systolic blood pressure"), "valueQuantity": quantity(round(sv, 0), spec)},
            {"code": loinc("8462-4", "Diastolic blood pressure", "Diastolic blood pressure"), "valueQuantity": quantity(round(dv, 0), spec)},
        ]);
        typed_as = format!("{}/{} mmHg", s.trim(), d.trim());
    } else {
        let v = number(&text).ok_or_else(bad)?;
        let unit = unit_of(kind, reading.unit.as_deref(), Some(v))?;
        check(spec.name, &text, v, unit, (unit.low, unit.high), kind)?;
        obs["valueQuantity"] = quantity(round((unit.to_stored)(v), spec.decimals), spec);
        if kind == Kind::Spo2 {
            // The vital-signs profile asks for 2708-6; pulse oximetry says how.
            if let Some(codings) = obs["code"]["coding"].as_array_mut() {
                codings.push(json!({"system": "http://loinc.org", "code": "59408-5", "display": "Oxygen saturation in Arterial blood by Pulse oximetry"}));
            }
        }
        typed_as = format!("{} {}", text.trim(), unit.label);
    }
    obs["note"] = json!([{"text": format!("Entered by the patient: {typed_as}")}]);
    Resource::from_value(obs).map_err(|_| bad())
}

/// The reading as a record to save, marked as entered by the patient.
pub fn record(reading: &NewReading, who: &Profile, now: i64) -> Result<NewRecord, ReadingError> {
    let resource = observation(reading, who, now)?;
    let description = resource.describe().map_err(|_| ReadingError::Format {
        kind: reading.kind,
        text: reading.value.trim().to_string(),
        example: reading.kind.example(),
    })?;
    Ok(NewRecord::new(resource, description, Source::Entered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ProfileDraft, Relationship};

    /// 2026-12-01T12:00:00Z.
    const NOW: i64 = 1_796_126_400;

    fn ayesha() -> Profile {
        ProfileDraft {
            name: "Ayesha Siddiqui".into(),
            cnic: Some("35202-1234567-2".into()),
            ..ProfileDraft::default()
        }
        .build("2026-12-01", Relationship::Owner)
        .unwrap()
    }

    fn add(kind: Kind, value: &str, unit: Option<&str>) -> Result<Resource, ReadingError> {
        let r = NewReading {
            kind,
            value: value.into(),
            unit: unit.map(str::to_string),
            fasting: false,
            at: None,
        };
        observation(&r, &ayesha(), NOW)
    }

    fn stored(r: &Resource) -> (f64, String) {
        let q = &r.json()["valueQuantity"];
        (
            q["value"].as_f64().unwrap(),
            q["code"].as_str().unwrap().to_string(),
        )
    }

    #[test]
    fn every_kind_makes_a_valid_observation_the_summary_reads() {
        for kind in Kind::ALL {
            let r = add(kind, kind.example(), None).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let d = r.describe().unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(d.values.len(), if kind == Kind::Bp { 2 } else { 1 }, "{kind}");
            let note = r.json()["note"][0]["text"].as_str().unwrap();
            assert!(note.starts_with("Entered by the patient"), "{note}");
            assert_eq!(
                r.json()["performer"][0]["display"],
                "Ayesha Siddiqui (the patient)"
            );
            assert_eq!(r.json()["subject"]["identifier"]["value"], "35202-1234567-2");
            let lab = matches!(kind, Kind::Glucose | Kind::Hba1c);
            assert_eq!(d.hi_type == crate::fhir::HiType::DiagnosticReport, lab, "{kind}");
        }
    }

    #[test]
    fn blood_pressure_is_a_panel_of_two() {
        let r = add(Kind::Bp, "132/84", None).unwrap();
        let d = r.describe().unwrap();
        assert_eq!(d.codes[0], "http://loinc.org|85354-9");
        assert_eq!((d.values[0].value, d.values[1].value), (132.0, 84.0));
        assert_eq!(d.values[0].unit, "mmHg");
        assert_eq!(
            r.json()["meta"]["profile"][0],
            "http://hl7.org/fhir/StructureDefinition/bp"
        );
    }

    #[test]
    fn impossible_values_are_refused_with_the_range() {
        let e = add(Kind::Bp, "400/20", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "systolic blood pressure 400 mmHg is not possible: it must lie between 50 and 300 mmHg"
        );
        let e = add(Kind::Bp, "84/132", None).unwrap_err();
        assert!(matches!(e, ReadingError::Order { .. }), "{e}");
        assert!(matches!(
            add(Kind::Spo2, "104", None),
            Err(ReadingError::Impossible { .. })
        ));
        assert!(matches!(
            add(Kind::Pulse, "0", None),
            Err(ReadingError::Impossible { .. })
        ));
        assert!(matches!(
            add(Kind::Weight, "4000", None),
            Err(ReadingError::Impossible { .. })
        ));
        assert!(matches!(
            add(Kind::Hba1c, "69", None),
            Err(ReadingError::Impossible { .. })
        ));
    }

    #[test]
    fn a_value_that_fits_another_unit_says_which() {
        let e = add(Kind::Glucose, "7.8", None).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("(if it is in mmol/L, say so: --unit mmol/L)"),
            "{e}"
        );
    }

    #[test]
    fn wrong_units_and_malformed_values_are_refused() {
        let e = add(Kind::Weight, "71.5", Some("mg/dL")).unwrap_err();
        assert_eq!(e.to_string(), "weight is not measured in 'mg/dL': use kg or lb");
        for bad in ["", "abc", "1.2.3", "-5", "NaN", "inf", "132", "132/", "1e3"] {
            let kind = if bad.starts_with("132") {
                Kind::Bp
            } else {
                Kind::Weight
            };
            assert!(
                matches!(add(kind, bad, None), Err(ReadingError::Format { .. })),
                "{bad:?}"
            );
        }
        let r = NewReading {
            kind: Kind::Weight,
            value: "70".into(),
            unit: None,
            fasting: true,
            at: None,
        };
        assert_eq!(
            observation(&r, &ayesha(), NOW).unwrap_err(),
            ReadingError::Fasting
        );
    }

    #[test]
    fn other_units_are_converted_and_the_typed_value_kept() {
        let r = add(Kind::Glucose, "7.8", Some("mmol/L")).unwrap();
        assert_eq!(stored(&r), (141.0, "mg/dL".into()));
        assert_eq!(r.json()["note"][0]["text"], "Entered by the patient: 7.8 mmol/L");
        assert_eq!(
            stored(&add(Kind::Weight, "160", Some("lb")).unwrap()),
            (72.6, "kg".into())
        );
        assert_eq!(
            stored(&add(Kind::Hba1c, "53", Some("mmol/mol")).unwrap()),
            (7.0, "%".into())
        );
        // 98.6 can only be Fahrenheit.
        assert_eq!(
            stored(&add(Kind::Temperature, "98.6", None).unwrap()),
            (37.0, "Cel".into())
        );
        assert_eq!(
            stored(&add(Kind::Temperature, "37.2", None).unwrap()),
            (37.2, "Cel".into())
        );
    }

    #[test]
    fn urdu_and_hindi_digits_are_numbers() {
        let r = add(Kind::Bp, "۱۳۲/۸۴", None).unwrap();
        assert_eq!(r.describe().unwrap().values[1].value, 84.0);
        assert_eq!(stored(&add(Kind::Weight, "७१.५", None).unwrap()).0, 71.5);
    }

    #[test]
    fn fasting_glucose_has_its_own_code_and_the_time_is_checked() {
        let r = NewReading {
            kind: Kind::Glucose,
            value: "101".into(),
            unit: None,
            fasting: true,
            at: Some("2026-11-30T07:30:00+05:00".into()),
        };
        let o = observation(&r, &ayesha(), NOW).unwrap();
        assert_eq!(o.json()["code"]["coding"][0]["code"], "1558-6");
        assert_eq!(o.json()["effectiveDateTime"], "2026-11-30T07:30:00+05:00");
        let later = NewReading {
            at: Some("2030-01-01".into()),
            ..r.clone()
        };
        assert!(matches!(
            observation(&later, &ayesha(), NOW),
            Err(ReadingError::Future(_))
        ));
        let garbage = NewReading {
            at: Some("yesterday".into()),
            ..r
        };
        assert!(matches!(
            observation(&garbage, &ayesha(), NOW),
            Err(ReadingError::At(_))
        ));
    }

    #[test]
    fn kinds_parse_from_their_names_and_common_words() {
        assert_eq!("BP".parse::<Kind>().unwrap(), Kind::Bp);
        assert_eq!("sugar".parse::<Kind>().unwrap(), Kind::Glucose);
        assert_eq!("temp".parse::<Kind>().unwrap(), Kind::Temperature);
        assert!(matches!("height".parse::<Kind>(), Err(ReadingError::Kind(_))));
    }
}
