//! Table-driven test of the grant format against the vectors in
//! `tests/vectors/grant`: `valid_*` must verify (and give the stated payload);
//! `fail_*` must be refused with the stated error. Regenerate with
//! `AMANAT_REGENERATE_VECTORS=1 cargo test -p wallet-core --test grant_vectors`.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use wallet_core::ids::WalletId;
use wallet_core::share::grant::{
    AccessMode, Grant, GrantError, GrantedRecord, Grantee, Purpose, SignedGrant, sha256_b64, thumbprint,
};

const NOW: i64 = 1_790_000_000;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/grant")
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[0x42; 32])
}

fn grant() -> Grant {
    Grant {
        v: 1,
        jti: "d4gq8m2xk0fa77pz".into(),
        wallet: WalletId::from_public_key(&key().verifying_key()).to_string(),
        patient: "Ayesha Siddiqui".into(),
        subject: None,
        to: Grantee::Bearer,
        purpose: Purpose::CareManagement,
        mode: AccessMode::View,
        iat: NOW - 60,
        nbf: NOW - 60,
        exp: NOW + 86_400,
        uses: Some(1),
        records: vec![
            GrantedRecord {
                id: "1".into(),
                resource_type: "Observation".into(),
                sha256: sha256_b64(b"{\"resourceType\":\"Observation\"}"),
                about: None,
            },
            GrantedRecord {
                id: "2".into(),
                resource_type: "Condition".into(),
                sha256: sha256_b64(b"{\"resourceType\":\"Condition\"}"),
                about: None,
            },
        ],
    }
}

/// Signs arbitrary header and payload JSON (to make well-signed but wrong grants).
fn raw(header: &Value, payload: &Value, key: &SigningKey) -> String {
    let h = B64URL.encode(serde_json::to_vec(header).unwrap());
    let p = B64URL.encode(serde_json::to_vec(payload).unwrap());
    let sig = key.sign(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", B64URL.encode(sig.to_bytes()))
}

fn header_for(k: &SigningKey) -> Value {
    json!({"alg": "EdDSA", "typ": "amanat-grant+jwt", "kid": thumbprint(&k.verifying_key()),
           "jwk": {"kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(k.verifying_key().as_bytes())}})
}

fn vectors() -> Vec<(&'static str, &'static str, String, &'static str)> {
    let good = SignedGrant::sign(&grant(), &key()).compact();
    let payload = serde_json::to_value(grant()).unwrap();
    let mut out = vec![(
        "valid_bearer",
        "a bearer grant for two records",
        good.clone(),
        "valid",
    )];

    let mut provider = grant();
    provider.to = Grantee::Provider {
        name: "Dr. Imran Rao".into(),
        registration: "PMDC-12345-P".into(),
        key: B64URL.encode(SigningKey::from_bytes(&[7; 32]).verifying_key().as_bytes()),
        age: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".into(),
        registry: Some("Pakistan Medical & Dental Council".into()),
    };
    provider.mode = AccessMode::Store;
    provider.uses = None;
    out.push((
        "valid_provider",
        "a store grant to a named provider",
        SignedGrant::sign(&provider, &key()).compact(),
        "valid",
    ));

    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut sig = B64URL.decode(&parts[2]).unwrap();
    sig[10] ^= 0x01;
    parts[2] = B64URL.encode(&sig);
    out.push((
        "fail_bad_signature",
        "one bit of the signature flipped",
        parts.join("."),
        "bad_signature",
    ));

    let mut altered = payload.clone();
    altered["patient"] = json!("Someone Else");
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = B64URL.encode(serde_json::to_vec(&altered).unwrap());
    out.push((
        "fail_altered_payload",
        "the payload changed after signing",
        parts.join("."),
        "bad_signature",
    ));

    let mut expired = grant();
    expired.nbf = NOW - 7200;
    expired.iat = NOW - 7200;
    expired.exp = NOW - 3600;
    out.push((
        "fail_expired",
        "expired an hour before `now`",
        SignedGrant::sign(&expired, &key()).compact(),
        "expired",
    ));

    let mut early = grant();
    early.nbf = NOW + 3600;
    early.exp = NOW + 7200;
    out.push((
        "fail_not_yet_valid",
        "valid only from an hour after `now`",
        SignedGrant::sign(&early, &key()).compact(),
        "not_yet_valid",
    ));

    let mut header = header_for(&key());
    header["kid"] = json!(thumbprint(&SigningKey::from_bytes(&[1; 32]).verifying_key()));
    out.push((
        "fail_wrong_key_id",
        "kid is another key's thumbprint (correctly signed)",
        raw(&header, &payload, &key()),
        "wrong_key_id",
    ));

    let mut v2 = payload.clone();
    v2["v"] = json!(2);
    out.push((
        "fail_unknown_version",
        "version 2, correctly signed",
        raw(&header_for(&key()), &v2, &key()),
        "unknown_version",
    ));

    let mut es = header_for(&key());
    es["alg"] = json!("ES256");
    out.push((
        "fail_algorithm",
        "claims ES256",
        raw(&es, &payload, &key()),
        "algorithm",
    ));

    let other = SigningKey::from_bytes(&[9; 32]);
    out.push((
        "fail_foreign_wallet",
        "signed by a key that is not the wallet's",
        raw(&header_for(&other), &payload, &other),
        "invalid",
    ));

    let mut path = payload.clone();
    path["records"][0]["id"] = json!("../../.bashrc");
    out.push((
        "fail_path_record_id",
        "a record id that is a path (a doctor's saved file is named by it)",
        raw(&header_for(&key()), &path, &key()),
        "invalid",
    ));

    let mut id = payload.clone();
    id["jti"] = json!("d4gq8m2x/../k0fa\u{0}77pz");
    out.push((
        "fail_grant_id_separator",
        "a grant id with a path and a NUL (it names the share's keys at the relay)",
        raw(&header_for(&key()), &id, &key()),
        "invalid",
    ));

    let mut crit = header_for(&key());
    crit["crit"] = json!(["exp-policy"]);
    crit["exp-policy"] = json!("ignore-expiry");
    out.push((
        "fail_crit_header",
        "a critical header extension (RFC 7515 crit) the verifier does not understand",
        raw(&crit, &payload, &key()),
        "malformed",
    ));

    let mut typ = header_for(&key());
    typ["typ"] = json!("JWT");
    out.push((
        "fail_wrong_typ",
        "a well-signed JWS that is not typed as an Amanat consent grant",
        raw(&typ, &payload, &key()),
        "malformed",
    ));

    out.push((
        "fail_malformed",
        "two parts, not three",
        good.rsplit_once('.').unwrap().0.to_string(),
        "malformed",
    ));
    out
}

fn verdict(jws: &str) -> Result<Grant, GrantError> {
    let (grant, _) = SignedGrant::parse(jws)?.verify()?;
    grant.check_time(NOW)?;
    Ok(grant)
}

fn kind(e: &GrantError) -> &'static str {
    match e {
        GrantError::Malformed(_) => "malformed",
        GrantError::Algorithm(_) => "algorithm",
        GrantError::WrongKeyId => "wrong_key_id",
        GrantError::BadSignature => "bad_signature",
        GrantError::UnknownVersion(_) => "unknown_version",
        GrantError::Expired(_) => "expired",
        GrantError::NotYetValid(_) => "not_yet_valid",
        GrantError::Invalid(_) => "invalid",
        _ => "other",
    }
}

#[test]
fn grant_vectors() {
    if std::env::var_os("AMANAT_REGENERATE_VECTORS").is_some() {
        for (name, description, jws, expect) in vectors() {
            let mut v = json!({"description": description, "now": NOW, "jws": jws, "expect": expect});
            if expect == "valid" {
                v["payload"] =
                    serde_json::from_slice(&B64URL.decode(jws.split('.').nth(1).unwrap()).unwrap()).unwrap();
            }
            std::fs::write(
                dir().join(format!("{name}.json")),
                serde_json::to_string_pretty(&v).unwrap() + "\n",
            )
            .unwrap();
        }
    }
    let mut seen = 0;
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["now"], NOW, "{name}");
        let jws = v["jws"].as_str().unwrap();
        let expect = v["expect"].as_str().unwrap();
        match (verdict(jws), expect) {
            (Ok(grant), "valid") => {
                assert!(name.starts_with("valid_"), "{name}");
                assert_eq!(serde_json::to_value(&grant).unwrap(), v["payload"], "{name}");
            }
            (Err(e), expected) => {
                assert!(name.starts_with("fail_"), "{name} should have verified: {e}");
                assert_eq!(kind(&e), expected, "{name}: {e}");
                assert!(!e.to_string().is_empty());
            }
            (Ok(_), expected) => panic!("{name} verified but should fail with {expected}"),
        }
        seen += 1;
    }
    assert!(seen >= 12, "the vectors are missing ({seen} found)");
}
