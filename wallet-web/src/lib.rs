//! Amanat's web wallet. The Leptos UI arrives with the web-wallet issue; until
//! then this crate proves that the pure half of `wallet-core` links into it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The FHIR resource types the wallet renders, as the web UI will list them.
pub fn rendered_types() -> &'static [&'static str] {
    &[
        "Observation",
        "Condition",
        "MedicationRequest",
        "Immunization",
        "DocumentReference",
    ]
}
