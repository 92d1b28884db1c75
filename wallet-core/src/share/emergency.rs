//! The emergency card: what a stranger helping the patient needs, readable
//! with no app (blood group, allergies, conditions, current medicines,
//! people to call), and a QR code of a long-lived, revocable share of those
//! records at a relay for whoever has a phone.
//!
//! The share is an ordinary one (the patient's signed grant, age, the
//! relay), with purpose `BTG` ("break the glass", an emergency), view only,
//! no use limit, for a year. Every open is in the relay's access log, which
//! the wallet copies into its audit log; renewing revokes the card before it;
//! revoking stops the QR code at once. The wallet knows which share is the
//! card by [`MadeShare::emergency`], which also keeps the contacts printed on
//! it so a renewal prints them again.

use crate::audit::Event;
use crate::contract::EmergencyCard;
use crate::ids::ProfileId;
use crate::profile::Profile;
use crate::share::grant::{AccessMode, Purpose, human_time};
use crate::share::manage::{self, Prepared, Selection, ShareRequest, SharingError};
use crate::summary::Summary;
use crate::vault::{MadeShare, Query, Vault, VaultError};

type Result<T> = std::result::Result<T, VaultError>;

/// How long a card's QR code works: a year (renew it with the card).
pub const CARD_SECONDS: i64 = 365 * 24 * 3600;

/// LOINC 882-1, ABO and Rh group.
const BLOOD_GROUP: &str = "http://loinc.org|882-1";

/// What the card says (the contract's type, as the edges show it).
pub use crate::contract::CardFacts as Facts;

/// The card's facts for `profile`, with `contacts`.
pub fn facts(vault: &Vault, profile: &Profile, contacts: Vec<String>) -> Result<Facts> {
    let metas = vault.list(&Query {
        profile: Some(profile.id),
        ..Query::default()
    })?;
    let summary = Summary::from_metas(&metas);
    // `list` is newest first, so the first is the latest result.
    let blood = metas
        .iter()
        .find(|m| m.resource_type == "Observation" && m.codes.iter().any(|c| c == BLOOD_GROUP));
    let titles = |items: &[crate::summary::Item]| items.iter().map(|i| i.title.clone()).collect();
    let mut record_ids: Vec<String> = summary
        .problems
        .iter()
        .chain(&summary.allergies)
        .chain(&summary.medications)
        .map(|i| i.id.clone())
        .collect();
    record_ids.extend(blood.map(|m| m.id.to_string()));
    Ok(Facts {
        who: crate::matching::describe_profile(profile),
        blood_group: blood.map(|m| {
            m.title
                .split_once(": ")
                .map_or(m.title.as_str(), |(_, v)| v)
                .to_string()
        }),
        allergies: titles(&summary.allergies),
        conditions: titles(&summary.problems),
        medications: titles(&summary.medications),
        contacts,
        record_ids,
    })
}

/// The share behind a card: the facts' records, for an emergency, view
/// only, for [`CARD_SECONDS`], through `relay`, with no use limit.
pub fn request(profile: ProfileId, facts: &Facts, relay: &str) -> ShareRequest {
    ShareRequest {
        profile,
        selection: Selection {
            ids: facts.record_ids.clone(),
            ..Selection::default()
        },
        purpose: Purpose::BreakTheGlass,
        mode: AccessMode::View,
        seconds: CARD_SECONDS,
        to: None,
        uses: None,
        passcode: None,
        relay: Some(relay.to_string()),
        viewer: None,
        shl: None,
        answering: None,
    }
}

/// A new card for `profile`, ready to upload: `contacts`, or when `None`
/// those of the card `before` (a renewal keeps them). The edge uploads it,
/// [`manage::finish`]es it, then revokes `before`, so there is never a
/// moment without a card.
pub fn prepare(
    vault: &Vault,
    profile: &Profile,
    before: Option<&MadeShare>,
    contacts: Option<Vec<String>>,
    relay: &str,
    now: i64,
) -> std::result::Result<(Prepared, Facts), SharingError> {
    let contacts = contacts
        .filter(|c| !c.is_empty())
        .or_else(|| before.and_then(|b| b.emergency.clone()))
        .unwrap_or_default();
    let facts = facts(vault, profile, contacts.clone())?;
    let mut prepared = manage::prepare(vault, request(profile.id, &facts, relay), now)?;
    prepared.emergency = Some(contacts);
    Ok((prepared, facts))
}

/// The card as the edges show it: its facts, link, and every opening.
pub fn card(vault: &Vault, card: &MadeShare, facts: Facts) -> Result<EmergencyCard> {
    Ok(EmergencyCard {
        grant_id: card.id.clone(),
        link: card.link.clone(),
        expires_at: card.expires,
        text: card_text(&facts, &card.link, card.expires),
        opened_at: opens(vault, &card.id)?,
        facts,
    })
}

/// The profile's card now in force: its newest emergency share that is
/// neither revoked nor expired.
pub fn current(vault: &Vault, profile: ProfileId, now: i64) -> Result<Option<MadeShare>> {
    Ok(vault
        .shares()?
        .into_iter()
        .filter(|g| g.profile == profile && g.emergency.is_some() && !g.revoked && g.expires > now)
        .max_by_key(|g| g.created))
}

/// When the card's share was opened, from the audit log (the relay's access
/// log, copied in when the wallet last asked the relay).
pub fn opens(vault: &Vault, grant: &str) -> Result<Vec<i64>> {
    Ok(vault
        .audit_entries()?
        .into_iter()
        .flatten()
        .filter_map(|e| match e.event {
            Event::ShareFetched { grant: g, at, .. } if g == grant => Some(at),
            _ => None,
        })
        .collect())
}

/// The card as plain text, to print or keep in a wallet: readable by anyone,
/// with the link its QR code holds.
pub fn card_text(facts: &Facts, link: &str, expires: i64) -> String {
    let list = |items: &[String]| {
        if items.is_empty() {
            "none recorded".to_string()
        } else {
            items.join("; ")
        }
    };
    let lines = [
        ("Patient", facts.who.clone()),
        (
            "Blood group",
            facts.blood_group.clone().unwrap_or_else(|| "not recorded".into()),
        ),
        ("Allergies", list(&facts.allergies)),
        ("Conditions", list(&facts.conditions)),
        ("Medicines", list(&facts.medications)),
        ("Call", list(&facts.contacts)),
    ];
    let mut text = String::from("EMERGENCY HEALTH CARD\n");
    for (label, value) in lines {
        text.push_str(&format!("{label:<12} {value}\n"));
    }
    text.push_str(&format!(
        "\nScan the QR code (any phone camera) for these records, signed by the patient;\n\
         every opening is logged. Valid until {}.\n{link}\n",
        human_time(expires)
    ));
    text
}
