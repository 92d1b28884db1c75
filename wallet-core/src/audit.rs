//! The audit log: an append-only, hash-chained record of everything that touches
//! the wallet.
//!
//! Each entry carries the SHA-256 of the one before it, and its own hash covers
//! its sequence number, time, actor, event and that link, so changing, removing or
//! reordering any entry breaks the chain from that point on. The vault stores the
//! entries encrypted and keeps the head (last sequence number and hash) apart,
//! so cutting entries off the end is caught too.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod words;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Actor {
    /// The wallet's owner, at the CLI or in the web UI.
    Patient,
    /// A plugin, by name.
    Plugin {
        /// Plugin name.
        name: String,
    },
    /// Someone who fetched a share, as the relay reported it.
    Recipient {
        /// What is known about them (provider name, or `bearer`).
        who: String,
    },
}

/// What happened. New kinds are added at the end; old entries keep verifying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The vault was created.
    VaultCreated {
        /// The wallet ID.
        wallet_id: String,
    },
    /// The passphrase was changed.
    PassphraseChanged,
    /// Every value was sealed again under a new data key (and passphrase).
    KeysRotated {
        /// How many values.
        values: u64,
    },
    /// A profile was added.
    ProfileAdded {
        /// Its handle.
        handle: String,
    },
    /// A profile was removed.
    ProfileRemoved {
        /// Its handle.
        handle: String,
    },
    /// Records were imported.
    Imported {
        /// The source (file name, `demo`, plugin name).
        source: String,
        /// Profile handle.
        profile: String,
        /// Number of new records.
        added: u64,
        /// Number already present.
        duplicates: u64,
    },
    /// A record was deleted.
    Deleted {
        /// Record id.
        record: String,
        /// Its title at the time.
        title: String,
    },
    /// Records were exported.
    Exported {
        /// Profile handle.
        profile: String,
        /// Number of records.
        records: u64,
        /// The recipient(s) or `passphrase`.
        to: String,
    },
    /// A record was read (by a plugin or a share).
    Read {
        /// Record id.
        record: String,
    },
    /// Something was refused (a plugin asked for what it may not have).
    Denied {
        /// What was asked.
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// Anything else, in words.
    Note {
        /// What happened.
        text: String,
    },
    /// A share was created.
    ShareCreated {
        /// Grant id.
        grant: String,
        /// Who may open it.
        to: String,
        /// ABDM purpose code.
        purpose: String,
        /// Number of records.
        records: u64,
        /// Expiry (seconds since 1970).
        expires: i64,
        /// `offline` or the relay URL.
        via: String,
    },
    /// A recipient fetched a share from the relay (as the relay's log reports).
    ShareFetched {
        /// Grant id.
        grant: String,
        /// When the relay served it.
        at: i64,
        /// Which use it was.
        use_number: u32,
    },
    /// The patient revoked a share.
    ShareRevoked {
        /// Grant id.
        grant: String,
    },
    /// A plugin was installed.
    PluginInstalled {
        /// Name.
        plugin: String,
        /// Version.
        version: String,
        /// SHA-256 of the component.
        sha256: String,
        /// The permissions approved, in words.
        permissions: String,
    },
    /// A plugin was removed.
    PluginRemoved {
        /// Name.
        plugin: String,
    },
    /// A plugin action ran.
    PluginRan {
        /// Name.
        plugin: String,
        /// Action.
        action: String,
        /// `completed`, or the error.
        outcome: String,
    },
    /// A setting changed (`viewer`: the address share codes open).
    SettingChanged {
        /// Which.
        setting: String,
        /// Its new value; empty when cleared.
        value: String,
    },
    /// A registry's provider list was trusted.
    RegistryTrusted {
        /// Registry name.
        registry: String,
        /// Providers listed.
        providers: u64,
    },
    /// A SMART Health Card issuer's keys were trusted.
    IssuerTrusted {
        /// Its name and address.
        issuer: String,
        /// How many keys.
        keys: u64,
    },
    /// A SMART Health Card issuer is trusted no more.
    IssuerRemoved {
        /// Its name and address.
        issuer: String,
    },
    /// A registry's list of plugin publishers was trusted.
    PublishersTrusted {
        /// Registry name.
        registry: String,
        /// Publishers listed.
        publishers: u64,
    },
    /// A profile made without a name was filled from the patient a file names.
    ProfileFilled {
        /// Its handle.
        handle: String,
        /// Who it now is ([`crate::matching::describe_profile`]).
        details: String,
        /// The file.
        source: String,
    },
    /// A provider's consent request was opened in the wallet.
    RequestReceived {
        /// The request's id.
        request: String,
        /// Who asks (name, registration, and whether a trusted registry lists them).
        from: String,
        /// What is asked, in words.
        asked: String,
    },
    /// The patient approved a consent request: the share answering it.
    RequestGranted {
        /// The request's id (the share's grant id too).
        request: String,
        /// Who asked.
        from: String,
        /// Records shared.
        records: u64,
    },
    /// The patient denied a consent request.
    RequestDenied {
        /// The request's id.
        request: String,
        /// Who asked.
        from: String,
    },
    /// The patient entered a reading by hand.
    Entered {
        /// Record id.
        record: String,
        /// What it says (`Blood pressure: 132/84 mmHg`).
        title: String,
        /// Profile handle.
        profile: String,
    },
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1 for the first entry, then +1.
    pub seq: u64,
    /// When (seconds since 1970).
    pub time: i64,
    /// Who.
    pub actor: Actor,
    /// What.
    pub event: Event,
    /// Hash of the previous entry (zeros for the first).
    #[serde(with = "hex32")]
    pub prev: [u8; 32],
    /// Hash of this entry.
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
}

#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    time: i64,
    actor: &'a Actor,
    event: &'a Event,
    #[serde(with = "hex32")]
    prev: &'a [u8; 32],
}

impl AuditEntry {
    /// Builds the next entry after `prev` (`None` for the first).
    pub fn next(prev: Option<(u64, [u8; 32])>, time: i64, actor: Actor, event: Event) -> Self {
        let (seq, prev) = match prev {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, [0; 32]),
        };
        let mut entry = AuditEntry {
            seq,
            time,
            actor,
            event,
            prev,
            hash: [0; 32],
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// The hash this entry should have.
    pub fn compute_hash(&self) -> [u8; 32] {
        let body = Hashed {
            seq: self.seq,
            time: self.time,
            actor: &self.actor,
            event: &self.event,
            prev: &self.prev,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(b"amanat audit v1\n");
        h.update(&bytes);
        h.finalize().into()
    }

    /// One line for people, in English (the CLI's words; [`words`] has the others).
    pub fn describe(&self) -> String {
        words::describe(&self.event, crate::lang::Lang::En)
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The entry's content no longer matches its hash.
    #[error("audit entry #{seq} was altered (its hash does not match its content)")]
    Altered {
        /// Sequence number of the bad entry.
        seq: u64,
    },
    /// An entry is missing (or the order was changed).
    #[error("audit entry #{expected} is missing (found #{found} in its place)")]
    Missing {
        /// The sequence number expected.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// The entry does not link to the one before it.
    #[error("audit entry #{seq} does not follow entry #{prev_seq} (the chain was cut or spliced)")]
    Broken {
        /// Sequence number of the bad entry.
        seq: u64,
        /// The entry before it.
        prev_seq: u64,
    },
    /// Entries were removed from the end.
    #[error("audit entries after #{last} were removed (the log should end at #{head})")]
    Truncated {
        /// The last entry present.
        last: u64,
        /// Where the log should end.
        head: u64,
    },
    /// Entries follow the head: the head was put back to an older one.
    #[error(
        "the audit log goes on past its head (#{head}, entries up to #{last}): the wallet's state was rolled back to an older copy"
    )]
    PastHead {
        /// Where the head says the log ends.
        head: u64,
        /// The last entry present.
        last: u64,
    },
    /// The catalog does not match the state sealed with the audit head.
    #[error("the wallet's state was rolled back to an older copy: {0}")]
    RolledBack(String),
    /// An entry could not be decrypted or decoded.
    #[error("audit entry #{seq} is unreadable (its bytes were changed)")]
    Unreadable {
        /// Sequence number (from its storage key).
        seq: u64,
    },
}

/// Checks a sequence of entries (in storage order) against the expected head.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    head: Option<(u64, [u8; 32])>,
) -> Result<u64, ChainError> {
    let mut prev: Option<&AuditEntry> = None;
    let mut count = 0;
    for entry in entries {
        let expected = prev.map_or(1, |p| p.seq + 1);
        if entry.seq != expected {
            return Err(ChainError::Missing {
                expected,
                found: entry.seq,
            });
        }
        if entry.compute_hash() != entry.hash {
            return Err(ChainError::Altered { seq: entry.seq });
        }
        let prev_hash = prev.map_or([0; 32], |p| p.hash);
        if entry.prev != prev_hash {
            return Err(ChainError::Broken {
                seq: entry.seq,
                prev_seq: expected - 1,
            });
        }
        prev = Some(entry);
        count += 1;
    }
    let last = prev.map_or(0, |p| p.seq);
    if let Some((head_seq, head_hash)) = head {
        if last < head_seq {
            return Err(ChainError::Truncated { last, head: head_seq });
        }
        if last > head_seq {
            return Err(ChainError::PastHead { head: head_seq, last });
        }
        if last == head_seq && prev.map(|p| p.hash) != Some(head_hash) {
            return Err(ChainError::Altered { seq: last });
        }
    }
    Ok(count)
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::HEXLOWER.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = data_encoding::HEXLOWER
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash));
            out.push(AuditEntry::next(
                prev,
                1000 + i as i64,
                Actor::Patient,
                Event::Note {
                    text: format!("n{i}"),
                },
            ));
        }
        out
    }

    fn head(c: &[AuditEntry]) -> Option<(u64, [u8; 32])> {
        c.last().map(|e| (e.seq, e.hash))
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify_chain(&c, head(&c)), Ok(5));
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        let c = chain(5);
        let h = head(&c);

        let mut altered = c.clone();
        altered[2].event = Event::Note {
            text: "changed".into(),
        };
        assert_eq!(verify_chain(&altered, h), Err(ChainError::Altered { seq: 3 }));

        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(
            verify_chain(&removed, h),
            Err(ChainError::Missing {
                expected: 2,
                found: 3
            })
        );

        let truncated = &c[..3];
        assert_eq!(
            verify_chain(truncated, h),
            Err(ChainError::Truncated { last: 3, head: 5 })
        );

        // A forged entry with a correct self-hash but no link to its predecessor.
        let mut spliced = c.clone();
        spliced[3] = AuditEntry::next(Some((3, [9; 32])), 5, Actor::Patient, Event::PassphraseChanged);
        assert_eq!(
            verify_chain(&spliced, None),
            Err(ChainError::Broken { seq: 4, prev_seq: 3 })
        );
    }
}
