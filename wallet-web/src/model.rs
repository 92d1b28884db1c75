//! What the local API returns, as the web wallet reads it.

use serde::Deserialize;
use serde_json::Value;
pub use wallet_core::summary::{Flag, Item, Latest, Point, Summary};

/// `/api/status`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct Status {
    /// A wallet exists at the server's path.
    #[serde(default)]
    pub exists: bool,
    /// It is locked.
    #[serde(default)]
    pub locked: bool,
    /// Wallet ID.
    pub wallet_id: Option<String>,
    /// Record count.
    pub records: Option<u64>,
    /// Profiles.
    #[serde(default)]
    pub profiles: Vec<Profile>,
    /// Set when the server could not be reached.
    #[serde(skip)]
    pub error: Option<String>,
}

impl Status {
    /// The status shown when the server does not answer.
    pub fn unreachable(message: String) -> Status {
        Status {
            exists: true,
            locked: true,
            error: Some(message),
            ..Status::default()
        }
    }
}

/// A profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    /// Handle.
    pub handle: String,
    /// Name.
    pub name: String,
    /// Relationship to the owner.
    pub relationship: String,
    /// Birth date.
    pub birth_date: Option<String>,
    /// Age in years.
    pub age: Option<u32>,
    /// CNIC.
    pub cnic: Option<String>,
    /// ABHA number.
    pub abha_number: Option<String>,
    /// Whether this is the owner.
    #[serde(default)]
    pub owner: bool,
}

/// `/api/summary`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SummaryResponse {
    /// Whose.
    pub profile: Profile,
    /// The summary.
    pub summary: Summary,
}

/// A row of `/api/records`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordRow {
    /// Id.
    pub id: String,
    /// FHIR type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Date.
    pub date: Option<String>,
    /// Title.
    pub title: String,
    /// ABDM type.
    pub hi_type: String,
}

/// `/api/records/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordDetail {
    /// Id.
    pub id: String,
    /// FHIR type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Date.
    pub date: Option<String>,
    /// Title.
    pub title: String,
    /// ABDM type.
    pub hi_type: String,
    /// Status.
    pub status: Option<String>,
    /// Where it came from.
    pub source: String,
    /// SHA-256.
    pub sha256: String,
    /// The resource.
    pub resource: Value,
    /// Inline attachment.
    pub attachment: Option<Attachment>,
}

/// An attachment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Attachment {
    /// Base64.
    pub data: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Title.
    pub title: Option<String>,
}

/// `/api/series`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Series {
    /// Title.
    pub title: Option<String>,
    /// Labels of the values.
    pub labels: Vec<String>,
    /// Points, oldest first.
    pub points: Vec<Point>,
    /// Unit.
    pub unit: Option<String>,
    /// Range low.
    pub low: Option<f64>,
    /// Range high.
    pub high: Option<f64>,
}

/// A share, as `/api/grants` lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Grant {
    /// Id.
    pub id: String,
    /// active / expired / revoked.
    pub status: String,
    /// Who.
    pub to: String,
    /// Purpose code.
    pub purpose: String,
    /// Records.
    pub records: usize,
    /// Expiry.
    pub expires: i64,
    /// Uses.
    pub uses: u32,
    /// Limit.
    pub max_uses: Option<u32>,
    /// `offline` or the relay URL.
    pub via: String,
    /// The link.
    pub link: String,
}

/// `/api/shares` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Created {
    /// The link.
    pub link: String,
    /// QR version.
    pub qr_version: i16,
    /// The grant.
    pub grant: CreatedGrant,
    /// Records shared.
    pub records: Vec<SharedRecord>,
}

/// The grant part of a created share.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreatedGrant {
    /// Id.
    pub id: String,
    /// Expiry.
    pub expires: i64,
    /// Relay URL.
    pub relay_url: Option<String>,
}

/// A shared record line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SharedRecord {
    /// Title.
    pub title: String,
}

/// An audit row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AuditRow {
    /// Sequence.
    pub seq: Option<u64>,
    /// Time.
    pub time: Option<i64>,
    /// Actor.
    pub actor: Option<Value>,
    /// What, in English.
    pub what: Option<String>,
    /// What, as data: `{"event": kind, ...fields}`.
    #[serde(default)]
    pub event: Option<Value>,
    /// Unreadable entry.
    pub error: Option<String>,
}

/// A plugin.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PluginInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Publisher, as the plugin names itself.
    pub publisher: String,
    /// Who vouches for the publisher (or that nobody does), in words.
    pub publisher_words: String,
    /// Whether a registry the patient trusts lists the publisher's key.
    pub publisher_vouched: bool,
    /// Description.
    pub description: String,
    /// Permissions in words.
    pub permissions: Vec<String>,
    /// Actions.
    pub actions: Vec<ActionInfo>,
}

/// A plugin action.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ActionInfo {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Takes a file.
    pub takes_file: bool,
    /// Takes records.
    pub takes_records: bool,
}

/// A plugin run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunResult {
    /// Id for saving.
    pub run_id: String,
    /// Message.
    pub message: String,
    /// Proposed records.
    pub proposed: Vec<Value>,
}

/// `YYYY-MM-DD hh:mm` in UTC for a time.
pub fn human_time(seconds: i64) -> String {
    wallet_core::grant::human_time(seconds)
}
