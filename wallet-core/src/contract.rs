//! The wallet's contract with its edges: every request and answer of the
//! local API under `/api/` (served by `amanat serve`, read by the web
//! wallet), and the CLI's `--json` output where it says the same thing.
//!
//! One set of types, with serde, in a module that builds for the browser as
//! well as natively: the server answers `Json<T>` of these types, the web app
//! deserialises the same `T`, the CLI prints them. A field renamed on one side
//! is renamed on all, at compile time. The shapes are pinned by the tests
//! below (one round trip per type, and the exact JSON of the ones the README
//! documents).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::AuditEntry;
use crate::fhir::HiType;
pub use crate::fhir::document::{Outline, Section as OutlineSection};
use crate::lang::Lang;
use crate::profile::Profile;
use crate::record::RecordMeta;
use crate::summary::{Point, Summary};

pub use crate::profile::ProfileDraft as NewProfile;
pub use crate::reading::NewReading;

/// Every refusal, from the local API and from a relay:
/// `{"error": code, "message": words}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code: `locked`, `not found`, `revoked`, `expired`, …
    pub error: String,
    /// For people.
    pub message: String,
}

/// `POST /api/session`: the one-time login code from `amanat serve`'s link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignIn {
    /// The code from the link's `?login=`.
    pub code: String,
}

/// The answer to [`SignIn`]: the session's bearer token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Sent as `Authorization: Bearer …` from then on.
    pub token: String,
}

/// `GET /api/status` (and the answer to init and unlock).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// A wallet exists at the server's path.
    pub exists: bool,
    /// It is locked (or does not exist yet).
    pub locked: bool,
    /// The wallet's ID, once unlocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_id: Option<String>,
    /// How many records it holds, once unlocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// Its profiles, once unlocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileInfo>,
}

/// A profile as the edges show it (`/api/profiles`, `amanat profile list --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInfo {
    /// Short handle, e.g. `zara`.
    pub handle: String,
    /// Full name.
    pub name: String,
    /// Relationship to the wallet's owner, e.g. `child`.
    pub relationship: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// `female`, `male`, `other`, `unknown`.
    pub gender: Option<String>,
    /// ABHA number, formatted.
    pub abha_number: Option<String>,
    /// ABHA address.
    pub abha_address: Option<String>,
    /// CNIC, formatted.
    pub cnic: Option<String>,
    /// Phone number (shared only at a facility's registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Whether this is the wallet owner's own profile.
    pub owner: bool,
    /// Age in whole years on the day asked, when the birth date is known.
    pub age: Option<u32>,
}

impl ProfileInfo {
    /// `profile` as of `today` (`YYYY-MM-DD`), which the edge reads from its clock.
    pub fn new(profile: &Profile, owner: bool, today: &str) -> ProfileInfo {
        ProfileInfo {
            handle: profile.handle.clone(),
            name: profile.name.clone(),
            relationship: profile.relationship.to_string(),
            birth_date: profile.birth_date.clone(),
            gender: profile.gender.map(|g| g.to_string()),
            abha_number: profile.abha_number.as_ref().map(ToString::to_string),
            abha_address: profile.abha_address.as_ref().map(ToString::to_string),
            cnic: profile.cnic.as_ref().map(ToString::to_string),
            phone: profile.phone.clone(),
            owner,
            age: profile.age_on(today),
        }
    }
}

/// `POST /api/init`: the first profile and the passphrase of a new wallet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Init {
    /// The wallet's passphrase (8 characters at least).
    pub passphrase: String,
    /// The owner.
    #[serde(flatten)]
    pub owner: NewProfile,
}

/// `POST /api/unlock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unlock {
    /// The wallet's passphrase.
    pub passphrase: String,
}

/// `POST /api/lock`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Locked {
    /// Always true: the wallet is closed and pending plugin runs dropped.
    pub locked: bool,
}

/// `GET /api/summary`: one profile's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryOf {
    /// Whose.
    pub profile: ProfileInfo,
    /// The summary.
    pub summary: Summary,
}

/// A row of `GET /api/records`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    /// Record id.
    pub id: String,
    /// FHIR resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Clinical date, as the record states it.
    pub date: Option<String>,
    /// Title in words.
    pub title: String,
    /// ABDM health-information type.
    pub hi_type: HiType,
    /// The resource's status, e.g. `final`.
    pub status: Option<String>,
    /// Where it came from, in words.
    pub source: String,
    /// For an entry of a document listed just above it: that document's id
    /// (the timeline shows the entry beneath it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Who vouched for it with a signature the wallet verified (the provider
    /// who signed it, its card's issuer): the timeline marks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vouched_by: Option<String>,
}

impl From<&RecordMeta> for RecordRow {
    fn from(m: &RecordMeta) -> RecordRow {
        RecordRow {
            id: m.id.to_string(),
            resource_type: m.resource_type.clone(),
            date: m.date.clone(),
            title: m.title.clone(),
            hi_type: m.hi_type,
            status: m.status.clone(),
            source: m.source.to_string(),
            document: None,
            vouched_by: m.vouched_by(),
        }
    }
}

/// `GET /api/records/{id}`: one record, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordDetail {
    /// What the list shows. (Nested, not flattened: serde's flatten costs
    /// the browser's bundle a generic map deserialiser.)
    pub about: RecordRow,
    /// The profile's handle.
    pub profile: Option<String>,
    /// SHA-256 of the resource as imported, hex.
    pub sha256: String,
    /// When it was added (seconds since 1970).
    pub added: i64,
    /// The FHIR resource.
    pub resource: Value,
    /// Its first inline attachment (a PDF, an image), if any.
    pub attachment: Option<Attachment>,
    /// A FHIR document, as a person reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outline: Option<Outline>,
}

impl RecordDetail {
    /// The record `meta` describes, whose resource is `resource`, of the
    /// profile whose handle is `profile`; `source` says where it came from
    /// (`RecordMeta::source_words`) and `document` is the id of the document it is
    /// an entry of.
    pub fn new(
        meta: &RecordMeta,
        resource: &crate::fhir::Resource,
        profile: Option<String>,
        source: String,
        document: Option<String>,
    ) -> RecordDetail {
        let about = RecordRow {
            source,
            document,
            ..RecordRow::from(meta)
        };
        let outline = crate::fhir::document::outline(resource);
        let resource = resource.json();
        RecordDetail {
            about,
            outline,
            profile,
            sha256: data_encoding::HEXLOWER.encode(&meta.sha256),
            added: meta.added,
            resource: resource.clone(),
            attachment: crate::fhir::first_attachment(resource).map(|(data, content_type, title)| {
                Attachment {
                    data,
                    content_type,
                    title,
                }
            }),
        }
    }
}

/// An inline attachment of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Base64, as in the resource.
    pub data: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Title.
    pub title: Option<String>,
}

/// `DELETE /api/records/{id}`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deleted {
    /// The id as asked.
    pub deleted: String,
    /// The record's title.
    pub title: String,
}

/// `POST /api/import`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    /// The file's name.
    pub file: String,
    /// Records added.
    pub added: usize,
    /// Records already in the wallet.
    pub duplicates: usize,
    /// The profile was blank and is now filled from the file's patient: as
    /// it now reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled: Option<String>,
    /// The profile is blank and the file names its patient: the profile it
    /// would become (import again with `fill_profile=true` to fill it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_offer: Option<String>,
    /// What the installed pharmacy plugins said of a signed prescription
    /// before it was saved (`plugin: words`), one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
}

/// `POST /api/readings`'s answer (and `amanat add --json`): the reading as
/// saved, and the measurement series it joins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entered {
    /// The new record.
    pub record: RecordRow,
    /// `system|code` of its series (`GET /api/series?code=`).
    pub series: Option<String>,
}

impl From<&RecordMeta> for Entered {
    fn from(m: &RecordMeta) -> Entered {
        Entered {
            record: RecordRow::from(m),
            series: m.codes.first().cloned(),
        }
    }
}

/// `GET /api/series`: every value of one measurement, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// `system|code` of the measurement.
    pub code: String,
    /// Its name.
    pub title: Option<String>,
    /// Labels of the values (systolic, diastolic).
    pub labels: Vec<String>,
    /// The points.
    pub points: Vec<Point>,
    /// The unit.
    pub unit: Option<String>,
    /// Reference range low.
    pub low: Option<f64>,
    /// Reference range high.
    pub high: Option<f64>,
}

/// `POST /api/shares`: what to share, with whom, how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewShare {
    /// Whose records (the owner's when absent).
    pub profile: Option<String>,
    /// Records by id.
    pub ids: Vec<String>,
    /// Records by FHIR type.
    pub types: Vec<String>,
    /// The summary's records.
    pub summary: bool,
    /// ABDM purpose code, e.g. `CAREMGT`.
    pub purpose: String,
    /// How long it stays valid.
    pub seconds: i64,
    /// A provider (card or registration) it is for.
    pub to: Option<String>,
    /// Use limit (relay shares).
    pub uses: Option<u32>,
    /// The relay's URL; an offline share when absent.
    pub relay: Option<String>,
    /// `view` (the default) or `store`.
    pub mode: Option<String>,
    /// A passcode the patient chose.
    pub passcode: Option<String>,
    /// The viewer whose address the QR code carries (`https://…/`); the
    /// relay's, or the wallet's setting, when absent.
    pub viewer: Option<String>,
    /// A SMART Health Link instead of an Amanat link (needs a relay).
    #[serde(default)]
    pub shl: bool,
}

/// `POST /api/summary/pdf`: the summary on paper (A4 PDF) with the QR code of
/// a new share of its records, as `amanat summary --pdf` makes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrintSummary {
    /// Whose summary (the owner's when absent).
    pub profile: Option<String>,
    /// The language of the labels, beside English.
    pub lang: Lang,
    /// The relay for the QR code's records; inside the QR code when absent.
    pub relay: Option<String>,
    /// How long the QR code opens them [default: 30 days].
    pub seconds: Option<i64>,
}

/// The emergency card in force (`GET /api/emergency-card`, the answer of
/// making or renewing it, `amanat emergency-card --json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmergencyCard {
    /// The grant behind its QR code.
    pub grant_id: String,
    /// The QR code's text.
    pub link: String,
    /// When the QR code stops opening (seconds since 1970).
    pub expires_at: i64,
    /// What the card says.
    #[serde(flatten)]
    pub facts: CardFacts,
    /// Every time the QR code was opened (seconds since 1970), oldest first.
    pub opened_at: Vec<i64>,
    /// The card as plain text, to print.
    pub text: String,
}

/// What an emergency card says, from the profile and its records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFacts {
    /// The patient: name, birth date and age, gender, national IDs.
    pub who: String,
    /// From the newest ABO and Rh group result, if any.
    pub blood_group: Option<String>,
    /// Active allergies.
    pub allergies: Vec<String>,
    /// Active problems.
    pub conditions: Vec<String>,
    /// Current medicines.
    pub medications: Vec<String>,
    /// People to call, as the patient wrote them.
    pub contacts: Vec<String>,
    /// The records the QR code shares: those above.
    pub record_ids: Vec<String>,
}

/// `POST /api/emergency-card`: make the card, or renew it (the card before
/// stops opening once the new one exists).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewEmergencyCard {
    /// Whose card (the owner's when absent).
    pub profile: Option<String>,
    /// The relay the QR code's records go to.
    pub relay: String,
    /// People to call; the card before's when absent.
    pub contacts: Option<Vec<String>>,
}

/// `POST /api/emergency-card/pdf`, `/revoke`: which profile's card, and for
/// the PDF, the language of its labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardOf {
    /// Whose card (the owner's when absent).
    pub profile: Option<String>,
    /// The language of the PDF's labels, beside English.
    pub lang: Lang,
}

/// A share the wallet made (`GET /api/grants`, `amanat grants --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareRow {
    /// The grant's id.
    pub id: String,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    /// Who may open it, in words.
    pub to: String,
    /// ABDM purpose code.
    pub purpose: String,
    /// `view` or `store`.
    pub mode: String,
    /// How many records.
    pub records: usize,
    /// Which, in the grant's order.
    pub record_ids: Vec<String>,
    /// Made (seconds since 1970).
    pub created: i64,
    /// Valid until (seconds since 1970).
    pub expires: i64,
    /// Opens so far, as the relay last said.
    pub uses: u32,
    /// Use limit.
    pub max_uses: Option<u32>,
    /// `offline` or the relay's URL.
    pub via: String,
    /// The link itself (it holds the share's key): for the web wallet's QR
    /// code; the CLI leaves it out of its listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `POST /api/shares`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedShare {
    /// The link (the QR code's text).
    pub link: String,
    /// The QR code's version at error correction M.
    pub qr_version: i16,
    /// The share as the wallet now lists it.
    pub grant: ShareRow,
    /// The records shared.
    pub records: Vec<SharedRecord>,
}

/// A provider's consent request as the wallet lists it (`amanat requests
/// --json`, `GET /api/requests`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    /// The request's id (the grant id of the share answering it).
    pub id: String,
    /// Who asks: name and registration.
    pub from: String,
    /// The trusted registry that lists them; `None`: in no registry the
    /// patient trusts (shown as such, in red).
    pub listed_by: Option<String>,
    /// What is asked, in words.
    pub asked: String,
    /// ABDM purpose code.
    pub purpose: String,
    /// ABDM's words: `requested`, `granted`, `denied`, `expired` or `revoked`.
    pub state: String,
    /// When it was opened in the wallet (seconds since 1970).
    pub received: i64,
    /// Answerable until (seconds since 1970).
    pub expires: i64,
}

/// One consent request in full (`GET /api/requests/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestDetail {
    /// As lists show it.
    pub row: RequestRow,
    /// The record types asked for.
    pub types: Vec<String>,
    /// Records from this day on, if limited (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// For how long access is asked (seconds).
    pub access: i64,
    /// Where the answer goes: a relay, or (`None`) a QR code shown back.
    pub relay: Option<String>,
    /// The provider key's thumbprint.
    pub key: String,
    /// The profile's records the request covers as asked.
    pub matching: Vec<RecordRow>,
    /// The share that answered it, once approved.
    pub share: Option<ShareRow>,
}

/// `POST /api/requests`: a request's text, as scanned or pasted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// `AMANAT-REQUEST:…`.
    pub text: String,
}

/// `POST /api/requests/{id}/approve`: what the patient agrees to, at most
/// what was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApproveRequest {
    /// Whose records (a profile handle); the owner's when absent.
    #[serde(default)]
    pub profile: Option<String>,
    /// Record types, among those asked; all of them when empty.
    #[serde(default)]
    pub types: Vec<String>,
    /// From this day on (`YYYY-MM-DD`), not before what was asked.
    #[serde(default)]
    pub since: Option<String>,
    /// For how long (seconds), not longer than asked; as asked when absent.
    #[serde(default)]
    pub seconds: Option<i64>,
    /// Answer with a QR code for the provider to scan, even when the request names a relay.
    #[serde(default)]
    pub offline: bool,
}

/// A facility's Scan & Share card as the wallet shows it before the
/// patient agrees (`amanat scan-share`, `POST /api/scan-share`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacilityDetail {
    /// The facility's name.
    pub facility: String,
    /// Its id in a facility registry (ABDM's HFR id).
    pub facility_id: String,
    /// The counter the card hangs at.
    pub counter: Option<String>,
    /// The trusted registry that lists the facility with this key; `None`:
    /// in no registry the patient trusts (shown as such, in red).
    pub listed_by: Option<String>,
    /// The facility key's thumbprint.
    pub key: String,
    /// Where the details go.
    pub relay: String,
    /// How long the facility may read them (seconds).
    pub access: i64,
    /// The card is valid until (seconds since 1970).
    pub expires: i64,
    /// Whose details: the profile's name.
    pub patient: String,
    /// What is shared besides the name, in words (birth date, gender, IDs, phone).
    pub details: String,
}

/// `POST /api/scan-share` (answered with a [`FacilityDetail`]: nothing is
/// shared) and `POST /api/scan-share/approve` (the details are shared:
/// [`CheckedIn`]): a facility card's text, and whose details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanShare {
    /// `AMANAT-FACILITY:…`.
    pub text: String,
    /// A profile handle; the owner's when absent.
    #[serde(default)]
    pub profile: Option<String>,
}

/// The patient's details arrived at the facility: their token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedIn {
    /// The token number in the day's queue at this card.
    pub token: u32,
    /// The queue's day (UTC, `YYYY-MM-DD`).
    pub day: String,
    /// The facility and counter, in words.
    pub facility: String,
    /// The share, as the wallet lists it (revocable like any).
    pub share: ShareRow,
}

/// A record in a share, as the patient is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedRecord {
    /// Record id.
    pub id: String,
    /// FHIR type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Title.
    pub title: String,
}

/// An entry of `GET /api/audit?lang=…`, worded by the wallet in the
/// reader's language ([`crate::audit::words`]), so the wording lives in one
/// place and the browser needs no copy of the event types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Its place in the chain (1 first); none for an entry that did not open.
    pub seq: Option<u64>,
    /// When (seconds since 1970).
    pub time: Option<i64>,
    /// Who acted.
    pub who: String,
    /// What happened; for an entry that did not open, why.
    pub what: String,
}

impl AuditRow {
    /// `entry` in `lang`.
    pub fn new(entry: Result<&AuditEntry, &dyn std::fmt::Display>, lang: Lang) -> AuditRow {
        match entry {
            Ok(e) => AuditRow {
                seq: Some(e.seq),
                time: Some(e.time),
                who: crate::audit::words::actor(&e.actor, lang),
                what: crate::audit::words::describe(&e.event, lang),
            },
            Err(error) => AuditRow {
                seq: None,
                time: None,
                who: String::new(),
                what: error.to_string(),
            },
        }
    }
}

/// `GET /api/audit/verify` and `amanat audit --verify --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditCheck {
    /// Every link of the hash chain verified.
    pub intact: bool,
    /// How many entries, when intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    /// What is wrong, when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl<E: std::fmt::Display> From<Result<u64, E>> for AuditCheck {
    fn from(verdict: Result<u64, E>) -> AuditCheck {
        match verdict {
            Ok(n) => AuditCheck {
                intact: true,
                entries: Some(n),
                error: None,
            },
            Err(e) => AuditCheck {
                intact: false,
                entries: None,
                error: Some(e.to_string()),
            },
        }
    }
}

/// An installed plugin (`GET /api/plugins`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginRow {
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
    /// What it does.
    pub description: String,
    /// Whether it was signed (unsigned only with `--allow-unsigned`).
    pub signed: bool,
    /// Who made it: `lab`, `insurer`, `pharmacy` or `other`. (Words, not
    /// the manifest's enum: the browser only shows it.)
    pub kind: String,
    /// What it may do, in words.
    pub permissions: Vec<String>,
    /// Its actions.
    pub actions: Vec<ActionInfo>,
}

/// A plugin's action, as the plugin describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionInfo {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Whether it takes a file.
    pub takes_file: bool,
    /// Whether it takes records.
    pub takes_records: bool,
}

/// `POST /api/plugins/{name}/run`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunPlugin {
    /// The action.
    pub action: String,
    /// Whose records (the owner's when absent).
    pub profile: Option<String>,
    /// Records given to the action, by id.
    pub records: Vec<String>,
    /// The file's name, with `file_base64`.
    pub file_name: Option<String>,
    /// A file given to the action.
    pub file_base64: Option<String>,
}

/// A plugin run's answer: what it proposes, held until saved or discarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginRun {
    /// Names the pending run for `POST`/`DELETE /api/plugin-runs/{id}`.
    pub run_id: String,
    /// The plugin's message.
    pub message: String,
    /// Records it proposes.
    pub proposed: Vec<Proposed>,
    /// A document it made.
    pub document: Option<Document>,
    /// What it wrote to its log, as `(level, text)`.
    pub logs: Vec<(String, String)>,
}

/// A record a plugin proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposed {
    /// FHIR type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Title.
    pub title: String,
    /// Signed by the plugin's publisher (verified with the plugin's key).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signed: bool,
}

/// A document a plugin made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// File name.
    pub name: String,
    /// MIME type.
    pub media_type: String,
    /// Its bytes, base64.
    pub base64: String,
}

/// `POST /api/plugin-runs/{id}`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// Records added.
    pub added: usize,
    /// Records already there.
    pub duplicates: usize,
}

/// `DELETE /api/plugin-runs/{id}`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discarded {
    /// The run's id.
    pub discarded: String,
}

/// The wallet's settings (`GET`/`PUT /api/settings`, `amanat settings
/// --json`), kept sealed in the vault. Absent fields take their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The viewer whose address offline share codes carry, so a phone's
    /// camera opens them (`https://viewer.example/`); `None`: offline codes
    /// hold the bare `AMANAT:` link. Relay shares use their relay's viewer.
    pub viewer: Option<String>,
}

/// `POST /api/passphrase`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePassphrase {
    /// The passphrase now.
    pub current: String,
    /// The new one (8 characters at least).
    pub new: String,
}

/// `POST /api/passphrase`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    /// Always true.
    pub changed: bool,
}

/// `POST /api/export`: a profile's backup, sealed with a passphrase; the
/// answer is the `.age` file itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    /// Whose (the owner's when absent).
    #[serde(default)]
    pub profile: Option<String>,
    /// The backup's passphrase (8 characters at least).
    pub passphrase: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// Serialises `value`, reads it back and compares; returns the JSON.
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) -> Value {
        let json = serde_json::to_value(&value).unwrap();
        let back: T = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, value, "{json}");
        json
    }

    fn profile() -> ProfileInfo {
        ProfileInfo {
            handle: "zara".into(),
            name: "Zara Siddiqui".into(),
            relationship: "child".into(),
            birth_date: Some("2016-09-03".into()),
            gender: Some("female".into()),
            abha_number: None,
            abha_address: None,
            cnic: Some("35202-7654321-8".into()),
            phone: None,
            owner: false,
            age: Some(10),
        }
    }

    fn share_row(link: Option<&str>) -> ShareRow {
        ShareRow {
            id: "g1".into(),
            status: "active".into(),
            to: "anyone with the link".into(),
            purpose: "CAREMGT".into(),
            mode: "view".into(),
            records: 1,
            record_ids: vec!["r1".into()],
            created: 1,
            expires: 2,
            uses: 0,
            max_uses: Some(3),
            via: "offline".into(),
            link: link.map(str::to_string),
        }
    }

    #[test]
    fn error_body() {
        let json = round_trip(ErrorBody {
            error: "locked".into(),
            message: "the wallet is locked".into(),
        });
        assert_eq!(
            json,
            json!({"error": "locked", "message": "the wallet is locked"})
        );
    }

    #[test]
    fn settings_default_to_no_viewer() {
        let set = Settings {
            viewer: Some("https://relay.example/".into()),
        };
        assert_eq!(round_trip(set), json!({"viewer": "https://relay.example/"}));
        assert_eq!(
            serde_json::from_value::<Settings>(json!({})).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn printouts_and_the_emergency_card() {
        assert_eq!(
            round_trip(PrintSummary {
                lang: Lang::Ur,
                ..PrintSummary::default()
            }),
            json!({"profile": null, "lang": "ur", "relay": null, "seconds": null})
        );
        let asked: PrintSummary = serde_json::from_value(json!({})).unwrap();
        assert_eq!(asked.lang, Lang::En, "English unless asked");
        assert_eq!(
            round_trip(CardOf::default()),
            json!({"profile": null, "lang": "en"})
        );
        let renew: NewEmergencyCard =
            serde_json::from_value(json!({"relay": "https://relay.example"})).unwrap();
        assert_eq!(
            renew.contacts, None,
            "a renewal without contacts keeps the card's"
        );
        let card = round_trip(EmergencyCard {
            grant_id: "g".into(),
            facts: CardFacts {
                blood_group: Some("B positive".into()),
                contacts: vec!["Bilal".into()],
                ..CardFacts::default()
            },
            opened_at: vec![1_700_000_000],
            ..EmergencyCard::default()
        });
        // The facts sit beside the card's own fields, as `emergency-card --json` printed them.
        assert_eq!(card["blood_group"], "B positive");
        assert_eq!(card["contacts"], json!(["Bilal"]));
        assert_eq!(card["opened_at"], json!([1_700_000_000]));
    }

    #[test]
    fn session() {
        assert_eq!(round_trip(SignIn { code: "c".into() }), json!({"code": "c"}));
        assert_eq!(round_trip(Session { token: "t".into() }), json!({"token": "t"}));
    }

    #[test]
    fn status_locked_says_only_that() {
        let locked = Status {
            exists: true,
            locked: true,
            ..Status::default()
        };
        assert_eq!(round_trip(locked), json!({"exists": true, "locked": true}));
        let open = round_trip(Status {
            exists: true,
            locked: false,
            wallet_id: Some("w".into()),
            records: Some(3),
            profiles: vec![profile()],
        });
        assert_eq!(open["profiles"][0]["cnic"], "35202-7654321-8");
    }

    #[test]
    fn profile_info_from_a_profile() {
        let p = NewProfile {
            name: "Zara Siddiqui".into(),
            birth_date: Some("2016-09-03".into()),
            cnic: Some("35202-7654321-8".into()),
            ..NewProfile::default()
        }
        .build("2026-11-30", crate::profile::Relationship::Child)
        .unwrap();
        let info = ProfileInfo::new(&p, false, "2026-11-30");
        assert_eq!((info.age, info.relationship.as_str()), (Some(10), "child"));
        round_trip(info);
    }

    #[test]
    fn init_and_new_profile_take_flat_fields() {
        let init: Init = serde_json::from_value(json!({
            "name": "Ayesha", "passphrase": "long enough", "cnic": "35202-1234567-4"
        }))
        .unwrap();
        assert_eq!(init.owner.name, "Ayesha");
        assert_eq!(init.owner.cnic.as_deref(), Some("35202-1234567-4"));
        assert_eq!(serde_json::to_value(&init).unwrap()["passphrase"], "long enough");
        let added: NewProfile = serde_json::from_value(json!({"name": "Bilal"})).unwrap();
        assert_eq!((added.name.as_str(), added.handle), ("Bilal", None));
        let unlock: Unlock = serde_json::from_value(json!({"passphrase": "p"})).unwrap();
        assert_eq!(unlock.passphrase, "p");
    }

    #[test]
    fn a_reading_is_its_kind_and_the_value_as_typed() {
        let r: NewReading = serde_json::from_value(json!({"kind": "bp", "value": "132/84"})).unwrap();
        assert_eq!(
            (r.kind, r.value.as_str(), r.fasting),
            (crate::reading::Kind::Bp, "132/84", false)
        );
        assert_eq!(
            round_trip(NewReading {
                kind: crate::reading::Kind::Glucose,
                value: "7.8".into(),
                unit: Some("mmol/L".into()),
                fasting: true,
                at: Some("2026-11-30".into()),
            }),
            json!({"kind": "glucose", "value": "7.8", "unit": "mmol/L", "fasting": true, "at": "2026-11-30"})
        );
    }

    #[test]
    fn small_answers() {
        assert_eq!(round_trip(Locked { locked: true }), json!({"locked": true}));
        assert_eq!(round_trip(Changed { changed: true }), json!({"changed": true}));
        assert_eq!(
            round_trip(Discarded {
                discarded: "x".into()
            }),
            json!({"discarded": "x"})
        );
        assert_eq!(
            round_trip(Saved {
                added: 1,
                duplicates: 2
            }),
            json!({"added": 1, "duplicates": 2})
        );
        assert_eq!(
            round_trip(Deleted {
                deleted: "ab".into(),
                title: "t".into()
            }),
            json!({"deleted": "ab", "title": "t"})
        );
        assert_eq!(
            round_trip(Imported {
                file: "f.json".into(),
                added: 3,
                duplicates: 0,
                filled: None,
                fill_offer: None,
                checks: Vec::new(),
            }),
            json!({"file": "f.json", "added": 3, "duplicates": 0})
        );
    }

    #[test]
    fn summary_of() {
        round_trip(SummaryOf {
            profile: profile(),
            summary: Summary::default(),
        });
    }

    fn row() -> RecordRow {
        RecordRow {
            id: "r1".into(),
            resource_type: "Observation".into(),
            date: Some("2026-01-02".into()),
            title: "HbA1c: 6.9 %".into(),
            hi_type: HiType::DiagnosticReport,
            status: Some("final".into()),
            source: "imported from lab.json".into(),
            document: None,
            vouched_by: None,
        }
    }

    #[test]
    fn record_row_uses_fhir_words() {
        let json = round_trip(row());
        assert_eq!(json["type"], "Observation");
        assert_eq!(
            json["hi_type"],
            serde_json::to_value(HiType::DiagnosticReport).unwrap()
        );
    }

    #[test]
    fn record_detail_is_the_row_and_more() {
        let json = round_trip(RecordDetail {
            about: row(),
            profile: Some("me".into()),
            sha256: "00".into(),
            added: 5,
            resource: json!({"resourceType": "Observation"}),
            attachment: Some(Attachment {
                data: "JVBERi0=".into(),
                content_type: Some("application/pdf".into()),
                title: None,
            }),
            outline: None,
        });
        assert_eq!(
            (json["about"]["id"].clone(), json["added"].clone()),
            (json!("r1"), json!(5))
        );
    }

    #[test]
    fn series() {
        round_trip(Series {
            code: "http://loinc.org|85354-9".into(),
            title: Some("Blood pressure".into()),
            labels: vec!["Systolic".into(), "Diastolic".into()],
            points: vec![Point {
                at: 1,
                values: vec![132.0, 84.0],
            }],
            unit: Some("mm[Hg]".into()),
            low: None,
            high: Some(120.0),
        });
    }

    #[test]
    fn new_share_needs_only_purpose_and_time() {
        let share: NewShare = serde_json::from_value(json!({"purpose": "CAREMGT", "seconds": 600})).unwrap();
        assert_eq!(
            share,
            NewShare {
                purpose: "CAREMGT".into(),
                seconds: 600,
                ..NewShare::default()
            }
        );
        round_trip(share);
    }

    #[test]
    fn share_rows_carry_the_link_only_when_given() {
        assert!(round_trip(share_row(None)).get("link").is_none());
        assert_eq!(round_trip(share_row(Some("AMANAT:x")))["link"], "AMANAT:x");
        round_trip(CreatedShare {
            link: "AMANAT:x".into(),
            qr_version: 9,
            grant: share_row(Some("AMANAT:x")),
            records: vec![SharedRecord {
                id: "r1".into(),
                resource_type: "Condition".into(),
                title: "Diabetes".into(),
            }],
        });
    }

    #[test]
    fn audit_rows_are_worded_in_the_readers_language() {
        use crate::audit::{Actor, Event};
        let entry = AuditEntry {
            seq: 1,
            time: 0,
            actor: Actor::Patient,
            event: Event::PassphraseChanged,
            prev: [0; 32],
            hash: [0; 32],
        };
        let row = round_trip(AuditRow::new(Ok(&entry), Lang::Ur));
        assert_eq!(
            row,
            json!({"seq": 1, "time": 0, "who": "آپ", "what": "پاس فریز تبدیل کیا"})
        );
        let bad = round_trip(AuditRow::new(Err(&"entry 2 does not open"), Lang::En));
        assert_eq!(bad["what"], "entry 2 does not open");
        assert_eq!(bad["seq"], Value::Null);
        assert_eq!(
            round_trip(AuditCheck {
                intact: true,
                entries: Some(4),
                error: None
            }),
            json!({"intact": true, "entries": 4})
        );
    }

    #[test]
    fn plugins() {
        round_trip(PluginRow {
            name: "claims".into(),
            version: "1.0.0".into(),
            publisher: "Insurer".into(),
            publisher_words: "nobody you trust vouches for this publisher".into(),
            publisher_vouched: false,
            description: "files claims".into(),
            signed: true,
            kind: "insurer".into(),
            permissions: vec!["read your Condition records".into()],
            actions: vec![ActionInfo {
                name: "claim".into(),
                description: "prepare a claim".into(),
                takes_file: false,
                takes_records: true,
            }],
        });
        let run: RunPlugin = serde_json::from_value(json!({"action": "claim"})).unwrap();
        assert_eq!(run.action, "claim");
        round_trip(run);
        round_trip(PluginRun {
            run_id: "x".into(),
            message: "done".into(),
            proposed: vec![Proposed {
                resource_type: "Claim".into(),
                title: "Claim".into(),
                signed: false,
            }],
            document: Some(Document {
                name: "a.ics".into(),
                media_type: "text/calendar".into(),
                base64: "QQ==".into(),
            }),
            logs: vec![("info".into(), "hello".into())],
        });
    }

    #[test]
    fn secrets_in_requests() {
        let change: ChangePassphrase = serde_json::from_value(json!({"current": "a", "new": "b"})).unwrap();
        assert_eq!((change.current.as_str(), change.new.as_str()), ("a", "b"));
        let export: Export = serde_json::from_value(json!({"passphrase": "p"})).unwrap();
        assert_eq!((export.profile, export.passphrase.as_str()), (None, "p"));
    }
}
