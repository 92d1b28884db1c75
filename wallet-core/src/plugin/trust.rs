//! Who vouches for a plugin's publisher.
//!
//! A signature proves only that a file is what the holder of the key inside it
//! signed; anyone can make a key and call themselves "Chughtai Lab". So the
//! wallet shows the key's fingerprint, and a name only when a registry the
//! patient trusts (`amanat plugin trust`, a signed snapshot like the provider
//! registries) lists that key; otherwise the publisher is "unknown".

use serde::Serialize;

use super::Installed;
use crate::provider::RegistrySnapshot;

/// Whether, and by whom, a plugin's publisher is vouched for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PublisherTrust {
    /// A trusted registry lists the key that signed the plugin.
    Vouched {
        /// The registry's name.
        registry: String,
        /// The publisher's name as the registry lists it.
        listed_as: String,
        /// The signing key's thumbprint.
        fingerprint: String,
    },
    /// Signed by a key no trusted registry lists.
    Unknown {
        /// The signing key's thumbprint.
        fingerprint: String,
    },
    /// Not signed at all (installed with `--allow-unsigned`, for development).
    Unsigned,
}

impl PublisherTrust {
    /// Looks the plugin's key up in the trusted registries (key thumbprint,
    /// signed snapshot), each verified again against its thumbprint.
    pub fn of(installed: &Installed, registries: &[(String, String)]) -> PublisherTrust {
        let key = &installed.manifest.publisher_key;
        let Some(fingerprint) = installed
            .publisher_key()
            .map(|k| crate::share::grant::thumbprint(&k))
        else {
            return PublisherTrust::Unsigned;
        };
        for (thumb, signed) in registries {
            if let Ok((snapshot, _)) = RegistrySnapshot::verify(signed, Some(thumb))
                && let Some(listed) = snapshot.publisher(key)
            {
                return PublisherTrust::Vouched {
                    registry: snapshot.registry.clone(),
                    listed_as: listed.name.clone(),
                    fingerprint,
                };
            }
        }
        PublisherTrust::Unknown { fingerprint }
    }

    /// One line for people; `claimed` is the name the plugin's manifest gives.
    pub fn words(&self, claimed: &str) -> String {
        match self {
            PublisherTrust::Vouched {
                registry,
                listed_as,
                fingerprint,
            } => format!("{listed_as}, vouched for by {registry} (key {fingerprint})"),
            PublisherTrust::Unknown { fingerprint } => format!(
                "UNKNOWN PUBLISHER: it calls itself '{claimed}', but its key {fingerprint} is in no registry you trust"
            ),
            PublisherTrust::Unsigned => {
                format!("UNSIGNED: '{claimed}' is only what the file says; nobody vouches for it")
            }
        }
    }
}
