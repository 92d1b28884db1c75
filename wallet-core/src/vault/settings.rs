//! The wallet's settings: choices the patient makes once, sealed like
//! everything else (`m/settings`).

use super::*;

pub use crate::contract::Settings;

impl Vault {
    /// The settings (defaults when none were ever saved).
    pub fn settings(&self) -> Result<Settings> {
        match self.db().get(K_SETTINGS)? {
            None => Ok(Settings::default()),
            Some(v) => self.open_json(K_SETTINGS, &v, "the wallet's settings"),
        }
    }

    /// Saves the settings, with an audit entry for each change: where share
    /// codes send a doctor's phone is a trust decision the log should show.
    pub fn set_settings(&mut self, settings: &Settings) -> Result<()> {
        let old = self.settings()?;
        if old == *settings {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        batch.insert(K_SETTINGS, self.seal_json(K_SETTINGS, settings));
        if old.viewer != settings.viewer {
            let value = settings.viewer.clone().unwrap_or_default();
            self.append_audit(
                &mut batch,
                Actor::Patient,
                Event::SettingChanged {
                    setting: "viewer".into(),
                    value,
                },
            );
        }
        self.commit(batch)
    }
}
