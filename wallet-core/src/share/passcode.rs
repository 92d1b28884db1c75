//! Passcodes that lock bearer shares.
//!
//! A passcode share's ciphertext travels in the QR code (or is handed to
//! whoever fetches the link), so anyone who photographs the code can guess
//! passcodes offline, as fast as they can run scrypt (work factor 2^15): a
//! 4-digit passcode falls in a fraction of a second. So the wallet makes the
//! passcode itself, with 60 random bits, or accepts a chosen one only when it
//! is a long passphrase. docs/link-format.md gives the cost of guessing.

use secrecy::{ExposeSecret, SecretString};

/// The letters a generated passcode uses: 32 of them, so each is 5 random
/// bits; no `l` or `o` to mistake for `1` or `0`, and no capitals, which
/// phone keyboards add on their own.
const ALPHABET: &[u8; 32] = b"23456789abcdefghijkmnpqrstuvwxyz";
/// Characters of a generated passcode: 12 × 5 = 60 bits.
const GENERATED_LEN: usize = 12;
/// Shortest passphrase a patient may choose instead.
pub const MIN_CHOSEN_CHARS: usize = 20;
/// Fewest different characters in a chosen passphrase.
const MIN_CHOSEN_DISTINCT: usize = 8;

/// A passcode for a bearer share.
pub enum Passcode {
    /// Made by the wallet: 60 random bits, written `xxxx-xxxx-xxxx`.
    Generated(SecretString),
    /// Chosen by the patient; checked by [`Passcode::check`].
    Chosen(SecretString),
}

/// Why a chosen passcode is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "a passcode of {chars} characters is too easy to guess: whoever photographs the QR code can try passcodes offline, \
     about 100,000 a second on one graphics card, with no limit. Let the wallet make one (60 random bits, like \
     k7dm-x3pq-9wtr), or choose a passphrase of at least {MIN_CHOSEN_CHARS} characters"
)]
pub struct WeakPasscode {
    /// Length of the refused passcode.
    pub chars: usize,
}

impl Passcode {
    /// A new random passcode.
    pub fn generate() -> Passcode {
        let mut bytes = [0u8; GENERATED_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let mut text = String::with_capacity(GENERATED_LEN + 2);
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                text.push('-');
            }
            text.push(ALPHABET[usize::from(b & 31)] as char);
        }
        zeroize::Zeroize::zeroize(&mut bytes);
        Passcode::Generated(SecretString::from(text))
    }

    /// The passcode as the patient says it.
    pub fn secret(&self) -> &SecretString {
        match self {
            Passcode::Generated(s) | Passcode::Chosen(s) => s,
        }
    }

    /// Refuses a chosen passcode that offline guessing would find.
    pub fn check(&self) -> Result<(), WeakPasscode> {
        let Passcode::Chosen(text) = self else {
            return Ok(());
        };
        let text = text.expose_secret();
        let chars = text.chars().count();
        let mut distinct: Vec<char> = text.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if chars < MIN_CHOSEN_CHARS || distinct.len() < MIN_CHOSEN_DISTINCT {
            return Err(WeakPasscode { chars });
        }
        Ok(())
    }
}

/// The passphrase that scrypt is given: a passcode shaped like a generated
/// one (12 letters of the alphabet, in any case, with any dashes or spaces)
/// in its one written form, so that a capital a phone keyboard added or a
/// missing dash does not lock the doctor out; anything else exactly as typed.
pub fn key_text(passcode: &SecretString) -> SecretString {
    let typed = passcode.expose_secret();
    let letters: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let generated_shape = letters.len() == GENERATED_LEN && letters.bytes().all(|b| ALPHABET.contains(&b));
    if !generated_shape {
        return passcode.clone();
    }
    let mut text = String::with_capacity(GENERATED_LEN + 2);
    for (i, c) in letters.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            text.push('-');
        }
        text.push(c);
    }
    SecretString::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passcodes_are_60_random_bits_in_three_groups() {
        let a = Passcode::generate();
        let b = Passcode::generate();
        let text = a.secret().expose_secret();
        assert_eq!(text.len(), 14);
        assert_eq!(text.matches('-').count(), 2);
        assert!(text.replace('-', "").bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(text, b.secret().expose_secret());
        assert!(a.check().is_ok());
    }

    #[test]
    fn short_or_repetitive_chosen_passcodes_are_refused() {
        for weak in ["4417", "123456", "Pakistan2024!", "aaaaaaaaaaaaaaaaaaaaaaaa"] {
            let chosen = Passcode::Chosen(SecretString::from(weak));
            assert!(chosen.check().is_err(), "{weak}");
        }
        let phrase = Passcode::Chosen(SecretString::from("zara's doctor at the lahore clinic"));
        assert!(phrase.check().is_ok());
    }

    #[test]
    fn a_generated_passcode_survives_a_phone_keyboard() {
        let canonical = key_text(&SecretString::from("k7dm-x3pq-9wtr"));
        for typed in [
            "K7dm-x3pq-9wtr",
            "k7dmx3pq9wtr",
            "K7DM X3PQ 9WTR",
            " k7dm-x3pq-9wtr",
        ] {
            assert_eq!(
                key_text(&SecretString::from(typed)).expose_secret(),
                canonical.expose_secret(),
                "{typed}"
            );
        }
        // A chosen passphrase is used exactly as typed.
        let chosen = "Zara's doctor at the Lahore clinic";
        assert_eq!(key_text(&SecretString::from(chosen)).expose_secret(), chosen);
    }
}
