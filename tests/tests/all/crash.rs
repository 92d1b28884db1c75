//! Crash safety: SIGKILL in the middle of a large import.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use amanat_tests::{TestVault, write_json};
use wallet_core::vault::Query;

/// Writes `files` bundles of `per_file` demo records each.
fn bundles(v: &TestVault, files: usize, per_file: usize) -> Vec<String> {
    let records = wallet_core::demo::family(files * per_file, 1_790_000_000, 9).owner;
    let stamp = wallet_core::fhir::date::FhirDateTime::from_unix(1_790_000_000);
    records
        .chunks(per_file)
        .enumerate()
        .map(|(i, part)| {
            let entries = part
                .iter()
                .enumerate()
                .map(|(j, r)| (format!("urn:uuid:{i}-{j}"), r.clone()))
                .collect();
            let path = v.scratch(&format!("part-{i:02}.json"));
            write_json(
                &path,
                &wallet_core::fhir::bundle("collection", "part", &stamp, entries),
            );
            path.to_str().unwrap().to_string()
        })
        .collect()
}

/// Checks that the wallet opens, its audit chain holds, and every record is whole:
/// each catalog entry reads and verifies, and no stored record is missing from the catalog.
fn assert_consistent(v: &TestVault) -> usize {
    let vault = v.open();
    let chain = vault.verify_audit().unwrap();
    assert!(chain.is_ok(), "audit chain broken: {chain:?}");
    let listed = vault.list(&Query::default()).unwrap();
    for meta in &listed {
        let record = vault
            .get(meta.id)
            .unwrap_or_else(|e| panic!("record {} is listed but unreadable: {e}", meta.id));
        assert_eq!(record.meta.id, meta.id);
    }
    let catalog: HashSet<_> = listed.iter().map(|m| *m.id.as_bytes()).collect();
    let count = vault.record_count();
    drop(vault);
    let stored: Vec<_> = v.raw_db(|db| db.scan_prefix(b"r/").map(|kv| kv.unwrap().0.to_vec()).collect());
    for key in &stored {
        let id: [u8; 10] = key[2..].try_into().unwrap();
        assert!(
            catalog.contains(&id),
            "a stored record is missing from the catalog"
        );
    }
    assert_eq!(stored.len(), listed.len());
    assert_eq!(count as usize, listed.len());
    listed.len()
}

#[test]
fn sigkill_during_a_large_import_leaves_a_consistent_wallet() {
    let v = TestVault::new();
    let files = bundles(&v, 10, 2500);
    let mut previous = 0;
    for (round, kill_after) in [1usize, 3, 2].into_iter().enumerate() {
        let mut child = v
            .cmd()
            .arg("import")
            .args(&files)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut done = 0;
        while done < kill_after {
            let line = lines.next().expect("import reports each file").unwrap();
            if line.trim_start().starts_with("ok") {
                done += 1;
            }
        }
        // Vary where the kill lands: parsing, preparing, or inside a commit.
        std::thread::sleep(Duration::from_millis(40 * round as u64));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the import was killed, not finished");
        let count = assert_consistent(&v);
        assert!(count >= previous, "committed records survive later crashes");
        assert!(
            count >= 2500 * kill_after.min(1),
            "files reported as imported are present"
        );
        previous = count;
    }
    // The interrupted import can simply be run again: duplicates are skipped.
    let out = v
        .run(
            &["import", "--json"]
                .iter()
                .copied()
                .chain(files.iter().map(String::as_str))
                .collect::<Vec<_>>(),
        )
        .json();
    assert_eq!(
        out["added"].as_u64().unwrap() + out["duplicates"].as_u64().unwrap(),
        25_000
    );
    assert_eq!(assert_consistent(&v), 25_000);
}
