//! The vault's memory of the shares it made, and the provider registries it trusts.

use super::*;

/// A share as the wallet remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MadeShare {
    /// Grant id (`jti`).
    pub id: String,
    /// The signed grant, compact JWS.
    pub jws: String,
    /// The link as given to the doctor (it holds the bearer key, so it stays sealed here).
    pub link: String,
    /// The relay's URL for this share, if it went through one.
    pub relay_url: Option<String>,
    /// Whose records.
    pub profile: ProfileId,
    /// Who may open it, in words.
    pub to: String,
    /// ABDM purpose code.
    pub purpose: String,
    /// `view` or `store`.
    pub mode: String,
    /// Number of records.
    pub records: usize,
    /// Which of the wallet's records were shared, in the grant's order: the
    /// grant names them by position (`1` is the first), the wallet by id.
    #[serde(default)]
    pub record_ids: Vec<String>,
    /// Created (seconds since 1970).
    pub created: i64,
    /// Expiry.
    pub expires: i64,
    /// Use limit.
    pub max_uses: Option<u32>,
    /// Revoked by the patient.
    pub revoked: bool,
    /// Uses the relay reported when last asked.
    pub uses: u32,
    /// Relay accesses already copied into the audit log.
    pub accesses_logged: u32,
    /// Set when the share is the profile's emergency card
    /// (`share::emergency`): the contacts printed on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<Vec<String>>,
}

/// A trusted registry as stored.
#[derive(Serialize, Deserialize)]
pub(super) struct TrustedRegistry {
    pub(super) thumbprint: String,
    pub(super) snapshot: String,
}

impl Vault {
    // ---- shares ------------------------------------------------------------------

    /// Records a new share and its audit entry in one step.
    pub fn add_share(&mut self, grant: &MadeShare, event: Event) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.share_key(&grant.id);
        batch.insert(k.clone(), self.seal_json(&k, grant));
        self.append_audit(&mut batch, Actor::Patient, event);
        self.commit(batch)
    }

    /// Updates a share (revoked, accesses seen) with its audit entries, in one step.
    pub fn update_share(&mut self, grant: &MadeShare, events: Vec<(Actor, Event)>) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.share_key(&grant.id);
        batch.insert(k.clone(), self.seal_json(&k, grant));
        for (actor, event) in events {
            self.append_audit(&mut batch, actor, event);
        }
        self.commit(batch)
    }

    pub(super) fn share_key(&self, id: &str) -> Vec<u8> {
        self.name(P_GRANT, "grant", id.as_bytes())
    }

    /// Every share made from this wallet, newest first.
    pub fn shares(&self) -> Result<Vec<MadeShare>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_GRANT) {
            let (k, v) = item?;
            out.push(self.open_json::<MadeShare>(&k, &v, "a share's record")?);
        }
        out.sort_by_key(|g| std::cmp::Reverse(g.created));
        Ok(out)
    }

    /// The share whose id is, or starts with, `text`.
    pub fn share(&self, text: &str) -> Result<MadeShare> {
        let text = text.trim();
        let mut matches: Vec<MadeShare> = self
            .shares()?
            .into_iter()
            .filter(|g| g.id.starts_with(text))
            .collect();
        match matches.len() {
            0 => Err(VaultError::ShareNotFound(text.to_string())),
            1 => Ok(matches.remove(0)),
            n => Err(VaultError::AmbiguousId(text.to_string(), n)),
        }
    }

    /// Trusts a registry's signed provider list (already verified by the caller).
    pub fn trust_registry(
        &mut self,
        thumbprint: &str,
        signed_snapshot: &str,
        events: Vec<Event>,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.registry_key(thumbprint);
        let value = TrustedRegistry {
            thumbprint: thumbprint.to_string(),
            snapshot: signed_snapshot.to_string(),
        };
        batch.insert(k.clone(), self.seal_json(&k, &value));
        for event in events {
            self.append_audit(&mut batch, Actor::Patient, event);
        }
        self.commit(batch)
    }

    /// The trusted registries: (key thumbprint, signed snapshot text).
    pub fn registries(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_REGISTRY) {
            let (k, v) = item?;
            let r: TrustedRegistry = self.open_json(&k, &v, "a trusted registry")?;
            out.push((r.thumbprint, r.snapshot));
        }
        Ok(out)
    }

    /// The registry snapshots the patient trusts, each verified again
    /// against the key it was trusted with.
    pub fn registry_snapshots(&self) -> Result<Vec<crate::provider::RegistrySnapshot>> {
        self.registries()?
            .into_iter()
            .map(|(thumb, signed)| {
                crate::provider::RegistrySnapshot::verify(&signed, Some(&thumb))
                    .map(|(snapshot, _)| snapshot)
                    .map_err(|e| VaultError::Integrity(format!("a trusted registry snapshot ({e})")))
            })
            .collect()
    }

    pub(super) fn registry_key(&self, thumbprint: &str) -> Vec<u8> {
        self.name(P_REGISTRY, "registry", thumbprint.as_bytes())
    }
}
