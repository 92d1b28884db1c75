//! The vault's profiles: the patient and the people they care for.

use super::*;

impl Vault {
    pub(super) fn put_profile(&self, batch: &mut sled::Batch, profile: &Profile) {
        let k = key(P_PROFILE, profile.id.as_bytes());
        batch.insert(k.clone(), self.seal_json(&k, profile));
    }

    // ---- profiles ------------------------------------------------------------

    /// All profiles, the owner first.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The owner's profile.
    pub fn owner(&self) -> &Profile {
        self.profiles
            .iter()
            .find(|p| p.id == self.info.owner)
            .unwrap_or(&self.profiles[0])
    }

    /// A profile by handle; `None` means the owner.
    pub fn profile(&self, handle: Option<&str>) -> Result<&Profile> {
        match handle {
            None => Ok(self.owner()),
            Some(h) => self
                .profiles
                .iter()
                .find(|p| p.handle == h)
                .ok_or_else(|| VaultError::ProfileNotFound(h.to_string())),
        }
    }

    /// A profile by id.
    pub fn profile_by_id(&self, id: ProfileId) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// Adds a dependant's profile (or any other).
    pub fn add_profile(&mut self, mut profile: Profile) -> Result<()> {
        if self.profiles.iter().any(|p| p.handle == profile.handle) {
            return Err(VaultError::ProfileExists(profile.handle));
        }
        if profile.relationship == Relationship::Owner {
            profile.relationship = Relationship::Other;
        }
        let mut batch = sled::Batch::default();
        self.put_profile(&mut batch, &profile);
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::ProfileAdded {
                handle: profile.handle.clone(),
            },
        );
        self.commit(batch)?;
        self.profiles.push(profile);
        Ok(())
    }

    /// Fills a blank profile (one made without a name) with who a file says
    /// its patient is ([`crate::matching::filled`]), logged with the file's name.
    pub fn fill_profile(&mut self, filled: Profile, source: &str) -> Result<()> {
        let index = self
            .profiles
            .iter()
            .position(|p| p.id == filled.id)
            .ok_or_else(|| VaultError::ProfileNotFound(filled.handle.clone()))?;
        let mut batch = sled::Batch::default();
        self.put_profile(&mut batch, &filled);
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::ProfileFilled {
                handle: filled.handle.clone(),
                details: crate::matching::describe_profile(&filled),
                source: source.to_string(),
            },
        );
        self.commit(batch)?;
        self.profiles[index] = filled;
        Ok(())
    }

    /// Removes an empty profile.
    pub fn remove_profile(&mut self, handle: &str) -> Result<()> {
        let profile = self.profile(Some(handle))?.clone();
        if profile.id == self.info.owner {
            return Err(VaultError::OwnerProfile);
        }
        let count = self
            .list(&Query {
                profile: Some(profile.id),
                ..Query::default()
            })?
            .len();
        if count > 0 {
            return Err(VaultError::ProfileNotEmpty(handle.to_string(), count));
        }
        let mut batch = sled::Batch::default();
        batch.remove(key(P_PROFILE, profile.id.as_bytes()));
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::ProfileRemoved {
                handle: handle.to_string(),
            },
        );
        self.commit(batch)?;
        self.profiles.retain(|p| p.id != profile.id);
        Ok(())
    }
}
