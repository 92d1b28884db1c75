//! A patient summary in the spirit of the International Patient Summary (IPS):
//! problems, allergies, medications, immunizations, latest results and vitals,
//! with short trends for the values that matter in chronic care (HbA1c, glucose,
//! blood pressure, weight).
//!
//! Built from catalog entries alone, so it never decrypts the resources.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fhir::HiType;
use crate::fhir::model::format_number;
use crate::record::RecordMeta;

/// How many points each trend keeps.
pub const TREND_POINTS: usize = 24;

/// One line of a summary section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Record id.
    pub id: String,
    /// What it is.
    pub title: String,
    /// When (clinical date), if known.
    pub date: Option<String>,
    /// Its status.
    pub status: Option<String>,
}

/// The latest value of one measurement, with its trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latest {
    /// `system|code`.
    pub code: String,
    /// What was measured.
    pub label: String,
    /// The latest value, as text (`7.1 %`).
    pub value: String,
    /// Unit.
    pub unit: String,
    /// Date of the latest value.
    pub date: Option<String>,
    /// Where the value lies against the reference range, when one is given.
    pub flag: Option<Flag>,
    /// Reference range low bound.
    pub low: Option<f64>,
    /// Reference range high bound.
    pub high: Option<f64>,
    /// Up to [`TREND_POINTS`] values, oldest first (the latest is last).
    pub trend: Vec<Point>,
    /// Record id of the latest value.
    pub id: String,
}

/// A value against its reference range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flag {
    /// Above the range.
    High,
    /// Below the range.
    Low,
    /// Within it.
    Normal,
}

impl Flag {
    /// `high`, `low` or `normal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::High => "high",
            Flag::Low => "low",
            Flag::Normal => "normal",
        }
    }
}

/// One point of a trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// When (seconds since 1970).
    pub at: i64,
    /// The value, or values of a panel (systolic, diastolic).
    pub values: Vec<f64>,
}

/// The summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Active problems.
    pub problems: Vec<Item>,
    /// Active allergies and intolerances.
    pub allergies: Vec<Item>,
    /// Active medications.
    pub medications: Vec<Item>,
    /// Vaccinations, newest first.
    pub immunizations: Vec<Item>,
    /// Latest laboratory results, one per test.
    pub results: Vec<Latest>,
    /// Latest vital signs and home readings, one per measurement.
    pub vitals: Vec<Latest>,
    /// Total records considered.
    pub records: usize,
}

fn item(m: &RecordMeta) -> Item {
    Item {
        id: m.id.to_string(),
        title: m.title.clone(),
        date: m.date.clone(),
        status: m.status.clone(),
    }
}

fn is_current(status: Option<&str>, active: &[&str]) -> bool {
    status.is_none_or(|s| active.contains(&s))
}

impl Summary {
    /// The records behind the summary, in its order: problems, allergies,
    /// medications, immunizations, then the latest result and vital of each kind.
    pub fn record_ids(&self) -> Vec<String> {
        let items = self
            .problems
            .iter()
            .chain(&self.allergies)
            .chain(&self.medications)
            .chain(&self.immunizations);
        let latest = self.results.iter().chain(&self.vitals);
        items
            .map(|i| i.id.clone())
            .chain(latest.map(|l| l.id.clone()))
            .collect()
    }

    /// Builds the summary from catalog entries (any order).
    pub fn from_metas(metas: &[RecordMeta]) -> Summary {
        let mut sorted: Vec<&RecordMeta> = metas.iter().collect();
        sorted.sort_by(|a, b| b.sort_key.cmp(&a.sort_key).then(b.added.cmp(&a.added)));
        let mut s = Summary {
            records: metas.len(),
            ..Summary::default()
        };
        // Series by code, newest first while collecting.
        let mut series: BTreeMap<(bool, String), Vec<&RecordMeta>> = BTreeMap::new();
        for m in &sorted {
            let status = m.status.as_deref();
            match m.resource_type.as_str() {
                "Condition" if is_current(status, &["active", "recurrence", "relapse"]) => {
                    s.problems.push(item(m))
                }
                "AllergyIntolerance" if is_current(status, &["active"]) => s.allergies.push(item(m)),
                "MedicationRequest" if is_current(status, &["active", "on-hold"]) => {
                    s.medications.push(item(m))
                }
                "MedicationStatement" if is_current(status, &["active", "intended"]) => {
                    s.medications.push(item(m))
                }
                "Immunization" if is_current(status, &["completed"]) => s.immunizations.push(item(m)),
                "Observation" if !matches!(status, Some("cancelled" | "entered-in-error")) => {
                    let lab = m.hi_type == HiType::DiagnosticReport;
                    // A panel (blood pressure) is one series keyed by its first value's code.
                    if let Some(code) = m.codes.first() {
                        series.entry((lab, code.clone())).or_default().push(m);
                    }
                }
                _ => {}
            }
        }
        for ((lab, code), points) in series {
            let Some(&latest) = points.first() else { continue };
            let Some(first) = latest.values.first() else {
                continue;
            };
            let value = if latest.values.len() > 1 {
                let joined: Vec<String> = latest.values.iter().map(|v| format_number(v.value)).collect();
                format!("{} {}", joined.join("/"), first.unit)
            } else {
                format!("{} {}", format_number(first.value), first.unit)
            };
            let flag = match (first.low, first.high) {
                (_, Some(h)) if first.value > h => Some(Flag::High),
                (Some(l), _) if first.value < l => Some(Flag::Low),
                (None, None) => None,
                _ => Some(Flag::Normal),
            };
            let mut trend: Vec<Point> = points
                .iter()
                .take(TREND_POINTS)
                .filter(|m| !m.values.is_empty())
                .map(|m| Point {
                    at: m.sort_key,
                    values: m.values.iter().map(|v| v.value).collect(),
                })
                .collect();
            trend.reverse();
            let label = if latest.values.len() > 1 {
                latest
                    .title
                    .split(':')
                    .next()
                    .unwrap_or(&latest.title)
                    .to_string()
            } else {
                first.label.clone()
            };
            let entry = Latest {
                code: code.clone(),
                label,
                value: value.trim().to_string(),
                unit: first.unit.clone(),
                date: latest.date.clone(),
                flag,
                low: first.low,
                high: first.high,
                trend,
                id: latest.id.to_string(),
            };
            if lab {
                s.results.push(entry);
            } else {
                s.vitals.push(entry);
            }
        }
        let newest = |a: &Latest, b: &Latest| b.trend.last().map(|t| t.at).cmp(&a.trend.last().map(|t| t.at));
        s.results.sort_by(newest);
        s.vitals.sort_by(newest);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::Resource;
    use crate::ids::{ProfileId, RecordId};
    use crate::record::Source;

    #[test]
    fn demo_patient_summary() {
        let fam = crate::demo::family(300, 1_790_000_000, 3);
        let profile = ProfileId::random();
        let metas: Vec<RecordMeta> = fam
            .owner
            .into_iter()
            .map(|v| {
                let r = Resource::from_value(v).unwrap();
                let d = r.describe().unwrap();
                RecordMeta::new(RecordId::random(), profile, &r, d, 0, Source::Demo, [0; 32], 0)
            })
            .collect();
        let s = Summary::from_metas(&metas);
        let titles = |items: &[Item]| {
            items
                .iter()
                .map(|i| i.title.clone())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        assert_eq!(s.problems.len(), 3, "{}", titles(&s.problems));
        assert_eq!(titles(&s.allergies), "Allergy: Penicillin");
        assert!(titles(&s.medications).contains("Metformin 1000 mg"));
        assert!(
            !titles(&s.medications).contains("Metformin 500 mg"),
            "completed prescriptions are not current"
        );
        let hba1c = s
            .results
            .iter()
            .find(|r| r.code == "http://loinc.org|4548-4")
            .expect("HbA1c");
        assert_eq!(hba1c.trend.len(), TREND_POINTS);
        assert!(
            hba1c.trend.windows(2).all(|w| w[0].at <= w[1].at),
            "trend is oldest first"
        );
        assert_eq!(hba1c.flag, Some(Flag::High));
        let bp = s
            .vitals
            .iter()
            .find(|v| v.code == "http://loinc.org|85354-9")
            .expect("blood pressure");
        assert!(
            bp.value.ends_with("mmHg") && bp.value.contains('/'),
            "{}",
            bp.value
        );
        assert_eq!(bp.label, "Blood pressure");
        assert_eq!(bp.trend.last().unwrap().values.len(), 2);
    }
}
