//! # Amanat wallet core
//!
//! A patient-held, encrypted personal health record wallet. Data flows one
//! way: files → [`import`] → the vault → a [`share`] (a signed consent
//! [`share::grant`] and the records sealed with age, made and managed from the
//! vault by [`share::manage`]) → a [`share::link`] (a QR code's text) → a
//! [`relay`] or the QR code itself → opened, verified, shown. The time comes
//! in from the edge ([`clock`]).
//! `docs/architecture.md` maps every module; [`contract`] is what the CLI, the
//! local server and the web app say to each other.
//!
//! The whole journey, as the CLI and the server make it:
//!
//! ```
//! # #[cfg(feature = "native")] {
//! use age::secrecy::SecretString;
//! use wallet_core::share::{self, grant::{AccessMode, Purpose}, link::{Location, ShareLink}, manage};
//! use wallet_core::{import, profile::{ProfileDraft, Relationship}};
//! use wallet_core::{clock::Clock, vault::{CreateOptions, MIN_KDF_LOG_N, Vault}};
//!
//! let now = 1_790_000_000; // the clock is the caller's: tests and the CLI pass it in
//! let dir = tempfile::tempdir().unwrap();
//! // A wallet, for Ayesha.
//! let owner = ProfileDraft { name: "Ayesha Khan".into(), ..ProfileDraft::default() }
//!     .build("2026-11-30", Relationship::Owner).unwrap();
//! let pass = SecretString::from("correct horse battery".to_string());
//! let clock = Clock::Fixed(now);
//! let options = CreateOptions { kdf_log_n: MIN_KDF_LOG_N, owner, clock };
//! let mut vault = Vault::create(&dir.path().join("wallet"), &pass, options).unwrap();
//!
//! // Import a FHIR resource from a file's bytes.
//! let file = br#"{"resourceType":"Immunization","status":"completed",
//!   "vaccineCode":{"text":"Tetanus toxoid"},"patient":{"reference":"Patient/1"},
//!   "occurrenceDateTime":"2021-07-01"}"#;
//! let records = import::records_from_file("tetanus.json", file, now).unwrap();
//! let me = vault.owner().id;
//! vault.import_records(me, records, wallet_core::audit::Actor::Patient, "tetanus.json", |_| {}).unwrap();
//!
//! // Share it for treatment, for an hour, inside the QR code (no relay).
//! let request = manage::ShareRequest {
//!     profile: me,
//!     selection: manage::Selection { types: vec!["Immunization".into()], ..Default::default() },
//!     purpose: Purpose::CareManagement,
//!     mode: AccessMode::View,
//!     seconds: 3600,
//!     to: None, uses: None, passcode: None, relay: None, viewer: None, shl: None, answering: None,
//! };
//! let prepared = manage::prepare(&vault, request, now).unwrap();
//! let created = manage::finish(&mut vault, prepared, None, now).unwrap();
//!
//! // The doctor's side: decode the link, verify the grant, decrypt, read.
//! let link = ShareLink::decode(&created.link).unwrap();
//! let Location::Inline(bundle) = &link.location else { unreachable!("an offline share") };
//! let received = share::open(&link, bundle, now + 60, None, None).unwrap();
//! assert_eq!(received.wallet_id, vault.wallet_id());
//! assert_eq!(received.records[0].description.title, "Tetanus toxoid");
//! # }
//! ```
//!
//! Modules that need an operating system (the sled vault, the relay, the
//! plugin host, the local server) are behind the `native` feature; the rest
//! builds for the browser, where the web wallet uses it to verify and open
//! shares and to speak the [`contract`].
// One audited exception: loading compiled plugin code the vault sealed
// (`plugin::runtime`).
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod base45;
#[cfg(feature = "native")]
pub mod clock;
pub mod contract;
pub mod decimal;
#[cfg(any(test, feature = "demo"))]
pub mod demo;
pub mod fhir;
pub mod ids;
pub mod import;
mod jws;
pub mod lang;
pub mod matching;
pub mod national_id;
mod par;
pub mod profile;
pub mod provider;
pub mod qr;
pub mod reading;
pub mod record;
pub mod relay;
pub mod share;
pub mod shc;
pub mod summary;
#[cfg(feature = "native")]
pub mod terminal;

#[cfg(feature = "native")]
pub mod export;
#[cfg(feature = "native")]
pub mod plugin;
#[cfg(feature = "native")]
pub mod print;
#[cfg(feature = "native")]
pub mod requests;
#[cfg(feature = "native")]
pub mod scan_share;
#[cfg(feature = "native")]
pub mod secret_file;
#[cfg(feature = "native")]
pub mod server;
#[cfg(feature = "native")]
pub mod vault;
#[cfg(feature = "native")]
pub mod webapp;
