//! A plugin's manifest: who made it, what it is, what it may touch.
//!
//! The manifest travels inside the component as the custom section
//! `amanat-manifest` (JSON), covered by the publisher's signature. The wallet
//! shows its permissions to the patient in plain words at install, and checks
//! every host call against them (and against what the patient approved).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::PluginError;

/// The interface version this wallet implements.
pub const INTERFACE_VERSION: &str = "0.1.0";

/// What kind of third party made the plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A laboratory.
    Lab,
    /// An insurer.
    Insurer,
    /// A pharmacy.
    Pharmacy,
    /// Anything else.
    Other,
}

impl Kind {
    /// The word a manifest uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Lab => "lab",
            Kind::Insurer => "insurer",
            Kind::Pharmacy => "pharmacy",
            Kind::Other => "other",
        }
    }
}

/// Memory a plugin call gets unless its manifest asks for more, MiB: enough
/// for Rust plugins and for the Python and JavaScript runtimes' start.
pub const DEFAULT_MEMORY_MIB: u32 = 64;
/// The most memory a manifest may ask for, MiB. The patient sees the ask at
/// install, beside the other permissions.
pub const MAX_MEMORY_MIB: u32 = 512;

/// What a plugin may do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// FHIR resource types it may read (of the profile it runs for).
    #[serde(default)]
    pub read: Vec<String>,
    /// FHIR resource types it may propose as new records.
    #[serde(default)]
    pub propose: Vec<String>,
    /// Exact origins it may reach over HTTP, e.g. `https://claims.example.com:443`.
    #[serde(default)]
    pub network: Vec<String>,
    /// Memory a call may use, MiB, when more than [`DEFAULT_MEMORY_MIB`] is
    /// needed (at most [`MAX_MEMORY_MIB`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u32>,
}

impl Permissions {
    /// What both allow (manifest ∩ patient's approval).
    pub fn intersect(&self, other: &Permissions) -> Permissions {
        let both = |a: &[String], b: &[String]| a.iter().filter(|x| b.contains(x)).cloned().collect();
        Permissions {
            read: both(&self.read, &other.read),
            propose: both(&self.propose, &other.propose),
            network: both(&self.network, &other.network),
            memory_mib: match (self.memory_mib, other.memory_mib) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            },
        }
    }

    /// Memory a call gets, bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory_mib.unwrap_or(DEFAULT_MEMORY_MIB) as usize * 1024 * 1024
    }

    /// The permissions in plain words, one line each.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.read.is_empty() {
            out.push(format!("read your {}", plain_list(&self.read)));
        }
        if !self.propose.is_empty() {
            out.push(format!(
                "suggest new {} (saved only if you confirm)",
                plain_list(&self.propose)
            ));
        }
        if self.network.is_empty() {
            out.push("no internet access".into());
        } else {
            out.push(format!("connect to {} and nowhere else", self.network.join(", ")));
        }
        if let Some(mib) = self.memory_mib {
            out.push(format!(
                "use up to {mib} MiB of memory while it runs (plugins get {DEFAULT_MEMORY_MIB} MiB unless they ask)"
            ));
        }
        out
    }
}

fn plain(resource_type: &str) -> String {
    let words = match resource_type {
        "Observation" => "test results and measurements",
        "DiagnosticReport" => "lab reports",
        "Condition" => "diagnoses",
        "MedicationRequest" => "prescriptions",
        "MedicationStatement" => "current medicines",
        "AllergyIntolerance" => "allergies",
        "Immunization" => "vaccinations",
        "Encounter" => "visits",
        "Procedure" => "procedures",
        "Coverage" => "insurance cards",
        "Claim" => "insurance claims",
        "ClaimResponse" => "insurers' answers to claims",
        "DocumentReference" => "documents",
        "Patient" => "personal details",
        "Task" => "orders",
        other => return other.to_string(),
    };
    format!("{words} ({resource_type})")
}

fn plain_list(types: &[String]) -> String {
    let items: Vec<String> = types.iter().map(|t| plain(t)).collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Name, lowercase letters, digits and `-`.
    pub name: String,
    /// Version.
    pub version: String,
    /// The plugin interface version it was built for.
    pub interface: String,
    /// Who publishes it.
    pub publisher: String,
    /// The publisher's ed25519 key (base64url); `amanat plugin sign` fills it in.
    #[serde(default)]
    pub publisher_key: String,
    /// Lab, insurer, pharmacy or other.
    pub kind: Kind,
    /// What it does, in plain words.
    pub description: String,
    /// What it may touch.
    #[serde(default)]
    pub permissions: Permissions,
    /// Constants the plugin reads with `host.setting` (e.g. an endpoint URL).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// `scheme://host:port` with the default port made explicit, lower-cased.
pub fn normalize_origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, p.parse::<u16>().ok()?),
        _ => (authority, default_port),
    };
    // A DNS name (internationalised names in their xn-- form) or an IPv4
    // address, or a bracketed IPv6 address: nothing else, so an origin the
    // patient approves is exactly what they were shown (no control
    // characters, spaces or look-alike Unicode).
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    let valid = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => !v6.is_empty() && v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'),
        None => !host.is_empty() && host.chars().all(plain),
    };
    if !valid {
        return None;
    }
    Some(format!("{scheme}://{}:{port}", host.to_ascii_lowercase()))
}

/// A plugin name: 1-40 lowercase letters, digits or `-`.
pub fn is_plugin_name(name: &str) -> bool {
    (1..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_type_name(t: &str) -> bool {
    t.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && t.chars().all(|c| c.is_ascii_alphanumeric())
}

impl Manifest {
    /// Parses and validates a manifest.
    pub fn parse(json: &[u8]) -> Result<Manifest, PluginError> {
        let mut m: Manifest = serde_json::from_slice(json)
            .map_err(|e| PluginError::Manifest(format!("not a plugin manifest: {e}")))?;
        m.validate()?;
        m.permissions.network = m
            .permissions
            .network
            .iter()
            .map(|o| {
                normalize_origin(o).ok_or_else(|| {
                    PluginError::Manifest(format!("'{o}' is not an origin like https://host:port"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(m)
    }

    fn validate(&self) -> Result<(), PluginError> {
        let bad = |m: String| Err(PluginError::Manifest(m));
        if !is_plugin_name(&self.name) {
            return bad(format!(
                "name '{}' must be 1-40 lowercase letters, digits or '-'",
                self.name
            ));
        }
        if self.version.is_empty() || self.publisher.trim().is_empty() || self.description.trim().is_empty() {
            return bad("version, publisher and description are required".into());
        }
        if let Some(mib) = self.permissions.memory_mib
            && !(1..=MAX_MEMORY_MIB).contains(&mib)
        {
            return bad(format!(
                "memory_mib {mib} is outside 1-{MAX_MEMORY_MIB}: a plugin may ask for at most {MAX_MEMORY_MIB} MiB"
            ));
        }
        for t in self.permissions.read.iter().chain(&self.permissions.propose) {
            if !is_type_name(t) {
                return bad(format!("'{t}' is not a FHIR resource type"));
            }
        }
        Ok(())
    }

    /// Checks the interface version against this wallet's (same major, and minor
    /// while the major is 0).
    pub fn check_interface(&self) -> Result<(), PluginError> {
        if compatible(&self.interface) {
            Ok(())
        } else {
            Err(PluginError::Interface {
                found: self.interface.clone(),
                supported: INTERFACE_VERSION.into(),
            })
        }
    }

    /// The manifest as JSON (for the custom section).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// Whether an interface version is one this wallet implements.
pub fn compatible(version: &str) -> bool {
    let mine: Vec<&str> = INTERFACE_VERSION.split('.').collect();
    let theirs: Vec<&str> = version.split('.').collect();
    theirs.len() == 3 && theirs[0] == mine[0] && (mine[0] != "0" || theirs[1] == mine[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_shown_by_the_word_its_manifest_uses() {
        for kind in [Kind::Lab, Kind::Insurer, Kind::Pharmacy, Kind::Other] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    fn manifest() -> serde_json::Value {
        serde_json::json!({"name": "lab-import", "version": "0.1.0", "interface": "0.1.0", "publisher": "Chughtai Lab",
            "kind": "lab", "description": "Imports lab reports",
            "permissions": {"read": ["Observation"], "propose": ["Observation", "DiagnosticReport"], "network": ["https://API.lab.example"]}})
    }

    #[test]
    fn parses_normalises_and_describes() {
        let m = Manifest::parse(manifest().to_string().as_bytes()).unwrap();
        assert_eq!(m.permissions.network, vec!["https://api.lab.example:443"]);
        let words = m.permissions.describe().join("; ");
        assert!(
            words.contains("read your test results and measurements (Observation)"),
            "{words}"
        );
        assert!(
            words.contains("connect to https://api.lab.example:443 and nowhere else"),
            "{words}"
        );
        m.check_interface().unwrap();
    }

    #[test]
    fn refuses_bad_manifests() {
        let mut bad = manifest();
        bad["name"] = "Lab Import".into();
        assert!(Manifest::parse(bad.to_string().as_bytes()).is_err());
        let mut bad = manifest();
        bad["permissions"]["network"] = serde_json::json!(["ftp://x"]);
        assert!(
            Manifest::parse(bad.to_string().as_bytes())
                .unwrap_err()
                .to_string()
                .contains("not an origin")
        );
        let mut greedy = manifest();
        greedy["permissions"]["memory_mib"] = 4096.into();
        let err = Manifest::parse(greedy.to_string().as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 512 MiB"), "{err}");
        let mut old = Manifest::parse(manifest().to_string().as_bytes()).unwrap();
        old.interface = "0.2.0".into();
        assert!(matches!(
            old.check_interface(),
            Err(PluginError::Interface { .. })
        ));
    }

    #[test]
    fn origins() {
        assert_eq!(
            normalize_origin("http://127.0.0.1:8080/x?y").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            normalize_origin("https://a.b").as_deref(),
            Some("https://a.b:443")
        );
        assert_eq!(normalize_origin("https://user@evil.com"), None);
        assert_eq!(normalize_origin("file:///etc/passwd"), None);
        assert_eq!(
            normalize_origin("https://[::1]:8443/").as_deref(),
            Some("https://[::1]:8443")
        );
        // Regression: a host with a terminal escape or other non-name
        // characters used to be approved and shown as given.
        for bad in [
            "https://evil.example\u{1b}[1A",
            "https://evil example",
            "https://еxample.com",
            "https://a\u{202e}b.com",
            "https://[zz]:1",
            "https://[]",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn intersection() {
        let a = Permissions {
            read: vec!["A".into(), "B".into()],
            propose: vec![],
            network: vec!["x".into()],
            memory_mib: Some(256),
        };
        let b = Permissions {
            read: vec!["B".into()],
            propose: vec!["C".into()],
            network: vec![],
            memory_mib: Some(128),
        };
        assert_eq!(
            a.intersect(&b),
            Permissions {
                read: vec!["B".into()],
                propose: vec![],
                network: vec![],
                memory_mib: Some(128),
            }
        );
    }
}
