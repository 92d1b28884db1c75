//! The vault's records: add (deduplicated, in atomic chunks), list, find, read, delete.

use super::*;

/// A record as stored: its catalog entry, the resource bytes, its dedup key.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredRecord {
    meta: RecordMeta,
    dedup: [u8; 32],
    resource: Vec<u8>,
}

/// A record read back from the vault.
#[derive(Debug, Clone)]
pub struct Record {
    /// Catalog entry.
    pub meta: RecordMeta,
    /// The resource.
    pub resource: Resource,
    /// The exact stored bytes (what a grant's SHA-256 covers).
    pub bytes: Vec<u8>,
}

/// A record hashed, described and sealed, ready to be written.
pub(super) struct Prepared {
    id: RecordId,
    dedup: [u8; 32],
    meta: RecordMeta,
    sealed: Vec<u8>,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// Records added.
    pub added: Vec<RecordId>,
    /// Records that were already in the wallet (the existing ids).
    pub duplicates: Vec<RecordId>,
}

impl Vault {
    // ---- records ---------------------------------------------------------------

    pub(super) fn dedup_hash(&self, profile: ProfileId, identity: &[u8]) -> [u8; 32] {
        // HMAC so the index reveals nothing to someone who can guess a document.
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.dedup_key.as_ref())
            .expect("HMAC takes keys of any length");
        mac.update(profile.as_bytes());
        mac.update(identity);
        mac.finalize().into_bytes().into()
    }

    pub(super) fn load_page(&self, page: u64) -> Result<Vec<RecordMeta>> {
        let k = key(P_PAGE, &page.to_be_bytes());
        match self.read(&k, || format!("catalog page {page}"))? {
            Some(bytes) => {
                let plain = self
                    .meta
                    .open(&k, &bytes)
                    .map_err(|_| VaultError::Integrity(format!("catalog page {page}")))?;
                postcard::from_bytes(&plain)
                    .map_err(|_| VaultError::Integrity(format!("catalog page {page}")))
            }
            None => Ok(Vec::new()),
        }
    }

    /// Everything about a new record that does not depend on the others.
    pub(super) fn prepare(&self, profile: ProfileId, record: NewRecord, added_at: i64) -> Prepared {
        let dedup = match &record.identity {
            Some(bytes) => self.dedup_hash(profile, bytes),
            None => self.dedup_hash(profile, &record.resource.canonical_bytes()),
        };
        let id = RecordId::random();
        let bytes = record.resource.to_bytes();
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let meta = RecordMeta::new(
            id,
            profile,
            &record.resource,
            record.description,
            added_at,
            record.source,
            sha256,
            bytes.len() as u64,
        );
        let stored = StoredRecord {
            meta,
            dedup,
            resource: bytes,
        };
        let plain = zeroize::Zeroizing::new(postcard::to_allocvec(&stored).unwrap_or_default());
        let sealed = self.records.seal(&key(P_RECORD, id.as_bytes()), &plain);
        Prepared {
            id,
            dedup,
            meta: stored.meta,
            sealed,
        }
    }

    /// Adds records to a profile in one atomic step, skipping ones already present.
    ///
    /// `label` names the source in the audit log (a file name, `demo`).
    pub fn add_records(
        &mut self,
        profile: ProfileId,
        records: Vec<NewRecord>,
        actor: Actor,
        label: &str,
    ) -> Result<ImportOutcome> {
        self.add_logged(profile, records, actor, |profile, outcome| Event::Imported {
            source: label.to_string(),
            profile,
            added: outcome.added.len() as u64,
            duplicates: outcome.duplicates.len() as u64,
        })
    }

    /// Saves a reading the patient typed in, logged as entered by hand.
    /// Returns its catalog entry (the existing record's if the same reading,
    /// at the same moment, is already there).
    pub fn add_entered(&mut self, profile: ProfileId, record: NewRecord) -> Result<RecordMeta> {
        let title = record.description.title.clone();
        let outcome = self.add_logged(profile, vec![record], Actor::Patient, |profile, outcome| {
            Event::Entered {
                record: outcome
                    .added
                    .iter()
                    .chain(&outcome.duplicates)
                    .next()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                title,
                profile,
            }
        })?;
        let id = outcome
            .added
            .into_iter()
            .chain(outcome.duplicates)
            .next()
            .ok_or_else(|| VaultError::Integrity("the new reading".into()))?;
        Ok(self.get(id)?.meta)
    }

    /// Adds records in one atomic step with the audit entry `event` makes
    /// from the profile's handle and what was added.
    fn add_logged(
        &mut self,
        profile: ProfileId,
        records: Vec<NewRecord>,
        actor: Actor,
        event: impl FnOnce(String, &ImportOutcome) -> Event,
    ) -> Result<ImportOutcome> {
        let handle = self
            .profile_by_id(profile)
            .ok_or_else(|| VaultError::ProfileNotFound(profile.to_string()))?
            .handle
            .clone();
        let added_at = self.clock.now();
        let mut outcome = ImportOutcome::default();
        let mut batch = sled::Batch::default();
        let mut directory = self.directory.clone();
        let mut pages: HashMap<u64, Vec<RecordMeta>> = HashMap::new();
        let mut seen: HashMap<[u8; 32], RecordId> = HashMap::new();
        // Hash, serialise and seal on every core; the catalog and batch are built after, in order.
        let prepared = crate::par::map_owned(records, |record| self.prepare(profile, record, added_at));
        for Prepared {
            id,
            dedup,
            meta,
            sealed,
        } in prepared
        {
            let dedup_key = key(P_DEDUP, &dedup);
            if let Some(existing) = seen.get(&dedup) {
                outcome.duplicates.push(*existing);
                continue;
            }
            if let Some(existing) = self.read(&dedup_key, || "the duplicate index".into())? {
                let id = <[u8; RecordId::LEN]>::try_from(existing.as_ref())
                    .map(RecordId::from_bytes)
                    .map_err(|_| VaultError::Integrity("the duplicate index".into()))?;
                outcome.duplicates.push(id);
                continue;
            }
            let page = directory.page_for_insert(bucket_of(meta.sort_key));
            if let std::collections::hash_map::Entry::Vacant(e) = pages.entry(page) {
                e.insert(self.load_page(page)?);
            }
            pages.entry(page).or_default().push(meta);
            batch.insert(key(P_RECORD, id.as_bytes()), sealed);
            batch.insert(dedup_key, id.as_bytes().to_vec());
            seen.insert(dedup, id);
            outcome.added.push(id);
        }
        for (page, metas) in &pages {
            let k = key(P_PAGE, &page.to_be_bytes());
            batch.insert(k.clone(), self.seal_postcard(&k, metas));
        }
        let event = event(handle, &outcome);
        let head_before = self.audit_head;
        self.append_audit(&mut batch, actor, event);
        if let Err(e) = self.commit_with(batch, &directory) {
            self.audit_head = head_before;
            return Err(e);
        }
        self.directory = directory;
        Ok(outcome)
    }

    /// Adds many records in commits of [`IMPORT_CHUNK`], each atomic with its audit
    /// entry, so a crash keeps every finished chunk; `progress` is told how many
    /// records each chunk held. Returns (added, already present).
    pub fn import_records(
        &mut self,
        profile: ProfileId,
        mut records: Vec<NewRecord>,
        actor: Actor,
        label: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<(usize, usize)> {
        let (mut added, mut duplicates) = (0, 0);
        while !records.is_empty() {
            let rest = records.split_off(IMPORT_CHUNK.min(records.len()));
            let n = records.len();
            let outcome = self.add_records(profile, records, actor.clone(), label)?;
            added += outcome.added.len();
            duplicates += outcome.duplicates.len();
            progress(n);
            records = rest;
        }
        Ok((added, duplicates))
    }

    /// Records matching a query, newest first.
    pub fn list(&self, query: &Query) -> Result<Vec<RecordMeta>> {
        let words = query.words();
        let (lo, hi) = query.bucket_range();
        let mut out = Vec::new();
        for (_, pages) in self.directory.buckets_newest_first(lo, hi) {
            for page in pages {
                out.extend(
                    self.load_page(page)?
                        .into_iter()
                        .filter(|m| query.matches(m, &words)),
                );
            }
            if query.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        sort_newest_first(&mut out);
        if let Some(limit) = query.limit {
            out.truncate(limit);
        }
        Ok(out)
    }

    /// The documents of a profile, for its records to find theirs.
    pub fn documents(&self, profile: ProfileId) -> Result<crate::record::Documents> {
        let documents = self.list(&Query {
            profile: Some(profile),
            types: vec!["Bundle".into()],
            ..Query::default()
        })?;
        Ok(crate::record::Documents::among(&documents))
    }

    /// The document a record is an entry of, if that document is still in
    /// the wallet ([`Source::InDocument`]).
    pub fn document_of(&self, meta: &RecordMeta) -> Result<Option<RecordMeta>> {
        if !matches!(meta.source, Source::InDocument { .. }) {
            return Ok(None);
        }
        Ok(self.documents(meta.profile)?.of(meta).cloned())
    }

    /// Number of records in the wallet.
    pub fn record_count(&self) -> u64 {
        self.directory.total()
    }

    /// Finds the record whose id is, or starts with, `text`.
    pub fn resolve_id(&self, text: &str) -> Result<RecordId> {
        let text = text.trim().to_lowercase();
        if let Ok(id) = text.parse::<RecordId>()
            && self.db().contains_key(key(P_RECORD, id.as_bytes()))?
        {
            return Ok(id);
        }
        if text.len() < 4 || text.len() > 16 {
            return Err(VaultError::RecordNotFound(text));
        }
        // A prefix: ids are random, so scanning by their decoded leading bytes is cheap.
        let prefix = data_encoding_prefix(&text).ok_or_else(|| VaultError::RecordNotFound(text.clone()))?;
        let mut matches = Vec::new();
        for item in self.db().scan_prefix(key(P_RECORD, &prefix)) {
            let (k, _) = item?;
            if let Ok(bytes) = <[u8; RecordId::LEN]>::try_from(&k[P_RECORD.len()..]) {
                let id = RecordId::from_bytes(bytes);
                if id.to_string().starts_with(&text) {
                    matches.push(id);
                }
            }
        }
        match matches.len() {
            0 => Err(VaultError::RecordNotFound(text)),
            1 => Ok(matches[0]),
            n => Err(VaultError::AmbiguousId(text, n)),
        }
    }

    /// Reads one record, checking its integrity.
    pub fn get(&self, id: RecordId) -> Result<Record> {
        let k = key(P_RECORD, id.as_bytes());
        let sealed = self
            .read(&k, || format!("record {id}"))?
            .ok_or_else(|| VaultError::RecordNotFound(id.to_string()))?;
        let stored = self.open_record(&k, &sealed, id)?;
        let integrity = || VaultError::Integrity(format!("record {id}"));
        if <[u8; 32]>::from(Sha256::digest(&stored.resource)) != stored.meta.sha256 {
            return Err(integrity());
        }
        let resource = Resource::from_slice(&stored.resource).map_err(|_| integrity())?;
        Ok(Record {
            meta: stored.meta,
            resource,
            bytes: stored.resource,
        })
    }

    pub(super) fn open_record(&self, k: &[u8], sealed: &[u8], id: RecordId) -> Result<StoredRecord> {
        let plain = self
            .records
            .open(k, sealed)
            .map_err(|_| VaultError::Integrity(format!("record {id}")))?;
        postcard::from_bytes(&plain).map_err(|_| VaultError::Integrity(format!("record {id}")))
    }

    /// Deletes a record.
    pub fn delete(&mut self, id: RecordId) -> Result<RecordMeta> {
        let k = key(P_RECORD, id.as_bytes());
        let sealed = self
            .read(&k, || format!("record {id}"))?
            .ok_or_else(|| VaultError::RecordNotFound(id.to_string()))?;
        // A damaged record can still be deleted: find its page by scanning.
        let (dedup, meta) = match self.open_record(&k, &sealed, id) {
            Ok(stored) => (Some(stored.dedup), Some(stored.meta)),
            Err(_) => (None, None),
        };
        let mut batch = sled::Batch::default();
        batch.remove(k);
        if let Some(d) = dedup {
            batch.remove(key(P_DEDUP, &d));
        } else {
            // Without the record we cannot know its dedup key; drop entries pointing at it.
            for item in self.db().scan_prefix(P_DEDUP) {
                let (dk, v) = item?;
                if v.as_ref() == id.as_bytes() {
                    batch.remove(dk);
                }
            }
        }
        let mut directory = self.directory.clone();
        let candidate_pages: Vec<u64> = match &meta {
            Some(m) => directory.pages_in(bucket_of(m.sort_key)).collect(),
            None => directory.pages.iter().map(|p| p.id).collect(),
        };
        let mut removed = meta.clone();
        for page in candidate_pages {
            let mut metas = self.load_page(page)?;
            let before = metas.len();
            if let Some(pos) = metas.iter().position(|m| m.id == id) {
                removed.get_or_insert_with(|| metas[pos].clone());
                metas.remove(pos);
            }
            if metas.len() != before {
                let pk = key(P_PAGE, &page.to_be_bytes());
                if metas.is_empty() {
                    batch.remove(pk);
                } else {
                    batch.insert(pk.clone(), self.seal_postcard(&pk, &metas));
                }
                directory.set_count(page, metas.len());
                break;
            }
        }
        let removed = removed.ok_or_else(|| VaultError::RecordNotFound(id.to_string()))?;
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::Deleted {
                record: id.to_string(),
                title: removed.title.clone(),
            },
        );
        self.commit_with(batch, &directory)?;
        self.directory = directory;
        Ok(removed)
    }
}

/// Decodes the longest whole-byte prefix of an id typed in base32.
fn data_encoding_prefix(text: &str) -> Option<Vec<u8>> {
    // Pad with zeros to a full id, decode, keep the bytes fully determined by `text`.
    let mut padded = text.to_string();
    while padded.len() < 16 {
        padded.push('0');
    }
    let full: RecordId = padded.parse().ok()?;
    Some(full.as_bytes()[..text.len() * 5 / 8].to_vec())
}
