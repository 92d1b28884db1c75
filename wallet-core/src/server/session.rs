//! Signing a browser in without a reusable secret in a command line or in
//! browser storage.
//!
//! `amanat serve` opens `http://127.0.0.1:PORT/?login=CODE`. The code is
//! random, works once and only for [`CODE_LIFETIME`]; the page trades it
//! (`POST /api/session`) for the session token and keeps that in memory only.
//! So what another local user can read from `/proc/*/cmdline` (the browser
//! launcher's arguments) is a code that was used a moment after, and nothing
//! in the browser's storage opens the wallet. A reload signs the tab out;
//! pressing Enter where `amanat serve` runs prints a fresh link.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;

/// How long a login code works.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// Codes not yet used, kept at most; older ones are dropped first.
const MAX_CODES: usize = 16;

/// The session token and the login codes that lead to it.
pub struct Sessions {
    token: String,
    codes: Mutex<Vec<(String, Instant)>>,
}

fn random() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    /// A random session token (128 bits), with no codes yet.
    pub fn new() -> Sessions {
        Sessions {
            token: random(),
            codes: Mutex::new(Vec::new()),
        }
    }

    /// A new one-time login code (128 bits), good for [`CODE_LIFETIME`].
    pub fn login_code(&self) -> String {
        self.login_code_at(Instant::now())
    }

    fn login_code_at(&self, now: Instant) -> String {
        let code = random();
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes.retain(|(_, issued)| now.duration_since(*issued) < CODE_LIFETIME);
        if codes.len() >= MAX_CODES {
            codes.remove(0);
        }
        codes.push((code.clone(), now));
        code
    }

    /// The session token for a code that is issued, unused and in time; the
    /// code is spent either way.
    pub fn redeem(&self, code: &str) -> Option<&str> {
        self.redeem_at(code, Instant::now())
    }

    fn redeem_at(&self, code: &str, now: Instant) -> Option<&str> {
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        let at = codes.iter().position(|(c, _)| same(c, code))?;
        let (_, issued) = codes.remove(at);
        (now.duration_since(issued) < CODE_LIFETIME).then_some(self.token.as_str())
    }

    /// Whether `given` is the session token.
    pub fn is_token(&self, given: &str) -> bool {
        same(given, &self.token)
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once_and_only_in_time() {
        let s = Sessions::new();
        let t0 = Instant::now();
        let code = s.login_code_at(t0);
        let token = s
            .redeem_at(&code, t0 + Duration::from_secs(5))
            .map(str::to_string);
        assert!(token.as_deref().is_some_and(|t| s.is_token(t)));
        assert_eq!(s.redeem_at(&code, t0 + Duration::from_secs(6)), None, "reused");

        let late = s.login_code_at(t0);
        assert_eq!(s.redeem_at(&late, t0 + CODE_LIFETIME), None, "late");
        assert_eq!(s.redeem_at(&late, t0), None, "a late try spends it");

        assert_eq!(s.redeem_at("never issued", t0), None);
        assert!(!s.is_token(&code), "a code is not the token");
        assert!(!s.is_token(""));
    }

    #[test]
    fn unused_codes_are_few() {
        let s = Sessions::new();
        let t0 = Instant::now();
        let first = s.login_code_at(t0);
        for _ in 0..MAX_CODES {
            s.login_code_at(t0);
        }
        assert_eq!(
            s.redeem_at(&first, t0),
            None,
            "the oldest unused code was dropped"
        );
    }
}
