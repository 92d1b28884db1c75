//! # Amanat plugin SDK
//!
//! Write a plugin for the Amanat health record wallet in Rust: a WebAssembly
//! component that runs inside the wallet, sees only the records the patient
//! allowed, and proposes new ones for the patient to confirm.
//!
//! ```no_run
//! use amanat_plugin::{ActionInfo, ActionInput, ActionOutput, Plugin, PluginError, host, register_plugin};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     const NAME: &'static str = "hello";
//!     const VERSION: &'static str = env!("CARGO_PKG_VERSION");
//!
//!     fn actions() -> Vec<ActionInfo> {
//!         vec![amanat_plugin::action("count", "Counts your lab results", false, false)]
//!     }
//!
//!     fn run(action: &str, _input: ActionInput) -> Result<ActionOutput, PluginError> {
//!         match action {
//!             "count" => {
//!                 let n = host::list_records(Some("Observation")).map_err(PluginError::Denied)?.len();
//!                 Ok(ActionOutput::message(format!("You have {n} results.")))
//!             }
//!             other => Err(amanat_plugin::unknown_action(other)),
//!         }
//!     }
//! }
//!
//! register_plugin!(Hello);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-unknown-unknown`,
//! describe its permissions in a manifest, and sign it with `amanat plugin
//! sign`, which makes the module a component: see the guide in this crate's
//! README.
#![deny(missing_docs)]

extern crate self as amanat_plugin;

pub mod fhir;
#[cfg(all(
    feature = "heap",
    target_arch = "wasm32",
    target_os = "unknown",
    not(target_feature = "atomics")
))]
mod heap;

/// The generated bindings. Not part of the API: use the re-exports and [`host`].
#[doc(hidden)]
#[allow(clippy::too_many_arguments, missing_docs)]
pub mod wit {
    wit_bindgen::generate!({
        path: "wit/v0.1.0",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_amanat_plugin",
        default_bindings_module: "amanat_plugin::wit",
        runtime_path: "amanat_plugin::__wit_bindgen::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub use wit::amanat::plugin::types::{
    ActionInfo, ActionInput, ActionOutput, Document, FhirRecord, HttpRequest, HttpResponse, LogLevel,
    Metadata, PluginError, RecordSummary,
};

/// The plugin interface version this SDK targets.
pub const INTERFACE_VERSION: &str = "0.1.0";

/// A plugin. Implement it on a unit struct and pass that to [`register_plugin!`].
pub trait Plugin {
    /// The plugin's name; must equal the name in its signed manifest.
    const NAME: &'static str;
    /// The plugin's version; must equal the manifest's.
    const VERSION: &'static str;

    /// The actions the plugin offers.
    fn actions() -> Vec<ActionInfo>;

    /// Runs one action. The default refuses every action.
    fn run(action: &str, input: ActionInput) -> Result<ActionOutput, PluginError> {
        let _ = input;
        Err(unknown_action(action))
    }

    /// What the wallet is told about the plugin (built from the items above).
    fn metadata() -> Metadata {
        Metadata {
            name: Self::NAME.into(),
            version: Self::VERSION.into(),
            actions: Self::actions(),
        }
    }
}

/// Describes an action.
pub fn action(name: &str, description: &str, takes_file: bool, takes_records: bool) -> ActionInfo {
    ActionInfo {
        name: name.into(),
        description: description.into(),
        takes_file,
        takes_records,
    }
}

/// The error for an action the plugin does not have.
pub fn unknown_action(name: &str) -> PluginError {
    PluginError::InvalidInput(format!("this plugin has no action '{name}'"))
}

impl ActionOutput {
    /// An output that is only a message.
    pub fn message(text: impl Into<String>) -> ActionOutput {
        ActionOutput {
            message: text.into(),
            document: None,
        }
    }
}

/// The wallet's services. Every call is permission-checked and audited by the
/// wallet; a refusal comes back as `Err(reason)`.
pub mod host {
    use super::wit::amanat::plugin::host as raw;
    pub use super::{FhirRecord, HttpRequest, HttpResponse, LogLevel, RecordSummary};

    /// Writes a line to the wallet's plugin log.
    pub fn log(level: LogLevel, message: &str) {
        raw::log(level, message);
    }

    /// Logs at info level.
    pub fn info(message: &str) {
        raw::log(LogLevel::Info, message);
    }

    /// Records of the current profile the plugin may read, newest first.
    pub fn list_records(resource_type: Option<&str>) -> Result<Vec<RecordSummary>, String> {
        raw::list_records(resource_type)
    }

    /// One record by id.
    pub fn read_record(id: &str) -> Result<FhirRecord, String> {
        raw::read_record(id)
    }

    /// Every readable record of one type, read in full.
    pub fn read_all(resource_type: &str) -> Result<Vec<FhirRecord>, String> {
        list_records(Some(resource_type))?
            .iter()
            .map(|r| read_record(&r.id))
            .collect()
    }

    /// Proposes a new record (FHIR JSON); the patient confirms before it is saved.
    pub fn propose(resource: &serde_json::Value) -> Result<(), String> {
        raw::propose_record(&resource.to_string())
    }

    /// Proposes a record your organisation signed with your publisher key
    /// (`AMANAT-RECORD:` text, as `amanat plugin sign-record` or any JOSE
    /// library writes it), unchanged: the wallet verifies it with the key the
    /// plugin is signed with and keeps "signed by <publisher>" with it.
    pub fn propose_signed(text: &str) -> Result<(), String> {
        raw::propose_record(text)
    }

    /// An HTTP request to an approved origin.
    pub fn fetch(request: &HttpRequest) -> Result<HttpResponse, String> {
        raw::http_fetch(request)
    }

    /// POSTs JSON and parses the JSON answer.
    pub fn post_json(url: &str, body: &serde_json::Value) -> Result<(u16, serde_json::Value), String> {
        let response = fetch(&HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), "application/fhir+json".into())],
            body: Some(body.to_string().into_bytes()),
        })?;
        let value = serde_json::from_slice(&response.body).map_err(|e| {
            format!(
                "{url} answered HTTP {} with something that is not JSON: {e}",
                response.status
            )
        })?;
        Ok((response.status, value))
    }

    /// The current time, seconds since 1970.
    pub fn now() -> i64 {
        raw::now()
    }

    /// A setting from the signed manifest.
    pub fn setting(key: &str) -> Option<String> {
        raw::setting(key)
    }
}

/// Sends panic messages to the wallet's log before the plugin traps.
#[doc(hidden)]
pub fn __install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            host::log(LogLevel::Error, &format!("panic: {info}"));
        }));
    });
}

/// Makes a type implementing [`Plugin`] the component's exports.
#[macro_export]
macro_rules! register_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        pub struct __AmanatPluginExports;

        impl $crate::wit::Guest for __AmanatPluginExports {
            fn metadata() -> $crate::Metadata {
                $crate::__install_panic_hook();
                <$plugin as $crate::Plugin>::metadata()
            }

            fn run(action: String, input: $crate::ActionInput) -> Result<$crate::ActionOutput, $crate::PluginError> {
                $crate::__install_panic_hook();
                <$plugin as $crate::Plugin>::run(&action, input)
            }
        }

        $crate::wit::__export_amanat_plugin!(__AmanatPluginExports with_types_in $crate::wit);
    };
}
