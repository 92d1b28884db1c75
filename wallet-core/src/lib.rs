//! # Amanat wallet core
//!
//! A patient-held, encrypted personal health record wallet.
//!
//! - [`fhir`]: reading, validating and describing FHIR R4 resources and Bundles.
//! - [`record`], [`profile`], [`national_id`]: the wallet's own model.
//! - [`audit`]: the hash-chained audit log.
//! - `vault` (feature `native`): the encrypted sled store.
//!
//! ```
//! use wallet_core::fhir::{read_resources, HiType};
//!
//! let json = br#"{"resourceType":"Immunization","status":"completed",
//!   "vaccineCode":{"text":"Tetanus toxoid"},"patient":{"reference":"Patient/1"},
//!   "occurrenceDateTime":"2021-07-01"}"#;
//! let (resource, about) = read_resources(json).unwrap().remove(0);
//! assert_eq!(resource.resource_type(), "Immunization");
//! assert_eq!(about.hi_type, HiType::ImmunizationRecord);
//! assert_eq!(about.title, "Tetanus toxoid");
//! ```
// One audited exception: loading compiled plugin code the vault sealed
// (`plugin::runtime`).
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod base45;
pub mod contract;
pub mod demo;
pub mod fhir;
pub mod grant;
pub mod ids;
pub mod import;
pub mod lang;
pub mod link;
pub mod national_id;
pub mod par;
pub mod profile;
pub mod provider;
pub mod qr;
pub mod record;
pub mod relay;
pub mod share;
pub mod summary;
#[cfg(feature = "native")]
pub mod terminal;

#[cfg(feature = "native")]
pub mod export;
#[cfg(feature = "native")]
pub mod plugin;
#[cfg(feature = "native")]
pub mod secret_file;
#[cfg(feature = "native")]
pub mod server;
#[cfg(feature = "native")]
pub mod sharing;
#[cfg(feature = "native")]
pub mod vault;
