//! Any text given as a consent grant: parsing and verifying must refuse, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::share::grant::SignedGrant;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(signed) = SignedGrant::parse(text) {
        if let Ok((grant, _)) = signed.verify() {
            let _ = grant.check_time(1_790_000_000);
        }
    }
});
