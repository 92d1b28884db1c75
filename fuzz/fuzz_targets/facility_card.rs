//! Any bytes as a Scan & Share facility card's text (`AMANAT-FACILITY:…`):
//! parsed, verified, its fields and time checked, its facility looked up in
//! a registry. Must refuse, never panic; the text is capped at 8 KiB.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::provider::RegistrySnapshot;
use wallet_core::provider::facility;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let registry = RegistrySnapshot {
        v: 1,
        registry: "HFR".into(),
        issued: 0,
        providers: Vec::new(),
        publishers: Vec::new(),
    };
    if let Ok(verified) = facility::open(text) {
        let _ = verified.card.check_time(1_796_083_200);
        let _ = verified.card.place();
        let _ = verified.listing(std::slice::from_ref(&registry));
    }
    // The same bytes behind the prefix, as a scanned code would be.
    let _ = facility::open(&format!("{}{text}", facility::FACILITY_PREFIX));
});
