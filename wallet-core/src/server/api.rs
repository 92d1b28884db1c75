//! The JSON API under `/api/`: the same library calls as the CLI, nothing more.

use std::sync::{Arc, Mutex};

use age::secrecy::SecretString;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use base64::Engine;
use serde::Deserialize;

use super::{AppState, PendingRun, lock};
use crate::audit::Actor;
use crate::contract::{
    ApproveRequest, AuditCheck, AuditRow, CardOf, ChangePassphrase, Changed, CheckedIn, CreatedShare,
    Deleted, Discarded, Document, EmergencyCard, Entered, ErrorBody, Export, FacilityDetail, Imported, Init,
    Locked, NewEmergencyCard, NewProfile, NewReading, NewShare, OpenRequest, PluginRow, PluginRun,
    PrintSummary, ProfileInfo, Proposed, RecordDetail, RecordRow, RequestDetail, RequestRow, RunPlugin,
    Saved, ScanShare, Series, Session, Settings, ShareRow, SignIn, Status, SummaryOf, Unlock,
};
use crate::ids::ProfileId;
use crate::profile::{Profile, Relationship};
use crate::share::Passcode;
use crate::share::grant::{AccessMode, Purpose};
use crate::share::{emergency, manage};
use crate::vault::{CreateOptions, Query, Vault, VaultError};

/// A refusal: HTTP status and `{"error": code, "message": words}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad request", message)
    }

    fn locked() -> ApiError {
        ApiError::new(
            StatusCode::LOCKED,
            "locked",
            "the wallet is locked: unlock it with your passphrase",
        )
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.code.into(),
                message: self.message,
            }),
        )
            .into_response()
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> ApiError {
        let (status, code) = match &e {
            VaultError::WrongPassphrase(_) => (StatusCode::FORBIDDEN, "wrong passphrase"),
            VaultError::InUse(_) => (StatusCode::CONFLICT, "in use"),
            VaultError::NotFound(_) => (StatusCode::NOT_FOUND, "no wallet"),
            VaultError::AlreadyExists(_) => (StatusCode::CONFLICT, "exists"),
            VaultError::NotEmpty(_) => (StatusCode::CONFLICT, "not empty"),
            VaultError::RecordNotFound(_) | VaultError::ProfileNotFound(_) | VaultError::ShareNotFound(_) => {
                (StatusCode::NOT_FOUND, "not found")
            }
            VaultError::Integrity(_) => (StatusCode::UNPROCESSABLE_ENTITY, "integrity"),
            VaultError::AmbiguousId(..) | VaultError::ProfileExists(_) | VaultError::ProfileNotEmpty(..) => {
                (StatusCode::BAD_REQUEST, "bad request")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<manage::SharingError> for ApiError {
    fn from(e: manage::SharingError) -> ApiError {
        match e {
            manage::SharingError::Vault(v) => v.into(),
            manage::SharingError::Relay(r) => ApiError::new(StatusCode::BAD_GATEWAY, "relay", r.to_string()),
            other => ApiError::bad(other.to_string()),
        }
    }
}

impl From<crate::requests::RequestsError> for ApiError {
    fn from(e: crate::requests::RequestsError) -> ApiError {
        use crate::requests::RequestsError;
        match e {
            RequestsError::Vault(v) => v.into(),
            RequestsError::Sharing(s) => s.into(),
            RequestsError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "not found", e.to_string()),
            RequestsError::Answered { .. } | RequestsError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, "answered", e.to_string())
            }
            RequestsError::Request(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", e.to_string())
            }
            other => ApiError::bad(other.to_string()),
        }
    }
}

impl From<crate::scan_share::ScanShareError> for ApiError {
    fn from(e: crate::scan_share::ScanShareError) -> ApiError {
        use crate::scan_share::ScanShareError;
        match e {
            ScanShareError::Vault(v) => v.into(),
            ScanShareError::Sharing(s) => s.into(),
            ScanShareError::Card(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", e.to_string())
            }
            ScanShareError::QueueFull(_) => ApiError::new(StatusCode::CONFLICT, "queue full", e.to_string()),
        }
    }
}

impl From<crate::plugin::PluginError> for ApiError {
    fn from(e: crate::plugin::PluginError) -> ApiError {
        match e {
            crate::plugin::PluginError::Vault(v) => v.into(),
            crate::plugin::PluginError::NotInstalled(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not found", e.to_string())
            }
            crate::plugin::PluginError::Usage(words) => ApiError::bad(words),
            crate::plugin::PluginError::Mismatch(m) => ApiError::new(
                StatusCode::CONFLICT,
                "patient mismatch",
                format!("{m}: choose that person's profile, or save them if they are theirs"),
            ),
            other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin", other.to_string()),
        }
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Runs `f` on the open wallet, on a blocking thread.
async fn with_vault<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&mut Vault) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let vault = state.vault().ok_or_else(ApiError::locked)?;
    tokio::task::spawn_blocking(move || {
        let mut v = lock(&vault);
        f(&mut v)
    })
    .await
    .map_err(ApiError::internal)?
}

#[derive(Deserialize, Default)]
struct ProfileParam {
    profile: Option<String>,
}

fn profile_id(v: &Vault, handle: Option<&str>) -> Result<ProfileId, ApiError> {
    Ok(profile_of(v, handle)?.id)
}

/// The profile a request names by handle (the owner when it names none).
fn profile_of<'v>(v: &'v Vault, handle: Option<&str>) -> Result<&'v Profile, ApiError> {
    Ok(v.profile(handle.filter(|h| !h.is_empty()))?)
}

/// The one route open without the session token: trading a login code for it.
pub(super) fn session_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/session", post(sign_in))
        .layer(axum::extract::DefaultBodyLimit::max(1024))
}

async fn sign_in(State(state): State<Arc<AppState>>, Json(b): Json<SignIn>) -> ApiResult<Session> {
    match state.opts.sessions.redeem(&b.code) {
        Some(token) => Ok(Json(Session { token: token.into() })),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this sign-in link was used already or is more than a minute old: press Enter where `amanat serve` runs for a new one",
        )),
    }
}

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/status", get(status))
        .route("/init", post(init))
        .route("/unlock", post(unlock))
        .route("/lock", post(lock_wallet))
        .route("/profiles", get(profiles).post(add_profile))
        .route("/summary", get(summary))
        .route("/summary/pdf", post(print_summary))
        .route("/emergency-card", get(emergency_card).post(make_emergency_card))
        .route("/emergency-card/revoke", post(revoke_emergency_card))
        .route("/emergency-card/pdf", post(print_emergency_card))
        .route("/records", get(records))
        .route("/records/{id}", get(record).delete(delete_record))
        .route("/import", post(import))
        .route("/series", get(series))
        .route("/readings", post(add_reading))
        .route("/shares", post(create_share))
        .route("/grants", get(shares))
        .route("/grants/{id}/revoke", post(revoke))
        .route("/requests", get(consent_requests).post(open_request))
        .route("/requests/{id}", get(consent_request))
        .route("/requests/{id}/approve", post(approve_request))
        .route("/requests/{id}/deny", post(deny_request))
        .route("/scan-share", post(scan_facility_card))
        .route("/scan-share/approve", post(scan_and_share))
        .route("/audit", get(audit))
        .route("/audit/verify", get(verify))
        .route("/plugins", get(plugins))
        .route("/plugins/{name}/run", post(run_plugin))
        .route("/plugin-runs/{id}", post(save_run).delete(discard_run))
        .route("/passphrase", post(passphrase))
        .route("/settings", get(settings).post(change_settings))
        .route("/export", post(export))
        .route("/{*rest}", delete(not_found).get(not_found).post(not_found))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found", "no such API endpoint")
}

/// Every profile of the wallet, as of today.
fn profile_infos(v: &Vault) -> Vec<ProfileInfo> {
    let (owner, today) = (v.owner().id, v.clock().today());
    v.profiles()
        .iter()
        .map(|p| ProfileInfo::new(p, p.id == owner, &today))
        .collect()
}

async fn status(State(state): State<Arc<AppState>>) -> ApiResult<Status> {
    let exists = crate::vault::exists(&state.opts.vault_dir);
    let Some(vault) = state.vault() else {
        return Ok(Json(Status {
            exists,
            locked: true,
            ..Status::default()
        }));
    };
    let body = tokio::task::spawn_blocking(move || {
        let v = lock(&vault);
        Status {
            exists: true,
            locked: false,
            wallet_id: Some(v.wallet_id().to_string()),
            records: Some(v.record_count()),
            profiles: profile_infos(&v),
        }
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(body))
}

fn optional(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

async fn init(State(state): State<Arc<AppState>>, Json(body): Json<Init>) -> ApiResult<Status> {
    if body.passphrase.chars().count() < 8 {
        return Err(ApiError::bad("a passphrase needs at least 8 characters"));
    }
    let owner = NewProfile {
        relationship: None,
        ..body.owner
    }
    .build(&state.opts.clock.today(), Relationship::Owner)
    .map_err(|e| ApiError::bad(e.to_string()))?;
    let dir = state.opts.vault_dir.clone();
    let (kdf, clock) = (state.opts.kdf_log_n, state.opts.clock);
    let pass = SecretString::from(body.passphrase);
    let vault = tokio::task::spawn_blocking(move || {
        Vault::create(
            &dir,
            &pass,
            CreateOptions {
                kdf_log_n: kdf,
                owner,
                clock,
            },
        )
    })
    .await
    .map_err(ApiError::internal)??;
    *lock(&state.vault) = Some(Arc::new(Mutex::new(vault)));
    status(State(state)).await
}

async fn unlock(State(state): State<Arc<AppState>>, Json(body): Json<Unlock>) -> ApiResult<Status> {
    if state.vault().is_none() {
        let dir = state.opts.vault_dir.clone();
        let pass = SecretString::from(body.passphrase);
        let clock = state.opts.clock;
        let vault = tokio::task::spawn_blocking(move || Vault::open(&dir, &pass))
            .await
            .map_err(ApiError::internal)??
            .with_clock(clock);
        *lock(&state.vault) = Some(Arc::new(Mutex::new(vault)));
    }
    status(State(state)).await
}

async fn lock_wallet(State(state): State<Arc<AppState>>) -> ApiResult<Locked> {
    lock(&state.vault).take();
    lock(&state.pending).clear();
    Ok(Json(Locked { locked: true }))
}

async fn profiles(State(state): State<Arc<AppState>>) -> ApiResult<Vec<ProfileInfo>> {
    with_vault(&state, |v| Ok(Json(profile_infos(v)))).await
}

async fn add_profile(
    State(state): State<Arc<AppState>>,
    Json(draft): Json<NewProfile>,
) -> ApiResult<ProfileInfo> {
    let today = state.opts.clock.today();
    let profile = draft
        .build(&today, Relationship::Child)
        .map_err(|e| ApiError::bad(e.to_string()))?;
    with_vault(&state, move |v| {
        let info = ProfileInfo::new(&profile, false, &today);
        v.add_profile(profile)?;
        Ok(Json(info))
    })
    .await
}

async fn summary(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ProfileParam>,
) -> ApiResult<SummaryOf> {
    with_vault(&state, move |v| {
        let profile = profile_of(v, p.profile.as_deref())?.clone();
        let id = profile.id;
        let metas = v.list(&Query {
            profile: Some(id),
            ..Query::default()
        })?;
        Ok(Json(SummaryOf {
            profile: ProfileInfo::new(&profile, id == v.owner().id, &v.clock().today()),
            summary: crate::summary::Summary::from_metas(&metas),
        }))
    })
    .await
}

#[derive(Deserialize, Default)]
struct ListParams {
    profile: Option<String>,
    #[serde(rename = "type")]
    types: Option<String>,
    search: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
}

async fn records(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ListParams>,
) -> ApiResult<Vec<RecordRow>> {
    use crate::fhir::date::parse_bound;
    let since = optional(p.since)
        .map(|d| parse_bound(&d, false))
        .transpose()
        .map_err(|e| ApiError::bad(e.to_string()))?;
    let until = optional(p.until)
        .map(|d| parse_bound(&d, true))
        .transpose()
        .map_err(|e| ApiError::bad(e.to_string()))?;
    with_vault(&state, move |v| {
        let query = Query {
            profile: Some(profile_id(v, p.profile.as_deref())?),
            types: p
                .types
                .iter()
                .flat_map(|t| t.split(','))
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            since,
            until,
            text: optional(p.search),
            limit: p.limit.filter(|l| *l > 0),
        };
        let rows = crate::record::beneath_documents(v.list(&query)?)
            .into_iter()
            .map(|(m, document)| RecordRow {
                document: document.map(|d| d.to_string()),
                ..RecordRow::from(&m)
            })
            .collect();
        Ok(Json(rows))
    })
    .await
}

async fn record(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<RecordDetail> {
    with_vault(&state, move |v| {
        let r = v.get(v.resolve_id(&id)?)?;
        let profile = v.profile_by_id(r.meta.profile).map(|p| p.handle.clone());
        let document = v.document_of(&r.meta)?;
        let source = r.meta.source_words(document.as_ref());
        let document = document.map(|d| d.id.to_string());
        Ok(Json(RecordDetail::new(
            &r.meta,
            &r.resource,
            profile,
            source,
            document,
        )))
    })
    .await
}

async fn delete_record(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<Deleted> {
    with_vault(&state, move |v| {
        let rid = v.resolve_id(&id)?;
        let removed = v.delete(rid)?;
        Ok(Json(Deleted {
            deleted: id,
            title: removed.title,
        }))
    })
    .await
}

/// `?profile=` (the records' profile; when absent, the owner's, or the
/// profile the file's `Patient` clearly is), `?accept_mismatch=true` and
/// `?fill_profile=true`.
#[derive(Deserialize)]
struct ImportParams {
    profile: Option<String>,
    #[serde(default)]
    accept_mismatch: bool,
    /// Fill a profile made without a name from the file's `Patient`.
    #[serde(default)]
    fill_profile: bool,
    /// Save a signed prescription a pharmacy plugin warns about (an allergy).
    #[serde(default)]
    accept_warnings: bool,
}

/// A reading the patient typed into the quick form; an impossible value or
/// a unit that does not measure it is refused (422) and nothing is saved.
async fn add_reading(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ProfileParam>,
    Json(reading): Json<NewReading>,
) -> ApiResult<Entered> {
    with_vault(&state, move |v| {
        let who = profile_of(v, p.profile.as_deref())?;
        let id = who.id;
        let record = crate::reading::record(&reading, who, v.clock().now())
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad reading", e.to_string()))?;
        let meta = v.add_entered(id, record)?;
        v.checkpoint()?;
        Ok(Json(Entered::from(&meta)))
    })
    .await
}

async fn import(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Imported> {
    let name = headers
        .get("x-file-name")
        .and_then(|h| h.to_str().ok())
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
        .unwrap_or_else(|| "upload".into());
    let fill = p.fill_profile;
    let file = name.clone();
    let (records, into, prescriptions) = with_vault(&state, move |v| {
        let profile = profile_id(v, p.profile.as_deref())?;
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(v.age_identity().clone())];
        let records = crate::import::records_from_bytes(&file, &body, &ids, &v.trusted()?, v.clock().now())
            .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid file",
                format!("{file}: {e}"),
            )
        })?;
        let chosen = v
            .profile_by_id(profile)
            .ok_or_else(|| ApiError::bad("no such profile"))?;
        let into = crate::matching::destination(
            v.profiles(),
            chosen,
            p.profile.is_some(),
            &records,
            p.accept_mismatch,
        )
        .map_err(|m| {
            ApiError::new(
                StatusCode::CONFLICT,
                "patient mismatch",
                format!("{file}: {m}: choose that person's profile, or import it if it is theirs"),
            )
        })?
        .clone();
        let prescriptions = crate::plugin::signed_prescriptions(&records);
        let checked = !prescriptions.is_empty() && crate::plugin::pharmacy_checks_installed(v)?;
        Ok((records, into, if checked { prescriptions } else { Vec::new() }))
    })
    .await?;
    // A signed prescription is checked by the pharmacy plugins first (the
    // vault unlocked meanwhile: a plugin run locks it itself); a warning of
    // an allergy keeps it unsaved until the patient says to save it anyway.
    let checks = if prescriptions.is_empty() {
        Vec::new()
    } else {
        let vault = state.vault().ok_or_else(ApiError::locked)?;
        let runtime = state.plugins()?;
        let handle = into.handle.clone();
        tokio::task::spawn_blocking(move || {
            crate::plugin::check_prescriptions(&runtime, &vault, Some(&handle), &prescriptions)
        })
        .await
        .map_err(ApiError::internal)??
    };
    let words: Vec<String> = checks
        .iter()
        .map(|f| format!("{}: {}", f.plugin, f.message))
        .collect();
    if checks.iter().any(|f| f.hazard) && !p.accept_warnings {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "pharmacy warning",
            format!(
                "{name}: not saved. {} Ask your doctor; save it anyway only if they say so.",
                words.join(" ")
            ),
        ));
    }
    with_vault(&state, move |v| {
        // A blank profile is filled from the file's patient only when asked;
        // otherwise the answer offers it, in words.
        let (mut filled, mut fill_offer) = (None, None);
        if let Some(patient) = crate::matching::file_patient(&records)
            && let Some(profile) = crate::matching::filled(&into, &patient, &v.clock().today())
        {
            let details = crate::matching::describe_profile(&profile);
            if fill {
                v.fill_profile(profile, &name)?;
                filled = Some(details);
            } else {
                fill_offer = Some(details);
            }
        }
        let (added, duplicates) = v.import_records(into.id, records, Actor::Patient, &name, |_| {})?;
        if added > 0 {
            v.checkpoint()?;
        }
        Ok(Json(Imported {
            file: name,
            added,
            duplicates,
            filled,
            fill_offer,
            checks: words,
        }))
    })
    .await
}

#[derive(Deserialize)]
struct SeriesParams {
    profile: Option<String>,
    code: String,
}

/// Every value of one measurement, oldest first: the data behind a trend chart.
async fn series(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<SeriesParams>,
) -> ApiResult<Series> {
    with_vault(&state, move |v| {
        let profile = profile_id(v, p.profile.as_deref())?;
        let mut metas = v.list(&Query {
            profile: Some(profile),
            types: vec!["Observation".into()],
            ..Query::default()
        })?;
        metas.retain(|m| m.codes.first() == Some(&p.code) && !m.values.is_empty());
        metas.reverse();
        let first = metas.last().and_then(|m| m.values.first().cloned());
        let points = metas
            .iter()
            .map(|m| crate::summary::Point {
                at: m.sort_key,
                values: m.values.iter().map(|x| x.value).collect(),
            })
            .collect();
        let labels: Vec<String> = metas
            .last()
            .map(|m| m.values.iter().map(|x| x.label.clone()).collect())
            .unwrap_or_default();
        let title = metas
            .last()
            .map(|m| m.title.split(':').next().unwrap_or(&m.title).to_string());
        Ok(Json(Series {
            code: p.code,
            title,
            labels,
            points,
            unit: first.as_ref().map(|f| f.unit.clone()),
            low: first.as_ref().and_then(|f| f.low),
            high: first.as_ref().and_then(|f| f.high),
        }))
    })
    .await
}

async fn create_share(
    State(state): State<Arc<AppState>>,
    Json(b): Json<NewShare>,
) -> ApiResult<CreatedShare> {
    let purpose: Purpose = b.purpose.parse().map_err(ApiError::bad)?;
    let mode: AccessMode = b
        .mode
        .as_deref()
        .unwrap_or("view")
        .parse()
        .map_err(ApiError::bad)?;
    let now = state.opts.clock.now();
    let prepared = with_vault(&state, move |v| {
        let request = manage::ShareRequest {
            profile: profile_id(v, b.profile.as_deref())?,
            selection: manage::Selection {
                details_only: false,
                ids: b.ids,
                types: b.types,
                since: None,
                summary: b.summary,
            },
            purpose,
            mode,
            seconds: b.seconds,
            to: optional(b.to),
            uses: b.uses,
            passcode: optional(b.passcode).map(|p| Passcode::Chosen(SecretString::from(p))),
            relay: optional(b.relay),
            viewer: optional(b.viewer),
            shl: b.shl.then(manage::ShlOptions::default),
            answering: None,
        };
        Ok(manage::prepare(v, request, now)?)
    })
    .await?;
    let relay_url = manage::upload(&prepared, state.opts.clock).await?;
    let created = with_vault(&state, move |v| Ok(manage::finish(v, prepared, relay_url, now)?)).await?;
    Ok(Json(created.answer(now)))
}

async fn consent_requests(State(state): State<Arc<AppState>>) -> ApiResult<Vec<RequestRow>> {
    let now = state.opts.clock.now();
    with_vault(&state, move |v| Ok(Json(crate::requests::list(v, now)?))).await
}

/// A request scanned or pasted: verified, kept, shown with the records of
/// the chosen profile it covers.
async fn open_request(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ProfileParam>,
    Json(b): Json<OpenRequest>,
) -> ApiResult<RequestDetail> {
    let now = state.opts.clock.now();
    with_vault(&state, move |v| {
        let profile = profile_id(v, p.profile.as_deref())?;
        Ok(Json(crate::requests::open(v, &b.text, profile, now)?))
    })
    .await
}

async fn consent_request(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    QueryParams(p): QueryParams<ProfileParam>,
) -> ApiResult<RequestDetail> {
    let now = state.opts.clock.now();
    with_vault(&state, move |v| {
        let profile = profile_id(v, p.profile.as_deref())?;
        Ok(Json(crate::requests::detail(v, &id, profile, now)?))
    })
    .await
}

/// Approves a request (narrowed as the patient chose): the share to the
/// provider who asked, uploaded to the request's relay or shown back.
async fn approve_request(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(b): Json<ApproveRequest>,
) -> ApiResult<CreatedShare> {
    let now = state.opts.clock.now();
    let prepared = with_vault(&state, move |v| {
        let profile = profile_id(v, b.profile.as_deref())?;
        let narrowing = crate::requests::Narrowing {
            types: (!b.types.is_empty()).then_some(b.types),
            since: optional(b.since),
            seconds: b.seconds,
            offline: b.offline,
        };
        Ok(crate::requests::approve(v, &id, profile, &narrowing, now)?)
    })
    .await?;
    let relay_url = manage::upload(&prepared, state.opts.clock).await?;
    let created = with_vault(&state, move |v| {
        Ok(crate::requests::finish(v, prepared, relay_url, now)?)
    })
    .await?;
    Ok(Json(created.answer(now)))
}

/// A facility's Scan & Share card, verified, and what the profile would
/// give it: nothing is shared.
async fn scan_facility_card(
    State(state): State<Arc<AppState>>,
    Json(b): Json<ScanShare>,
) -> ApiResult<FacilityDetail> {
    let now = state.opts.clock.now();
    with_vault(&state, move |v| {
        let profile = profile_id(v, b.profile.as_deref())?;
        let opened = crate::scan_share::open(v, &b.text, now)?;
        Ok(Json(crate::scan_share::detail(v, &opened, profile, now)?))
    })
    .await
}

/// Scan & Share: the profile's details to the facility, under the first
/// free token at its relay (the vault is locked only to seal each try).
async fn scan_and_share(
    State(state): State<Arc<AppState>>,
    Json(b): Json<ScanShare>,
) -> ApiResult<CheckedIn> {
    let now = state.opts.clock.now();
    let (opened, profile) = with_vault(&state, move |v| {
        let profile = profile_id(v, b.profile.as_deref())?;
        Ok((crate::scan_share::open(v, &b.text, now)?, profile))
    })
    .await?;
    let vault = state.vault().ok_or_else(ApiError::locked)?;
    let (token, prepared, url) = crate::scan_share::deliver(
        &opened,
        now,
        |token| crate::scan_share::prepare(&lock(&vault), &opened, profile, token, now),
        state.opts.clock,
    )
    .await?;
    with_vault(&state, move |v| {
        Ok(Json(crate::scan_share::finish(
            v, &opened, token, prepared, url, now,
        )?))
    })
    .await
}

async fn deny_request(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<RequestRow> {
    let now = state.opts.clock.now();
    with_vault(&state, move |v| Ok(Json(crate::requests::deny(v, &id, now)?))).await
}

/// The summary as a PDF with the QR code of a new share of its records
/// (the CLI's `summary --pdf`).
async fn print_summary(
    State(state): State<Arc<AppState>>,
    Json(b): Json<PrintSummary>,
) -> Result<Response, ApiError> {
    use crate::print;
    // Fonts first: a missing font must not leave a share behind.
    let fonts = load_fonts()?;
    let now = state.opts.clock.now();
    let seconds = b.seconds.unwrap_or(print::SUMMARY_SECONDS);
    let profile = b.profile.clone();
    let relay = optional(b.relay);
    let prepared = with_vault(&state, move |v| {
        let id = profile_id(v, profile.as_deref())?;
        Ok(manage::prepare(v, print::summary_share(id, relay, seconds), now)?)
    })
    .await?;
    let relay_url = manage::upload(&prepared, state.opts.clock).await?;
    let (pdf, handle) = with_vault(&state, move |v| {
        let created = manage::finish(v, prepared, relay_url, now)?;
        let profile = v
            .profile_by_id(created.grant.profile)
            .cloned()
            .ok_or_else(|| ApiError::bad("no such profile"))?;
        let metas = v.list(&Query {
            profile: Some(profile.id),
            ..Query::default()
        })?;
        let today = v.clock().today();
        let paper = print::Paper {
            profile: &profile,
            lang: b.lang,
            today: &today,
            link: &created.link,
            expires: created.grant.expires,
        };
        let printout = print::summary_pdf(&fonts, &paper, &crate::summary::Summary::from_metas(&metas))
            .map_err(ApiError::internal)?;
        Ok((printout.pdf, profile.handle))
    })
    .await?;
    Ok(pdf_response(pdf, &format!("amanat-{handle}-summary.pdf")))
}

/// The profile's emergency card in force, with its openings brought up to
/// date from the relay; `null` when it has none.
async fn emergency_card(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ProfileParam>,
) -> ApiResult<Option<EmergencyCard>> {
    let now = state.opts.clock.now();
    let (card, key) = with_vault(&state, move |v| {
        let id = profile_id(v, p.profile.as_deref())?;
        Ok((emergency::current(v, id, now)?, v.signing_key().clone()))
    })
    .await?;
    let Some(card) = card else {
        return Ok(Json(None));
    };
    // A relay that does not answer leaves the openings as last known.
    let (statuses, _) = manage::relay_statuses(std::slice::from_ref(&card), &key, state.opts.clock).await?;
    drop(key);
    with_vault(&state, move |v| {
        let mut cards = [card];
        manage::record_statuses(v, &mut cards, &statuses)?;
        let [card] = cards;
        let profile = v
            .profile_by_id(card.profile)
            .cloned()
            .ok_or_else(|| ApiError::bad("no such profile"))?;
        let facts = emergency::facts(v, &profile, card.emergency.clone().unwrap_or_default())?;
        Ok(Json(Some(emergency::card(v, &card, facts)?)))
    })
    .await
}

/// Makes the profile's emergency card, or renews it: the new card exists
/// before the one before stops opening.
async fn make_emergency_card(
    State(state): State<Arc<AppState>>,
    Json(b): Json<NewEmergencyCard>,
) -> ApiResult<EmergencyCard> {
    let Some(relay) = optional(Some(b.relay)) else {
        return Err(ApiError::bad(
            "an emergency card's QR code needs a relay: give its address",
        ));
    };
    let now = state.opts.clock.now();
    let (prepared, facts, before, key) = with_vault(&state, move |v| {
        let profile = profile_of(v, b.profile.as_deref())?.clone();
        let id = profile.id;
        let before = emergency::current(v, id, now)?;
        let (prepared, facts) = emergency::prepare(v, &profile, before.as_ref(), b.contacts, &relay, now)?;
        Ok((prepared, facts, before, v.signing_key().clone()))
    })
    .await?;
    let relay_url = manage::upload(&prepared, state.opts.clock).await?;
    if let Some(old) = &before {
        manage::revoke_at_relay(old, &key, state.opts.clock).await?;
    }
    drop(key);
    with_vault(&state, move |v| {
        let created = manage::finish(v, prepared, relay_url, now)?;
        if let Some(mut old) = before {
            manage::mark_revoked(v, &mut old)?;
        }
        Ok(Json(emergency::card(v, &created.grant, facts)?))
    })
    .await
}

/// Revokes the profile's emergency card: its QR code opens nothing from now on.
async fn revoke_emergency_card(
    State(state): State<Arc<AppState>>,
    Json(b): Json<CardOf>,
) -> ApiResult<ShareRow> {
    let now = state.opts.clock.now();
    let (card, key) = with_vault(&state, move |v| {
        let id = profile_id(v, b.profile.as_deref())?;
        Ok((emergency::current(v, id, now)?, v.signing_key().clone()))
    })
    .await?;
    let card = card.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not found",
            "there is no emergency card in force",
        )
    })?;
    manage::revoke_at_relay(&card, &key, state.opts.clock).await?;
    drop(key);
    with_vault(&state, move |v| {
        let mut card = card;
        manage::mark_revoked(v, &mut card)?;
        Ok(Json(manage::row(&card, now, true)))
    })
    .await
}

/// The emergency card in force as a PDF (the CLI's `emergency-card --pdf`).
async fn print_emergency_card(
    State(state): State<Arc<AppState>>,
    Json(b): Json<CardOf>,
) -> Result<Response, ApiError> {
    let fonts = load_fonts()?;
    let now = state.opts.clock.now();
    let (pdf, handle) = with_vault(&state, move |v| {
        let profile = profile_of(v, b.profile.as_deref())?.clone();
        let id = profile.id;
        let card = emergency::current(v, id, now)?.ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not found",
                "there is no emergency card in force",
            )
        })?;
        let facts = emergency::facts(v, &profile, card.emergency.clone().unwrap_or_default())?;
        let today = v.clock().today();
        let paper = crate::print::Paper {
            profile: &profile,
            lang: b.lang,
            today: &today,
            link: &card.link,
            expires: card.expires,
        };
        let printout = crate::print::emergency_pdf(&fonts, &paper, &facts).map_err(ApiError::internal)?;
        Ok((printout.pdf, profile.handle))
    })
    .await?;
    Ok(pdf_response(pdf, &format!("amanat-{handle}-emergency-card.pdf")))
}

/// The fonts printouts are set in; when missing, 503 with what to install
/// (checked before anything is made, so a failed printout leaves no share).
fn load_fonts() -> Result<crate::print::typeset::Fonts, ApiError> {
    crate::print::typeset::Fonts::load()
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no fonts", e.to_string()))
}

/// A PDF answer, shown in the browser (`inline`) under `name`.
fn pdf_response(pdf: Vec<u8>, name: &str) -> Response {
    let mut response = pdf.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The shares, with uses and accesses refreshed from their relays.
async fn shares(State(state): State<Arc<AppState>>) -> ApiResult<Vec<ShareRow>> {
    let (list, key) = with_vault(&state, |v| Ok((v.shares()?, v.signing_key().clone()))).await?;
    // A relay that does not answer leaves that share's figures as last known.
    let (statuses, _) = manage::relay_statuses(&list, &key, state.opts.clock).await?;
    drop(key);
    with_vault(&state, move |v| {
        let mut list = v.shares()?;
        manage::record_statuses(v, &mut list, &statuses)?;
        let now = v.clock().now();
        Ok(Json(list.iter().map(|g| manage::row(g, now, true)).collect()))
    })
    .await
}

async fn revoke(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<ShareRow> {
    let (grant, key) = with_vault(&state, move |v| Ok((v.share(&id)?, v.signing_key().clone()))).await?;
    manage::revoke_at_relay(&grant, &key, state.opts.clock).await?;
    drop(key);
    with_vault(&state, move |v| {
        let mut g = grant;
        if !g.revoked {
            manage::mark_revoked(v, &mut g)?;
        }
        Ok(Json(manage::row(&g, v.clock().now(), true)))
    })
    .await
}

#[derive(Deserialize, Default)]
struct LangParam {
    lang: Option<String>,
}

/// The audit log, worded in the reader's language (English for a code the
/// wallet does not speak).
async fn audit(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<LangParam>,
) -> ApiResult<Vec<AuditRow>> {
    let lang = crate::lang::Lang::from_code(p.lang.as_deref().unwrap_or_default());
    with_vault(&state, move |v| {
        Ok(Json(
            v.audit_entries()?
                .iter()
                .map(|e| AuditRow::new(e.as_ref().map_err(|err| err as &dyn std::fmt::Display), lang))
                .collect(),
        ))
    })
    .await
}

async fn verify(State(state): State<Arc<AppState>>) -> ApiResult<AuditCheck> {
    with_vault(&state, |v| Ok(Json(AuditCheck::from(v.verify_audit()?)))).await
}

async fn plugins(State(state): State<Arc<AppState>>) -> ApiResult<Vec<PluginRow>> {
    with_vault(&state, |v| {
        let registries = v.registries()?;
        Ok(Json(
            v.plugins::<crate::plugin::Installed>()?
                .iter()
                .map(|i| i.row(&registries))
                .collect(),
        ))
    })
    .await
}

async fn run_plugin(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Json(b): Json<RunPlugin>,
) -> ApiResult<PluginRun> {
    let vault = state.vault().ok_or_else(ApiError::locked)?;
    let runtime = state.plugins()?;
    let file = match b.file_base64 {
        Some(data) => Some((
            b.file_name.unwrap_or_else(|| "input".into()),
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|_| ApiError::bad("the file is not base64"))?,
        )),
        None => None,
    };
    let call = crate::plugin::Call {
        plugin: name.clone(),
        action: Some(b.action),
        profile: b.profile,
        records: b.records,
        file,
    };
    let crate::plugin::Called { profile, outcome } =
        tokio::task::spawn_blocking(move || crate::plugin::call(&runtime, &vault, call))
            .await
            .map_err(ApiError::internal)??;
    let proposed = outcome
        .proposals
        .iter()
        .map(|p| Proposed {
            resource_type: p.read.resource.resource_type().into(),
            title: p.read.description.title.clone(),
            signed: p.signed.is_some(),
        })
        .collect();
    let run_id = crate::ids::RecordId::random().to_string();
    let document = outcome
        .document
        .as_ref()
        .map(|(name, media_type, bytes)| Document {
            name: name.clone(),
            media_type: media_type.clone(),
            base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    lock(&state.pending).insert(
        run_id.clone(),
        PendingRun {
            plugin: name,
            profile,
            proposals: outcome.proposals,
        },
    );
    Ok(Json(PluginRun {
        run_id,
        message: outcome.message,
        proposed,
        document,
        logs: outcome.logs,
    }))
}

/// `?accept_mismatch=true`: save proposals about someone other than the profile.
#[derive(Deserialize)]
struct SaveParams {
    #[serde(default)]
    accept_mismatch: bool,
}

/// Saves a run's proposals; one refused as about someone else stays pending,
/// so the patient can choose to save it anyway.
async fn save_run(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    QueryParams(p): QueryParams<SaveParams>,
) -> ApiResult<Saved> {
    let run = lock(&state.pending)
        .remove(&id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not found", "no such pending run"))?;
    let keep = state.clone();
    with_vault(&state, move |v| {
        if let Err(e) = crate::plugin::check_patient(v, run.profile, &run.proposals, p.accept_mismatch) {
            lock(&keep.pending).insert(id, run);
            return Err(e.into());
        }
        let outcome = crate::plugin::save(v, &run.plugin, run.profile, run.proposals, true)?;
        Ok(Json(Saved {
            added: outcome.added.len(),
            duplicates: outcome.duplicates.len(),
        }))
    })
    .await
}

async fn discard_run(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<Discarded> {
    lock(&state.pending).remove(&id);
    Ok(Json(Discarded { discarded: id }))
}

async fn settings(State(state): State<Arc<AppState>>) -> ApiResult<Settings> {
    with_vault(&state, |v| Ok(Json(v.settings()?))).await
}

/// Saves the settings; a viewer address is checked as `share --viewer`'s is.
async fn change_settings(
    State(state): State<Arc<AppState>>,
    Json(mut b): Json<Settings>,
) -> ApiResult<Settings> {
    b.viewer = optional(b.viewer)
        .map(|v| manage::viewer_address(&v))
        .transpose()?;
    with_vault(&state, move |v| {
        v.set_settings(&b)?;
        Ok(Json(b))
    })
    .await
}

async fn passphrase(
    State(state): State<Arc<AppState>>,
    Json(b): Json<ChangePassphrase>,
) -> ApiResult<Changed> {
    if b.new.chars().count() < 8 {
        return Err(ApiError::bad("a passphrase needs at least 8 characters"));
    }
    with_vault(&state, move |v| {
        v.check_passphrase(&SecretString::from(b.current))?;
        v.change_passphrase(&SecretString::from(b.new), None)?;
        Ok(Json(Changed { changed: true }))
    })
    .await
}

async fn export(State(state): State<Arc<AppState>>, Json(b): Json<Export>) -> Result<Response, ApiError> {
    if b.passphrase.chars().count() < 8 {
        return Err(ApiError::bad("a backup passphrase needs at least 8 characters"));
    }
    let (bytes, handle) = with_vault(&state, move |v| {
        use crate::export::{ExportTo, encrypt, profile_bundle};
        let profile = profile_id(v, b.profile.as_deref())?;
        let handle = v
            .profile_by_id(profile)
            .map(|p| p.handle.clone())
            .unwrap_or_default();
        let (bundle, count) = profile_bundle(v, profile, v.clock().now()).map_err(ApiError::internal)?;
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(&bundle).map_err(ApiError::internal)?);
        let to = ExportTo::Passphrase(SecretString::from(b.passphrase), crate::vault::DEFAULT_KDF_LOG_N);
        let sealed = encrypt(&plain, &to, false).map_err(ApiError::internal)?;
        v.audit(
            Actor::Patient,
            crate::audit::Event::Exported {
                profile: handle.clone(),
                records: count as u64,
                to: "passphrase".into(),
            },
        )?;
        Ok((sealed, handle))
    })
    .await?;
    let disposition = format!("attachment; filename=\"amanat-{handle}-backup.age\"");
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
