//! {{name}}: an Amanat plugin. The wallet calls `metadata` to learn its
//! actions and `run` to run one; everything it reads or proposes goes
//! through `host`, checked against the permissions in amanat-plugin.json.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

// The Amanat SDK's allocator: std's, starting from a static heap, so that a
// call (every call gets a fresh instance) does not have to grow the memory.
#[cfg(all(target_arch = "wasm32", target_os = "unknown", not(target_feature = "atomics")))]
mod heap;

use amanat::plugin::host;
// The world `use`s ActionInput, ActionOutput, Metadata and PluginError: generate! defines them here.
use amanat::plugin::types::{ActionInfo, LogLevel};

struct Plugin;

impl Guest for Plugin {
    fn metadata() -> Metadata {
        Metadata {
            name: "{{name}}".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            actions: vec![ActionInfo {
                name: "hello".into(),
                description: "Says hello and counts your test results".into(),
                takes_file: false,
                takes_records: false,
            }],
        }
    }

    fn run(action: String, _input: ActionInput) -> Result<ActionOutput, PluginError> {
        match action.as_str() {
            "hello" => {
                // A refused call returns an error: pass it on to the patient.
                let results = host::list_records(Some("Observation")).map_err(PluginError::Denied)?;
                host::log(LogLevel::Info, &format!("listed {} results", results.len()));
                Ok(ActionOutput {
                    message: format!("Hello from {{name}}: you have {} test results.", results.len()),
                    document: None,
                })
            }
            other => Err(PluginError::InvalidInput(format!("unknown action '{other}'"))),
        }
    }
}

export!(Plugin);
