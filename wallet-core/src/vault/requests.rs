//! Consent requests the patient opened ([`crate::provider::request`]): the
//! signed request as it came, when, and a denial. Approval is the share
//! whose grant id is the request's id, so the two cannot disagree.

use super::*;

/// A consent request kept in the wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRequest {
    /// The request's id.
    pub id: String,
    /// Its signed text, as it came.
    pub text: String,
    /// When it was opened (seconds since 1970).
    pub received: i64,
    /// When the patient denied it, if they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied: Option<i64>,
}

impl Vault {
    /// Keeps a request (or updates it: a denial), with its audit entry.
    pub fn hold_request(&mut self, request: &HeldRequest, event: Event) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.request_key(&request.id);
        batch.insert(k.clone(), self.seal_json(&k, request));
        self.append_audit(&mut batch, Actor::Patient, event);
        self.commit(batch)
    }

    /// A request by id.
    pub fn request(&self, id: &str) -> Result<Option<HeldRequest>> {
        let k = self.request_key(id);
        match self.db().get(&k)? {
            Some(v) => Ok(Some(self.open_json(&k, &v, "a consent request")?)),
            None => Ok(None),
        }
    }

    /// Every request opened, newest first.
    pub fn requests(&self) -> Result<Vec<HeldRequest>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_REQUEST) {
            let (k, v) = item?;
            out.push(self.open_json::<HeldRequest>(&k, &v, "a consent request")?);
        }
        out.sort_by(|a, b| b.received.cmp(&a.received).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    fn request_key(&self, id: &str) -> Vec<u8> {
        self.name(P_REQUEST, "request", id.as_bytes())
    }
}
