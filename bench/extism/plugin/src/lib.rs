//! The same work as Amanat's lab-import `metadata` export: build and return the
//! plugin's name, version and actions. Extism passes it as JSON bytes through
//! its shared memory; Amanat's component model lifts a typed WIT record.

use extism_pdk::{FnResult, Json, plugin_fn};
use serde::Serialize;

#[derive(Serialize)]
struct ActionInfo {
    name: String,
    description: String,
    takes_file: bool,
    takes_records: bool,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    version: String,
    actions: Vec<ActionInfo>,
}

#[plugin_fn]
pub fn metadata() -> FnResult<Json<Metadata>> {
    Ok(Json(Metadata {
        name: "lab-import".into(),
        version: "0.1.0".into(),
        actions: vec![ActionInfo {
            name: "import".into(),
            description: "Reads a lab report (HL7 v2 ORU^R01 message or CSV with LOINC codes) into results"
                .into(),
            takes_file: true,
            takes_records: false,
        }],
    }))
}
