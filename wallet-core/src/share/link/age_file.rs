//! An age file packed for a QR code.
//!
//! age's header is text: stanzas whose arguments and bodies are base64, and a
//! base64 MAC. In a link that text would cost a third more than the bytes it
//! encodes, so the link carries the same stanzas and MAC as binary and the
//! receiver rebuilds the header byte for byte (the MAC covers its exact text,
//! so a rebuild that differed would be refused by age). Only headers that
//! rebuild exactly are packed; anything else travels as the file's own bytes.
//!
//! Packed form (CBOR): `[[stanza, …], mac, payload]`, each stanza
//! `[arg, …, body]`; an argument is bytes where it is canonical base64 (an
//! X25519 share), text otherwise (the stanza's tag, grease).

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use ciborium::Value;

use super::LinkError;

/// The first line of every age v1 file.
const INTRO: &[u8] = b"age-encryption.org/v1\n";
/// age wraps stanza bodies at 64 columns; the last line is always shorter.
const COLUMNS: usize = 64;

/// The file packed, or as plain bytes if its header would not rebuild exactly.
pub(super) fn pack(file: &[u8]) -> Value {
    parse(file)
        .filter(|packed| unpack(packed).as_deref() == Ok(file))
        .unwrap_or_else(|| Value::Bytes(file.to_vec()))
}

/// The age file, rebuilt from either form.
pub(super) fn unpack(value: &Value) -> Result<Vec<u8>, LinkError> {
    let malformed = |what: &str| LinkError::Malformed(format!("the encrypted records' header: {what}"));
    let parts = match value {
        Value::Bytes(file) => return Ok(file.clone()),
        Value::Array(parts) => parts,
        _ => return Err(malformed("neither bytes nor a packed header")),
    };
    let [Value::Array(stanzas), Value::Bytes(mac), Value::Bytes(payload)] = parts.as_slice() else {
        return Err(malformed("it should be stanzas, a MAC and the payload"));
    };
    let mut out = Vec::with_capacity(INTRO.len() + 128 * stanzas.len() + 48 + payload.len());
    out.extend_from_slice(INTRO);
    for stanza in stanzas {
        let Value::Array(items) = stanza else {
            return Err(malformed("a stanza is not a list"));
        };
        let Some((Value::Bytes(body), args)) = items.split_last() else {
            return Err(malformed("a stanza has no body"));
        };
        if args.is_empty() {
            return Err(malformed("a stanza has no tag"));
        }
        out.extend_from_slice(b"->");
        for arg in args {
            out.push(b' ');
            match arg {
                Value::Bytes(bytes) => out.extend_from_slice(B64.encode(bytes).as_bytes()),
                Value::Text(text) => out.extend_from_slice(text.as_bytes()),
                _ => return Err(malformed("a stanza argument is neither bytes nor text")),
            }
        }
        out.push(b'\n');
        let body = B64.encode(body);
        for line in body.as_bytes().chunks(COLUMNS) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        if body.len() % COLUMNS == 0 {
            // A body that fills its last line is followed by an empty one.
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"--- ");
    out.extend_from_slice(B64.encode(mac).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload);
    Ok(out)
}

fn parse(file: &[u8]) -> Option<Value> {
    let mut rest = file.strip_prefix(INTRO)?;
    let mut next_line = || -> Option<&str> {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let line = std::str::from_utf8(&rest[..end]).ok()?;
        rest = &rest[end + 1..];
        Some(line)
    };
    let mut stanzas = Vec::new();
    loop {
        let line = next_line()?;
        if let Some(mac) = line.strip_prefix("--- ") {
            let mac = B64.decode(mac).ok()?;
            return Some(Value::Array(vec![
                Value::Array(stanzas),
                Value::Bytes(mac),
                Value::Bytes(rest.to_vec()),
            ]));
        }
        let mut items: Vec<Value> = line.strip_prefix("-> ")?.split(' ').map(arg).collect();
        let mut body = String::new();
        loop {
            let line = next_line()?;
            body.push_str(line);
            if line.len() < COLUMNS {
                break;
            }
        }
        items.push(Value::Bytes(B64.decode(&body).ok()?));
        stanzas.push(Value::Array(items));
    }
}

fn arg(text: &str) -> Value {
    match B64.decode(text) {
        Ok(bytes) if !bytes.is_empty() && B64.encode(&bytes) == text => Value::Bytes(bytes),
        _ => Value::Text(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn encrypt(plain: &[u8]) -> (Vec<u8>, age::x25519::Identity) {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public();
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
        let mut out = Vec::new();
        let mut w = encryptor.wrap_output(&mut out).unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap();
        (out, identity)
    }

    #[test]
    fn real_age_files_pack_smaller_and_rebuild_exactly() {
        // age adds a random "grease" stanza (0 to 99 body bytes), so try many.
        for i in 0..200 {
            let (file, identity) = encrypt(&vec![7u8; i]);
            let packed = pack(&file);
            assert!(matches!(packed, Value::Array(_)), "file {i} was not packed");
            let mut cbor = Vec::new();
            ciborium::into_writer(&packed, &mut cbor).unwrap();
            assert!(cbor.len() + 40 < file.len(), "{} vs {}", cbor.len(), file.len());
            let rebuilt = unpack(&packed).unwrap();
            assert_eq!(rebuilt, file);
            let decryptor = age::Decryptor::new_buffered(&rebuilt[..]).unwrap();
            let mut plain = Vec::new();
            std::io::Read::read_to_end(
                &mut decryptor
                    .decrypt(std::iter::once(&identity as &dyn age::Identity))
                    .unwrap(),
                &mut plain,
            )
            .unwrap();
            assert_eq!(plain, vec![7u8; i]);
        }
    }

    #[test]
    fn what_does_not_rebuild_travels_as_it_is() {
        for file in [
            &b"not an age file"[..],
            b"age-encryption.org/v1\n-> X25519 abc\n",
            b"",
        ] {
            assert_eq!(pack(file), Value::Bytes(file.to_vec()));
            assert_eq!(unpack(&pack(file)).unwrap(), file);
        }
    }

    #[test]
    fn hostile_packed_headers_are_refused_not_panics() {
        for value in [
            Value::Array(vec![]),
            Value::Array(vec![
                Value::Array(vec![Value::Array(vec![])]),
                Value::Bytes(vec![]),
                Value::Bytes(vec![]),
            ]),
            Value::Array(vec![
                Value::Array(vec![Value::Array(vec![Value::Bytes(vec![1])])]),
                Value::Bytes(vec![]),
                Value::Bytes(vec![]),
            ]),
            Value::Integer(3.into()),
        ] {
            assert!(
                matches!(unpack(&value), Err(LinkError::Malformed(_))),
                "{value:?}"
            );
        }
    }
}
