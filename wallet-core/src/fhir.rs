//! FHIR R4: reading resources and Bundles, classifying them, and building Bundles.
//!
//! The wallet stores each resource as the JSON that came in (key order kept, unknown
//! elements and unknown resource types kept), and reads it through the typed
//! views in [`model`] to validate it and to describe it: ABDM health-information
//! type, clinical date, a title, codes, numeric values for trends.

pub mod date;
pub mod document;
pub mod model;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use self::date::FhirDateTime;
use self::model::*;

/// A FHIR resource as JSON, with its `resourceType` checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Always a JSON object (checked by [`Resource::from_value`]).
    json: Value,
}

/// Why a resource or file was refused: what is wrong and where (a JSON path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {path}: {message}")]
pub struct FhirError {
    /// Where the problem is, e.g. `entry[2].resource.valueQuantity.value`; `$` for the document.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FhirError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn within(mut self, prefix: &str) -> Self {
        self.path = if self.path == "$" {
            prefix.to_string()
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }
}

/// Bundle types whose entries are imported as records.
pub const IMPORTABLE_BUNDLE_TYPES: &[&str] = &["collection", "document", "transaction", "batch", "searchset"];

impl Resource {
    /// Checks the basic shape of a resource: a JSON object with a valid `resourceType` and `id`.
    pub fn from_value(value: Value) -> Result<Self, FhirError> {
        let Value::Object(json) = &value else {
            return Err(FhirError::new("$", "a FHIR resource must be a JSON object"));
        };
        match json.get("resourceType") {
            Some(Value::String(t)) if is_resource_type_name(t) => {}
            Some(Value::String(t)) => {
                return Err(FhirError::new(
                    "resourceType",
                    format!("'{t}' is not a FHIR resource type name"),
                ));
            }
            Some(_) => return Err(FhirError::new("resourceType", "must be a string")),
            None => return Err(FhirError::new("$", "missing 'resourceType'")),
        }
        match json.get("id") {
            None => {}
            Some(Value::String(id)) if is_fhir_id(id) => {}
            Some(_) => {
                return Err(FhirError::new(
                    "id",
                    "must be 1-64 characters of A-Z, a-z, 0-9, '-' and '.'",
                ));
            }
        }
        Ok(Self { json: value })
    }

    /// Parses JSON bytes holding one resource.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, FhirError> {
        Self::from_value(parse_json(bytes)?)
    }

    /// The `resourceType`.
    pub fn resource_type(&self) -> &str {
        self.json
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The resource's own `id`, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.json.get("id").and_then(Value::as_str)
    }

    /// The JSON object.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The JSON as a value.
    pub fn into_value(self) -> Value {
        self.json
    }

    /// Compact JSON with the original key order: what the vault stores.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.json).unwrap_or_default()
    }

    /// JSON with keys sorted at every level: equal content gives equal bytes,
    /// whatever the key order or spacing it came with. Used to find duplicates.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        write_canonical(&self.json, &mut out);
        out
    }

    /// Validates the resource against its typed model and describes it.
    pub fn describe(&self) -> Result<Description, FhirError> {
        describe(self)
    }

    /// Lowercase words for the vault's text search: the type, the title, the
    /// resource's text and the codes of its `description`. Apart from
    /// [`Resource::describe`] because only the vault searches (the doctor's
    /// viewer would carry Unicode's case tables for nothing).
    pub fn keywords(&self, description: &Description) -> String {
        let mut keywords = String::with_capacity(256);
        keywords.push_str(self.resource_type());
        keywords.push(' ');
        keywords.push_str(&description.title);
        collect_keywords(&self.json, &mut keywords);
        for code in &description.codes {
            keywords.push(' ');
            keywords.push_str(code.rsplit('|').next().unwrap_or(code));
        }
        let mut keywords = dedup_words(&keywords.to_lowercase());
        truncate_at_char(&mut keywords, KEYWORDS_MAX);
        keywords
    }
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing JSON to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                write_canonical(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

fn is_resource_type_name(t: &str) -> bool {
    let mut chars = t.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
        && t.len() <= 64
}

/// FHIR `id`: `[A-Za-z0-9\-\.]{1,64}`.
pub fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Parses JSON bytes, reporting syntax errors by line and column.
pub fn parse_json(bytes: &[u8]) -> Result<Value, FhirError> {
    serde_json::from_slice(bytes).map_err(|e| {
        FhirError::new(
            "$",
            format!(
                "not valid JSON (line {}, column {}): {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ),
        )
    })
}

fn strip_position(msg: &str) -> &str {
    msg.split(" at line ").next().unwrap_or(msg)
}

/// One resource read from a file.
#[derive(Debug, Clone)]
pub struct Read {
    /// The resource.
    pub resource: Resource,
    /// What the wallet makes of it.
    pub description: Description,
    /// For an entry of a document: where in the same list the document's own
    /// record is ([`document`]).
    pub document: Option<usize>,
}

/// Reads FHIR JSON: one resource, or a Bundle whose entries become resources.
/// A document (a Bundle of type `document`, the whole file or an entry of
/// one) is read as itself followed by its clinical entries ([`document`]).
///
/// The whole input is refused on the first problem, with its path. Bundle
/// entries are parsed and validated in parallel.
pub fn read_resources(bytes: &[u8]) -> Result<Vec<Read>, FhirError> {
    // A cheap first pass: the top-level keys with their raw JSON, to find Bundles
    // without building a tree of the whole file.
    let top: Vec<(String, &RawValue)> = match serde_json::from_slice::<TopLevel<'_>>(bytes) {
        Ok(t) => t.0,
        Err(_) => {
            // Re-parse as a value for a precise error (syntax, or not an object).
            Resource::from_value(parse_json(bytes)?)?;
            return Err(FhirError::new("$", "a FHIR resource must be a JSON object"));
        }
    };
    let field = |name: &str| top.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    if field("resourceType").map(RawValue::get) != Some("\"Bundle\"") {
        let resource = Resource::from_slice(bytes)?;
        let description = resource.describe()?;
        return Ok(vec![Read {
            resource,
            description,
            document: None,
        }]);
    }
    let bundle_type = field("type")
        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
        .ok_or_else(|| FhirError::new("type", "a Bundle needs a 'type' (collection, document, …)"))?;
    if !IMPORTABLE_BUNDLE_TYPES.contains(&bundle_type.as_str()) {
        return Err(FhirError::new(
            "type",
            format!(
                "a Bundle of type '{bundle_type}' cannot be imported (accepted: {})",
                IMPORTABLE_BUNDLE_TYPES.join(", ")
            ),
        ));
    }
    let mut out = Vec::new();
    if bundle_type == "document" {
        read_document(Resource::from_slice(bytes)?, &mut out)?;
        return Ok(out);
    }
    let Some(entries) = field("entry") else {
        return Ok(Vec::new());
    };
    let entries: Vec<&RawValue> =
        serde_json::from_str(entries.get()).map_err(|_| FhirError::new("entry", "must be an array"))?;
    let results = crate::par::map(&entries, |raw| read_entry(raw));
    let mut loose = Vec::with_capacity(results.len());
    for (i, result) in results.into_iter().enumerate() {
        let within = |e: FhirError| e.within(&format!("entry[{i}]"));
        match result.map_err(within)? {
            Some((_, r, _)) if document::is_document(r.json()) => {
                read_document(r, &mut out).map_err(|e| within(e.within("resource")))?;
            }
            Some(item) => loose.push(item),
            None => {}
        }
    }
    results_by_context(&mut loose);
    out.extend(loose.into_iter().map(|(_, resource, description)| Read {
        resource,
        description,
        document: None,
    }));
    Ok(out)
}

/// What was read, with a document's entries left inside it: for showing a
/// file as it is (a document is shown whole, its entries beneath it).
pub fn whole(reads: Vec<Read>) -> Vec<(Resource, Description)> {
    reads
        .into_iter()
        .filter(|r| r.document.is_none())
        .map(|r| (r.resource, r.description))
        .collect()
}

/// Appends a document to `out`: the whole Bundle as one resource, then each
/// of its clinical entries naming it. Who and where stay only inside it.
fn read_document(bundle: Resource, out: &mut Vec<Read>) -> Result<(), FhirError> {
    let entries = document::entries(&bundle)?;
    let description = bundle.describe()?;
    let at = out.len();
    out.push(Read {
        resource: bundle,
        description,
        document: None,
    });
    out.extend(
        entries
            .into_iter()
            .filter(|(_, r, _)| !document::CONTEXT_TYPES.contains(&r.resource_type()))
            .map(|(_, resource, description)| Read {
                resource,
                description,
                document: Some(at),
            }),
    );
    Ok(())
}

/// One entry of a Bundle already parsed: its resource validated and described.
fn read_value_entry(entry: &Value) -> Result<(Option<String>, Resource, Description), FhirError> {
    let resource = entry
        .get("resource")
        .ok_or_else(|| FhirError::new("$", "entry has no 'resource'"))?;
    let resource = Resource::from_value(resource.clone()).map_err(|e| e.within("resource"))?;
    let description = resource.describe().map_err(|e| e.within("resource"))?;
    Ok((
        entry["fullUrl"].as_str().map(str::to_string),
        resource,
        description,
    ))
}

/// An Observation without a vital-signs category is a result when the
/// Bundle says so: a DiagnosticReport in it lists the Observation among its
/// `result`s, or a Composition typed as a diagnostic report lists it in a
/// section. Indian labs send their values (HbA1c, glucose, haemoglobin) as
/// Observations with no category, which alone read as wellness records.
fn results_by_context(entries: &mut [(Option<String>, Resource, Description)]) {
    let mut listed: Vec<&str> = Vec::new();
    for (_, r, d) in entries.iter() {
        let json = r.json();
        match r.resource_type() {
            "DiagnosticReport" => listed.extend(references(&json["result"])),
            "Composition" if d.hi_type == HiType::DiagnosticReport => {
                for section in json["section"].as_array().into_iter().flatten() {
                    listed.extend(references(&section["entry"]));
                }
            }
            _ => {}
        }
    }
    if listed.is_empty() {
        return;
    }
    // Each reference as written and, for an absolute one, its `Observation/{id}`
    // tail, so every Observation is one lookup (a report may list thousands).
    let mut named: std::collections::HashSet<String> = std::collections::HashSet::new();
    for reference in listed {
        if let Some(at) = reference.rfind("/Observation/") {
            named.insert(reference[at + 1..].to_string());
        }
        named.insert(reference.to_string());
    }
    for (full_url, r, d) in entries.iter_mut() {
        let vital = r.json()["category"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c.to_string().contains("\"vital-signs\""));
        if r.resource_type() != "Observation" || d.hi_type != HiType::WellnessRecord || vital {
            continue;
        }
        let relative = r.id().map(|id| format!("Observation/{id}"));
        if full_url.as_deref().is_some_and(|u| named.contains(u))
            || relative.as_deref().is_some_and(|rel| named.contains(rel))
        {
            d.hi_type = HiType::DiagnosticReport;
        }
    }
}

/// The `reference` strings of a list of FHIR References.
fn references(list: &Value) -> impl Iterator<Item = &str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["reference"].as_str())
}

/// The top level of a JSON object: keys with their raw values, in order.
struct TopLevel<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for TopLevel<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = TopLevel<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(TopLevel(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// One Bundle entry: its resource validated and described, or `None` for
/// transaction entries that carry no resource (DELETE, GET).
fn read_entry(raw: &RawValue) -> Result<Option<(Option<String>, Resource, Description)>, FhirError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Entry<'a> {
        full_url: Option<String>,
        #[serde(borrow)]
        resource: Option<&'a RawValue>,
        request: Option<Request>,
    }
    #[derive(Deserialize)]
    struct Request {
        method: Option<String>,
    }
    let entry: Entry<'_> =
        serde_json::from_str(raw.get()).map_err(|_| FhirError::new("$", "must be an object"))?;
    let Some(resource) = entry.resource else {
        // Transactions may delete or read; there is nothing to keep.
        let method = entry.request.and_then(|r| r.method);
        if matches!(method.as_deref(), Some("DELETE" | "GET" | "HEAD")) {
            return Ok(None);
        }
        return Err(FhirError::new("$", "entry has no 'resource'"));
    };
    let value: Value =
        serde_json::from_str(resource.get()).map_err(|e| FhirError::new("resource", e.to_string()))?;
    let resource = Resource::from_value(value).map_err(|e| e.within("resource"))?;
    let description = resource.describe().map_err(|e| e.within("resource"))?;
    Ok(Some((entry.full_url, resource, description)))
}

/// Builds a Bundle (`collection` for exports and shares) of `(fullUrl, resource)` entries.
pub fn bundle(bundle_type: &str, id: &str, timestamp: &FhirDateTime, entries: Vec<(String, Value)>) -> Value {
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(full_url, resource)| serde_json::json!({"fullUrl": full_url, "resource": resource}))
        .collect();
    serde_json::json!({
        "resourceType": "Bundle",
        "id": id,
        "type": bundle_type,
        "timestamp": timestamp.as_str(),
        "entry": entries,
    })
}

/// A stable `urn:uuid:` for a wallet id (a UUID-shaped SHA-256 prefix, version 4 bits set).
pub fn urn_uuid(seed: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = data_encoding::HEXLOWER.encode(&b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An inline attachment of a resource (DocumentReference content, DiagnosticReport
/// presentedForm): base64 data, content type, title.
pub fn first_attachment(resource: &Value) -> Option<(String, Option<String>, Option<String>)> {
    let content = resource
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("attachment"));
    let presented = resource
        .get("presentedForm")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    content.chain(presented).find_map(|a| {
        let data = a.get("data").and_then(Value::as_str)?;
        let text = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_string);
        Some((data.to_string(), text("contentType"), text("title")))
    })
}

/// ABDM health-information types: how India's consent manager groups records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HiType {
    /// Medication prescriptions.
    Prescription,
    /// Lab and imaging results.
    DiagnosticReport,
    /// Outpatient visits: diagnoses, allergies, procedures.
    OPConsultation,
    /// Hospital discharge.
    DischargeSummary,
    /// Vaccinations.
    ImmunizationRecord,
    /// Any other document (PDFs, scans, insurance papers).
    HealthDocumentRecord,
    /// Vitals, body measurements, lifestyle.
    WellnessRecord,
}

impl HiType {
    /// All types, in display order.
    pub const ALL: [HiType; 7] = [
        HiType::Prescription,
        HiType::DiagnosticReport,
        HiType::OPConsultation,
        HiType::DischargeSummary,
        HiType::ImmunizationRecord,
        HiType::HealthDocumentRecord,
        HiType::WellnessRecord,
    ];

    /// The ABDM name, e.g. `DiagnosticReport`.
    pub fn as_str(self) -> &'static str {
        match self {
            HiType::Prescription => "Prescription",
            HiType::DiagnosticReport => "DiagnosticReport",
            HiType::OPConsultation => "OPConsultation",
            HiType::DischargeSummary => "DischargeSummary",
            HiType::ImmunizationRecord => "ImmunizationRecord",
            HiType::HealthDocumentRecord => "HealthDocumentRecord",
            HiType::WellnessRecord => "WellnessRecord",
        }
    }

    /// Parses the ABDM name, case-insensitively.
    pub fn parse(text: &str) -> Option<HiType> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }

    /// ABDM's SNOMED CT code for a Composition of this type.
    fn snomed(self) -> Option<&'static str> {
        Some(match self {
            HiType::Prescription => "440545006",
            HiType::DiagnosticReport => "721981007",
            HiType::OPConsultation => "371530004",
            HiType::DischargeSummary => "373942005",
            HiType::ImmunizationRecord => "41000179103",
            HiType::HealthDocumentRecord => "419891008",
            HiType::WellnessRecord => return None,
        })
    }
}

impl fmt::Display for HiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A numeric observation value, kept with the record's metadata so trends can be
/// drawn without decrypting every record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericValue {
    /// `system|code` of what was measured (a component's code for panels).
    pub code: String,
    /// Human label, e.g. `Systolic blood pressure`.
    pub label: String,
    /// The value.
    pub value: f64,
    /// The unit.
    pub unit: String,
    /// Reference range low bound, if given.
    pub low: Option<f64>,
    /// Reference range high bound, if given.
    pub high: Option<f64>,
}

/// What the wallet knows about a resource after validating it.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    /// ABDM health-information type.
    pub hi_type: HiType,
    /// Clinically relevant date, if the resource has one.
    pub date: Option<FhirDateTime>,
    /// One line for lists, e.g. `Hemoglobin A1c: 7.2 %`.
    pub title: String,
    /// Status that decides whether it is current (`active`, `completed`, …).
    pub status: Option<String>,
    /// `system|code` tokens of the main codes.
    pub codes: Vec<String>,
    /// Numeric values, for trends.
    pub values: Vec<NumericValue>,
}

fn typed<T: DeserializeOwned>(resource: &Resource) -> Result<T, FhirError> {
    // In the browser (the doctor's view), without the error's path: path
    // tracking would add 50 KB to the bundle, and the records it checks were
    // validated, with paths, when the patient's wallet imported them.
    #[cfg(target_family = "wasm")]
    return T::deserialize(&resource.json).map_err(|e| FhirError::new("$", e.to_string()));
    // Fast path; path tracking costs time and is only needed to report an error.
    #[cfg(not(target_family = "wasm"))]
    {
        if let Ok(value) = T::deserialize(&resource.json) {
            return Ok(value);
        }
        serde_path_to_error::deserialize(&resource.json).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { "$".to_string() } else { path };
            FhirError::new(path, e.into_inner().to_string())
        })
    }
}

fn require(cond: bool, path: &str, message: &str) -> Result<(), FhirError> {
    if cond {
        Ok(())
    } else {
        Err(FhirError::new(path, message))
    }
}

fn one_of(value: &str, path: &str, allowed: &[&str]) -> Result<(), FhirError> {
    require(
        allowed.contains(&value),
        path,
        &format!("'{value}' is not one of: {}", allowed.join(", ")),
    )
}

fn numeric_values(
    code: &CodeableConcept,
    q: Option<&Quantity>,
    ranges: &[ReferenceRange],
) -> Option<NumericValue> {
    let q = q?;
    let value = q.value?;
    let range = ranges.first();
    Some(NumericValue {
        code: code.tokens().next().unwrap_or_default(),
        label: code.label().unwrap_or_default(),
        value,
        unit: q.unit.clone().or_else(|| q.code.clone()).unwrap_or_default(),
        low: range.and_then(|r| r.low.as_ref()).and_then(|q| q.value),
        high: range.and_then(|r| r.high.as_ref()).and_then(|q| q.value),
    })
}

fn describe(resource: &Resource) -> Result<Description, FhirError> {
    let kind = resource.resource_type();
    let mut found = Found::default();
    let (hi_type, date, title) = match kind {
        "Observation" => observation(resource, &mut found)?,
        "Condition" => condition(resource, &mut found)?,
        "MedicationRequest" => medication_request(resource, &mut found)?,
        "MedicationStatement" => medication_statement(resource, &mut found)?,
        "AllergyIntolerance" => allergy_intolerance(resource, &mut found)?,
        "Immunization" => immunization(resource, &mut found)?,
        "DiagnosticReport" => diagnostic_report(resource, &mut found)?,
        "DocumentReference" => document_reference(resource, &mut found)?,
        "Encounter" => encounter(resource, &mut found)?,
        "Procedure" => procedure(resource, &mut found)?,
        "Coverage" => coverage(resource, &mut found)?,
        "Claim" => claim(resource, &mut found)?,
        "Patient" => patient(resource)?,
        "Composition" => composition(resource, &mut found)?,
        "Bundle" if document::is_document(resource.json()) => document::describe(resource, &mut found)?,
        other => unmodelled(resource, other)?,
    };
    let Found {
        codes,
        values,
        status,
    } = found;
    Ok(Description {
        hi_type,
        date,
        title,
        status,
        codes,
        values,
    })
}

/// What reading a resource of one type finds besides its ABDM type, date and
/// title (the keywords are gathered the same way for all types).
#[derive(Default)]
struct Found {
    codes: Vec<String>,
    values: Vec<NumericValue>,
    status: Option<String>,
}

/// A resource's ABDM type, clinical date and title, or why it is not valid.
type Reading = Result<(HiType, Option<FhirDateTime>, String), FhirError>;

const LOINC: &str = "http://loinc.org";

/// The LOINC codes of FHIR's vital-signs profiles (and mean blood pressure):
/// an Observation with no category that is coded with another LOINC code is a
/// test result. Without LOINC's own table (its CLASS column) the wallet cannot
/// tell chemistry from a questionnaire, but an uncategorised, LOINC-coded
/// value that is not a vital sign is, in the files people bring, a lab value.
const VITAL_SIGNS: &[&str] = &[
    "85353-1", "9279-1", "8867-4", "2708-6", "59408-5", "8310-5", "8302-2", "8306-3", "9843-4", "29463-7",
    "3141-9", "39156-5", "85354-9", "8480-6", "8462-4", "8478-0",
];

/// What the wallet makes of an Observation.
fn observation(resource: &Resource, found: &mut Found) -> Reading {
    let o: Observation = typed(resource)?;
    one_of(
        &o.status,
        "status",
        &[
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        ],
    )?;
    found.codes.extend(o.code.tokens());
    if let Some(v) = numeric_values(&o.code, o.value_quantity.as_ref(), &o.reference_range) {
        found.values.push(v);
    }
    for c in &o.component {
        found.codes.extend(c.code.tokens());
        if let Some(v) = numeric_values(&c.code, c.value_quantity.as_ref(), &c.reference_range) {
            found.values.push(v);
        }
    }
    found.status = Some(o.status.clone());
    let lab_coded = o.category.is_empty()
        && o.code.coding.iter().any(|c| {
            c.system.as_deref() == Some(LOINC)
                && c.code.as_deref().is_some_and(|code| !VITAL_SIGNS.contains(&code))
        });
    let hi = if o.has_category("laboratory")
        || o.has_category("imaging")
        || o.has_category("procedure")
        || lab_coded
    {
        HiType::DiagnosticReport
    } else {
        HiType::WellnessRecord
    };
    let label = o.code.label().unwrap_or_else(|| "Observation".into());
    let title = match o.value_display() {
        Some(v) => format!("{label}: {v}"),
        None => label,
    };
    Ok((hi, o.when().cloned(), title))
}

/// What the wallet makes of a Condition.
fn condition(resource: &Resource, found: &mut Found) -> Reading {
    let c: Condition = typed(resource)?;
    if let Some(code) = &c.code {
        found.codes.extend(code.tokens());
    }
    found.status = c
        .clinical_status
        .as_ref()
        .and_then(|s| s.coding.first())
        .and_then(|c| c.code.clone());
    let title = c
        .code
        .as_ref()
        .and_then(CodeableConcept::label)
        .unwrap_or_else(|| "Condition".into());
    Ok((
        HiType::OPConsultation,
        c.onset_date_time.or(c.recorded_date),
        title,
    ))
}

/// What the wallet makes of a MedicationRequest.
fn medication_request(resource: &Resource, found: &mut Found) -> Reading {
    let m: MedicationRequest = typed(resource)?;
    require(
        m.medication_codeable_concept.is_some() || m.medication_reference.is_some(),
        "medication[x]",
        "a MedicationRequest needs medicationCodeableConcept or medicationReference",
    )?;
    one_of(
        &m.status,
        "status",
        &[
            "active",
            "on-hold",
            "cancelled",
            "completed",
            "entered-in-error",
            "stopped",
            "draft",
            "unknown",
        ],
    )?;
    if let Some(cc) = &m.medication_codeable_concept {
        found.codes.extend(cc.tokens());
    }
    found.status = Some(m.status.clone());
    let mut title = m.medication().unwrap_or_else(|| "Medication".into());
    if let Some(dose) = m.dosage_instruction.first().and_then(|d| d.text.as_ref()) {
        title = format!("{title} ({dose})");
    }
    Ok((HiType::Prescription, m.authored_on, title))
}

/// What the wallet makes of a MedicationStatement.
fn medication_statement(resource: &Resource, found: &mut Found) -> Reading {
    let m: MedicationStatement = typed(resource)?;
    require(
        m.medication_codeable_concept.is_some() || m.medication_reference.is_some(),
        "medication[x]",
        "a MedicationStatement needs medicationCodeableConcept or medicationReference",
    )?;
    if let Some(cc) = &m.medication_codeable_concept {
        found.codes.extend(cc.tokens());
    }
    found.status = Some(m.status.clone());
    let date = m
        .effective_date_time
        .clone()
        .or_else(|| m.effective_period.as_ref().and_then(|p| p.start.clone()))
        .or(m.date_asserted.clone());
    Ok((
        HiType::Prescription,
        date,
        m.medication().unwrap_or_else(|| "Medication".into()),
    ))
}

/// What the wallet makes of an AllergyIntolerance.
fn allergy_intolerance(resource: &Resource, found: &mut Found) -> Reading {
    let a: AllergyIntolerance = typed(resource)?;
    if let Some(code) = &a.code {
        found.codes.extend(code.tokens());
    }
    found.status = a
        .clinical_status
        .as_ref()
        .and_then(|s| s.coding.first())
        .and_then(|c| c.code.clone());
    let substance = a
        .code
        .as_ref()
        .and_then(CodeableConcept::label)
        .unwrap_or_else(|| "unknown substance".into());
    Ok((
        HiType::OPConsultation,
        a.onset_date_time.or(a.recorded_date),
        format!("Allergy: {substance}"),
    ))
}

/// What the wallet makes of an Immunization.
fn immunization(resource: &Resource, found: &mut Found) -> Reading {
    let i: Immunization = typed(resource)?;
    require(
        i.occurrence_date_time.is_some() || i.occurrence_string.is_some(),
        "occurrence[x]",
        "an Immunization needs occurrenceDateTime or occurrenceString",
    )?;
    one_of(
        &i.status,
        "status",
        &["completed", "entered-in-error", "not-done"],
    )?;
    found.codes.extend(i.vaccine_code.tokens());
    found.status = Some(i.status.clone());
    let title = i.vaccine_code.label().unwrap_or_else(|| "Vaccination".into());
    Ok((HiType::ImmunizationRecord, i.occurrence_date_time, title))
}

/// What the wallet makes of a DiagnosticReport.
fn diagnostic_report(resource: &Resource, found: &mut Found) -> Reading {
    let d: DiagnosticReport = typed(resource)?;
    found.codes.extend(d.code.tokens());
    found.status = Some(d.status.clone());
    let date = d
        .effective_date_time
        .or_else(|| d.effective_period.and_then(|p| p.start))
        .or(d.issued);
    Ok((
        HiType::DiagnosticReport,
        date,
        d.code.label().unwrap_or_else(|| "Diagnostic report".into()),
    ))
}

/// What the wallet makes of a DocumentReference.
fn document_reference(resource: &Resource, found: &mut Found) -> Reading {
    let d: DocumentReference = typed(resource)?;
    require(
        !d.content.is_empty(),
        "content",
        "a DocumentReference needs at least one content",
    )?;
    found.status = Some(d.status.clone());
    let discharge = d
        .r#type
        .as_ref()
        .is_some_and(|t| t.has_code("http://loinc.org", "18842-5"));
    if let Some(t) = &d.r#type {
        found.codes.extend(t.tokens());
    }
    let title = d
        .description
        .clone()
        .or_else(|| d.content.iter().find_map(|c| c.attachment.title.clone()))
        .or_else(|| d.r#type.as_ref().and_then(CodeableConcept::label))
        .unwrap_or_else(|| "Document".into());
    let date = d
        .date
        .or_else(|| d.content.first().and_then(|c| c.attachment.creation.clone()));
    let hi = if discharge {
        HiType::DischargeSummary
    } else {
        HiType::HealthDocumentRecord
    };
    Ok((hi, date, title))
}

/// What the wallet makes of an Encounter.
fn encounter(resource: &Resource, found: &mut Found) -> Reading {
    let e: Encounter = typed(resource)?;
    found.status = Some(e.status.clone());
    let discharged = e
        .hospitalization
        .as_ref()
        .is_some_and(|h| h.get("dischargeDisposition").is_some());
    let inpatient = matches!(e.class.code.as_deref(), Some("IMP" | "ACUTE" | "NONAC"));
    let kind = e
        .r#type
        .first()
        .and_then(CodeableConcept::label)
        .or(e.class.display.clone())
        .unwrap_or_else(|| "Visit".into());
    let title = match e.reason_code.first().and_then(CodeableConcept::label) {
        Some(reason) => format!("{kind}: {reason}"),
        None => kind,
    };
    let hi = if inpatient && discharged {
        HiType::DischargeSummary
    } else {
        HiType::OPConsultation
    };
    Ok((hi, e.period.and_then(|p| p.start), title))
}

/// What the wallet makes of a Procedure.
fn procedure(resource: &Resource, found: &mut Found) -> Reading {
    let p: Procedure = typed(resource)?;
    if let Some(code) = &p.code {
        found.codes.extend(code.tokens());
    }
    found.status = Some(p.status.clone());
    let date = p
        .performed_date_time
        .or_else(|| p.performed_period.and_then(|p| p.start));
    Ok((
        HiType::OPConsultation,
        date,
        p.code
            .and_then(|c| c.label())
            .unwrap_or_else(|| "Procedure".into()),
    ))
}

/// What the wallet makes of a Coverage.
fn coverage(resource: &Resource, found: &mut Found) -> Reading {
    let c: Coverage = typed(resource)?;
    require(
        !c.payor.is_empty(),
        "payor",
        "a Coverage needs at least one payor",
    )?;
    found.status = Some(c.status.clone());
    let payor = c
        .payor
        .iter()
        .find_map(|p| p.display.clone())
        .unwrap_or_else(|| "insurer".into());
    let title = match &c.subscriber_id {
        Some(member) => format!("Coverage: {payor} ({member})"),
        None => format!("Coverage: {payor}"),
    };
    Ok((
        HiType::HealthDocumentRecord,
        c.period.and_then(|p| p.start),
        title,
    ))
}

/// What the wallet makes of a Claim.
fn claim(resource: &Resource, found: &mut Found) -> Reading {
    let c: Claim = typed(resource)?;
    one_of(
        &c.r#use,
        "use",
        &["claim", "preauthorization", "predetermination"],
    )?;
    found.status = Some(c.status.clone());
    let mut title = format!(
        "Claim: {}",
        c.r#type.label().unwrap_or_else(|| "insurance".into())
    );
    if let Some(total) = &c.total
        && let Some(v) = total.value
    {
        title.push_str(&format!(
            " {} {}",
            format_number(v),
            total.currency.as_deref().unwrap_or("")
        ));
    }
    Ok((
        HiType::HealthDocumentRecord,
        Some(c.created),
        title.trim().to_string(),
    ))
}

/// What the wallet makes of a Patient.
fn patient(resource: &Resource) -> Reading {
    let p: Patient = typed(resource)?;
    let name = p
        .name
        .iter()
        .find_map(HumanName::label)
        .unwrap_or_else(|| "Patient".into());
    Ok((HiType::HealthDocumentRecord, None, format!("Patient: {name}")))
}

/// What the wallet makes of a Composition.
fn composition(resource: &Resource, found: &mut Found) -> Reading {
    let c: Composition = typed(resource)?;
    found.codes.extend(c.r#type.tokens());
    found.status = Some(c.status.clone());
    Ok((document::kind(resource.json(), &c.r#type), Some(c.date), c.title))
}

/// A resource the wallet has no model for (a CarePlan, a RiskAssessment): named
/// by its own title or code text, else its id; not validated beyond its type.
fn unmodelled(resource: &Resource, other: &str) -> Reading {
    let named = ["/title", "/code/text"]
        .iter()
        .find_map(|p| resource.json.pointer(p).and_then(Value::as_str))
        .map(|t| t.chars().take(120).collect::<String>())
        .filter(|t| !t.trim().is_empty());
    let title = match (named, resource.id()) {
        (Some(named), _) => named,
        (None, Some(id)) => format!("{other} {id}"),
        (None, None) => other.to_string(),
    };
    Ok((HiType::HealthDocumentRecord, None, title))
}

const KEYWORD_FIELDS: &[&str] = &[
    "display",
    "text",
    "title",
    "description",
    "conclusion",
    "valueString",
    "family",
    "given",
    "note",
];

fn collect_keywords(value: &Value, out: &mut String) {
    if out.len() > KEYWORDS_MAX {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::String(s) if KEYWORD_FIELDS.contains(&key.as_str()) => {
                        out.push(' ');
                        out.push_str(s);
                    }
                    Value::Array(items) if key == "given" => {
                        for s in items.iter().filter_map(Value::as_str) {
                            out.push(' ');
                            out.push_str(s);
                        }
                    }
                    // Attachment data and narrative HTML are not search words.
                    Value::String(_) => {}
                    other if key != "data" => collect_keywords(other, out),
                    _ => {}
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_keywords(v, out)),
        _ => {}
    }
}

/// Keep at most this many bytes of search words per record.
const KEYWORDS_MAX: usize = 600;

/// Drops repeated words (codings often repeat their text), keeping first-seen order.
fn dedup_words(text: &str) -> String {
    let mut seen: Vec<&str> = Vec::with_capacity(32);
    let mut out = String::with_capacity(text.len());
    for w in text.split_whitespace() {
        if !seen.contains(&w) {
            seen.push(w);
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// Typed deserialisation used by views (summary, rendering) on stored resources.
pub fn view<T: DeserializeOwned>(resource: &Resource) -> Result<T, FhirError> {
    typed(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(value: &str) -> String {
        format!(
            r#"{{"resourceType":"Observation","id":"hba1c-1","status":"final",
            "category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],
            "code":{{"coding":[{{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}}]}},
            "effectiveDateTime":"2024-03-01","valueQuantity":{{"value":{value},"unit":"%"}},"x-unknown":{{"kept":true}}}}"#
        )
    }

    #[test]
    fn observation_is_described() {
        let r = read_resources(obs("7.2").as_bytes()).unwrap();
        let (res, d) = (&r[0].resource, &r[0].description);
        assert_eq!(d.hi_type, HiType::DiagnosticReport);
        assert_eq!(d.title, "Hemoglobin A1c: 7.2 %");
        assert_eq!(d.codes, vec!["http://loinc.org|4548-4"]);
        assert_eq!(d.values[0].value, 7.2);
        assert!(res.keywords(d).contains("hemoglobin a1c"));
        assert!(res.to_bytes().windows(9).any(|w| w == b"x-unknown"));
    }

    /// An ABDM-style lab document (NRCES DocumentBundle shape): its
    /// Observations carry no category, as many Indian labs send them.
    fn lab_document(listed_by: &str) -> String {
        let obs = |id: &str, code: &str, v: f64, unit: &str| {
            serde_json::json!({"fullUrl": format!("urn:uuid:{id}"), "resource": {
                "resourceType": "Observation", "id": id, "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": code},
                "valueQuantity": {"value": v, "unit": unit}}})
        };
        let refs = serde_json::json!([
            {"reference": "urn:uuid:o1"},
            {"reference": "Observation/o2"},
            {"reference": "https://lab.example/fhir/Observation/o4"}
        ]);
        let report = if listed_by == "report" {
            serde_json::json!({"resourceType": "DiagnosticReport", "id": "r1", "status": "final",
                "code": {"text": "Diabetes panel"}, "result": refs})
        } else {
            serde_json::json!({"resourceType": "DiagnosticReport", "id": "r1", "status": "final",
                "code": {"text": "Diabetes panel"}})
        };
        let section = if listed_by == "composition" {
            refs
        } else {
            serde_json::json!([])
        };
        serde_json::json!({"resourceType": "Bundle", "type": "document", "entry": [
            {"fullUrl": "urn:uuid:c1", "resource": {"resourceType": "Composition", "status": "final",
                "type": {"coding": [{"system": "http://snomed.info/sct", "code": "721981007", "display": "Diagnostic studies report"}]},
                "date": "2025-10-01", "title": "Lab report", "author": [{"display": "Dr. Rao"}],
                "section": [{"title": "Results", "entry": section}]}},
            {"fullUrl": "urn:uuid:r1", "resource": report},
            obs("o1", "4548-4", 7.1, "%"),
            obs("o2", "2339-0", 142.0, "mg/dL"),
            obs("o3", "29463-7", 70.0, "kg"),
            obs("o4", "718-7", 11.2, "g/dL"),
        ]})
        .to_string()
    }

    #[test]
    fn observations_a_report_or_a_lab_document_lists_are_results() {
        for listed_by in ["report", "composition"] {
            let read = read_resources(lab_document(listed_by).as_bytes()).unwrap();
            let kinds: Vec<(&str, HiType)> = read
                .iter()
                .filter(|r| r.resource.resource_type() == "Observation")
                .map(|r| (r.resource.id().unwrap(), r.description.hi_type))
                .collect();
            assert_eq!(
                kinds,
                [
                    ("o1", HiType::DiagnosticReport),
                    ("o2", HiType::DiagnosticReport),
                    ("o3", HiType::WellnessRecord),
                    ("o4", HiType::DiagnosticReport)
                ],
                "listed by the {listed_by}"
            );
        }
    }

    #[test]
    fn bad_value_is_refused_with_its_path() {
        let err = read_resources(obs("\"high\"").as_bytes()).unwrap_err();
        assert_eq!(err.path, "valueQuantity.value", "{err}");
    }

    #[test]
    fn bundle_entry_errors_carry_the_entry_path() {
        let json = format!(
            r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{}}},{{"resource":{{"resourceType":"Condition"}}}}]}}"#,
            obs("1")
        );
        let err = read_resources(json.as_bytes()).unwrap_err();
        assert_eq!(err.path, "entry[1].resource", "{err}");
        assert!(err.message.contains("subject"), "{err}");
    }

    #[test]
    fn message_bundles_are_refused() {
        let err = read_resources(br#"{"resourceType":"Bundle","type":"message"}"#).unwrap_err();
        assert_eq!(err.path, "type");
    }

    #[test]
    fn canonical_bytes_ignore_key_order_and_spacing() {
        let a = Resource::from_slice(br#"{"resourceType":"Basic","id":"a","code":{"text":"x"}}"#).unwrap();
        let b =
            Resource::from_slice(br#"{ "code": {"text":"x"}, "id":"a", "resourceType":"Basic" }"#).unwrap();
        assert_eq!(a.canonical_bytes(), b.canonical_bytes());
        assert_ne!(a.to_bytes(), b.to_bytes());
    }

    #[test]
    fn unknown_types_are_kept() {
        let r =
            read_resources(br#"{"resourceType":"VisionPrescription","id":"v1","whatever":[1,2]}"#).unwrap();
        assert_eq!(r[0].description.hi_type, HiType::HealthDocumentRecord);
        assert_eq!(
            r[0].resource.to_bytes(),
            br#"{"resourceType":"VisionPrescription","id":"v1","whatever":[1,2]}"#
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = read_resources(b"{\n  \"resourceType\": \"Patient\",,\n}").unwrap_err();
        assert!(err.message.contains("line 2"), "{err}");
    }

    #[test]
    fn blood_pressure_reads_as_one_value() {
        let json = br#"{"resourceType":"Observation","status":"final","code":{"text":"Blood pressure"},
          "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":130,"unit":"mmHg"}},
                       {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":85,"unit":"mmHg"}}]}"#;
        let r = read_resources(json).unwrap();
        assert_eq!(r[0].description.title, "Blood pressure: 130/85 mmHg");
        assert_eq!(r[0].description.values.len(), 2);
        assert_eq!(r[0].description.hi_type, HiType::WellnessRecord);
    }
}
