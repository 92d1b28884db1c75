//! The Amanat plugin SDK. The WIT interface and guest bindings arrive with the
//! plugins issue.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The plugin interface version this SDK targets.
pub const INTERFACE_VERSION: &str = "0.1.0";
