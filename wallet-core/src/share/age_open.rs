//! Opening a share's age file: the age v1 format (age-encryption.org/v1,
//! C2SP's specification), decryption only, X25519 and scrypt recipients.
//!
//! Why not the age crate here: the doctor's viewer runs in a phone's browser
//! and every byte of it crosses a slow network before a record shows. The age
//! crate links its translated error messages (Fluent and every language's
//! text) and, through x25519-dalek's default features, curve25519's
//! precomputed tables: about a fifth of the viewer's download. This module
//! reads the same files with the primitives the age crate itself uses
//! (RustCrypto's ChaCha20-Poly1305, HKDF, HMAC and scrypt; x25519-dalek) and
//! nothing of its own: no new construction, only the format. Shares are still
//! made by the age crate, and this reader is checked against the format's own
//! test vectors (C2SP CCTV, shipped in the age crate's sources) and against
//! files the age crate writes.
//!
//! What it accepts is exactly what the specification allows: no armor, LF
//! line ends, canonical base64, every stanza ending in a short body line, an
//! scrypt stanza alone in its header, and a STREAM payload whose last chunk is
//! marked and followed by nothing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The file's first line.
const VERSION_LINE: &[u8] = b"age-encryption.org/v1";
/// What the header MAC covers ends with this, before the MAC itself.
const MAC_MARK: &[u8] = b"---";
/// Base64 characters in a full line of a stanza body.
const COLUMNS: usize = 64;
/// Plaintext bytes in every STREAM chunk but the last.
const CHUNK: usize = 64 * 1024;
/// ChaCha20-Poly1305's tag.
const TAG: usize = 16;
/// The payload's nonce, which salts its key.
const PAYLOAD_NONCE: usize = 16;
/// A file key.
const FILE_KEY: usize = 16;

/// The key that opens a file.
pub(crate) enum Key<'a> {
    /// An X25519 identity's 32 secret bytes.
    X25519(&'a [u8; 32]),
    /// A passphrase, and the highest scrypt work factor (log2 N) to spend on it:
    /// whoever made the file chooses the work, and the reader must not let them
    /// choose an hour.
    Passphrase { text: &'a [u8], max_log_n: u8 },
}

/// Why a file did not open. The four kinds are the specification's (and its
/// test vectors'); the text says which rule the file broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AgeError {
    /// The header is not age v1 as specified.
    #[error("not a well-formed age header: {0}")]
    Header(&'static str),
    /// No stanza opened with the key: another recipient, or a wrong passphrase.
    #[error("the key opens none of the file's recipients")]
    NoMatch,
    /// The file key opened but the header's MAC does not match: the header was changed.
    #[error("the header's MAC does not match")]
    Mac,
    /// The payload is cut short, extended or altered.
    #[error("the payload does not decrypt: {0}")]
    Payload(&'static str),
}

/// One `-> ` stanza: its arguments and decoded body.
struct Stanza<'a> {
    args: Vec<&'a str>,
    body: Vec<u8>,
}

/// Decrypts a whole age file with `key`. All or nothing: no plaintext is
/// returned from a file with any fault, wherever it is.
pub(crate) fn decrypt(file: &[u8], key: Key<'_>) -> Result<Zeroizing<Vec<u8>>, AgeError> {
    let header = parse_header(file)?;
    let file_key = unwrap_file_key(&header.stanzas, &key)?;
    check_header_mac(&file_key, header.mac_input, &header.mac)?;
    open_payload(&file_key, header.payload)
}

/// The age recipient (`age1…`) of an X25519 identity's secret bytes.
pub(crate) fn x25519_recipient(secret: &[u8; 32]) -> String {
    let public = x25519_dalek::x25519(*secret, x25519_dalek::X25519_BASEPOINT_BYTES);
    let hrp = bech32::Hrp::parse_unchecked("age");
    bech32::encode::<bech32::Bech32>(hrp, &public).unwrap_or_default()
}

/// Whether `text` is an age X25519 recipient (`age1…`, 32 bytes in bech32).
pub(crate) fn is_x25519_recipient(text: &str) -> bool {
    matches!(bech32::decode(text), Ok((hrp, data)) if hrp.as_str() == "age" && data.len() == 32 && text.starts_with("age1"))
}

/// A file, read up to its payload.
struct Header<'a> {
    stanzas: Vec<Stanza<'a>>,
    /// What the MAC covers: the header up to and including `---`.
    mac_input: &'a [u8],
    mac: [u8; 32],
    payload: &'a [u8],
}

fn parse_header(file: &[u8]) -> Result<Header<'_>, AgeError> {
    let mut lines = Lines { file, at: 0 };
    match lines.next()? {
        VERSION_LINE => {}
        line if line.starts_with(b"age-encryption.org/") => {
            return Err(AgeError::Header("an unsupported version"));
        }
        _ => return Err(AgeError::Header("not an age file")),
    }
    let mut stanzas = Vec::new();
    loop {
        let start = lines.at;
        let line = lines.next()?;
        if let Some(rest) = line.strip_prefix(b"-> ") {
            let args = text(rest)?
                .split(' ')
                .map(argument)
                .collect::<Result<Vec<_>, _>>()?;
            stanzas.push(Stanza {
                args,
                body: body(&mut lines)?,
            });
        } else if let Some(rest) = line.strip_prefix(b"--- ") {
            let mac = exactly::<32>(text(rest)?, "the MAC is not 32 bytes of canonical base64")?;
            return Ok(Header {
                stanzas,
                mac_input: &file[..start + MAC_MARK.len()],
                mac,
                payload: &file[lines.at..],
            });
        } else {
            return Err(AgeError::Header("a line is neither a stanza nor the MAC"));
        }
    }
}

/// A stanza argument: one or more printable ASCII characters, no space.
fn argument(arg: &str) -> Result<&str, AgeError> {
    match !arg.is_empty() && arg.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        true => Ok(arg),
        false => Err(AgeError::Header(
            "a stanza argument is empty or has a character age forbids",
        )),
    }
}

/// A stanza's body: full lines of 64 base64 characters, ended by a shorter
/// one (perhaps empty).
fn body(lines: &mut Lines<'_>) -> Result<Vec<u8>, AgeError> {
    let mut text = String::new();
    loop {
        let line = lines.next()?;
        if line.len() > COLUMNS {
            return Err(AgeError::Header("a stanza body line is longer than 64 columns"));
        }
        text.push_str(self::text(line)?);
        if line.len() < COLUMNS {
            break;
        }
    }
    canonical(&text).ok_or(AgeError::Header("a stanza body is not canonical base64"))
}

/// The header's lines, each ended by LF (a CR is part of the line, and so
/// refused wherever it appears).
struct Lines<'a> {
    file: &'a [u8],
    at: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Result<&'a [u8], AgeError> {
        let rest = &self.file[self.at..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(AgeError::Header("the header ends before its MAC"))?;
        self.at += end + 1;
        Ok(&rest[..end])
    }
}

fn text(line: &[u8]) -> Result<&str, AgeError> {
    std::str::from_utf8(line).map_err(|_| AgeError::Header("the header is not text"))
}

/// Base64 without padding, and only in its one canonical spelling.
fn canonical(text: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(text).ok()?;
    (B64.encode(&bytes) == text).then_some(bytes)
}

/// `N` bytes in canonical base64, or the header refused with `refusal`.
fn exactly<const N: usize>(text: &str, refusal: &'static str) -> Result<[u8; N], AgeError> {
    canonical(text)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(AgeError::Header(refusal))
}

/// The file key, from the first stanza the key opens.
fn unwrap_file_key(stanzas: &[Stanza<'_>], key: &Key<'_>) -> Result<Zeroizing<[u8; FILE_KEY]>, AgeError> {
    let scrypt = stanzas.iter().filter(|s| s.args[0] == "scrypt").count();
    if scrypt > 0 && stanzas.len() > 1 {
        return Err(AgeError::Header("an scrypt stanza must be alone in the header"));
    }
    for stanza in stanzas {
        let ours = matches!(
            (stanza.args[0], key),
            ("X25519", Key::X25519(_)) | ("scrypt", Key::Passphrase { .. })
        );
        if !ours {
            // Another kind of recipient, or grease.
            continue;
        }
        if stanza.body.len() != FILE_KEY + TAG {
            return Err(AgeError::Header("a wrapped file key is not 16 bytes"));
        }
        let wrap_key = match key {
            Key::X25519(secret) => x25519_wrap_key(stanza, secret)?,
            Key::Passphrase { text, max_log_n } => scrypt_wrap_key(stanza, text, *max_log_n)?,
        };
        let mut file_key = Zeroizing::new([0u8; FILE_KEY]);
        file_key.copy_from_slice(&stanza.body[..FILE_KEY]);
        let tag = Tag::from_slice(&stanza.body[FILE_KEY..]);
        let aead = ChaCha20Poly1305::new(wrap_key.as_slice().into());
        if aead
            .decrypt_in_place_detached(&Nonce::default(), b"", file_key.as_mut_slice(), tag)
            .is_ok()
        {
            return Ok(file_key);
        }
    }
    Err(AgeError::NoMatch)
}

/// The key that wraps the file key in an X25519 stanza addressed to `secret`.
fn x25519_wrap_key(stanza: &Stanza<'_>, secret: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, AgeError> {
    let [_, share] = stanza.args[..] else {
        return Err(AgeError::Header("an X25519 stanza has one argument"));
    };
    let share = exactly::<32>(share, "an X25519 share is not 32 bytes of canonical base64")?;
    let shared = Zeroizing::new(x25519_dalek::x25519(*secret, share));
    if shared.iter().all(|&b| b == 0) {
        return Err(AgeError::Header("an X25519 share is a low-order point"));
    }
    let public = x25519_dalek::x25519(*secret, x25519_dalek::X25519_BASEPOINT_BYTES);
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(&share);
    salt[32..].copy_from_slice(&public);
    Ok(hkdf(&salt, shared.as_slice(), b"age-encryption.org/v1/X25519"))
}

/// The key that wraps the file key in an scrypt stanza, for `passphrase`.
fn scrypt_wrap_key(
    stanza: &Stanza<'_>,
    passphrase: &[u8],
    max_log_n: u8,
) -> Result<Zeroizing<[u8; 32]>, AgeError> {
    let [_, salt, log_n] = stanza.args[..] else {
        return Err(AgeError::Header("an scrypt stanza has two arguments"));
    };
    let salt = exactly::<16>(salt, "an scrypt salt is not 16 bytes of canonical base64")?;
    // Decimal, no sign, no leading zero.
    let log_n: u8 = match log_n.as_bytes() {
        [b'1'..=b'9', rest @ ..] if rest.iter().all(u8::is_ascii_digit) => log_n
            .parse()
            .map_err(|_| AgeError::Header("an scrypt work factor is out of range"))?,
        _ => return Err(AgeError::Header("an scrypt work factor is not a decimal number")),
    };
    if log_n > max_log_n {
        return Err(AgeError::Header(
            "an scrypt work factor is higher than this reader spends",
        ));
    }
    let params = scrypt::Params::new(log_n, 8, 1, 32)
        .map_err(|_| AgeError::Header("an scrypt work factor is out of range"))?;
    let mut label = Vec::with_capacity(28 + 16);
    label.extend_from_slice(b"age-encryption.org/v1/scrypt");
    label.extend_from_slice(&salt);
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase, &label, &params, key.as_mut_slice())
        .map_err(|_| AgeError::Header("an scrypt work factor is out of range"))?;
    Ok(key)
}

/// Checks the header's MAC under the file key.
fn check_header_mac(file_key: &[u8; FILE_KEY], mac_input: &[u8], mac: &[u8; 32]) -> Result<(), AgeError> {
    let key = hkdf(&[], file_key, b"header");
    let mut hmac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_slice()).map_err(|_| AgeError::Mac)?;
    hmac.update(mac_input);
    // Constant time, as the MAC is checked against data an attacker chose.
    hmac.verify_slice(mac).map_err(|_| AgeError::Mac)
}

/// The payload: a 16-byte nonce, then STREAM (ChaCha20-Poly1305 chunks of 64
/// KiB, each nonce an 11-byte big-endian counter and a last-chunk flag).
fn open_payload(file_key: &[u8; FILE_KEY], payload: &[u8]) -> Result<Zeroizing<Vec<u8>>, AgeError> {
    if payload.len() < PAYLOAD_NONCE {
        return Err(AgeError::Header("the payload's nonce is missing or short"));
    }
    let (nonce, mut rest) = payload.split_at(PAYLOAD_NONCE);
    let key = hkdf(nonce, file_key, b"payload");
    let aead = ChaCha20Poly1305::new(key.as_slice().into());
    let mut out = Zeroizing::new(Vec::with_capacity(rest.len()));
    let mut counter = 0u128;
    loop {
        // A chunk of 64 KiB may be the last one only if nothing follows it.
        let last = rest.len() <= CHUNK + TAG;
        let (chunk, next) = rest.split_at(rest.len().min(CHUNK + TAG));
        if chunk.len() < TAG {
            return Err(AgeError::Payload("a chunk is shorter than its tag"));
        }
        let mut nonce = [0u8; 12];
        nonce[..11].copy_from_slice(&counter.to_be_bytes()[5..]);
        let (text, tag) = chunk.split_at(chunk.len() - TAG);
        let start = out.len();
        out.extend_from_slice(text);
        nonce[11] = u8::from(last);
        let opened = aead.decrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            b"",
            &mut out[start..],
            Tag::from_slice(tag),
        );
        if opened.is_err() {
            return Err(AgeError::Payload("a chunk was altered, moved or cut"));
        }
        if last {
            if text.is_empty() && counter > 0 {
                return Err(AgeError::Payload("the last chunk is empty"));
            }
            return Ok(out);
        }
        counter += 1;
        if counter >> 88 != 0 {
            return Err(AgeError::Payload("too many chunks"));
        }
        rest = next;
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut okm = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, okm.as_mut_slice());
    okm
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;
    use std::io::Write;
    use std::path::PathBuf;

    /// C2SP's age test vectors (CCTV), as the age crate ships them in its
    /// sources: cargo has unpacked them into its registry to build this crate.
    fn testkit() -> PathBuf {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
        let version = lock
            .split("[[package]]")
            .find_map(|p| p.trim().strip_prefix("name = \"age\"\nversion = \""))
            .and_then(|rest| rest.split('"').next())
            .expect("age in Cargo.lock");
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
        let registry = home.join("registry/src");
        std::fs::read_dir(&registry)
            .unwrap_or_else(|e| panic!("cargo's registry at {}: {e}", registry.display()))
            .map(|d| {
                d.unwrap()
                    .path()
                    .join(format!("age-{version}/tests/testdata/testkit"))
            })
            .find(|p| p.is_dir())
            .unwrap_or_else(|| panic!("age {version}'s test vectors under {}", registry.display()))
    }

    /// One vector: its expectation, the payload's SHA-256 when it opens, its
    /// keys, and the age file.
    struct Vector {
        expect: String,
        payload: Option<String>,
        identities: Vec<[u8; 32]>,
        passphrases: Vec<String>,
        armored: bool,
        file: Vec<u8>,
    }

    fn vector(bytes: &[u8]) -> Vector {
        let split = bytes.windows(2).position(|w| w == b"\n\n").unwrap();
        let mut v = Vector {
            expect: String::new(),
            payload: None,
            identities: Vec::new(),
            passphrases: Vec::new(),
            armored: false,
            file: bytes[split + 2..].to_vec(),
        };
        for line in std::str::from_utf8(&bytes[..split]).unwrap().lines() {
            let (name, value) = line.split_once(": ").unwrap();
            match name {
                "expect" => v.expect = value.to_string(),
                "payload" => v.payload = Some(value.to_string()),
                "identity" => {
                    let (_, data) = bech32::decode(value).unwrap();
                    v.identities.push(data.try_into().unwrap());
                }
                "passphrase" => v.passphrases.push(value.to_string()),
                "armored" => v.armored = value == "yes",
                "compressed" => {
                    assert_eq!(value, "zlib");
                    v.file = miniz_oxide::inflate::decompress_to_vec_zlib(&v.file).unwrap();
                }
                _ => {}
            }
        }
        v
    }

    fn open_vector(v: &Vector) -> Result<Zeroizing<Vec<u8>>, AgeError> {
        match (v.identities.first(), v.passphrases.first()) {
            (Some(secret), _) => decrypt(&v.file, Key::X25519(secret)),
            // The vectors allow work factors up to 2^16, as age's own test does.
            (None, Some(pass)) => decrypt(
                &v.file,
                Key::Passphrase {
                    text: pass.as_bytes(),
                    max_log_n: 16,
                },
            ),
            // `empty` names no key: it fails before one is needed.
            (None, None) => decrypt(&v.file, Key::X25519(&[7; 32])),
        }
    }

    #[test]
    fn every_cctv_vector_gives_the_specified_outcome() {
        let mut checked = 0;
        let mut entries: Vec<_> = std::fs::read_dir(testkit())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let v = vector(&std::fs::read(&path).unwrap());
            if v.armored {
                // Shares are never armored.
                continue;
            }
            let got = open_vector(&v);
            match (v.expect.as_str(), &got) {
                ("success", Ok(plain)) => {
                    let sha = data_encoding::HEXLOWER.encode(&Sha256::digest(plain.as_slice()));
                    assert_eq!(Some(sha), v.payload, "{name}: the payload differs");
                }
                ("header failure", Err(AgeError::Header(_)))
                | ("no match", Err(AgeError::NoMatch))
                | ("HMAC failure", Err(AgeError::Mac))
                | ("payload failure", Err(AgeError::Payload(_))) => {}
                (expected, got) => panic!("{name}: expected {expected}, got {got:?}"),
            }
            checked += 1;
        }
        // 92 vectors are not armored in age 0.12.1's copy; a missing file
        // would otherwise go unnoticed.
        assert!(checked >= 92, "only {checked} vectors read");
    }

    fn age_encrypt(plain: &[u8], recipient: &dyn age::Recipient) -> Vec<u8> {
        let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient)).unwrap();
        let mut out = Vec::new();
        let mut w = encryptor.wrap_output(&mut out).unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap();
        out
    }

    /// The identity's secret bytes, as the share module reads them.
    fn secret_of(identity: &age::x25519::Identity) -> [u8; 32] {
        *crate::share::identity_bytes(identity).unwrap()
    }

    #[test]
    fn opens_what_the_age_crate_writes_and_names_the_same_recipient() {
        let identity = age::x25519::Identity::generate();
        let secret = secret_of(&identity);
        assert_eq!(x25519_recipient(&secret), identity.to_public().to_string());
        assert!(is_x25519_recipient(&identity.to_public().to_string()));
        assert!(!is_x25519_recipient("age1notarecipient"));
        // Empty, one short chunk, exactly one chunk, and several with a short tail.
        for len in [0, 1_000, CHUNK, 3 * CHUNK + 17] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let file = age_encrypt(&plain, &identity.to_public());
            assert_eq!(
                decrypt(&file, Key::X25519(&secret)).unwrap().as_slice(),
                plain,
                "{len} bytes"
            );
            let other = secret_of(&age::x25519::Identity::generate());
            assert_eq!(decrypt(&file, Key::X25519(&other)), Err(AgeError::NoMatch));
        }
        let mut pass = age::scrypt::Recipient::new(secrecy::SecretString::from("correct horse".to_string()));
        pass.set_work_factor(10);
        let file = age_encrypt(b"passcode share", &pass);
        let key = |text: &'static str, max_log_n| Key::Passphrase {
            text: text.as_bytes(),
            max_log_n,
        };
        assert_eq!(
            decrypt(&file, key("correct horse", 12)).unwrap().as_slice(),
            b"passcode share"
        );
        assert_eq!(decrypt(&file, key("wrong horse", 12)), Err(AgeError::NoMatch));
        assert!(matches!(
            decrypt(&file, key("correct horse", 9)),
            Err(AgeError::Header(_))
        ));
    }

    /// Go's age, an implementation nobody here wrote (Debian's `age`, which
    /// the README's test command installs), encrypts; this module opens.
    #[test]
    fn opens_what_go_age_writes() {
        use std::process::{Command, Stdio};
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        for len in [0, 5_000, CHUNK + 1] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let mut child = Command::new("age")
                .args(["--encrypt", "--recipient", &recipient])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("Go's age tool (apt-get install age; the README's test command installs it)");
            // Fed from a thread: age writes while it reads, and both pipes fill.
            let mut stdin = child.stdin.take().unwrap();
            let input = plain.clone();
            let feeder = std::thread::spawn(move || stdin.write_all(&input));
            let out = child.wait_with_output().unwrap();
            feeder.join().unwrap().unwrap();
            assert!(out.status.success());
            assert_eq!(
                decrypt(&out.stdout, Key::X25519(&secret_of(&identity)))
                    .unwrap()
                    .as_slice(),
                plain,
                "{len} bytes"
            );
        }
    }

    #[test]
    fn no_changed_byte_opens() {
        let identity = age::x25519::Identity::generate();
        let secret = secret_of(&identity);
        let file = age_encrypt(b"a short record, one chunk", &identity.to_public());
        for i in 0..file.len() {
            for flip in [0x01, 0x80] {
                let mut changed = file.clone();
                changed[i] ^= flip;
                assert!(
                    decrypt(&changed, Key::X25519(&secret)).is_err(),
                    "byte {i} ^ {flip:#x} opened"
                );
            }
        }
        for cut in 0..file.len() {
            assert!(
                decrypt(&file[..cut], Key::X25519(&secret)).is_err(),
                "cut at {cut} opened"
            );
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(
            decrypt(&longer, Key::X25519(&secret)),
            Err(AgeError::Payload(_))
        ));
    }
}
