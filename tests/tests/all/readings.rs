//! Readings typed in by the patient (`amanat add`): each kind checked (good,
//! impossible, wrong unit), converted, saved as the patient's own entry and
//! charted beside the lab's values.

use amanat_tests::TestVault;

fn owner() -> TestVault {
    let v = TestVault::empty();
    v.run(&["init", "--name", "Ayesha Siddiqui", "--cnic", "35202-1234567-2"])
        .ok();
    v
}

fn count(v: &TestVault) -> usize {
    v.run(&["list", "--json"]).json().as_array().unwrap().len()
}

#[test]
fn each_reading_is_checked_saved_as_the_patients_and_charted() {
    let v = owner();
    // (kind, good value and unit, impossible value, a unit that does not measure it)
    let cases: [(&str, &[&str], &str, &str); 7] = [
        ("bp", &["132/84"], "400/20", "kg"),
        ("glucose", &["7.8", "--unit", "mmol/L"], "4000", "lb"),
        ("weight", &["160", "--unit", "lb"], "4000", "mg/dL"),
        ("hba1c", &["6.9"], "69", "mmHg"),
        ("temperature", &["98.6"], "60", "kg"),
        ("spo2", &["97"], "104", "mmol/L"),
        ("pulse", &["72"], "0", "%"),
    ];
    for (kind, good, impossible, wrong_unit) in cases {
        let mut args = vec!["add", kind];
        args.extend_from_slice(good);
        args.push("--json");
        let saved = v.run(&args).json();
        assert_eq!(saved["record"]["source"], "entered by the patient", "{kind}");
        let before = count(&v);
        let err = v
            .run(&["add", kind, impossible])
            .fails_saying(1, "is not possible");
        assert!(err.contains("nothing was saved"), "{kind}: {err}");
        let first = good[0];
        v.run(&["add", kind, first, "--unit", wrong_unit])
            .fails_saying(1, &format!("is not measured in '{wrong_unit}'"));
        assert_eq!(count(&v), before, "{kind}: a refused reading adds nothing");
    }
    assert_eq!(count(&v), 7);

    // Converted to the unit the charts use; what was typed is kept.
    let list = v.run(&["list", "--json"]).json();
    let title = |word: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .find(|t| t.starts_with(word))
            .unwrap_or_else(|| panic!("no {word} in {list}"))
    };
    assert_eq!(title("Glucose"), "Glucose: 141 mg/dL");
    assert_eq!(title("Body weight"), "Body weight: 72.6 kg");
    assert_eq!(title("Body temperature"), "Body temperature: 37 °C");
    let glucose = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"].as_str().unwrap().starts_with("Glucose"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resource = &v.run(&["show", &glucose, "--json"]).json();
    assert_eq!(resource["note"][0]["text"], "Entered by the patient: 7.8 mmol/L");
    assert_eq!(resource["valueQuantity"]["system"], "http://unitsofmeasure.org");
    assert_eq!(
        resource["performer"][0]["display"],
        "Ayesha Siddiqui (the patient)"
    );

    // Charted: blood pressure among the vitals, glucose and HbA1c among the results.
    v.run(&["add", "bp", "141/91", "--at", "2026-11-20T08:00:00+05:00"])
        .ok();
    let s = v.run(&["summary", "--json"]).json();
    let vitals = s["summary"]["vitals"].as_array().unwrap();
    let bp = vitals
        .iter()
        .find(|l| l["code"] == "http://loinc.org|85354-9")
        .expect("blood pressure among the vitals");
    assert_eq!(bp["value"], "132/84 mmHg", "the newest reading is the latest");
    let trend: Vec<_> = bp["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["values"].clone())
        .collect();
    assert_eq!(
        trend,
        [serde_json::json!([141.0, 91.0]), serde_json::json!([132.0, 84.0])]
    );
    let results: Vec<&str> = s["summary"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert!(
        results.contains(&"http://loinc.org|2339-0") && results.contains(&"http://loinc.org|4548-4"),
        "{results:?}"
    );
    assert!(
        !vitals.iter().any(|l| l["code"] == "http://loinc.org|2339-0"),
        "glucose is a result, not a vital sign"
    );

    // The audit log says who typed what.
    let audit = v.run(&["audit"]).ok();
    assert!(
        audit.contains("into 'ayesha' by hand: Blood pressure: 141/91 mmHg"),
        "{audit}"
    );
    assert!(v.run(&["audit", "--verify"]).ok().contains("intact"));
}

#[test]
fn readings_refuse_bad_input_in_words() {
    let v = owner();
    v.run(&["add", "height", "170"])
        .fails_saying(2, "'height' is not a reading Amanat knows");
    v.run(&["add", "bp", "84/132"])
        .fails_saying(1, "the first number (systolic) must be higher");
    v.run(&["add", "bp", "132"])
        .fails_saying(1, "'132' is not a blood pressure reading: write it like 132/84");
    v.run(&["add", "weight", "-5"])
        .fails_saying(1, "is not a weight reading");
    v.run(&["add", "weight", "70", "--fasting"])
        .fails_saying(1, "only a glucose reading can be fasting");
    v.run(&["add", "pulse", "70", "--at", "2099-01-01"])
        .fails_saying(1, "is in the future");
    v.run(&["add", "pulse", "70", "--at", "yesterday"])
        .fails_saying(1, "is not a date and time");
    v.run(&["add", "glucose", "7.8"])
        .fails_saying(1, "(if it is in mmol/L, say so: --unit mmol/L)");
    assert_eq!(count(&v), 0, "nothing was saved");
    // A fasting glucose has its own code, and goes to the chosen profile.
    v.run(&[
        "profile",
        "add",
        "--name",
        "Zara Siddiqui",
        "--handle",
        "zara",
        "--birth-date",
        "2016-09-03",
    ])
    .ok();
    let saved = v
        .run(&["--profile", "zara", "add", "glucose", "۹۸", "--fasting", "--json"])
        .json();
    assert_eq!(saved["series"], "http://loinc.org|1558-6");
    assert_eq!(saved["record"]["title"], "Fasting glucose: 98 mg/dL");
    assert_eq!(count(&v), 0, "not in the owner's records");
}
