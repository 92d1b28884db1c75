//! The vault's side of the audit log: appending entries in the same batch as
//! the change they record, reading them back, and verifying the chain.

use super::*;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct AuditHead {
    seq: u64,
    hash: [u8; 32],
}

impl Vault {
    /// Appends an audit entry to the batch and advances the in-memory head.
    /// The head is written with the batch, so entry and head land together.
    pub(super) fn append_audit(&mut self, batch: &mut sled::Batch, actor: Actor, event: Event) -> AuditEntry {
        let entry = AuditEntry::next(
            self.audit_head.as_ref().map(|h| (h.seq, h.hash)),
            self.clock.now(),
            actor,
            event,
        );
        let k = key(P_AUDIT, &entry.seq.to_be_bytes());
        batch.insert(k.clone(), self.seal_json(&k, &entry));
        let head = AuditHead {
            seq: entry.seq,
            hash: entry.hash,
        };
        self.audit_head = Some(head);
        entry
    }

    // ---- audit -------------------------------------------------------------------

    /// Records several events in the audit log, in one step.
    pub fn audit_many(&mut self, events: Vec<(Actor, Event)>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (actor, event) in events {
            self.append_audit(&mut batch, actor, event);
        }
        self.commit(batch)
    }

    /// Records an event in the audit log on its own.
    pub fn audit(&mut self, actor: Actor, event: Event) -> Result<AuditEntry> {
        let mut batch = sled::Batch::default();
        let entry = self.append_audit(&mut batch, actor, event);
        self.commit(batch)?;
        Ok(entry)
    }

    /// Every audit entry in order. An unreadable entry is reported as such.
    pub fn audit_entries(&self) -> Result<Vec<Result<AuditEntry, ChainError>>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_AUDIT) {
            let (k, v) = item?;
            let seq = <[u8; 8]>::try_from(&k[P_AUDIT.len()..])
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            out.push(
                self.open_json::<AuditEntry>(&k, &v, "audit entry")
                    .map_err(|_| ChainError::Unreadable { seq }),
            );
        }
        Ok(out)
    }

    /// Verifies the whole chain; returns the number of entries.
    pub fn verify_audit(&self) -> Result<Result<u64, ChainError>> {
        let mut entries = Vec::new();
        for entry in self.audit_entries()? {
            match entry {
                Ok(e) => entries.push(e),
                Err(e) => return Ok(Err(e)),
            }
        }
        let head = self.audit_head.as_ref().map(|h| (h.seq, h.hash));
        let count = match crate::audit::verify_chain(&entries, head) {
            Ok(count) => count,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .catalog_mismatch()?
            .map_or(Ok(count), |m| Err(ChainError::RolledBack(m))))
    }
}
