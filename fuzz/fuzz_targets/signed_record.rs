//! Any bytes as a record signed by its provider: as a file's text
//! (`AMANAT-RECORD:…`), checked against a registry listing the published
//! vector's signer, and as a detached signature a share carries, over
//! themselves. Must refuse, never panic; memory stays bounded (1 MiB cap).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::provider::{ProviderCard, RegistrySnapshot, signed};

fuzz_target!(|data: &[u8]| {
    let card = ProviderCard::parse(include_str!(
        "../../wallet-core/tests/vectors/signed-record/provider-card.json"
    ))
    .expect("the vector's card is valid");
    let registry = RegistrySnapshot {
        v: 1,
        registry: "Pakistan Medical & Dental Council".into(),
        issued: 0,
        providers: vec![card],
        publishers: Vec::new(),
    };
    if let Ok(opened) = signed::open(data) {
        let _ = opened.listed(std::slice::from_ref(&registry));
        let _ = signed::verify_detached(&opened.detached, &opened.resource.to_bytes());
    }
    let _ = wallet_core::import::records_from_signed("fuzz", data, std::slice::from_ref(&registry));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = signed::verify_detached(text, data);
    }
});
