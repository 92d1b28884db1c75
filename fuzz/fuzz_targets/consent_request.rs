//! Any bytes as a consent request's text (`AMANAT-REQUEST:…`): parsed,
//! verified, its fields and time checked, its provider looked up in a
//! registry. Must refuse, never panic; the text is capped at 8 KiB.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::provider::RegistrySnapshot;
use wallet_core::provider::request;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let registry = RegistrySnapshot {
        v: 1,
        registry: "PMDC".into(),
        issued: 0,
        providers: Vec::new(),
        publishers: Vec::new(),
    };
    if let Ok(verified) = request::open(text) {
        let _ = verified.request.check_time(1_796_083_200);
        let _ = verified.request.describe();
        let _ = verified.listing(std::slice::from_ref(&registry));
    }
    // The same bytes behind the prefix, as a scanned code would be.
    let _ = request::open(&format!("{}{text}", request::REQUEST_PREFIX));
});
