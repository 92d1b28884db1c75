//! The vault's plugins: what the patient approved, the component, and its compiled code.
//!
//! The vault files an installed plugin by its name and its component's hash
//! and keeps the rest sealed as JSON; what a plugin is, `plugin` says (its
//! `Installed` is a [`StoredPlugin`]). So the vault does not depend on the
//! plugin host, only the other way round.

use serde::de::DeserializeOwned;

use super::*;

/// What the vault must know of an installed plugin to file it.
pub trait StoredPlugin: Serialize + DeserializeOwned {
    /// Its name: one installed plugin per name.
    fn name(&self) -> &str;
    /// SHA-256 (hex) of its component: the bytes and compiled code are filed under it.
    fn sha256(&self) -> &str;
}

/// The part of any stored plugin the vault reads for itself (removal,
/// migration): serde skips the rest.
#[derive(Deserialize)]
pub(super) struct Filed {
    pub(super) manifest: FiledManifest,
    pub(super) sha256: String,
}

#[derive(Deserialize)]
pub(super) struct FiledManifest {
    pub(super) name: String,
}

/// Compiled plugin code as the vault's cache holds it, not yet opened: the
/// plugin host learns its length, makes the memory it will run the code from,
/// and has the vault open the code into it ([`SealedCode::open_into`]), so
/// tens of megabytes are written once rather than copied twice.
pub struct SealedCode<'v> {
    sealer: &'v CodeSealer,
    key: Vec<u8>,
    sealed: sled::IVec,
}

impl SealedCode<'_> {
    /// Bytes of the opened code.
    pub fn opened_len(&self) -> usize {
        CodeSealer::opened_len(&self.sealed).unwrap_or(0)
    }

    /// Authenticates and decrypts the code into `out` ([`Self::opened_len`] bytes),
    /// exactly as `Runtime::serialize` produced it. On failure `out` holds
    /// nothing usable.
    pub fn open_into(&self, out: &mut [u8]) -> Result<()> {
        self.sealer
            .open_into(&self.key, &self.sealed, out)
            .map_err(|_| VaultError::Integrity("cached plugin code".into()))
    }
}

impl Vault {
    // ---- plugins -----------------------------------------------------------------

    /// Installs (or replaces) a plugin: its record, its component bytes and its
    /// compiled code, with the audit entry, in one step.
    pub fn put_plugin(
        &mut self,
        installed: &impl StoredPlugin,
        component: &[u8],
        code: Option<(&str, &[u8])>,
        event: Event,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.plugin_key(installed.name());
        batch.insert(k.clone(), self.seal_json(&k, installed));
        let bk = self.component_key(installed.sha256());
        batch.insert(bk.clone(), self.meta.seal(&bk, component));
        if let Some((cache_key, bytes)) = code {
            let ck = self.code_key(installed.sha256(), cache_key);
            batch.insert(ck.clone(), self.code.seal(&ck, bytes));
        }
        self.append_audit(&mut batch, Actor::Patient, event);
        self.commit(batch)
    }

    pub(super) fn plugin_key(&self, name: &str) -> Vec<u8> {
        self.name(P_PLUGIN, "plugin", name.as_bytes())
    }

    /// A component's bytes, by its SHA-256 (hex).
    pub(super) fn component_key(&self, sha256: &str) -> Vec<u8> {
        self.name(P_PLUGIN_BYTES, "component", sha256.as_bytes())
    }

    /// Compiled code of a component for one engine: under the component's
    /// name, so removing the plugin finds every cached compilation of it.
    pub(super) fn code_key(&self, sha256: &str, cache_key: &str) -> Vec<u8> {
        let mut k = self.code_prefix(sha256);
        k.extend_from_slice(&self.name(b"", "code", cache_key.as_bytes()));
        k
    }

    /// Where every compiled code of one component is kept.
    pub(super) fn code_prefix(&self, sha256: &str) -> Vec<u8> {
        self.name(P_PLUGIN_CODE, "component", sha256.as_bytes())
    }

    /// Installed plugins.
    pub fn plugins<P: StoredPlugin>(&self) -> Result<Vec<P>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_PLUGIN) {
            let (k, v) = item?;
            out.push(self.open_json::<P>(&k, &v, "an installed plugin")?);
        }
        Ok(out)
    }

    /// One installed plugin.
    pub fn plugin<P: DeserializeOwned>(&self, name: &str) -> Result<Option<P>> {
        let k = self.plugin_key(name);
        match self.read(&k, || format!("plugin {name}"))? {
            Some(v) => Ok(Some(self.open_json(&k, &v, "an installed plugin")?)),
            None => Ok(None),
        }
    }

    /// A plugin's component bytes, by SHA-256 (hex).
    pub fn plugin_component(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let k = self.component_key(sha256);
        match self.read(&k, || format!("plugin component {sha256}"))? {
            Some(v) => Ok(Some(self.open_meta(&k, &v, "a plugin component")?.to_vec())),
            None => Ok(None),
        }
    }

    /// Cached compiled code for a plugin's component (by SHA-256, hex), sealed
    /// (see [`SealedCode`]). Opened code is not zeroized after use: it is
    /// derived from the component, not a secret of the patient's.
    pub fn plugin_code(&self, sha256: &str, cache_key: &str) -> Result<Option<SealedCode<'_>>> {
        let key = self.code_key(sha256, cache_key);
        let Some(sealed) = self.read(&key, || "cached plugin code".to_string())? else {
            return Ok(None);
        };
        if CodeSealer::opened_len(&sealed).is_none() {
            // Code cached in the format before (XChaCha20-Poly1305) is compiled
            // again, once, and cached anew under the same key; anything else
            // was damaged or cut short.
            if super::seal::well_formed(&sealed) {
                return Ok(None);
            }
            return Err(VaultError::Integrity("cached plugin code".into()));
        }
        Ok(Some(SealedCode {
            sealer: &self.code,
            key,
            sealed,
        }))
    }

    /// Caches compiled code for a plugin's component (see [`SealedCode`]).
    pub fn put_plugin_code(&mut self, sha256: &str, cache_key: &str, bytes: &[u8]) -> Result<()> {
        let k = self.code_key(sha256, cache_key);
        let mut batch = sled::Batch::default();
        batch.insert(k.clone(), self.code.seal(&k, bytes));
        self.commit(batch)
    }

    /// Removes a plugin, its component and its compiled code.
    pub fn remove_plugin(&mut self, name: &str) -> Result<bool> {
        let Some(installed) = self.plugin::<Filed>(name)? else {
            return Ok(false);
        };
        let mut batch = sled::Batch::default();
        batch.remove(self.plugin_key(name));
        batch.remove(self.component_key(&installed.sha256));
        for item in self.db().scan_prefix(self.code_prefix(&installed.sha256)) {
            let (k, _) = item?;
            batch.remove(k);
        }
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::PluginRemoved {
                plugin: name.to_string(),
            },
        );
        self.commit(batch)?;
        Ok(true)
    }
}
