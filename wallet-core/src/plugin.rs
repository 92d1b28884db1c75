//! WebAssembly plugins: third parties' code, sandboxed, with only the
//! permissions the patient approved.
//!
//! - [`manifest`]: what a plugin is and may touch (signed, inside the component).
//! - [`signature`]: signing and verifying plugins (custom sections, ed25519).
//! - [`runtime`]: the wasmtime host: no WASI, fuel and a wall-clock deadline,
//!   a memory cap, a fresh `Store` per call, permission checks on every host
//!   call, every access audited.
//! - [`http`]: the only way out to the network: approved origins only.
//!
//! The interface is the WIT package `amanat:plugin@0.1.0` in `plugin-sdk/wit`.

mod code_memory;
mod componentize;
pub mod http;
pub mod manifest;
pub mod runtime;
pub mod signature;
pub mod trust;
pub mod wasi;

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use self::manifest::{Manifest, Permissions};
use self::runtime::Runtime;
use crate::audit::Event;
use crate::vault::Vault;

/// Why a plugin could not be installed or run. Messages name the plugin and the
/// cause; the wallet carries on either way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// Not a WebAssembly component at all.
    #[error("not a valid plugin: {0}")]
    NotAComponent(String),
    /// No signature.
    #[error(
        "the plugin is not signed by its publisher (refused; --allow-unsigned is for plugin development only)"
    )]
    Unsigned,
    /// The signature does not match.
    #[error("the plugin was altered after its publisher signed it ({0}); refused")]
    Altered(String),
    /// The manifest is missing or wrong.
    #[error("the plugin's manifest is invalid: {0}")]
    Manifest(String),
    /// Built for another interface version.
    #[error(
        "the plugin was built for plugin interface {found}; this wallet supports {supported} (ask the publisher for an update)"
    )]
    Interface {
        /// What the plugin uses.
        found: String,
        /// What the wallet implements.
        supported: String,
    },
    /// The component's own metadata disagrees with its manifest.
    #[error("the plugin calls itself {actual}, but its manifest says {declared}")]
    MetadataMismatch {
        /// From the manifest.
        declared: String,
        /// From the component.
        actual: String,
    },
    /// wasmtime could not compile or link it.
    #[error("the plugin cannot be loaded: {0}")]
    Load(String),
    /// Ran past its wall-clock deadline.
    #[error("plugin {plugin} was stopped: it ran past its time limit of {seconds} s")]
    TimeLimit {
        /// Plugin name.
        plugin: String,
        /// The limit.
        seconds: u64,
    },
    /// Used up its fuel.
    #[error("plugin {plugin} was stopped: it used up its computation budget ({fuel} units of fuel)")]
    Fuel {
        /// Plugin name.
        plugin: String,
        /// The budget.
        fuel: u64,
    },
    /// Tried to take more memory than allowed.
    #[error("plugin {plugin} was stopped: it tried to use more than its {mib} MiB of memory")]
    Memory {
        /// Plugin name.
        plugin: String,
        /// The cap.
        mib: usize,
    },
    /// Failed while describing itself (its `metadata` export), which runs with
    /// the small fixed budget of `runtime::METADATA_LIMITS`.
    #[error(
        "{0} while describing itself, which a plugin does on a small fixed budget before anything is approved; refused"
    )]
    Describe(Box<PluginError>),
    /// Trapped or panicked.
    #[error("plugin {plugin} crashed: {detail}")]
    Crashed {
        /// Plugin name.
        plugin: String,
        /// What happened (the panic message when the plugin logged one).
        detail: String,
    },
    /// The plugin reported a failure.
    #[error("plugin {plugin}: {message}")]
    Failed {
        /// Plugin name.
        plugin: String,
        /// Its message.
        message: String,
    },
    /// No such plugin.
    #[error("no plugin '{0}' is installed (see `amanat plugin list`)")]
    NotInstalled(String),
    /// Installed already, from another publisher.
    #[error(
        "a plugin '{name}' from another publisher is installed; remove it first (amanat plugin remove {name})"
    )]
    PublisherChanged {
        /// Plugin name.
        name: String,
    },
    /// A plugin action that does not exist, or input it does not take.
    #[error("{0}")]
    Usage(String),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// The records a plugin proposes are about someone other than the profile.
    #[error(transparent)]
    Mismatch(#[from] crate::matching::Mismatch),
}

/// A plugin as installed in a wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// The manifest, as signed.
    pub manifest: Manifest,
    /// What the patient approved (the manifest's permissions at install).
    pub approved: Permissions,
    /// SHA-256 of the component: the pin.
    pub sha256: String,
    /// Whether it was signed (unsigned only with `--allow-unsigned`).
    pub signed: bool,
    /// When it was installed.
    pub installed: i64,
    /// Its actions, as it described them.
    pub actions: Vec<ActionInfo>,
}

impl crate::vault::StoredPlugin for Installed {
    fn name(&self) -> &str {
        &self.manifest.name
    }

    fn sha256(&self) -> &str {
        &self.sha256
    }
}

impl Installed {
    /// What host calls are allowed: manifest ∩ approval.
    pub fn effective(&self) -> Permissions {
        self.manifest.permissions.intersect(&self.approved)
    }

    /// The key its publisher signed it with; `None` for an unsigned plugin
    /// (or a key that is no Ed25519 key).
    pub fn publisher_key(&self) -> Option<ed25519_dalek::VerifyingKey> {
        use base64::Engine as _;
        let bytes: [u8; 32] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.manifest.publisher_key)
            .ok()?
            .try_into()
            .ok()?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .ok()
            .filter(|_| self.signed)
    }

    /// Whether it is a pharmacy's plugin offering a `check` action (run on a
    /// signed prescription before it is saved).
    fn checks_prescriptions(&self) -> bool {
        self.manifest.kind == manifest::Kind::Pharmacy && self.actions.iter().any(|a| a.name == "check")
    }

    /// The plugin as the edges list it, its publisher judged against the
    /// `registries` the patient trusts.
    pub fn row(&self, registries: &[(String, String)]) -> crate::contract::PluginRow {
        let trust = trust::PublisherTrust::of(self, registries);
        let m = &self.manifest;
        crate::contract::PluginRow {
            name: m.name.clone(),
            version: m.version.clone(),
            publisher: m.publisher.clone(),
            publisher_words: trust.words(&m.publisher),
            publisher_vouched: matches!(trust, trust::PublisherTrust::Vouched { .. }),
            description: m.description.clone(),
            signed: self.signed,
            kind: m.kind.as_str().into(),
            permissions: self.effective().describe(),
            actions: self.actions.clone(),
        }
    }
}

pub use crate::contract::ActionInfo;

/// A plugin checked and compiled, waiting for the patient's approval.
pub struct Candidate {
    /// What will be recorded (approval = the manifest's permissions).
    pub installed: Installed,
    component: Vec<u8>,
    code: Vec<u8>,
    cache_key: String,
}

/// Checks a plugin file before install: the signature (refused if unsigned unless
/// `allow_unsigned`), the manifest, the interface version, that it compiles and
/// links with nothing but the wallet's interface, and that it names itself as
/// its manifest does. Nothing is written.
pub fn prepare(
    runtime: &Runtime,
    vault: &Arc<Mutex<Vault>>,
    bytes: Vec<u8>,
    allow_unsigned: bool,
    now: i64,
) -> Result<Candidate, PluginError> {
    let inspected = signature::inspect(&bytes)?;
    if !inspected.signed && !allow_unsigned {
        return Err(PluginError::Unsigned);
    }
    let manifest = inspected
        .manifest
        .ok_or_else(|| PluginError::Manifest("it has none: add one with `amanat plugin sign`".into()))?;
    manifest.check_interface()?;
    let owner = {
        let v = vault.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = v.plugin::<Installed>(&manifest.name)?
            && existing.manifest.publisher_key != manifest.publisher_key
        {
            return Err(PluginError::PublisherChanged {
                name: manifest.name.clone(),
            });
        }
        v.owner().id
    };
    let component = runtime.compile(&bytes)?;
    let (name, version, actions) = runtime.metadata(&component, &manifest.name, vault.clone(), owner)?;
    if name != manifest.name || version != manifest.version {
        return Err(PluginError::MetadataMismatch {
            declared: format!("{} {}", manifest.name, manifest.version),
            actual: format!("{name} {version}"),
        });
    }
    let sha256 = data_encoding::HEXLOWER.encode(&inspected.sha256);
    let code = runtime.serialize(&component)?;
    let cache_key = runtime.cache_key(&sha256);
    Ok(Candidate {
        installed: Installed {
            approved: manifest.permissions.clone(),
            manifest,
            sha256,
            signed: inspected.signed,
            installed: now,
            actions,
        },
        component: bytes,
        code,
        cache_key,
    })
}

/// Installs an approved candidate.
pub fn commit(runtime: &Runtime, vault: &mut Vault, candidate: Candidate) -> Result<(), PluginError> {
    let m = &candidate.installed.manifest;
    let event = Event::PluginInstalled {
        plugin: m.name.clone(),
        version: m.version.clone(),
        sha256: candidate.installed.sha256.clone(),
        permissions: candidate.installed.approved.describe().join("; "),
    };
    vault.put_plugin(
        &candidate.installed,
        &candidate.component,
        Some((&candidate.cache_key, &candidate.code)),
        event,
    )?;
    runtime.forget(&m.name);
    Ok(())
}

/// What an edge (the CLI's `plugin run`, the local API) asks of a plugin.
pub struct Call {
    /// The installed plugin's name.
    pub plugin: String,
    /// The action; `None` picks the plugin's only action.
    pub action: Option<String>,
    /// Whose records (a profile handle; the owner's when `None`).
    pub profile: Option<String>,
    /// Records given to the action, by id or its first characters.
    pub records: Vec<String>,
    /// A file given to the action: its name and bytes.
    pub file: Option<(String, Vec<u8>)>,
}

/// A finished call: for whom it ran, and what the plugin made.
pub struct Called {
    /// The profile it ran for (proposals are saved there).
    pub profile: crate::ids::ProfileId,
    /// What it produced.
    pub outcome: runtime::RunOutcome,
}

/// Runs `call`: checks that the plugin and action exist, resolves the
/// profile and record ids, loads the compiled plugin (from the vault's cache)
/// and runs the action under its limits. Nothing is saved: see [`save`].
pub fn call(runtime: &Runtime, vault: &Arc<Mutex<Vault>>, call: Call) -> Result<Called, PluginError> {
    let (installed, profile, ids) = {
        let v = vault.lock().unwrap_or_else(|p| p.into_inner());
        let installed = v
            .plugin::<Installed>(&call.plugin)?
            .ok_or_else(|| PluginError::NotInstalled(call.plugin.clone()))?;
        let profile = v.profile(call.profile.as_deref().filter(|h| !h.is_empty()))?.id;
        let ids = call
            .records
            .iter()
            .map(|r| v.resolve_id(r))
            .collect::<Result<Vec<_>, _>>()?;
        (installed, profile, ids)
    };
    let offered = || {
        let names: Vec<&str> = installed.actions.iter().map(|a| a.name.as_str()).collect();
        names.join(", ")
    };
    let action = match call.action.filter(|a| !a.is_empty()) {
        Some(a) if installed.actions.iter().any(|x| x.name == a) => a,
        Some(a) => {
            return Err(PluginError::Usage(format!(
                "plugin {} has no action '{a}'; it offers: {}",
                call.plugin,
                offered()
            )));
        }
        None if installed.actions.len() == 1 => installed.actions[0].name.clone(),
        None => {
            return Err(PluginError::Usage(format!(
                "plugin {} has several actions; name one: {}",
                call.plugin,
                offered()
            )));
        }
    };
    let loaded = runtime.load(vault, &installed)?;
    let outcome = runtime.run(&loaded, vault.clone(), profile, &action, call.file, &ids)?;
    Ok(Called { profile, outcome })
}

/// What a pharmacy plugin found in a prescription before it was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The plugin.
    pub plugin: String,
    /// Its words, for the patient.
    pub message: String,
    /// Whether it found a hazard: it answered a FHIR `DetectedIssue` of
    /// severity `high` (an allergy), which the patient must see before saving.
    pub hazard: bool,
}

/// The prescriptions among records about to be imported that came signed by
/// their prescriber (their JSON bytes): what the pharmacy plugins check
/// before they are saved.
pub fn signed_prescriptions(records: &[crate::record::NewRecord]) -> Vec<Vec<u8>> {
    records
        .iter()
        .filter(|r| {
            matches!(r.source, crate::record::Source::Signed { .. })
                && r.resource.resource_type() == "MedicationRequest"
        })
        .map(|r| r.resource.to_bytes())
        .collect()
}

/// Whether an installed pharmacy plugin offers a `check` action (loading
/// the plugin host is worth it only then).
pub fn pharmacy_checks_installed(vault: &Vault) -> Result<bool, PluginError> {
    Ok(vault
        .plugins::<Installed>()?
        .iter()
        .any(Installed::checks_prescriptions))
}

/// Runs the `check` action of every installed pharmacy plugin that offers
/// one on each prescription (their JSON bytes, each given as the action's
/// file) for `profile` (a handle; the owner's when `None`): what each finds.
/// Each run is audited like any; nothing is saved.
pub fn check_prescriptions(
    runtime: &Runtime,
    vault: &Arc<Mutex<Vault>>,
    profile: Option<&str>,
    prescriptions: &[Vec<u8>],
) -> Result<Vec<Finding>, PluginError> {
    let pharmacies: Vec<Installed> = vault
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .plugins::<Installed>()?
        .into_iter()
        .filter(Installed::checks_prescriptions)
        .collect();
    let mut findings = Vec::with_capacity(pharmacies.len() * prescriptions.len());
    for (pharmacy, prescription) in prescriptions
        .iter()
        .flat_map(|p| pharmacies.iter().map(move |i| (i, p)))
    {
        let called = call(
            runtime,
            vault,
            Call {
                plugin: pharmacy.manifest.name.clone(),
                action: Some("check".into()),
                profile: profile.map(str::to_string),
                records: Vec::new(),
                file: Some(("prescription.json".into(), prescription.to_vec())),
            },
        )?;
        let hazard = called
            .outcome
            .document
            .as_ref()
            .and_then(|(_, _, bytes)| serde_json::from_slice::<serde_json::Value>(bytes).ok())
            .is_some_and(|d| d["resourceType"] == "DetectedIssue" && d["severity"] == "high");
        findings.push(Finding {
            plugin: pharmacy.manifest.name.clone(),
            message: called.outcome.message,
            hazard,
        });
    }
    Ok(findings)
}

/// A record a plugin proposed, to save if the patient says so.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The resource, as read.
    pub read: crate::fhir::Read,
    /// Signed by the plugin's publisher (the signature verified with the
    /// key the plugin is signed with when it was proposed).
    pub signed: Option<PublisherSigned>,
}

/// A publisher's signature over a proposed record ([`crate::provider::signed`]).
#[derive(Debug, Clone)]
pub struct PublisherSigned {
    /// When, as the publisher says (seconds since 1970).
    pub signed_at: i64,
    /// The signature without its payload (`header..signature`).
    pub signature: String,
    /// The key's RFC 7638 thumbprint.
    pub key: String,
}

/// Saves the records plugin `name` proposed into `profile`, as the plugin's
/// (their source and the audit entry name it), once the patient said yes;
/// a record its publisher signed says who signed it, as the wallet judges
/// that publisher now ([`trust::PublisherTrust`]). Records about someone
/// other than the profile (a lab report for another patient) are refused,
/// both people named, unless `accept_mismatch`.
pub fn save(
    vault: &mut Vault,
    name: &str,
    profile: crate::ids::ProfileId,
    proposals: Vec<Proposal>,
    accept_mismatch: bool,
) -> Result<crate::vault::ImportOutcome, PluginError> {
    check_patient(vault, profile, &proposals, accept_mismatch)?;
    let source = crate::record::Source::Plugin {
        name: name.to_string(),
    };
    let signed: Vec<Option<PublisherSigned>> = proposals.iter().map(|p| p.signed.clone()).collect();
    let mut new = crate::import::new_records(proposals.into_iter().map(|p| p.read).collect(), &source);
    if signed.iter().any(Option::is_some) {
        let installed = vault
            .plugins::<Installed>()?
            .into_iter()
            .find(|i| i.manifest.name == name)
            .ok_or_else(|| PluginError::NotInstalled(name.to_string()))?;
        let (publisher, registry) = match trust::PublisherTrust::of(&installed, &vault.registries()?) {
            trust::PublisherTrust::Vouched {
                registry, listed_as, ..
            } => (listed_as, registry),
            _ => (
                installed.manifest.publisher.clone(),
                "no registry you trust".to_string(),
            ),
        };
        for (record, signed) in new.iter_mut().zip(signed) {
            if let Some(s) = signed {
                record.source = crate::record::Source::Signed {
                    file: format!("plugin {name}"),
                    signer: crate::provider::signed::Signer {
                        name: publisher.clone(),
                        registration: format!("publisher key {}", s.key),
                        registry: registry.clone(),
                        key: s.key,
                    },
                    signed_at: s.signed_at,
                    signature: s.signature,
                };
            }
        }
    }
    let actor = crate::audit::Actor::Plugin {
        name: name.to_string(),
    };
    Ok(vault.add_records(profile, new, actor, &format!("plugin {name}"))?)
}

/// Whether proposals may go into `profile`: [`crate::matching::destination`]
/// with the profile as chosen.
pub fn check_patient(
    vault: &Vault,
    profile: crate::ids::ProfileId,
    proposals: &[Proposal],
    accept_mismatch: bool,
) -> Result<(), PluginError> {
    let chosen = vault
        .profile_by_id(profile)
        .ok_or_else(|| crate::vault::VaultError::ProfileNotFound(profile.to_string()))?;
    let patient = crate::matching::patient_of(proposals.iter().map(|p| &p.read.resource));
    crate::matching::destination_of(vault.profiles(), chosen, true, patient.as_ref(), accept_mismatch)?;
    Ok(())
}
