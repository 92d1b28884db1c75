//! Any bytes as a plugin: reading its sections, manifest and signature must
//! refuse, never panic; and any bytes as a manifest on its own.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::plugin::manifest::Manifest;
use wallet_core::plugin::signature;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = Manifest::parse(data) {
        let _ = manifest.check_interface();
        let _ = manifest.permissions.describe();
    }
    let _ = signature::inspect(data);
});
