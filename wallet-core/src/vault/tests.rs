use super::*;
use crate::fhir::read_resources;
use crate::profile::ProfileDraft;
use crate::record::Source;

fn pass(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

fn new_vault(dir: &Path) -> Vault {
    let owner = ProfileDraft {
        name: "Ayesha Siddiqui".into(),
        ..Default::default()
    }
    .build("2026-01-01", Relationship::Owner)
    .unwrap();
    Vault::create(
        dir,
        &pass("pw"),
        CreateOptions {
            kdf_log_n: MIN_KDF_LOG_N,
            owner,
            clock: Clock::System,
        },
    )
    .unwrap()
}

fn obs(code: &str, value: f64, date: &str) -> NewRecord {
    let json = format!(
        r#"{{"resourceType":"Observation","status":"final","code":{{"coding":[{{"system":"http://loinc.org","code":"{code}","display":"Test {code}"}}]}},"effectiveDateTime":"{date}","valueQuantity":{{"value":{value},"unit":"%"}}}}"#
    );
    let read = read_resources(json.as_bytes()).unwrap().remove(0);
    NewRecord::new(read.resource, read.description, Source::Demo)
}

#[test]
fn create_open_and_wrong_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v");
    let id = new_vault(&dir).wallet_id();
    let reopened = Vault::open(&dir, &pass("pw")).unwrap();
    assert_eq!(reopened.wallet_id(), id);
    assert_eq!(reopened.owner().name, "Ayesha Siddiqui");
    drop(reopened);
    assert!(matches!(
        Vault::open(&dir, &pass("nope")),
        Err(VaultError::WrongPassphrase(_))
    ));
    assert!(matches!(
        Vault::open(&tmp.path().join("none"), &pass("pw")),
        Err(VaultError::NotFound(_))
    ));
}

#[test]
fn second_open_is_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let v = new_vault(tmp.path());
    assert!(matches!(
        Vault::open(tmp.path(), &pass("pw")),
        Err(VaultError::InUse(_))
    ));
    drop(v);
    assert!(Vault::open(tmp.path(), &pass("pw")).is_ok());
}

#[test]
fn add_list_get_delete_and_dedup() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = new_vault(tmp.path());
    let owner = v.owner().id;
    let records = vec![
        obs("1", 1.0, "2020-01-05"),
        obs("2", 2.0, "2024-06-01"),
        obs("3", 3.0, "2022-03-03"),
    ];
    let out = v
        .add_records(owner, records.clone(), Actor::Patient, "test")
        .unwrap();
    assert_eq!(out.added.len(), 3);
    let again = v.add_records(owner, records, Actor::Patient, "test").unwrap();
    assert_eq!((again.added.len(), again.duplicates.len()), (0, 3));

    let listed = v
        .list(&Query {
            limit: Some(2),
            ..Query::default()
        })
        .unwrap();
    let dates: Vec<&str> = listed.iter().map(|m| m.day()).collect();
    assert_eq!(dates, vec!["2024-06-01", "2022-03-03"]);

    let since = crate::fhir::date::parse_bound("2021", false).unwrap();
    assert_eq!(
        v.list(&Query {
            since: Some(since),
            ..Query::default()
        })
        .unwrap()
        .len(),
        2
    );
    assert_eq!(
        v.list(&Query {
            text: Some("TEST 3".into()),
            ..Query::default()
        })
        .unwrap()
        .len(),
        1
    );
    assert_eq!(
        v.list(&Query {
            // LOINC-coded values that are not vital signs are results.
            types: vec!["diagnosticreport".into()],
            ..Query::default()
        })
        .unwrap()
        .len(),
        3
    );
    assert_eq!(
        v.list(&Query {
            types: vec!["Condition".into()],
            ..Query::default()
        })
        .unwrap()
        .len(),
        0
    );

    let first = listed[0].id;
    let rec = v.get(first).unwrap();
    assert_eq!(rec.meta.title, "Test 2: 2 %");
    let short = &first.to_string()[..6];
    assert_eq!(v.resolve_id(short).unwrap(), first);

    v.delete(first).unwrap();
    assert!(matches!(v.get(first), Err(VaultError::RecordNotFound(_))));
    assert_eq!(v.record_count(), 2);
    // Deleted content can be imported again.
    let back = v
        .add_records(owner, vec![obs("2", 2.0, "2024-06-01")], Actor::Patient, "test")
        .unwrap();
    assert_eq!(back.added.len(), 1);
    assert_eq!(v.verify_audit().unwrap(), Ok(5));
}

#[test]
fn tampered_record_fails_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = new_vault(tmp.path());
    let owner = v.owner().id;
    let out = v
        .add_records(
            owner,
            vec![obs("1", 1.0, "2020-01-05"), obs("2", 2.0, "2021-01-05")],
            Actor::Patient,
            "t",
        )
        .unwrap();
    let (bad, good) = (out.added[0], out.added[1]);
    let k = key(P_RECORD, bad.as_bytes());
    let mut bytes = v.db().get(&k).unwrap().unwrap().to_vec();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    v.db().insert(&k, bytes).unwrap();
    let err = v.get(bad).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("record {bad} fails its integrity check")),
        "{err}"
    );
    assert!(v.get(good).is_ok());
    assert_eq!(v.list(&Query::default()).unwrap().len(), 2);
    // A damaged record can still be deleted.
    v.delete(bad).unwrap();
    assert_eq!(v.list(&Query::default()).unwrap().len(), 1);
}

#[test]
fn passphrase_change_keeps_records() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = new_vault(tmp.path());
    let owner = v.owner().id;
    v.add_records(owner, vec![obs("1", 1.0, "2020-01-05")], Actor::Patient, "t")
        .unwrap();
    v.change_passphrase(&pass("new"), None).unwrap();
    drop(v);
    assert!(matches!(
        Vault::open(tmp.path(), &pass("pw")),
        Err(VaultError::WrongPassphrase(_))
    ));
    let v = Vault::open(tmp.path(), &pass("new")).unwrap();
    assert_eq!(v.record_count(), 1);
    assert_eq!(v.verify_audit().unwrap(), Ok(3));
}

#[test]
fn pages_roll_over_and_list_stays_ordered() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = new_vault(tmp.path());
    let owner = v.owner().id;
    let records: Vec<NewRecord> = (0..(catalog::PAGE_CAP + 40))
        .map(|i| obs(&format!("c{i}"), i as f64, &format!("2024-05-{:02}", i % 28 + 1)))
        .collect();
    v.add_records(owner, records, Actor::Patient, "t").unwrap();
    drop(v);
    let v = Vault::open(tmp.path(), &pass("pw")).unwrap();
    assert_eq!(v.directory.pages.len(), 2);
    let all = v.list(&Query::default()).unwrap();
    assert_eq!(all.len(), catalog::PAGE_CAP + 40);
    assert!(all.windows(2).all(|w| w[0].sort_key >= w[1].sort_key));
}

#[test]
fn the_clock_the_edge_sets_dates_creation_imports_and_the_audit_log() {
    let tmp = tempfile::tempdir().unwrap();
    let owner = ProfileDraft {
        name: "Ayesha Siddiqui".into(),
        ..Default::default()
    }
    .build("2026-01-01", Relationship::Owner)
    .unwrap();
    let (created, later) = (1_700_000_000, 1_800_000_000);
    let options = CreateOptions {
        kdf_log_n: MIN_KDF_LOG_N,
        owner,
        clock: Clock::Fixed(created),
    };
    let v = Vault::create(tmp.path(), &pass("pw"), options).unwrap();
    assert_eq!(v.created(), created);
    let mut v = v.with_clock(Clock::Fixed(later));
    let me = v.owner().id;
    // A reading with no date of its own sorts by when it was added.
    let read = read_resources(
        br#"{"resourceType":"Observation","status":"final","code":{"text":"Weight"},"valueQuantity":{"value":60,"unit":"kg"}}"#,
    )
    .unwrap()
    .remove(0);
    v.add_records(
        me,
        vec![NewRecord::new(read.resource, read.description, Source::Demo)],
        Actor::Patient,
        "x",
    )
    .unwrap();
    let listed = v.list(&Query::default()).unwrap();
    assert_eq!(listed[0].added, later);
    let entries = v.audit_entries().unwrap();
    let times: Vec<i64> = entries.into_iter().map(|e| e.unwrap().time).collect();
    assert_eq!(times, [created, later]);
}

#[test]
fn cached_plugin_code_opens_into_the_callers_memory_and_refuses_a_changed_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = new_vault(tmp.path());
    let code: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    assert!(v.plugin_code("c0de", "engine").unwrap().is_none());
    v.put_plugin_code("c0de", "engine", &code).unwrap();
    let sealed = v.plugin_code("c0de", "engine").unwrap().unwrap();
    assert_eq!(sealed.opened_len(), code.len());
    let mut out = vec![0; sealed.opened_len()];
    sealed.open_into(&mut out).unwrap();
    assert!(out == code);
    let mut short = vec![0; code.len() - 1];
    assert!(matches!(
        sealed.open_into(&mut short),
        Err(VaultError::Integrity(_))
    ));

    // A byte changed on disk: an integrity failure of that value, nothing opened.
    let k = v.code_key("c0de", "engine");
    let mut bytes = v.db().get(&k).unwrap().unwrap().to_vec();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    v.db().insert(&k, bytes.clone()).unwrap();
    let sealed = v.plugin_code("c0de", "engine").unwrap().unwrap();
    let err = sealed.open_into(&mut out).unwrap_err();
    let damaged = "cached plugin code fails its integrity check: its stored bytes were changed or damaged";
    assert_eq!(err.to_string(), damaged);
    // Cut short: refused as damaged too, not taken for a cache miss.
    v.db().insert(&k, &bytes[..bytes.len() - 1]).unwrap();
    let err = v.plugin_code("c0de", "engine").err().unwrap();
    assert_eq!(err.to_string(), damaged);

    // Code cached before (XChaCha20-Poly1305 under the metadata key) is a
    // cache miss: the plugin host compiles it again and caches it anew.
    v.db().insert(&k, v.meta.seal(&k, &code)).unwrap();
    assert!(v.plugin_code("c0de", "engine").unwrap().is_none());
    v.put_plugin_code("c0de", "engine", &code).unwrap();
    assert_eq!(
        v.plugin_code("c0de", "engine").unwrap().unwrap().opened_len(),
        code.len()
    );
}
