//! Upgrades a version 1 wallet to version 2 when it is first opened, by
//! writing a fresh database ([`Vault::copy_db`]) and swapping it in, so a
//! crash leaves it wholly one or the other and no old name stays in sled's
//! files:
//! - the catalog directory (`m/directory`) and the audit head (`m/audit-head`)
//!   become one sealed `m/state`, so neither can be deleted or rolled back
//!   alone;
//! - shares, trusted registries and plugins, stored under their ids, names and
//!   hashes in plain text, move to keyed names ([`Vault::name`]);
//! - compiled plugin code is dropped (a cache: it is compiled again on first use).

use super::{
    AuditHead, Directory, K_INFO, K_STATE, MadeShare, P_GRANT, P_PLUGIN, P_PLUGIN_BYTES, P_PLUGIN_CODE,
    P_REGISTRY, Result, State, TrustedRegistry, Vault, VaultError,
};

const K_DIRECTORY: &[u8] = b"m/directory";
const K_AUDIT_HEAD: &[u8] = b"m/audit-head";

impl Vault {
    pub(super) fn migrate_v1(&mut self) -> Result<()> {
        let directory: Directory = match self.read(K_DIRECTORY, || "the record catalog's directory".into())? {
            Some(bytes) => self.open_postcard(K_DIRECTORY, &bytes, "the record catalog's directory")?,
            None => Directory::default(),
        };
        // Every wallet logs its creation, so a wallet without a head had its
        // audit log deleted.
        let head: AuditHead = match self.read(K_AUDIT_HEAD, || "the audit log's head".into())? {
            Some(bytes) => self.open_postcard(K_AUDIT_HEAD, &bytes, "the audit log's head")?,
            None => {
                return Err(VaultError::Integrity(
                    "the audit log's head: it is missing".into(),
                ));
            }
        };
        self.info.layout = 2;
        let extra = vec![
            (
                K_STATE.to_vec(),
                self.seal_postcard(K_STATE, &State { directory, head }),
            ),
            (K_INFO.to_vec(), self.seal_json(K_INFO, &self.info)),
        ];
        self.copy_db(|k, v| self.upgrade_entry(k, v), extra)?;
        self.swap_db(None)
    }

    /// One version 1 entry as version 2 stores it.
    fn upgrade_entry(&self, k: &[u8], v: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let renamed = |new: Vec<u8>, value: Vec<u8>| Ok(vec![(new, value)]);
        if k == K_DIRECTORY || k == K_AUDIT_HEAD || k == K_INFO || k.starts_with(P_PLUGIN_CODE) {
            return Ok(Vec::new());
        }
        if k.starts_with(P_GRANT) {
            let grant: MadeShare = self.open_json(k, v, "a share's record")?;
            let new = self.share_key(&grant.id);
            return renamed(new.clone(), self.seal_json(&new, &grant));
        }
        if k.starts_with(P_REGISTRY) {
            let snapshot = self.open_meta(k, v, "a trusted registry")?;
            let thumbprint = String::from_utf8_lossy(&k[P_REGISTRY.len()..]).into_owned();
            let new = self.registry_key(&thumbprint);
            let value = TrustedRegistry {
                thumbprint,
                snapshot: String::from_utf8_lossy(&snapshot).into_owned(),
            };
            return renamed(new.clone(), self.seal_json(&new, &value));
        }
        if k.starts_with(P_PLUGIN) {
            let installed: serde_json::Value = self.open_json(k, v, "an installed plugin")?;
            let filed = <super::plugins::Filed as serde::Deserialize>::deserialize(&installed)
                .map_err(|_| VaultError::Integrity("an installed plugin".into()))?;
            let new = self.plugin_key(&filed.manifest.name);
            return renamed(new.clone(), self.seal_json(&new, &installed));
        }
        if k.starts_with(P_PLUGIN_BYTES) {
            let component = self.open_meta(k, v, "a plugin component")?;
            let sha256 = String::from_utf8_lossy(&k[P_PLUGIN_BYTES.len()..]);
            let new = self.component_key(&sha256);
            return renamed(new.clone(), self.meta.seal(&new, &component));
        }
        Ok(vec![(k.to_vec(), v.to_vec())])
    }
}
