//! Any text given as a share link: decoding and opening must refuse, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::share::link::{Location, ShareLink};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(link) = ShareLink::decode(text) {
        let _ = link.encode();
        if let Location::Inline(ct) = &link.location {
            let _ = wallet_core::share::open(&link, ct, 1_790_000_000, None, None);
        }
    }
});
