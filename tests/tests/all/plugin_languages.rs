//! Plugins in Python and JavaScript: the sample plugins (built from
//! `plugins/` by componentize-py and jco) doing real work through the host, a
//! hostile Python plugin stopped by every limit and reaching nothing through
//! WASI, and `amanat plugin new` projects that build and install in each
//! language.

use std::path::PathBuf;
use std::process::Command;

use amanat_tests::{TestVault, amanat_bin, built_plugin, workspace_root, write_json};
use serde_json::{Value, json};

fn install(v: &TestVault, wasm: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["plugin", "install", "--yes", wasm.to_str().unwrap()];
    args.extend_from_slice(extra);
    v.run(&args).ok_saying("Installed")
}

fn records(v: &TestVault) -> Value {
    v.run(&["list", "--json", "-n", "0", "--all-profiles"]).json()
}

fn quantity(code: &str, text: &str, value: f64, unit: &str, at: &str) -> Value {
    json!({"resource": {"resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": text},
        "effectiveDateTime": at, "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}})
}

fn prescription(text: &str, dose: Value, status: &str) -> Value {
    json!({"resource": {"resourceType": "MedicationRequest", "status": status, "intent": "order",
        "medicationCodeableConcept": {"text": text}, "subject": {"display": "Ayesha Siddiqui"},
        "authoredOn": "2026-05-11", "dosageInstruction": [dose]}})
}

/// Readings, prescriptions (two current, one stopped) and a diagnosis.
fn patient_bundle() -> Value {
    let bp = json!({"resource": {"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Blood pressure"},
        "effectiveDateTime": "2026-11-02T09:00:00+05:00",
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 142, "unit": "mmHg"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 91, "unit": "mmHg"}}]}});
    let older_bp = json!({"resource": {"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}], "text": "Blood pressure"},
        "effectiveDateTime": "2025-01-02T09:00:00+05:00",
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 118, "unit": "mmHg"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 76, "unit": "mmHg"}}]}});
    json!({"resourceType": "Bundle", "type": "collection", "entry": [
        bp, older_bp,
        quantity("29463-7", "Body weight", 80.0, "kg", "2026-11-02"),
        quantity("8302-2", "Body height", 170.0, "cm", "2026-11-02"),
        prescription("Metformin 1000 mg", json!({"text": "1000 mg twice daily with meals"}), "active"),
        prescription("Atorvastatin 20 mg", json!({"text": "20 mg",
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "timeOfDay": ["21:00:00"]}}}), "active"),
        prescription("Glibenclamide 5 mg", json!({"text": "5 mg once daily"}), "stopped"),
        {"resource": {"resourceType": "Condition", "code": {"text": "Type 2 diabetes mellitus"},
            "subject": {"display": "Ayesha Siddiqui"}}},
    ]})
}

fn wallet_with_records() -> TestVault {
    let v = TestVault::new();
    let bundle = v.scratch("patient.json");
    write_json(&bundle, &patient_bundle());
    v.run(&["import", bundle.to_str().unwrap()]).ok();
    v
}

fn condition_id(v: &TestVault) -> String {
    v.first_id(&["--type", "Condition"])
}

#[test]
fn python_and_javascript_sample_plugins_read_what_they_may_and_propose_records() {
    let v = wallet_with_records();
    let condition = condition_id(&v);
    install(&v, &built_plugin("med-reminders.wasm"), &[]);
    install(&v, &built_plugin("vitals-risk.wasm"), &[]);
    let shown = v
        .run(&["plugin", "show", "med-reminders"])
        .ok_saying("read your prescriptions (MedicationRequest)");
    assert!(
        shown.contains("suggest new CarePlan (saved only if you confirm)"),
        "{shown}"
    );

    // Python: a schedule from the current prescriptions only.
    let ics = v.scratch("medicines.ics");
    let run = v.run(&[
        "plugin",
        "run",
        "med-reminders",
        "schedule",
        "--yes",
        "--save-document",
        ics.to_str().unwrap(),
    ]);
    let out = run.ok_saying("Metformin 1000 mg: 08:00, 20:00");
    assert!(out.contains("Atorvastatin 20 mg: 21:00"), "{out}");
    assert!(
        !out.contains("Glibenclamide"),
        "a stopped prescription is not scheduled: {out}"
    );
    let calendar = std::fs::read_to_string(&ics).unwrap();
    assert!(calendar.starts_with("BEGIN:VCALENDAR\r\n"), "{calendar}");
    assert_eq!(calendar.matches("BEGIN:VEVENT").count(), 3, "{calendar}");
    assert!(
        calendar.contains("SUMMARY:Take Atorvastatin 20 mg\r\nDESCRIPTION:20 mg"),
        "{calendar}"
    );
    let plans = v.run(&["list", "--json", "--type", "CarePlan"]).json();
    assert_eq!(plans.as_array().unwrap().len(), 1, "{plans}");
    assert_eq!(plans[0]["title"], "Daily medicine schedule");
    let plan = v
        .run(&["show", plans[0]["id"].as_str().unwrap(), "--json"])
        .json();
    let activities = plan["resource"]["activity"]
        .as_array()
        .or(plan["activity"].as_array())
        .cloned();
    assert_eq!(activities.map(|a| a.len()), Some(2), "{plan}");

    // JavaScript: the newest readings, and a RiskAssessment proposed.
    let out = v.run(&["plugin", "run", "vitals-risk", "summary", "--yes"]).ok();
    assert!(
        out.contains("Blood pressure 142/91 mmHg (2026-11-02): high blood pressure, stage 2"),
        "the newest reading, not the older normal one: {out}"
    );
    assert!(
        out.contains("BMI 27.7 (80 kg, 170 cm): obese (Asian cut-off 27.5)"),
        "{out}"
    );
    let risks = v.run(&["list", "--json", "--type", "RiskAssessment"]).json();
    assert_eq!(risks[0]["title"], "Blood pressure and weight summary", "{risks}");

    // Each read only what it was granted: the diagnosis was never read.
    let audit = v
        .run(&["audit"])
        .ok_saying("ran med-reminders schedule: completed");
    assert!(audit.contains("ran vitals-risk summary: completed"), "{audit}");
    assert!(!audit.contains(&condition), "{audit}");
    assert!(!audit.contains("denied"), "{audit}");
}

fn hostile(v: &TestVault, action: &str, input: Option<&str>, extra: &[&str]) -> amanat_tests::Run {
    amanat_tests::run_action(v, "hostile-python", action, input, extra)
}

#[test]
fn a_hostile_python_plugin_is_stopped_by_every_limit_and_reaches_nothing() {
    let v = wallet_with_records();
    let condition = condition_id(&v);
    install(&v, &built_plugin("hostile-python.wasm"), &[]);
    let before = records(&v);

    // `while True: pass`
    let err = hostile(&v, "spin", None, &["--time-limit", "1"]).fails_with(7);
    assert!(
        err.contains("plugin hostile-python was stopped: it ran past its time limit of 1 s")
            || err.contains("plugin hostile-python was stopped: it used up its computation budget"),
        "{err}"
    );
    // A list growing without bound, under the default cap and a chosen one.
    hostile(&v, "grow", None, &[]).fails_saying(
        7,
        "plugin hostile-python was stopped: it tried to use more than its 64 MiB of memory",
    );
    hostile(&v, "grow", None, &["--memory-limit", "40"]).fails_saying(7, "more than its 40 MiB of memory");

    // Files, environment, sockets, processes: each attempt gets an error, or nothing.
    let out = hostile(&v, "escape", None, &[]).ok();
    let line = |label: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{label}: ")))
            .unwrap_or_else(|| panic!("no {label} line in {out}"))
            .to_string()
    };
    assert!(
        line("open").starts_with("open: FileNotFoundError: [Errno 44]"),
        "{out}"
    );
    assert!(line("listdir").starts_with("listdir: FileNotFoundError"), "{out}");
    assert_eq!(line("environ"), "environ: GOT {}", "{out}");
    assert!(line("socket").starts_with("socket: ModuleNotFoundError"), "{out}");
    assert!(
        line("subprocess").starts_with("subprocess: ModuleNotFoundError"),
        "{out}"
    );
    assert!(line("write").starts_with("write: FileNotFoundError"), "{out}");
    assert!(
        !out.contains("GOT") || line("environ").contains("GOT {}"),
        "{out}"
    );
    assert!(!out.contains("root:"), "{out}");
    assert!(!std::path::Path::new("/tmp/amanat-hostile-python").exists());

    // A record of a type it may not read: an error value, which it reports.
    hostile(&v, "read", Some(&condition), &[]).fails_saying(7, &format!(
            "plugin hostile-python: refused by the wallet: the wallet said: denied: read record {condition} (Condition): this plugin may not read that type"
        ));
    // An uncaught exception is named; endless printing is cut.
    hostile(&v, "crash", None, &[]).fails_saying(
        7,
        "plugin hostile-python crashed: ValueError: the hostile Python plugin fails on purpose",
    );
    let chatter = hostile(&v, "chatter", None, &[]);
    assert_eq!(chatter.code, 0, "{chatter:?}");
    assert!(
        chatter.stderr.contains("more bytes of output not kept)"),
        "{}",
        chatter.stderr
    );
    let kept = chatter
        .stderr
        .lines()
        .filter(|l| l.contains("of output nobody asked for"))
        .count();
    assert!((100..1000).contains(&kept), "{kept} lines kept");

    assert_eq!(records(&v), before, "no record changed");
    let audit = v
        .run(&["audit"])
        .ok_saying("ran hostile-python spin: plugin hostile-python was stopped");
    assert!(
        audit.contains(&format!("denied read record {condition}")),
        "{audit}"
    );
    v.run(&["audit", "--verify"]).ok();
}

#[test]
fn a_hostile_javascript_plugin_is_stopped_like_a_rust_one() {
    let v = wallet_with_records();
    install(&v, &built_plugin("hostile-js.wasm"), &[]);
    let before = records(&v);
    let run = |action: &str| amanat_tests::run_action(&v, "hostile-js", action, None, &[]);
    let err = amanat_tests::run_action(&v, "hostile-js", "spin", None, &["--time-limit", "1"]).fails_with(7);
    assert!(
        err.contains("plugin hostile-js was stopped: it ran past its time limit of 1 s")
            || err.contains("plugin hostile-js was stopped: it used up its computation budget"),
        "{err}"
    );
    // Under the default time limit, so that only the memory cap can stop it
    // (with one second, a loaded machine stopped it by time first).
    run("grow").fails_saying(
        7,
        "plugin hostile-js was stopped: it tried to use more than its 64 MiB of memory",
    );
    // fetch() reaches for wasi:http, which is not offered: named, and nothing sent.
    let err = run("fetch").fails_saying(7, "plugin hostile-js crashed: the plugin called wasi:http/types@0.2.3#[constructor]fields, which Amanat does not offer");
    assert!(
        !err.contains("wasm function"),
        "no wasm backtrace for the patient: {err}"
    );
    run("crash").fails_saying(
        7,
        "plugin hostile-js crashed: TypeError: can't access property \"boom\" of null",
    );
    assert_eq!(records(&v), before, "no record changed");
    v.run(&["audit", "--verify"]).ok();
}

#[test]
fn a_plugin_asks_for_more_memory_in_its_manifest_and_the_patient_sees_it() {
    let v = wallet_with_records();
    let mut manifest: Value = serde_json::from_slice(
        &std::fs::read(workspace_root().join("tests/hostile-python/amanat-plugin.json")).unwrap(),
    )
    .unwrap();
    manifest["permissions"]["memory_mib"] = 96.into();
    let signed = v.scratch("roomy.wasm");
    let unsigned = v.scratch("hostile-python.wasm");
    std::fs::copy(built_plugin("hostile-python.wasm"), &unsigned).unwrap();
    amanat_tests::sign_plugin(&unsigned, &manifest, &signed);
    let out = install(&v, &signed, &[]);
    assert!(
        out.contains("use up to 96 MiB of memory while it runs (plugins get 64 MiB unless they ask)"),
        "{out}"
    );
    hostile(&v, "grow", None, &[]).fails_saying(7, "more than its 96 MiB of memory");

    manifest["permissions"]["memory_mib"] = 4096.into();
    let refused = amanat_tests::try_sign_plugin(&unsigned, &manifest, &v.scratch("greedy.wasm"));
    assert!(
        refused.stderr.contains("a plugin may ask for at most 512 MiB"),
        "{refused:?}"
    );
}

/// The tools the README's test command installs into target/tools.
fn toolchain_env(cmd: &mut Command) {
    let tools = workspace_root().join("target/tools");
    let bin = amanat_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    cmd.env("PATH", path)
        .env("AMANAT", amanat_bin())
        .env("COMPONENTIZE_PY", tools.join("py/bin/componentize-py"))
        .env("JCO", tools.join("node_modules/.bin/jco"))
        // The Rust template's dependencies, compiled once for every run.
        .env("CARGO_TARGET_DIR", workspace_root().join("target/plugin-new"));
}

#[test]
fn new_plugin_projects_build_and_install_in_rust_python_and_javascript() {
    let v = wallet_with_records();
    for lang in ["rust", "python", "js"] {
        let name = format!("hello-{lang}");
        v.run(&[
            "plugin",
            "new",
            &name,
            "--lang",
            lang,
            "--dir",
            v.scratch.to_str().unwrap(),
        ])
        .ok_saying("./build");
        let dir: PathBuf = v.scratch(&name);
        for file in ["wit/plugin.wit", "amanat-plugin.json", "build"] {
            assert!(dir.join(file).exists(), "{file} in {}", dir.display());
        }
        let mut build = Command::new(dir.join("build"));
        toolchain_env(&mut build);
        let built = build.output().unwrap();
        assert!(
            built.status.success(),
            "{lang}: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let wasm = dir.join(format!("{name}.wasm"));
        // Unsigned: refused, then installed on the development path.
        v.run(&["plugin", "install", "--yes", wasm.to_str().unwrap()])
            .fails_saying(7, "not signed by its publisher");
        install(&v, &wasm, &["--allow-unsigned"]);
        let out = v.run(&["plugin", "run", &name, "hello", "--yes"]).ok();
        assert!(
            out.contains(&format!("Hello from {name}: you have 4 test results.")),
            "{lang}: {out}"
        );
    }
    v.run(&[
        "plugin",
        "new",
        "hello-js",
        "--lang",
        "js",
        "--dir",
        v.scratch.to_str().unwrap(),
    ])
    .fails_saying(1, "already exists");
    v.run(&["plugin", "new", "Hello World", "--lang", "python"])
        .fails_saying(1, "is not a plugin name");
}

/// An author's mistakes while packing, and a memory cap past the ceiling,
/// each get their own words; nothing is written.
#[test]
fn packing_mistakes_and_a_memory_limit_past_the_ceiling_are_named() {
    let v = TestVault::new();
    let manifest = v.scratch("manifest.json");
    write_json(
        &manifest,
        &json!({"name": "hello", "version": "0.1.0", "interface": "0.1.0", "publisher": "Me",
                "kind": "other", "description": "says hello", "permissions": {}}),
    );
    let newer = v.scratch("newer.json");
    write_json(
        &newer,
        &json!({"name": "hello", "version": "0.1.0", "interface": "9.0.0", "publisher": "Me",
                "kind": "other", "description": "says hello", "permissions": {}}),
    );
    let broken = v.scratch("broken.json");
    std::fs::write(&broken, "{\"name\":").unwrap();
    let junk = v.scratch("junk.wasm");
    std::fs::write(&junk, "not wasm at all").unwrap();
    let core = v.scratch("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let path = |p: &PathBuf| p.to_str().unwrap().to_string();
    let missing = v.scratch("missing.wasm");
    let cases: [(&PathBuf, &PathBuf, i32, &str); 5] = [
        (&missing, &manifest, 1, "cannot read"),
        (
            &junk,
            &broken,
            7,
            "the plugin's manifest is invalid: not a plugin manifest",
        ),
        (
            &junk,
            &newer,
            7,
            "built for plugin interface 9.0.0; this wallet supports 0.1.0",
        ),
        (
            &junk,
            &manifest,
            7,
            "it does not start with the WebAssembly component header",
        ),
        (
            &core,
            &manifest,
            7,
            "this core WebAssembly module does not say which interface it implements",
        ),
    ];
    for (wasm, m, code, words) in cases {
        let err = v
            .run(&["plugin", "pack", &path(wasm), "--manifest", &path(m)])
            .fails_with(code);
        assert!(err.contains(words), "{err}");
    }
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        b"not wasm at all",
        "a refused pack writes nothing"
    );

    v.run(&["plugin", "run", "anything", "--memory-limit", "513"])
        .fails_saying(2, "513 is not in 1..=512");
}
