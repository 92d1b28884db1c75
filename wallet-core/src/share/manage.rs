//! Making and managing shares from a wallet: the logic behind `amanat share`,
//! `amanat grants` and the web wallet's share wizard, in one place.
//!
//! Network steps (upload, revoke, status at a relay) are async and separate from
//! the vault steps, so a caller can run the vault parts on a blocking thread and
//! await the network in between.

use std::collections::HashSet;

use crate::audit::{Actor, Event};
use crate::clock::Clock;
use crate::contract::{CreatedShare, ShareRow};
use crate::ids::{ProfileId, RecordId};
use crate::profile::Profile;
use crate::provider::{CARD_PREFIX, ProviderCard, RegistrySnapshot};
use crate::qr::Qr;
use crate::record::{Documents, RecordMeta};
use crate::relay::{RelayError, Status};
use crate::share::grant::{AccessMode, GRANT_VERSION, Grant, Grantee, Purpose, Subject};
use crate::share::shl::{Flags, SealedShl, ShlLink};
use crate::share::{self, Lock, Passcode, SealedShare, ShareInput};
use crate::summary::Summary;
use crate::vault::{MadeShare, Query, Vault};
use age::secrecy::{ExposeSecret, SecretString};

/// Longest a share may last.
pub use crate::share::grant::MAX_SHARE_SECONDS;

/// Why a share could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SharingError {
    /// The selection or options are not usable.
    #[error("{0}")]
    Invalid(String),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// Sealing failed.
    #[error(transparent)]
    Share(#[from] crate::share::ShareError),
    /// The provider or registry is not usable.
    #[error(transparent)]
    Provider(#[from] crate::provider::ProviderError),
    /// The relay refused or failed.
    #[error(transparent)]
    Relay(#[from] RelayError),
}

/// Which records to share.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Record ids or unique prefixes.
    pub ids: Vec<String>,
    /// Every record of these FHIR or ABDM types.
    pub types: Vec<String>,
    /// With `types`: only records on or after (seconds since 1970).
    pub since: Option<i64>,
    /// The patient summary's records.
    pub summary: bool,
    /// No records: only who the patient is, as the grant says it (name,
    /// birth date, gender, national IDs) and the profile's phone. Scan &
    /// Share registers a patient at a facility with this.
    pub details_only: bool,
}

/// A share to make.
pub struct ShareRequest {
    /// Whose records.
    pub profile: ProfileId,
    /// Which.
    pub selection: Selection,
    /// Why.
    pub purpose: Purpose,
    /// View or store.
    pub mode: AccessMode,
    /// For how long, seconds.
    pub seconds: i64,
    /// A provider: card text, or a registration number from a trusted registry.
    pub to: Option<String>,
    /// Relay use limit.
    pub uses: Option<u32>,
    /// A passcode for a bearer share.
    pub passcode: Option<Passcode>,
    /// Through this relay; `None` for an offline share.
    pub relay: Option<String>,
    /// The viewer whose address the QR code carries. `None`: the relay's for
    /// a relay share, the wallet's setting for an offline one.
    pub viewer: Option<String>,
    /// Make a SMART Health Link instead of an Amanat link (needs a relay).
    pub shl: Option<ShlOptions>,
    /// The consent request this share answers (instead of `to`).
    pub answering: Option<Answering>,
}

/// A consent request a share answers ([`crate::requests`]): the share is
/// addressed to the provider who asked, its grant id is the request's id,
/// and through a relay it carries its grant inside, so the provider opens
/// it by the request's id alone.
#[derive(Debug, Clone)]
pub struct Answering {
    /// The request's id.
    pub request: String,
    /// The provider who asked.
    pub card: ProviderCard,
    /// The trusted registry that lists them, if any.
    pub registry: Option<String>,
}

/// How a SMART Health Link is made (the passcode, flag `P`, is the request's).
#[derive(Debug, Clone, Default)]
pub struct ShlOptions {
    /// Flag `L`: meant to be used again over time.
    pub long_term: bool,
    /// Flag `U`: the link's address is the file itself (no manifest, no passcode).
    pub direct: bool,
    /// Shown by viewers (at most 80 characters).
    pub label: Option<String>,
}

/// A sealed share: an Amanat link's, or a SMART Health Link's.
pub enum Sealed {
    /// Age ciphertext behind an Amanat link.
    Amanat(SealedShare),
    /// A JWE file behind a SMART Health Link.
    Link {
        /// The grant, the file and its key.
        sealed: SealedShl,
        /// `P` is set from the passcode; `L` and `U` from the request.
        flags: Flags,
        /// The link's label.
        label: Option<String>,
        /// The passcode the relay will ask for.
        passcode: Option<SecretString>,
    },
}

impl Sealed {
    /// The grant.
    pub fn grant(&self) -> &Grant {
        match self {
            Sealed::Amanat(s) => &s.grant,
            Sealed::Link { sealed, .. } => &sealed.grant,
        }
    }

    /// The grant's compact JWS.
    pub fn jws(&self) -> String {
        match self {
            Sealed::Amanat(s) => s.signed.compact(),
            Sealed::Link { sealed, .. } => sealed.signed.compact(),
        }
    }
}

/// A sealed share waiting for its relay upload (if any) and to be recorded.
pub struct Prepared {
    /// The sealed grant and records.
    pub sealed: Sealed,
    /// The records shared.
    pub records: Vec<RecordMeta>,
    /// The provider, if the share names one.
    pub provider: Option<ProviderCard>,
    /// Set for an emergency card: its contacts ([`MadeShare::emergency`]).
    pub emergency: Option<Vec<String>>,
    profile: ProfileId,
    offline: bool,
    relay: Option<String>,
    viewer: Option<String>,
}

impl Prepared {
    /// The relay to upload to, if any.
    pub fn relay(&self) -> Option<&str> {
        self.relay.as_deref()
    }
}

/// A share made.
#[derive(Debug, Clone)]
pub struct Created {
    /// The link (QR text).
    pub link: String,
    /// The grant as the wallet keeps it.
    pub grant: MadeShare,
    /// QR version at error correction M.
    pub qr_version: i16,
    /// The records shared.
    pub records: Vec<SharedRecord>,
}

pub use crate::contract::SharedRecord;

impl Created {
    /// What the local API answers: the share as [`row`] lists it, with its link.
    pub fn answer(self, now: i64) -> CreatedShare {
        CreatedShare {
            grant: row(&self.grant, now, true),
            link: self.link,
            qr_version: self.qr_version,
            records: self.records,
        }
    }
}

/// Whom a record's file was about, in words, when that is someone other
/// than `profile`'s person by the import rules ([`crate::matching::compare`]):
/// the doctor must see that this record, in this patient's share, was
/// written about someone else. `documents` are the profile's.
fn origin_elsewhere(profile: &Profile, meta: &RecordMeta, documents: &Documents) -> Option<String> {
    meta.patient_of_origin(documents.of(meta))
        .filter(|p| {
            matches!(
                crate::matching::compare(profile, p),
                crate::matching::Match::Different(_)
            )
        })
        .map(|p| p.describe())
}

/// The records a selection names, in a stable order, all of `profile`.
pub fn select(
    vault: &Vault,
    profile: ProfileId,
    selection: &Selection,
) -> Result<Vec<RecordMeta>, SharingError> {
    if selection.details_only {
        if !selection.ids.is_empty() || !selection.types.is_empty() || selection.summary {
            return Err(SharingError::Invalid(
                "a share of your details carries no records: choose one or the other".into(),
            ));
        }
        return Ok(Vec::new());
    }
    let all = vault.list(&Query {
        profile: Some(profile),
        ..Query::default()
    })?;
    let mut chosen: Vec<RecordId> = Vec::new();
    for text in &selection.ids {
        chosen.push(vault.resolve_id(text)?);
    }
    if !selection.types.is_empty() || selection.since.is_some() {
        let query = Query {
            profile: Some(profile),
            types: selection.types.clone(),
            since: selection.since,
            ..Query::default()
        };
        chosen.extend(vault.list(&query)?.iter().map(|m| m.id));
    }
    if selection.summary {
        for id in Summary::from_metas(&all).record_ids() {
            if let Ok(id) = id.parse() {
                chosen.push(id);
            }
        }
    }
    let mut seen = HashSet::new();
    chosen.retain(|id| seen.insert(*id));
    if chosen.is_empty() {
        return Err(SharingError::Invalid(
            "nothing selected to share: choose records, types, or the summary".into(),
        ));
    }
    let metas = chosen
        .into_iter()
        .map(|id| {
            all.iter()
                .find(|m| m.id == id)
                .cloned()
                .ok_or_else(|| SharingError::Invalid(format!("record {id} belongs to another profile")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::record::documents_whole(metas))
}

/// A provider from card text (or a card file's content), or a registration
/// number in a registry the wallet trusts; with the registry's name.
pub fn resolve_provider(vault: &Vault, text: &str) -> Result<(ProviderCard, Option<String>), SharingError> {
    let t = text.trim_start();
    if t.starts_with(CARD_PREFIX) || t.starts_with('{') {
        return Ok((ProviderCard::parse(text)?, None));
    }
    for (thumb, signed) in vault.registries()? {
        let (snapshot, _) = RegistrySnapshot::verify(&signed, Some(&thumb))?;
        if let Some(card) = snapshot.find(text) {
            return Ok((card.clone(), Some(snapshot.registry.clone())));
        }
    }
    Err(SharingError::Invalid(format!(
        "'{text}' is neither a provider card (AMANAT-CARD:…) nor a registration number in a registry you trust"
    )))
}

/// Who may open a share, in words.
pub fn grantee_words(to: &Grantee) -> String {
    match to {
        Grantee::Bearer => "whoever holds the QR code".into(),
        Grantee::Provider {
            name, registration, ..
        } => format!("{name} ({registration})"),
    }
}

/// A viewer's address as share codes carry it: `https://` (plain `http://`
/// only on this machine, for trying things out: the page receives the share's
/// key, so it must come unaltered from whoever the patient trusts), no
/// credentials, query or fragment; a bare host gets its `/`.
pub fn viewer_address(text: &str) -> Result<String, SharingError> {
    let text = text.trim();
    let bad = |why: &str| SharingError::Invalid(format!("the viewer address '{text}' {why}"));
    let rest = match share::web_address(text) {
        Ok(rest) => rest,
        Err(share::AddressRefusal::PlainHttp) => {
            return Err(bad(
                "must start with https:// (the page it names receives the share's key; over plain http anyone on the network could change it)",
            ));
        }
        Err(share::AddressRefusal::NotWeb) => return Err(bad("must start with https://")),
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    if let Some(c) = text
        .chars()
        .find(|c| matches!(c, '@' | '?' | '#') || c.is_whitespace() || c.is_control())
    {
        return Err(bad(&format!(
            "cannot hold {c:?} (no credentials, query or fragment)"
        )));
    }
    Ok(if rest.contains('/') {
        text.to_string()
    } else {
        format!("{text}/")
    })
}

/// The profile a share is made from.
pub(crate) fn profile_of(vault: &Vault, id: ProfileId) -> Result<&Profile, SharingError> {
    vault
        .profile_by_id(id)
        .ok_or_else(|| SharingError::Invalid("no such profile".into()))
}

/// What the grant says of the patient besides the name: the profile's birth
/// date, gender and national IDs, and its phone only in a share of the
/// details alone (`None` when it has none of them).
pub(crate) fn subject_of(profile: &Profile, details_only: bool) -> Option<Subject> {
    let mut ids = Vec::new();
    if let Some(cnic) = &profile.cnic {
        ids.push(("cnic".to_string(), cnic.to_string()));
    }
    if let Some(abha) = &profile.abha_number {
        ids.push(("abha".to_string(), abha.to_string()));
    }
    if let Some(address) = &profile.abha_address {
        ids.push(("abha-address".to_string(), address.to_string()));
    }
    let subject = Subject {
        birth_date: profile.birth_date.clone(),
        gender: profile.gender.map(|g| g.to_string()),
        ids,
        phone: profile.phone.clone().filter(|_| details_only),
    };
    (!subject.is_empty()).then_some(subject)
}

/// Selects and seals. Nothing is written yet.
pub fn prepare(vault: &Vault, request: ShareRequest, now: i64) -> Result<Prepared, SharingError> {
    if request.seconds <= 0 || request.seconds > MAX_SHARE_SECONDS {
        return Err(SharingError::Invalid(
            "a share lasts between a second and a year".into(),
        ));
    }
    if request.relay.is_none() && request.uses.is_some() {
        return Err(SharingError::Invalid(
            "a use limit needs a relay: an offline QR code cannot count how often it is opened".into(),
        ));
    }
    if let Some(shl) = &request.shl {
        if request.relay.is_none() {
            return Err(SharingError::Invalid(
                "a SMART Health Link needs a relay (--relay URL): its manifest is served from there".into(),
            ));
        }
        if request.to.is_some() {
            return Err(SharingError::Invalid(
                "a SMART Health Link opens for whoever holds it: it cannot name a provider (drop --to)"
                    .into(),
            ));
        }
        if shl.direct && request.passcode.is_some() {
            return Err(SharingError::Invalid(
                "a direct-file link (U) has no manifest to ask for a passcode: drop one of them".into(),
            ));
        }
        if shl
            .label
            .as_ref()
            .is_some_and(|l| l.chars().count() > crate::share::shl::MAX_LABEL)
        {
            return Err(SharingError::Invalid(format!(
                "a link's label has at most {} characters",
                crate::share::shl::MAX_LABEL
            )));
        }
    }
    if request.answering.is_some() && (request.shl.is_some() || request.passcode.is_some()) {
        return Err(SharingError::Invalid(
            "an answer to a consent request opens only with the key of the provider who asked: no SMART Health Link or passcode".into(),
        ));
    }
    if request.passcode.is_some() && request.to.is_some() {
        return Err(SharingError::Invalid(
            "a passcode is for bearer shares; a share to a provider opens only with their key".into(),
        ));
    }
    let viewer = match (&request.viewer, &request.relay) {
        (Some(given), _) => Some(viewer_address(given)?),
        (None, Some(relay)) => Some(viewer_address(relay)?),
        (None, None) => vault.settings()?.viewer,
    };
    let records = select(vault, request.profile, &request.selection)?;
    let profile = profile_of(vault, request.profile)?.clone();
    let (to, lock, provider) = match (&request.answering, &request.to) {
        (Some(answering), _) => (
            answering.card.grantee(answering.registry.clone()),
            Lock::Provider(answering.card.recipient()?),
            Some(answering.card.clone()),
        ),
        (None, Some(text)) => {
            let (card, registry) = resolve_provider(vault, text)?;
            (
                card.grantee(registry),
                Lock::Provider(card.recipient()?),
                Some(card),
            )
        }
        (None, None) => match &request.passcode {
            Some(pass) => {
                pass.check().map_err(|e| SharingError::Invalid(e.to_string()))?;
                (Grantee::Bearer, Lock::Passcode(pass.secret().clone()), None)
            }
            None => (Grantee::Bearer, Lock::Bearer, None),
        },
    };
    let grant = Grant {
        v: GRANT_VERSION,
        // A link's manifest address ends with the grant id: 256 random bits.
        jti: match (&request.answering, &request.shl) {
            (Some(answering), _) => answering.request.clone(),
            (None, Some(_)) => crate::share::shl::new_grant_id(),
            (None, None) => RecordId::random().to_string(),
        },
        wallet: vault.wallet_id().to_string(),
        patient: profile.name.clone(),
        subject: subject_of(&profile, request.selection.details_only),
        to,
        purpose: request.purpose,
        mode: request.mode,
        iat: now,
        nbf: now,
        exp: now + request.seconds,
        uses: request.uses,
        records: Vec::new(),
    };
    let mut inputs = Vec::with_capacity(records.len());
    let documents = vault.documents(profile.id)?;
    // A card's issuer vouches in a share only while the patient trusts it.
    let issuers = if records.iter().any(|m| m.health_card().is_some()) {
        vault.trusted()?.issuers
    } else {
        Vec::new()
    };
    // A card's records share one card: it is verified once.
    let mut signers = std::collections::HashMap::new();
    for m in &records {
        let record = vault.get(m.id)?;
        let card = m.health_card().and_then(|jws| {
            signers
                .entry(jws)
                .or_insert_with(|| crate::shc::signer_of(jws, &issuers))
                .clone()
                .map(|issuer| crate::share::CardProof {
                    jws: jws.to_string(),
                    issuer,
                })
        });
        inputs.push(ShareInput {
            resource_type: m.resource_type.clone(),
            bytes: record.bytes,
            about: origin_elsewhere(&profile, m, &documents),
            signature: m.signature().map(str::to_string),
            card,
        });
    }
    // An answer through a relay carries its grant inside; a QR code back
    // carries it in the link, as any share.
    let relayed_answer = request.answering.as_ref().filter(|_| request.relay.is_some());
    let sealed = match (request.shl, relayed_answer) {
        (None, Some(answering)) => Sealed::Amanat(share::seal_answer(
            &inputs,
            grant,
            vault.signing_key(),
            answering.card.recipient()?,
        )?),
        (None, None) => Sealed::Amanat(share::seal(&inputs, grant, vault.signing_key(), lock)?),
        (Some(options), _) => Sealed::Link {
            sealed: crate::share::shl::seal(&inputs, grant, vault.signing_key())?,
            flags: Flags {
                long_term: options.long_term,
                passcode: request.passcode.is_some(),
                direct: options.direct,
            },
            label: options.label,
            passcode: request.passcode.map(|p| p.secret().clone()),
        },
    };
    Ok(Prepared {
        sealed,
        records,
        provider,
        emergency: None,
        profile: profile.id,
        offline: request.relay.is_none(),
        relay: request.relay,
        viewer,
    })
}

/// Uploads a prepared share to its relay; returns the share's URL there.
pub async fn upload(prepared: &Prepared, clock: Clock) -> Result<Option<String>, SharingError> {
    match &prepared.relay {
        None => Ok(None),
        Some(base) => {
            let client = crate::relay::client::Client::new(clock)?;
            let id = match &prepared.sealed {
                Sealed::Amanat(sealed) => {
                    client
                        .upload(base, &sealed.signed.compact(), &sealed.ciphertext)
                        .await?
                }
                Sealed::Link { sealed, passcode, .. } => {
                    client
                        .upload_link(
                            base,
                            &sealed.signed.compact(),
                            &sealed.jwe,
                            passcode.as_ref().map(|p| p.expose_secret()),
                        )
                        .await?;
                    crate::relay::client::share_url(base, &sealed.grant.jti)
                }
            };
            Ok(Some(id))
        }
    }
}

/// What the relays say about the shares that went through one (and are not
/// revoked): their uses and accesses, to record with [`record_statuses`], and
/// a warning for each relay that did not answer. A relay that no longer knows
/// an expired share is not worth a warning. The vault stays unlocked for this
/// network round, so a caller holding it in a mutex need not hold the lock.
pub async fn relay_statuses(
    grants: &[MadeShare],
    key: &ed25519_dalek::SigningKey,
    clock: Clock,
) -> Result<(Vec<(String, Status)>, Vec<String>), SharingError> {
    let (mut statuses, mut warnings) = (Vec::new(), Vec::new());
    let asked: Vec<_> = grants
        .iter()
        .filter(|g| !g.revoked && g.relay_url.is_some())
        .collect();
    if asked.is_empty() {
        return Ok((statuses, warnings));
    }
    let client = crate::relay::client::Client::new(clock)?;
    for g in asked {
        let Some(url) = &g.relay_url else { continue };
        match client.status(url, key).await {
            Ok(status) => statuses.push((g.id.clone(), status)),
            Err(RelayError::NotFound) if clock.now() >= g.expires => {}
            Err(e) => warnings.push(format!("share {}: {e}", g.id)),
        }
    }
    Ok((statuses, warnings))
}

/// Records what [`relay_statuses`] learnt into `grants` and the vault.
pub fn record_statuses(
    vault: &mut Vault,
    grants: &mut [MadeShare],
    statuses: &[(String, Status)],
) -> Result<(), SharingError> {
    for g in grants.iter_mut() {
        if let Some((_, status)) = statuses.iter().find(|(id, _)| *id == g.id) {
            record_status(vault, g, status)?;
        }
    }
    Ok(())
}

/// Asks the share's relay to delete it (nothing to ask for an offline share
/// or one revoked already); then [`mark_revoked`] records it.
pub async fn revoke_at_relay(
    grant: &MadeShare,
    key: &ed25519_dalek::SigningKey,
    clock: Clock,
) -> Result<(), SharingError> {
    if let (Some(url), false) = (&grant.relay_url, grant.revoked) {
        crate::relay::client::Client::new(clock)?.revoke(url, key).await?;
    }
    Ok(())
}

/// Builds the link, checks it fits a QR code, and records the share and its audit entry.
pub fn finish(
    vault: &mut Vault,
    prepared: Prepared,
    relay_url: Option<String>,
    now: i64,
) -> Result<Created, SharingError> {
    let link = match &prepared.sealed {
        Sealed::Amanat(sealed) => {
            let link = sealed.link(relay_url.as_deref(), &vault.verifying_key());
            match &prepared.viewer {
                Some(viewer) => link.encode_url(viewer),
                None => link.encode(),
            }
        }
        Sealed::Link {
            sealed, flags, label, ..
        } => {
            let base = prepared.relay.as_deref().unwrap_or_default();
            let link = ShlLink {
                url: crate::relay::client::link_url(base, &sealed.grant.jti),
                key: sealed.key.clone(),
                exp: Some(sealed.grant.exp),
                flags: *flags,
                label: label.clone(),
            };
            match &prepared.viewer {
                Some(viewer) => link.encode_url(viewer),
                None => link.encode(),
            }
        }
    };
    let qr = Qr::new(&link).map_err(|e| {
        if prepared.offline {
            SharingError::Invalid(format!(
                "{} records are too many for one QR code ({e}); share fewer records, or use a relay",
                prepared.records.len()
            ))
        } else {
            SharingError::Invalid(e.to_string())
        }
    })?;
    let g = prepared.sealed.grant();
    let grant = MadeShare {
        id: g.jti.clone(),
        jws: prepared.sealed.jws(),
        link: link.clone(),
        relay_url: relay_url.clone(),
        profile: prepared.profile,
        to: grantee_words(&g.to),
        purpose: g.purpose.code().into(),
        mode: g.mode.as_str().into(),
        records: prepared.records.len(),
        record_ids: prepared.records.iter().map(|m| m.id.to_string()).collect(),
        created: now,
        expires: g.exp,
        max_uses: g.uses,
        revoked: false,
        uses: 0,
        accesses_logged: 0,
        emergency: prepared.emergency,
    };
    let event = Event::ShareCreated {
        grant: grant.id.clone(),
        to: grant.to.clone(),
        purpose: grant.purpose.clone(),
        records: grant.records as u64,
        expires: grant.expires,
        via: relay_url.unwrap_or_else(|| "offline".into()),
    };
    vault.add_share(&grant, event)?;
    let records = prepared
        .records
        .iter()
        .map(|m| SharedRecord {
            id: m.id.to_string(),
            resource_type: m.resource_type.clone(),
            title: m.title.clone(),
        })
        .collect();
    Ok(Created {
        link,
        grant,
        qr_version: qr.version(),
        records,
    })
}

/// A share as the edges list it (`amanat grants --json`, `/api/grants`);
/// `with_link` adds the link itself, for the web wallet's QR code.
pub fn row(g: &MadeShare, now: i64, with_link: bool) -> ShareRow {
    ShareRow {
        id: g.id.clone(),
        status: status_word(g, now).into(),
        to: g.to.clone(),
        purpose: g.purpose.clone(),
        mode: g.mode.clone(),
        records: g.records,
        record_ids: g.record_ids.clone(),
        created: g.created,
        expires: g.expires,
        uses: g.uses,
        max_uses: g.max_uses,
        via: g.relay_url.clone().unwrap_or_else(|| "offline".into()),
        link: with_link.then(|| g.link.clone()),
    }
}

/// `active`, `expired` or `revoked`.
pub fn status_word(g: &MadeShare, now: i64) -> &'static str {
    if g.revoked {
        "revoked"
    } else if now >= g.expires {
        "expired"
    } else {
        "active"
    }
}

/// Records what a relay reports about a share: uses, revocation, and every new
/// access as an audit entry. Returns whether anything changed.
pub fn record_status(
    vault: &mut Vault,
    grant: &mut MadeShare,
    status: &Status,
) -> Result<bool, SharingError> {
    let events: Vec<(Actor, Event)> = status
        .accesses
        .iter()
        .skip(grant.accesses_logged as usize)
        .map(|a| {
            (
                Actor::Recipient {
                    who: format!("link holder at {}", a.from),
                },
                Event::ShareFetched {
                    grant: grant.id.clone(),
                    at: a.time,
                    use_number: a.n,
                },
            )
        })
        .collect();
    let changed = !events.is_empty() || grant.uses != status.uses || (status.revoked && !grant.revoked);
    grant.accesses_logged = status.accesses.len() as u32;
    grant.uses = status.uses;
    grant.revoked |= status.revoked;
    if changed {
        vault.update_share(grant, events)?;
    }
    Ok(changed)
}

/// Marks a share revoked (after the relay, if any, deleted it) with its audit entry.
pub fn mark_revoked(vault: &mut Vault, grant: &mut MadeShare) -> Result<(), SharingError> {
    grant.revoked = true;
    vault.update_share(
        grant,
        vec![(
            Actor::Patient,
            Event::ShareRevoked {
                grant: grant.id.clone(),
            },
        )],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::viewer_address;

    #[test]
    fn viewer_addresses_are_https_or_this_machine() {
        assert_eq!(
            viewer_address("https://relay.example").unwrap(),
            "https://relay.example/"
        );
        assert_eq!(
            viewer_address(" https://x.example/amanat/ ").unwrap(),
            "https://x.example/amanat/"
        );
        for local in [
            "http://127.0.0.1:8480",
            "http://localhost/",
            "http://[::1]:8480/",
            "http://[::1]",
        ] {
            assert!(viewer_address(local).is_ok(), "{local}");
        }
        for (bad, says) in [
            ("http://relay.example/", "must start with https://"),
            ("http://127.0.0.1.evil.example/", "must start with https://"),
            ("http://[::1]evil.example/", "must start with https://"),
            ("ftp://relay.example/", "must start with https://"),
            ("https:///path", "has no host"),
            ("https://user@relay.example/", "no credentials, query or fragment"),
            ("https://relay.example/?a=1", "no credentials, query or fragment"),
            ("https://relay.example/#x", "no credentials, query or fragment"),
        ] {
            let e = viewer_address(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
