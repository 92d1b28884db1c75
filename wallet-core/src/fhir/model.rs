//! Typed FHIR R4 models for what the wallet renders.
//!
//! These are views, not the stored truth: the stored resource is the JSON that
//! came in (unknown fields included). Each model reads only the elements the
//! wallet shows or classifies by, and marks the elements R4 requires (1..1) as
//! required, so a malformed resource is refused with the JSON path of the
//! problem. Everything else is ignored, never dropped.

use serde::Deserialize;

use super::date::FhirDateTime;

/// A code from a terminology (LOINC, SNOMED CT, RxNorm, ICD-10…).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Coding {
    /// The code system URI, e.g. `http://loinc.org`.
    pub system: Option<String>,
    /// The code itself.
    pub code: Option<String>,
    /// Human-readable text for the code.
    pub display: Option<String>,
}

/// A concept: codings plus free text.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct CodeableConcept {
    /// Codes from one or more systems.
    pub coding: Vec<Coding>,
    /// Plain text, as the clinician wrote it.
    pub text: Option<String>,
}

impl CodeableConcept {
    /// The best human label: text, else the first display, else the first code.
    pub fn label(&self) -> Option<String> {
        self.text
            .clone()
            .or_else(|| self.coding.iter().find_map(|c| c.display.clone()))
            .or_else(|| self.coding.iter().find_map(|c| c.code.clone()))
    }

    /// Whether any coding has this system and code.
    pub fn has_code(&self, system: &str, code: &str) -> bool {
        self.coding
            .iter()
            .any(|c| c.system.as_deref() == Some(system) && c.code.as_deref() == Some(code))
    }

    /// Whether any coding has this code, whatever the system.
    pub fn has_any_code(&self, code: &str) -> bool {
        self.coding.iter().any(|c| c.code.as_deref() == Some(code))
    }

    /// `system|code` tokens for every coding (the FHIR search token form).
    pub fn tokens(&self) -> impl Iterator<Item = String> + '_ {
        self.coding.iter().filter_map(|c| {
            c.code
                .as_ref()
                .map(|code| format!("{}|{}", c.system.as_deref().unwrap_or(""), code))
        })
    }
}

/// A measured amount.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Quantity {
    /// The numeric value.
    pub value: Option<f64>,
    /// `<`, `<=`, `>=` or `>` when the value is a bound.
    pub comparator: Option<String>,
    /// Unit as displayed.
    pub unit: Option<String>,
    /// Unit system (usually UCUM).
    pub system: Option<String>,
    /// Coded unit.
    pub code: Option<String>,
}

impl Quantity {
    /// `7.2 %`, `< 5 mmol/L`.
    pub fn display(&self) -> Option<String> {
        let value = self.value?;
        let mut out = String::new();
        if let Some(c) = &self.comparator {
            out.push_str(c);
            out.push(' ');
        }
        out.push_str(&format_number(value));
        if let Some(unit) = self.unit.as_ref().or(self.code.as_ref()) {
            out.push(' ');
            out.push_str(unit);
        }
        Some(out)
    }
}

/// Formats a decimal without a trailing `.0`.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let s = format!("{value:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A reference to another resource.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Reference {
    /// Literal reference, e.g. `Patient/123` or `urn:uuid:…`.
    pub reference: Option<String>,
    /// Text for the referenced resource.
    pub display: Option<String>,
}

/// A span of time.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Period {
    /// Inclusive start.
    pub start: Option<FhirDateTime>,
    /// Inclusive end.
    pub end: Option<FhirDateTime>,
}

/// A reference range for an observation value.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ReferenceRange {
    /// Low bound.
    pub low: Option<Quantity>,
    /// High bound.
    pub high: Option<Quantity>,
    /// Text form, e.g. `4.0–5.6 %`.
    pub text: Option<String>,
}

/// A human name.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HumanName {
    /// Full text.
    pub text: Option<String>,
    /// Family name.
    pub family: Option<String>,
    /// Given names.
    pub given: Vec<String>,
}

impl HumanName {
    /// Text, else given names then family.
    pub fn label(&self) -> Option<String> {
        if let Some(t) = &self.text {
            return Some(t.clone());
        }
        let mut parts: Vec<&str> = self.given.iter().map(String::as_str).collect();
        if let Some(f) = &self.family {
            parts.push(f);
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// Content of a document: inline base64 data or a URL.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Attachment {
    /// MIME type, e.g. `application/pdf`.
    pub content_type: Option<String>,
    /// Base64 content.
    pub data: Option<String>,
    /// Where the content can be found.
    pub url: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Label, e.g. a file name.
    pub title: Option<String>,
    /// When the content was first created.
    pub creation: Option<FhirDateTime>,
}

/// Dosage instructions (only the text is rendered).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Dosage {
    /// Free-text instructions.
    pub text: Option<String>,
}

/// A patient's demographics.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Patient {
    /// Names.
    pub name: Vec<HumanName>,
    /// `male | female | other | unknown`.
    pub gender: Option<String>,
    /// Date of birth.
    pub birth_date: Option<FhirDateTime>,
}

/// A measurement or finding: lab result, vital sign, social history.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// `registered | preliminary | final | amended | …` (required).
    pub status: String,
    /// Laboratory, vital-signs, imaging…
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    /// What was observed (required).
    pub code: CodeableConcept,
    /// When it applies.
    pub effective_date_time: Option<FhirDateTime>,
    /// When it applies, as a period.
    pub effective_period: Option<Period>,
    /// When it applies, as an instant.
    pub effective_instant: Option<FhirDateTime>,
    /// When this version was released.
    pub issued: Option<FhirDateTime>,
    /// Numeric result.
    pub value_quantity: Option<Quantity>,
    /// Coded result.
    pub value_codeable_concept: Option<CodeableConcept>,
    /// Text result.
    pub value_string: Option<String>,
    /// Boolean result.
    pub value_boolean: Option<bool>,
    /// Integer result.
    pub value_integer: Option<i64>,
    /// High, low, normal…
    #[serde(default)]
    pub interpretation: Vec<CodeableConcept>,
    /// Normal ranges.
    #[serde(default)]
    pub reference_range: Vec<ReferenceRange>,
    /// Parts of a panel (blood pressure: systolic and diastolic).
    #[serde(default)]
    pub component: Vec<ObservationComponent>,
    /// Who performed it.
    #[serde(default)]
    pub performer: Vec<Reference>,
}

/// One part of a multi-part observation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObservationComponent {
    /// What this part measures (required).
    pub code: CodeableConcept,
    /// Numeric result.
    pub value_quantity: Option<Quantity>,
    /// Coded result.
    pub value_codeable_concept: Option<CodeableConcept>,
    /// Text result.
    pub value_string: Option<String>,
    /// High, low, normal…
    #[serde(default)]
    pub interpretation: Vec<CodeableConcept>,
    /// Normal ranges.
    #[serde(default)]
    pub reference_range: Vec<ReferenceRange>,
}

impl Observation {
    /// The clinically relevant time.
    pub fn when(&self) -> Option<&FhirDateTime> {
        self.effective_date_time
            .as_ref()
            .or(self.effective_instant.as_ref())
            .or(self.effective_period.as_ref().and_then(|p| p.start.as_ref()))
            .or(self.issued.as_ref())
    }

    /// The value as display text (panels show their components).
    pub fn value_display(&self) -> Option<String> {
        if let Some(q) = self.value_quantity.as_ref().and_then(Quantity::display) {
            return Some(q);
        }
        if let Some(c) = self
            .value_codeable_concept
            .as_ref()
            .and_then(CodeableConcept::label)
        {
            return Some(c);
        }
        if let Some(s) = &self.value_string {
            return Some(s.clone());
        }
        if let Some(b) = self.value_boolean {
            return Some(if b { "yes" } else { "no" }.into());
        }
        if let Some(i) = self.value_integer {
            return Some(i.to_string());
        }
        // Blood pressure reads "130/85 mmHg", not as two separate lines.
        let numbers: Vec<&Quantity> = self
            .component
            .iter()
            .filter_map(|c| c.value_quantity.as_ref())
            .filter(|q| q.value.is_some())
            .collect();
        if numbers.len() == self.component.len() && !numbers.is_empty() {
            let values: Vec<String> = numbers
                .iter()
                .filter_map(|q| q.value.map(format_number))
                .collect();
            let unit = numbers[0].unit.clone().unwrap_or_default();
            return Some(format!("{} {}", values.join("/"), unit).trim().to_string());
        }
        None
    }

    /// Whether a category code (e.g. `laboratory`, `vital-signs`) is present.
    pub fn has_category(&self, code: &str) -> bool {
        self.category.iter().any(|c| c.has_any_code(code))
    }
}

/// A problem, diagnosis or health concern.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `active | recurrence | relapse | inactive | remission | resolved`.
    pub clinical_status: Option<CodeableConcept>,
    /// Problem-list item, encounter diagnosis…
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    /// What the condition is.
    pub code: Option<CodeableConcept>,
    /// Who has it (required).
    pub subject: Reference,
    /// Onset.
    pub onset_date_time: Option<FhirDateTime>,
    /// When it was recorded.
    pub recorded_date: Option<FhirDateTime>,
}

/// The name of a `medication[x]` choice (a code or a reference).
fn medication_label(code: Option<&CodeableConcept>, reference: Option<&Reference>) -> Option<String> {
    code.and_then(CodeableConcept::label)
        .or_else(|| reference.and_then(|r| r.display.clone()))
}

/// A prescription or order for a medication.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MedicationRequest {
    /// `active | on-hold | cancelled | completed | …` (required).
    pub status: String,
    /// `proposal | plan | order | …` (required).
    pub intent: String,
    /// The medication as a code (this or the reference is required).
    pub medication_codeable_concept: Option<CodeableConcept>,
    /// The medication as a reference to a Medication resource.
    pub medication_reference: Option<Reference>,
    /// Who it is for (required).
    pub subject: Reference,
    /// When it was written.
    pub authored_on: Option<FhirDateTime>,
    /// Who wrote it.
    pub requester: Option<Reference>,
    /// How to take it.
    #[serde(default)]
    pub dosage_instruction: Vec<Dosage>,
}

impl MedicationRequest {
    /// The medication's name.
    pub fn medication(&self) -> Option<String> {
        medication_label(
            self.medication_codeable_concept.as_ref(),
            self.medication_reference.as_ref(),
        )
    }
}

/// A record that the patient is, was or will be taking a medication.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MedicationStatement {
    /// `active | completed | entered-in-error | intended | …` (required).
    pub status: String,
    /// The medication as a code (this or the reference is required).
    pub medication_codeable_concept: Option<CodeableConcept>,
    /// The medication as a reference to a Medication resource.
    pub medication_reference: Option<Reference>,
    /// Who takes it (required).
    pub subject: Reference,
    /// When it is or was taken.
    pub effective_date_time: Option<FhirDateTime>,
    /// When it is or was taken, as a period.
    pub effective_period: Option<Period>,
    /// When this was asserted.
    pub date_asserted: Option<FhirDateTime>,
    /// How it is taken.
    #[serde(default)]
    pub dosage: Vec<Dosage>,
}

impl MedicationStatement {
    /// The medication's name.
    pub fn medication(&self) -> Option<String> {
        medication_label(
            self.medication_codeable_concept.as_ref(),
            self.medication_reference.as_ref(),
        )
    }
}

/// An allergy or intolerance.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AllergyIntolerance {
    /// `active | inactive | resolved`.
    pub clinical_status: Option<CodeableConcept>,
    /// `food | medication | environment | biologic`.
    #[serde(default)]
    pub category: Vec<String>,
    /// `low | high | unable-to-assess`.
    pub criticality: Option<String>,
    /// The substance.
    pub code: Option<CodeableConcept>,
    /// Who has it (required).
    pub patient: Reference,
    /// Onset.
    pub onset_date_time: Option<FhirDateTime>,
    /// When it was recorded.
    pub recorded_date: Option<FhirDateTime>,
    /// Reactions seen.
    #[serde(default)]
    pub reaction: Vec<AllergyReaction>,
}

/// One reaction to an allergen.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct AllergyReaction {
    /// What happened.
    pub manifestation: Vec<CodeableConcept>,
    /// `mild | moderate | severe`.
    pub severity: Option<String>,
}

/// A vaccination.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Immunization {
    /// `completed | entered-in-error | not-done` (required).
    pub status: String,
    /// The vaccine (required).
    pub vaccine_code: CodeableConcept,
    /// Who received it (required).
    pub patient: Reference,
    /// When it was given (required as a dateTime or a string).
    pub occurrence_date_time: Option<FhirDateTime>,
    /// When it was given, as free text.
    pub occurrence_string: Option<String>,
    /// Lot number.
    pub lot_number: Option<String>,
    /// Dose number within a series.
    #[serde(default)]
    pub protocol_applied: Vec<serde_json::Value>,
}

/// A report of diagnostic results (a lab panel, an imaging study).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticReport {
    /// `registered | partial | preliminary | final | …` (required).
    pub status: String,
    /// Service category.
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    /// Name of the report (required).
    pub code: CodeableConcept,
    /// When it applies.
    pub effective_date_time: Option<FhirDateTime>,
    /// When it applies, as a period.
    pub effective_period: Option<Period>,
    /// When it was issued.
    pub issued: Option<FhirDateTime>,
    /// Who issued it.
    #[serde(default)]
    pub performer: Vec<Reference>,
    /// The observations it reports.
    #[serde(default)]
    pub result: Vec<Reference>,
    /// Clinical conclusion.
    pub conclusion: Option<String>,
    /// Attached report (e.g. a PDF).
    #[serde(default)]
    pub presented_form: Vec<Attachment>,
}

/// A document: a PDF, an image, a scanned prescription.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReference {
    /// `current | superseded | entered-in-error` (required).
    pub status: String,
    /// Kind of document.
    pub r#type: Option<CodeableConcept>,
    /// Categorisation.
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    /// When it was created.
    pub date: Option<FhirDateTime>,
    /// Human description.
    pub description: Option<String>,
    /// The document content (required, at least one).
    pub content: Vec<DocumentContent>,
}

/// One representation of a document.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct DocumentContent {
    /// Where to get the bytes (required).
    pub attachment: Attachment,
}

/// A visit: outpatient consultation, admission, teleconsultation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Encounter {
    /// `planned | arrived | in-progress | finished | …` (required).
    pub status: String,
    /// `AMB`, `IMP`, `EMER`, `VR`… (required).
    pub class: Coding,
    /// Specific type.
    #[serde(default)]
    pub r#type: Vec<CodeableConcept>,
    /// When it happened.
    pub period: Option<Period>,
    /// Why.
    #[serde(default)]
    pub reason_code: Vec<CodeableConcept>,
    /// Admission details (discharge disposition marks a discharge).
    pub hospitalization: Option<serde_json::Value>,
    /// Where.
    pub service_provider: Option<Reference>,
}

/// A procedure performed on the patient.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Procedure {
    /// `preparation | in-progress | completed | …` (required).
    pub status: String,
    /// What was done.
    pub code: Option<CodeableConcept>,
    /// On whom (required).
    pub subject: Reference,
    /// When.
    pub performed_date_time: Option<FhirDateTime>,
    /// When, as a period.
    pub performed_period: Option<Period>,
}

/// Insurance coverage.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// `active | cancelled | draft | entered-in-error` (required).
    pub status: String,
    /// Kind of coverage.
    pub r#type: Option<CodeableConcept>,
    /// Insured person (required).
    pub beneficiary: Reference,
    /// Member or policy number.
    pub subscriber_id: Option<String>,
    /// When it applies.
    pub period: Option<Period>,
    /// The insurer (required, at least one).
    pub payor: Vec<Reference>,
}

/// An insurance claim.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// `active | cancelled | draft | entered-in-error` (required).
    pub status: String,
    /// Claim category (required).
    pub r#type: CodeableConcept,
    /// `claim | preauthorization | predetermination` (required).
    pub r#use: String,
    /// The patient (required).
    pub patient: Reference,
    /// Creation date (required).
    pub created: FhirDateTime,
    /// The insurer.
    pub insurer: Option<Reference>,
    /// Who is responsible (required).
    pub provider: Reference,
    /// Desired processing urgency (required).
    pub priority: CodeableConcept,
    /// Total claimed.
    pub total: Option<Money>,
}

/// An amount of money.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Money {
    /// Amount.
    pub value: Option<f64>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
}

/// A clinical document's table of contents (ABDM records are Composition-led bundles).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Composition {
    /// `preliminary | final | amended | entered-in-error` (required).
    pub status: String,
    /// Kind of document (required); ABDM uses SNOMED codes for its record types.
    pub r#type: CodeableConcept,
    /// When it was edited (required).
    pub date: FhirDateTime,
    /// Title (required).
    pub title: String,
}
