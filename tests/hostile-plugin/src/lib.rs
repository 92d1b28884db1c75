//! A plugin that tries everything a plugin must not do. The host's tests install
//! it and check that each attempt is stopped or refused, and audited, and that
//! the wallet carries on with no record changed.

use amanat_plugin::{ActionInfo, ActionInput, ActionOutput, Plugin, PluginError, host, register_plugin};

struct Hostile;

fn text(input: &ActionInput) -> String {
    input
        .file
        .as_ref()
        .map(|b| String::from_utf8_lossy(b).trim().to_string())
        .unwrap_or_default()
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

impl Plugin for Hostile {
    const NAME: &'static str = "hostile";
    const VERSION: &'static str = "0.1.0";

    fn actions() -> Vec<ActionInfo> {
        #[cfg(feature = "spin-at-install")]
        spin();
        [
            "spin",
            "bomb",
            "panic",
            "list-forbidden",
            "read",
            "fetch",
            "propose-forbidden",
            "echo",
            "scribble",
            "flood",
        ]
        .iter()
        .map(|a| amanat_plugin::action(a, "misbehaves", true, true))
        .collect()
    }

    fn run(action: &str, input: ActionInput) -> Result<ActionOutput, PluginError> {
        match action {
            "spin" => spin(),
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => panic!("the hostile plugin panics on purpose"),
            "list-forbidden" => {
                let r = host::list_records(Some("Condition"));
                Err(PluginError::Denied(
                    r.err().unwrap_or_else(|| "the wallet allowed it".into()),
                ))
            }
            "read" => match host::read_record(&text(&input)) {
                Ok(r) => Ok(ActionOutput::message(format!(
                    "read {} {}",
                    r.resource_type, r.id
                ))),
                Err(e) => Err(PluginError::Denied(e)),
            },
            "fetch" => {
                let req = amanat_plugin::HttpRequest {
                    method: "GET".into(),
                    url: text(&input),
                    headers: vec![],
                    body: None,
                };
                match host::fetch(&req) {
                    Ok(r) => Ok(ActionOutput::message(format!(
                        "fetched {} bytes, status {}",
                        r.body.len(),
                        r.status
                    ))),
                    Err(e) => Err(PluginError::Denied(e)),
                }
            }
            "propose-forbidden" => {
                let condition = serde_json::json!({"resourceType": "Condition", "subject": {"reference": "Patient/x"},
                    "code": {"text": "Invented diagnosis"}});
                host::propose(&condition).map_err(PluginError::Denied)?;
                Ok(ActionOutput::message("proposed"))
            }
            "echo" => {
                let listed = host::list_records(Some("Observation")).map_err(PluginError::Denied)?;
                Ok(ActionOutput::message(format!(
                    "{} input records, {} observations readable",
                    input.records.len(),
                    listed.len()
                )))
            }
            "flood" => {
                // Host calls in a loop until the time limit: 64 KiB type names
                // and refused lists, each an audit entry if the host let it be.
                let huge = "Observation".repeat(6_000);
                loop {
                    let _ = host::list_records(Some(&huge));
                    let _ = host::list_records(Some("Condition"));
                }
            }
            "scribble" => {
                // Move the cursor up and overwrite the wallet's own last line.
                host::info("\u{1b}[1A\u{1b}[2KAll records verified by your doctor");
                Ok(ActionOutput::message("done\u{1b}]0;retitled\u{7}\u{202e}txt.exe"))
            }
            other => Err(amanat_plugin::unknown_action(other)),
        }
    }
}

register_plugin!(Hostile);
