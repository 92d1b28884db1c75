//! The SMART Health Card issuers the patient trusts ([`crate::shc`]): each
//! issuer's address, name and public keys, sealed like everything else.

use super::*;
use crate::shc::Issuer;

impl Vault {
    /// Trusts an issuer (or replaces its keys), with its audit entry.
    pub fn trust_issuer(&mut self, issuer: &Issuer) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.issuer_key(&issuer.iss);
        batch.insert(k.clone(), self.seal_json(&k, issuer));
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::IssuerTrusted {
                issuer: issuer.label(),
                keys: issuer.keys.len() as u64,
            },
        );
        self.commit(batch)
    }

    /// Whom the patient trusts to vouch for records: card issuers and
    /// provider registries ([`crate::import::records_from_bytes`]).
    pub fn trusted(&self) -> Result<crate::import::Trusted> {
        Ok(crate::import::Trusted {
            issuers: self.issuers()?,
            registries: self.registry_snapshots()?,
        })
    }

    /// The issuers the patient trusts, by address.
    pub fn issuers(&self) -> Result<Vec<Issuer>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_ISSUER) {
            let (k, v) = item?;
            out.push(self.open_json::<Issuer>(&k, &v, "a trusted issuer")?);
        }
        out.sort_by(|a, b| a.iss.cmp(&b.iss));
        Ok(out)
    }

    /// Stops trusting an issuer; records it issued stay, saying so.
    pub fn remove_issuer(&mut self, iss: &str) -> Result<Issuer> {
        let iss = iss.trim().trim_end_matches('/');
        let issuer = self
            .issuers()?
            .into_iter()
            .find(|i| i.iss == iss)
            .ok_or_else(|| VaultError::IssuerNotFound(iss.to_string()))?;
        let mut batch = sled::Batch::default();
        batch.remove(self.issuer_key(iss));
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::IssuerRemoved {
                issuer: issuer.label(),
            },
        );
        self.commit(batch)?;
        Ok(issuer)
    }

    fn issuer_key(&self, iss: &str) -> Vec<u8> {
        self.name(P_ISSUER, "issuer", iss.as_bytes())
    }
}
