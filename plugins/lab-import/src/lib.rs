//! Lab import: HL7 v2 ORU^R01 result messages and lab CSV files become FHIR
//! Observations (values, units, reference ranges, abnormal flags) and a
//! DiagnosticReport that groups them.
//!
//! CSV files have a header row naming these columns (any order; `loinc` and
//! `value` required): `loinc, name, value, unit, low, high, flag, date`.

use amanat_plugin::fhir::{self, INTERPRETATION, LOINC, OBSERVATION_CATEGORY};
use amanat_plugin::{ActionInfo, ActionInput, ActionOutput, Plugin, PluginError, host, register_plugin};
use serde_json::{Value, json};

struct LabImport;

impl Plugin for LabImport {
    const NAME: &'static str = "lab-import";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn actions() -> Vec<ActionInfo> {
        vec![amanat_plugin::action(
            "import",
            "Reads a lab report (HL7 v2 ORU^R01 message or CSV with LOINC codes) into results",
            true,
            false,
        )]
    }

    fn run(action: &str, input: ActionInput) -> Result<ActionOutput, PluginError> {
        if action != "import" {
            return Err(amanat_plugin::unknown_action(action));
        }
        let bytes = input
            .file
            .ok_or_else(|| PluginError::InvalidInput("give the lab report with --input FILE".into()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| PluginError::InvalidInput("the file is not text (UTF-8)".into()))?;
        // A report the lab's system signed with the lab's publisher key goes
        // to the wallet as it is: the wallet checks that signature.
        if text.trim_start().starts_with("AMANAT-RECORD:") {
            host::propose_signed(text.trim()).map_err(PluginError::Denied)?;
            return Ok(ActionOutput::message(
                "Read the lab's signed report: your wallet checked the lab's signature.".to_string(),
            ));
        }
        let report = parse(&text).map_err(PluginError::InvalidInput)?;
        for resource in report.resources() {
            host::propose(&resource).map_err(PluginError::Denied)?;
        }
        Ok(ActionOutput::message(format!(
            "Read {} result(s) from {}{}.",
            report.results.len(),
            report.lab.as_deref().unwrap_or("the lab report"),
            report.abnormal_note()
        )))
    }
}

register_plugin!(LabImport);

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct LabResult {
    /// LOINC code.
    pub loinc: String,
    /// Test name.
    pub name: String,
    /// Numeric value, or text.
    pub value: Value,
    /// Unit.
    pub unit: Option<String>,
    /// Reference range.
    pub low: Option<f64>,
    /// Reference range.
    pub high: Option<f64>,
    /// HL7 abnormal flag: H, L, HH, LL, A, N.
    pub flag: Option<String>,
    /// FHIR dateTime.
    pub date: Option<String>,
    /// FHIR status: final, preliminary, corrected.
    pub status: String,
}

/// A parsed report.
#[derive(Debug, Clone, PartialEq)]
pub struct LabReport {
    /// The performing lab, if named.
    pub lab: Option<String>,
    /// The panel's name.
    pub panel: Option<String>,
    /// When the specimen was taken.
    pub date: Option<String>,
    /// The results.
    pub results: Vec<LabResult>,
    /// Whom the results are about (HL7 PID): the `subject` of every resource,
    /// so the wallet can refuse a report about someone else.
    pub subject: Option<Value>,
    /// A base for the ids of the resources made (unique per import).
    pub id_base: String,
}

/// Parses HL7 v2 (starts with `MSH|`) or CSV.
pub fn parse(text: &str) -> Result<LabReport, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let report = if trimmed.starts_with("MSH|") {
        parse_hl7(trimmed)?
    } else {
        parse_csv(trimmed)?
    };
    if report.results.is_empty() {
        return Err("the file holds no results".into());
    }
    Ok(report)
}

/// HL7 TS (`YYYYMMDD[HHMM[SS]][+ZZZZ]`) to a FHIR dateTime.
pub fn hl7_time(ts: &str) -> Option<String> {
    let (digits, zone) = match ts.find(['+', '-']) {
        Some(i) => (&ts[..i], Some(&ts[i..])),
        None => (ts, None),
    };
    let digits = digits.split('.').next()?;
    if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8]);
    if digits.len() < 12 {
        return Some(date);
    }
    let secs = if digits.len() >= 14 { &digits[12..14] } else { "00" };
    let zone = match zone {
        Some(z) if z.len() == 5 => format!("{}:{}", &z[..3], &z[3..]),
        _ => "Z".into(),
    };
    Some(format!(
        "{date}T{}:{}:{secs}{zone}",
        &digits[8..10],
        &digits[10..12]
    ))
}

fn component(field: &str, n: usize) -> &str {
    field.split('^').nth(n).unwrap_or("")
}

fn parse_range(text: &str) -> (Option<f64>, Option<f64>) {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('<') {
        return (None, rest.trim_start_matches('=').trim().parse().ok());
    }
    if let Some(rest) = t.strip_prefix('>') {
        return (rest.trim_start_matches('=').trim().parse().ok(), None);
    }
    match t.split_once('-') {
        Some((lo, hi)) => (lo.trim().parse().ok(), hi.trim().parse().ok()),
        None => (None, None),
    }
}

impl LabReport {
    /// A report with no results yet. Ids derive from an FNV-1a hash of the
    /// content: the same file proposes the same ids, so the wallet's duplicate
    /// check recognises a re-import.
    fn empty(text: &str) -> LabReport {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        LabReport {
            lab: None,
            panel: None,
            date: None,
            results: Vec::new(),
            subject: None,
            id_base: format!("lab-{h:016x}"),
        }
    }
}

fn parse_hl7(text: &str) -> Result<LabReport, String> {
    let mut report = LabReport::empty(text);
    let mut saw_oru = false;
    for (n, line) in text
        .split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .enumerate()
    {
        let fields: Vec<&str> = line.split('|').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or("");
        match field(0) {
            "MSH" => {
                // MSH-9 is fields[8] (MSH-1 is the separator itself).
                let kind = field(8);
                if !kind.starts_with("ORU^R01") && kind != "ORU" {
                    return Err(format!("this HL7 message is {kind}, not a lab result (ORU^R01)"));
                }
                saw_oru = true;
                let sender = component(field(3), 0);
                let facility = component(field(3), 1);
                let lab = if facility.is_empty() { sender } else { facility };
                report.lab = (!lab.is_empty()).then(|| lab.to_string());
            }
            "PID" => {
                // PID-3: the patient's identifier (a CNIC, an ABHA number);
                // PID-5: family^given.
                let id = component(field(3), 0);
                let name = format!("{} {}", component(field(5), 1), component(field(5), 0));
                let mut subject = json!({});
                if !name.trim().is_empty() {
                    subject["display"] = json!(name.trim());
                }
                if !id.is_empty() {
                    subject["identifier"] = json!({"value": id});
                }
                report.subject = (subject != json!({})).then_some(subject);
            }
            "OBR" => {
                let panel = component(field(4), 1);
                report.panel = (!panel.is_empty()).then(|| panel.to_string());
                report.date = hl7_time(field(7));
            }
            "OBX" => {
                let id = field(3);
                let (code, name, system) = (component(id, 0), component(id, 1), component(id, 2));
                if code.is_empty() {
                    return Err(format!(
                        "segment {} (OBX) has no observation code in OBX-3",
                        n + 1
                    ));
                }
                if !system.is_empty() && system != "LN" {
                    return Err(format!(
                        "OBX-3 code {code} is from '{system}'; only LOINC (LN) codes are imported"
                    ));
                }
                let raw = field(5);
                let value = match field(2) {
                    "NM" => json!(
                        raw.trim()
                            .parse::<f64>()
                            .map_err(|_| format!("OBX {code}: '{raw}' is not a number"))?
                    ),
                    _ => json!(raw),
                };
                let (low, high) = parse_range(field(7));
                let status = match field(11) {
                    "P" => "preliminary",
                    "C" => "corrected",
                    _ => "final",
                };
                report.results.push(LabResult {
                    loinc: code.to_string(),
                    name: if name.is_empty() {
                        code.to_string()
                    } else {
                        name.to_string()
                    },
                    value,
                    unit: Some(component(field(6), 0).to_string()).filter(|u| !u.is_empty()),
                    low,
                    high,
                    flag: Some(field(8).to_string()).filter(|f| !f.is_empty()),
                    date: hl7_time(field(14)).or_else(|| report.date.clone()),
                    status: status.into(),
                });
            }
            _ => {}
        }
    }
    if !saw_oru {
        return Err("the HL7 message has no MSH segment".into());
    }
    Ok(report)
}

fn parse_csv(text: &str) -> Result<LabReport, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or("the CSV file is empty")?
        .split(',')
        .map(|h| h.trim().to_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let loinc = col("loinc").ok_or("the CSV needs a 'loinc' column (and 'value')")?;
    let value = col("value").ok_or("the CSV needs a 'value' column")?;
    let mut report = LabReport::empty(text);
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).copied().filter(|c| !c.is_empty());
        let code = cell(Some(loinc)).ok_or(format!("row {}: no LOINC code", n + 2))?;
        if !code.contains('-') || !code.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return Err(format!(
                "row {}: '{code}' is not a LOINC code (like 4548-4)",
                n + 2
            ));
        }
        let raw = cell(Some(value)).ok_or(format!("row {}: no value", n + 2))?;
        let number = |c: Option<&str>| c.and_then(|v| v.parse::<f64>().ok());
        report.results.push(LabResult {
            loinc: code.into(),
            name: cell(col("name")).unwrap_or(code).into(),
            value: raw
                .parse::<f64>()
                .map(|v| json!(v))
                .unwrap_or_else(|_| json!(raw)),
            unit: cell(col("unit")).map(str::to_string),
            low: number(cell(col("low"))),
            high: number(cell(col("high"))),
            flag: cell(col("flag")).map(str::to_string),
            date: cell(col("date")).map(str::to_string),
            status: "final".into(),
        });
    }
    Ok(report)
}

fn interpretation(result: &LabResult) -> Option<(&'static str, &'static str)> {
    let flag = result.flag.as_deref().map(str::to_uppercase);
    let by_flag = match flag.as_deref() {
        Some("H") => Some(("H", "High")),
        Some("HH") => Some(("HH", "Critical high")),
        Some("L") => Some(("L", "Low")),
        Some("LL") => Some(("LL", "Critical low")),
        Some("A") => Some(("A", "Abnormal")),
        Some("N") => Some(("N", "Normal")),
        _ => None,
    };
    by_flag.or_else(|| {
        let v = result.value.as_f64()?;
        if result.high.is_some_and(|h| v > h) {
            Some(("H", "High"))
        } else if result.low.is_some_and(|l| v < l) {
            Some(("L", "Low"))
        } else if result.low.is_some() || result.high.is_some() {
            Some(("N", "Normal"))
        } else {
            None
        }
    })
}

impl LabReport {
    /// The Observations, then the DiagnosticReport that lists them.
    pub fn resources(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut refs = Vec::new();
        for (i, r) in self.results.iter().enumerate() {
            let id = format!("{}-{}", self.id_base, i + 1);
            let mut obs = json!({
                "resourceType": "Observation",
                "id": id,
                "status": r.status,
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
                "code": fhir::concept(LOINC, &r.loinc, &r.name),
            });
            if let Some(d) = &r.date {
                obs["effectiveDateTime"] = json!(d);
            }
            match (r.value.as_f64(), &r.unit) {
                (Some(v), Some(unit)) => obs["valueQuantity"] = fhir::quantity(v, unit),
                (Some(v), None) => obs["valueQuantity"] = json!({"value": v}),
                (None, _) => obs["valueString"] = r.value.clone(),
            }
            if r.low.is_some() || r.high.is_some() {
                let unit = r.unit.clone().unwrap_or_default();
                let mut range = json!({});
                if let Some(l) = r.low {
                    range["low"] = fhir::quantity(l, &unit);
                }
                if let Some(h) = r.high {
                    range["high"] = fhir::quantity(h, &unit);
                }
                obs["referenceRange"] = json!([range]);
            }
            if let Some((code, display)) = interpretation(r) {
                obs["interpretation"] =
                    json!([{"coding": [{"system": INTERPRETATION, "code": code, "display": display}]}]);
            }
            if let Some(lab) = &self.lab {
                obs["performer"] = json!([{"display": lab}]);
            }
            if let Some(subject) = &self.subject {
                obs["subject"] = subject.clone();
            }
            refs.push(json!({"reference": format!("Observation/{id}")}));
            out.push(obs);
        }
        let mut report = json!({
            "resourceType": "DiagnosticReport",
            "id": format!("{}-report", self.id_base),
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory"}]}],
            "code": {"text": self.panel.clone().unwrap_or_else(|| "Laboratory report".into())},
            "result": refs,
        });
        if let Some(d) = self
            .date
            .clone()
            .or_else(|| self.results.iter().find_map(|r| r.date.clone()))
        {
            report["effectiveDateTime"] = json!(d);
        }
        if let Some(lab) = &self.lab {
            report["performer"] = json!([{"display": lab}]);
        }
        if let Some(subject) = &self.subject {
            report["subject"] = subject.clone();
        }
        out.push(report);
        out
    }

    fn abnormal_note(&self) -> String {
        let abnormal: Vec<&str> = self
            .results
            .iter()
            .filter(|r| interpretation(r).is_some_and(|(c, _)| c != "N"))
            .map(|r| r.name.as_str())
            .collect();
        if abnormal.is_empty() {
            String::new()
        } else {
            format!("; outside the normal range: {}", abnormal.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORU: &str = "MSH|^~\\&|LIS|Chughtai Lab^CHUGHTAI|AMANAT|PATIENT|202605100930+0500||ORU^R01^ORU_R01|MSG0001|P|2.5.1\r\
PID|1||35202-1234567-2^^^NADRA^NI||Siddiqui^Ayesha||19680412|F\r\
OBR|1|ORD1|FIL1|24331-1^Diabetes panel^LN|||202605100900+0500\r\
OBX|1|NM|4548-4^Hemoglobin A1c/Hemoglobin.total in Blood^LN||7.4|%|4.0-5.6|H|||F|||202605100900+0500\r\
OBX|2|NM|1558-6^Fasting glucose [Mass/volume] in Serum or Plasma^LN||142|mg/dL|70-99|H|||F\r\
OBX|3|NM|2160-0^Creatinine [Mass/volume] in Serum or Plasma^LN||0.9|mg/dL|0.5-1.1|N|||F\r\
OBX|4|ST|5778-6^Color of Urine^LN||Yellow||||||P\r";

    #[test]
    fn oru_r01_becomes_observations_and_a_report() {
        let r = parse(ORU).unwrap();
        assert_eq!(r.lab.as_deref(), Some("CHUGHTAI"));
        assert_eq!(r.results.len(), 4);
        let res = r.resources();
        assert_eq!(res.len(), 5);
        let a1c = &res[0];
        assert_eq!(a1c["code"]["coding"][0]["code"], "4548-4");
        assert_eq!(a1c["valueQuantity"]["value"], 7.4);
        assert_eq!(a1c["valueQuantity"]["unit"], "%");
        assert_eq!(a1c["referenceRange"][0]["high"]["value"], 5.6);
        assert_eq!(a1c["interpretation"][0]["coding"][0]["code"], "H");
        assert_eq!(a1c["effectiveDateTime"], "2026-05-10T09:00:00+05:00");
        assert_eq!(res[2]["interpretation"][0]["coding"][0]["code"], "N");
        assert_eq!(res[3]["valueString"], "Yellow");
        assert_eq!(res[3]["status"], "preliminary");
        assert_eq!(res[4]["resourceType"], "DiagnosticReport");
        assert_eq!(res[4]["result"].as_array().unwrap().len(), 4);
        assert_eq!(res[4]["code"]["text"], "Diabetes panel");
        for resource in &res {
            assert_eq!(
                resource["subject"],
                json!({"display": "Ayesha Siddiqui", "identifier": {"value": "35202-1234567-2"}}),
                "whom the report is about, from PID"
            );
        }
        assert_eq!(
            parse(ORU).unwrap().id_base,
            r.id_base,
            "the same file gives the same ids"
        );
    }

    #[test]
    fn csv_with_loinc_codes() {
        let csv = "loinc,name,value,unit,low,high,date\n4548-4,HbA1c,6.9,%,4.0,5.6,2026-08-01\n2093-3,Cholesterol,180,mg/dL,,200,2026-08-01\n";
        let r = parse(csv).unwrap();
        let res = r.resources();
        assert_eq!(
            res[0]["interpretation"][0]["coding"][0]["code"], "H",
            "derived from the range"
        );
        assert_eq!(res[1]["interpretation"][0]["coding"][0]["code"], "N");
        assert!(res[1]["referenceRange"][0].get("low").is_none());
    }

    #[test]
    fn bad_input_is_explained() {
        assert!(
            parse("MSH|^~\\&|X|Y|||20260101||ADT^A01|1|P|2.5\r")
                .unwrap_err()
                .contains("not a lab result")
        );
        assert!(parse("name,value\nx,1\n").unwrap_err().contains("'loinc' column"));
        assert!(
            parse("loinc,value\nabc,1\n")
                .unwrap_err()
                .contains("not a LOINC code")
        );
        assert!(
            parse("MSH|^~\\&|X|Y|||20260101||ORU^R01|1|P|2.5\rOBX|1|NM|4548-4^A1c^LN||high|%\r")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse("loinc,value\n").unwrap_err().contains("no results"));
    }

    #[test]
    fn hl7_timestamps() {
        assert_eq!(hl7_time("20260510").as_deref(), Some("2026-05-10"));
        assert_eq!(hl7_time("202605100930").as_deref(), Some("2026-05-10T09:30:00Z"));
        assert_eq!(
            hl7_time("20260510093015-0300").as_deref(),
            Some("2026-05-10T09:30:15-03:00")
        );
        assert_eq!(hl7_time("2026"), None);
    }
}
