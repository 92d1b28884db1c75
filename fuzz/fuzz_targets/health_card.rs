//! Any bytes as a SMART Health Card: a card file or `shc:/` QR texts, joined,
//! parsed and verified against the specification's example issuer. Must
//! refuse, never panic; memory stays bounded (inflation is capped).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::shc::{self, Issuer};

fuzz_target!(|data: &[u8]| {
    let issuer = Issuer::from_jwks(
        "https://spec.smarthealth.cards/examples/issuer",
        None,
        include_bytes!("../../wallet-core/tests/vectors/shc/issuer.jwks.json"),
    )
    .expect("the example key set is valid");
    let trusted = std::slice::from_ref(&issuer);
    let _ = Issuer::from_jwks("https://issuer.example", None, data);
    if let Ok(jwss) = shc::from_file(data) {
        for jws in &jwss {
            let _ = shc::verify(jws, trusted, 1_796_083_200);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(jws) = shc::from_qr(text.lines()) {
        let _ = shc::verify(&jws, trusted, 1_796_083_200);
    }
    let _ = shc::verify(text, trusted, 1_796_083_200);
});
