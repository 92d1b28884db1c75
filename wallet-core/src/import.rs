//! Turning files into records: FHIR JSON, PDFs and images, and age backups.
//!
//! The kind of a file is read from its first bytes, not its name. A file is
//! accepted or refused whole: a malformed Bundle adds nothing.

#[cfg(feature = "native")]
use std::io::Read;

use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::fhir::date::FhirDateTime;
use crate::fhir::{self, FhirError, Resource, read_resources};
use crate::record::{NewRecord, Source};

/// Largest file accepted (documents are stored whole, encrypted).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// What a file holds, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// FHIR JSON.
    Json,
    /// A PDF document.
    Pdf,
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// An age-encrypted file (an Amanat backup).
    Age,
    /// A SMART Health Card: a `.smart-health-card` file, or the text of its
    /// `shc:/` QR codes, one a line.
    HealthCard,
    /// A record signed by its provider (`AMANAT-RECORD:…`).
    SignedRecord,
}

/// Whom the patient trusts to vouch for what they import: SMART Health Card
/// issuers and provider registries.
#[derive(Debug, Default, Clone)]
pub struct Trusted {
    /// Card issuers ([`crate::shc`]).
    pub issuers: Vec<crate::shc::Issuer>,
    /// Registries whose providers' signed records are taken
    /// ([`crate::provider::signed`]).
    pub registries: Vec<crate::provider::RegistrySnapshot>,
}

impl FileKind {
    /// Sniffs the kind from the content.
    pub fn detect(bytes: &[u8]) -> Option<FileKind> {
        let trimmed = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(&[][..], |i| &bytes[i..]);
        let trimmed = trimmed.strip_prefix("\u{feff}".as_bytes()).unwrap_or(trimmed);
        if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes.starts_with(b"age-encryption.org/")
            || trimmed.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        {
            Some(FileKind::Age)
        } else if crate::provider::signed::is_signed_record(trimmed) {
            Some(FileKind::SignedRecord)
        } else if trimmed.starts_with(crate::shc::QR_PREFIX.as_bytes())
            || (trimmed.starts_with(b"{") && crate::shc::is_card_file(trimmed))
        {
            Some(FileKind::HealthCard)
        } else if trimmed.starts_with(b"{") {
            Some(FileKind::Json)
        } else {
            None
        }
    }

    /// The MIME type of a document kind.
    pub fn mime(self) -> Option<&'static str> {
        match self {
            FileKind::Pdf => Some("application/pdf"),
            FileKind::Jpeg => Some("image/jpeg"),
            FileKind::Png => Some("image/png"),
            FileKind::Json | FileKind::Age | FileKind::HealthCard | FileKind::SignedRecord => None,
        }
    }
}

/// Why a file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Not a kind of file the wallet takes.
    #[error("not FHIR JSON, a PDF, a JPEG, a PNG or an Amanat backup")]
    UnknownKind,
    /// Too big.
    #[error("{0} bytes is larger than the {MAX_FILE_BYTES}-byte limit")]
    TooLarge(usize),
    /// Malformed FHIR.
    #[error("invalid FHIR {0}")]
    Fhir(#[from] FhirError),
    /// A backup that none of the given keys opens.
    #[error(
        "this backup is encrypted to a key or passphrase not given here (use --identity FILE or --backup-passphrase)"
    )]
    BackupLocked,
    /// A damaged backup.
    #[error("this backup is damaged: {0}")]
    BackupDamaged(String),
    /// A SMART Health Card that did not verify, or is no card.
    #[error("{0}")]
    Card(#[from] crate::shc::ShcError),
    /// A signed record that did not verify, or whose signer is not listed.
    #[error("{0}")]
    Signed(#[from] crate::provider::signed::SignedRecordError),
}

/// Reads a non-backup file into records. `now` dates documents.
pub fn records_from_file(name: &str, bytes: &[u8], now: i64) -> Result<Vec<NewRecord>, ImportError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let source = Source::Import {
        file: name.to_string(),
    };
    match FileKind::detect(bytes) {
        Some(FileKind::Json) => {
            let reads = read_resources(bytes)?;
            // Each record keeps whom its file was about (its patient of origin).
            let source = match crate::matching::patient_of(reads.iter().map(|r| &r.resource)) {
                Some(patient) => Source::ImportedFrom {
                    file: name.to_string(),
                    patient,
                },
                None => source,
            };
            Ok(new_records(reads, &source))
        }
        Some(kind @ (FileKind::Pdf | FileKind::Jpeg | FileKind::Png)) => {
            let resource = document_reference(name, bytes, kind, now);
            let description = resource.describe()?;
            Ok(vec![NewRecord {
                resource,
                description,
                source,
                identity: Some(bytes.to_vec()),
            }])
        }
        // With no one trusted, a card is refused naming its issuer, a signed
        // record naming its signer (`records_from_bytes` takes whom the
        // patient trusts).
        Some(FileKind::HealthCard) => records_from_card(name, bytes, &[], now),
        Some(FileKind::SignedRecord) => records_from_signed(name, bytes, &[]),
        Some(FileKind::Age) | None => Err(ImportError::UnknownKind),
    }
}

/// Records from a SMART Health Card whose signature verifies with a key of
/// one of `issuers`, each saying who issued it.
pub fn records_from_card(
    name: &str,
    bytes: &[u8],
    issuers: &[crate::shc::Issuer],
    now: i64,
) -> Result<Vec<NewRecord>, ImportError> {
    let text = std::str::from_utf8(bytes).unwrap_or_default().trim_start();
    let jwss = if text.starts_with(crate::shc::QR_PREFIX) {
        vec![crate::shc::from_qr(
            text.lines().filter(|l| !l.trim().is_empty()),
        )?]
    } else {
        crate::shc::from_file(bytes)?
    };
    let mut out = Vec::new();
    for jws in &jwss {
        let card = crate::shc::verify(jws, issuers, now)?;
        let reads = read_resources(&card.bundle)?;
        let source = Source::Card {
            file: name.to_string(),
            issuer: card.issuer.label(),
            patient: crate::matching::patient_of(reads.iter().map(|r| &r.resource)),
            jws: jws.trim().to_string(),
        };
        out.extend(new_records(reads, &source));
    }
    Ok(out)
}

/// The record a provider signed, once its signature verifies and a registry
/// among `registries` lists the signer with that key. A signed FHIR document
/// is one record, its entries filed beneath it as any document's.
pub fn records_from_signed(
    name: &str,
    bytes: &[u8],
    registries: &[crate::provider::RegistrySnapshot],
) -> Result<Vec<NewRecord>, ImportError> {
    let opened = crate::provider::signed::open(bytes)?;
    let signer = opened.listed(registries)?;
    let signed_bytes = opened.resource.to_bytes();
    let reads = read_resources(&signed_bytes)?;
    // A collection would be filed as its entries, none the bytes signed.
    if reads
        .first()
        .is_none_or(|r| r.resource.to_bytes() != signed_bytes)
    {
        return Err(crate::provider::signed::SignedRecordError::Malformed(
            "a signed record holds one resource or one FHIR document, not a collection".into(),
        )
        .into());
    }
    let source = Source::Signed {
        file: name.to_string(),
        signer,
        signed_at: opened.signed_at,
        signature: opened.detached,
    };
    Ok(new_records(reads, &source))
}

/// Records of what a file held, from `source`; a document's entries name
/// their document instead ([`Source::InDocument`]).
pub fn new_records(reads: Vec<fhir::Read>, source: &Source) -> Vec<NewRecord> {
    let documents: Vec<Option<[u8; 32]>> = reads
        .iter()
        .map(|r| {
            crate::fhir::document::is_document(r.resource.json())
                .then(|| Sha256::digest(r.resource.to_bytes()).into())
        })
        .collect();
    reads
        .into_iter()
        .map(|r| {
            let source = match r.document.and_then(|at| documents.get(at).copied().flatten()) {
                Some(document) => Source::InDocument { document },
                None => source.clone(),
            };
            NewRecord::new(r.resource, r.description, source)
        })
        .collect()
}

/// Wraps a PDF or image as a FHIR DocumentReference with the bytes inline.
pub fn document_reference(name: &str, bytes: &[u8], kind: FileKind, now: i64) -> Resource {
    let digest = Sha256::digest(bytes);
    let id = data_encoding::HEXLOWER.encode(&digest[..12]);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let (type_text, category) = match kind {
        FileKind::Pdf => ("Document", "Clinical document"),
        _ => ("Image", "Clinical photograph or scan"),
    };
    let created = FhirDateTime::from_unix(now);
    let value = json!({
        "resourceType": "DocumentReference",
        "id": id,
        "status": "current",
        "type": {"text": type_text},
        "category": [{"text": category}],
        "date": created.as_str(),
        "description": stem,
        "content": [{"attachment": {
            "contentType": kind.mime(),
            "data": base64::engine::general_purpose::STANDARD.encode(bytes),
            "size": bytes.len(),
            "title": name,
            "creation": created.as_str(),
        }}],
    });
    // The value above always has a valid resourceType and id.
    Resource::from_value(value).unwrap_or_else(|_| unreachable!("wallet-built DocumentReference is valid"))
}

/// Decrypts an age backup with any of the given identities.
#[cfg(feature = "native")]
pub fn decrypt_backup(bytes: &[u8], identities: &[Box<dyn age::Identity>]) -> Result<Vec<u8>, ImportError> {
    let armored =
        FileKind::detect(bytes) == Some(FileKind::Age) && !bytes.starts_with(b"age-encryption.org/");
    let reader: Box<dyn std::io::BufRead> = if armored {
        Box::new(std::io::BufReader::new(age::armor::ArmoredReader::new(bytes)))
    } else {
        Box::new(bytes)
    };
    let decryptor =
        age::Decryptor::new_buffered(reader).map_err(|e| ImportError::BackupDamaged(e.to_string()))?;
    let mut stream = decryptor
        .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys
            | age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed => ImportError::BackupLocked,
            other => ImportError::BackupDamaged(other.to_string()),
        })?;
    let mut out = Vec::new();
    stream
        .read_to_end(&mut out)
        .map_err(|e| ImportError::BackupDamaged(e.to_string()))?;
    Ok(out)
}

/// Records from a file of any kind the wallet takes: a backup (an age file)
/// is opened with `identities`, a SMART Health Card or a signed record
/// verified against whom the patient `trusted`, anything else read by
/// [`records_from_file`].
#[cfg(feature = "native")]
pub fn records_from_bytes(
    name: &str,
    bytes: &[u8],
    identities: &[Box<dyn age::Identity>],
    trusted: &Trusted,
    now: i64,
) -> Result<Vec<NewRecord>, ImportError> {
    match FileKind::detect(bytes) {
        Some(FileKind::Age) => {}
        Some(FileKind::HealthCard) => return records_from_card(name, bytes, &trusted.issuers, now),
        Some(FileKind::SignedRecord) => return records_from_signed(name, bytes, &trusted.registries),
        #[cfg(feature = "native")]
        Some(FileKind::Jpeg | FileKind::Png) => {
            // A photo of a card's or a signed record's QR code is that card
            // or record; any other photo is kept as an image.
            return match code_in_photo(bytes) {
                Some(text) => records_from_bytes(name, text.as_bytes(), identities, trusted, now),
                None => records_from_file(name, bytes, now),
            };
        }
        _ => return records_from_file(name, bytes, now),
    }
    // An Amanat backup: an age file holding a FHIR Bundle.
    let plain = decrypt_backup(bytes, identities)?;
    if FileKind::detect(&plain) != Some(FileKind::Json) {
        return Err(ImportError::BackupDamaged(
            "it does not hold an Amanat backup (a FHIR Bundle)".into(),
        ));
    }
    records_from_file(name, &plain, now)
}

/// The largest photo searched for a QR code, in pixels (a 48-megapixel
/// phone camera's); larger ones are kept as images, unread.
#[cfg(feature = "native")]
const MAX_PHOTO_PIXELS: u32 = 8_000 * 6_000;

/// The text of the QR code in a photo, when it holds a SMART Health Card
/// (`shc:/…`) or a signed record (`AMANAT-RECORD:…`).
#[cfg(feature = "native")]
fn code_in_photo(bytes: &[u8]) -> Option<String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    limits.max_alloc = Some(u64::from(MAX_PHOTO_PIXELS) * 4);
    reader.limits(limits);
    let img = reader.decode().ok()?.to_luma8();
    let (w, h) = img.dimensions();
    if w.checked_mul(h)? > MAX_PHOTO_PIXELS {
        return None;
    }
    let text = crate::qr::read_greyscale(w as usize, h as usize, |x, y| {
        img.get_pixel(x as u32, y as u32)[0]
    })
    .ok()?;
    let code = text.trim_start();
    (code.starts_with(crate::shc::QR_PREFIX) || crate::provider::signed::is_signed_record(code.as_bytes()))
        .then_some(text)
}

/// Whether an age file is passphrase-encrypted (so a passphrase should be asked for).
#[cfg(feature = "native")]
pub fn backup_needs_passphrase(bytes: &[u8]) -> bool {
    let armored = !bytes.starts_with(b"age-encryption.org/");
    let reader: Box<dyn std::io::BufRead> = if armored {
        Box::new(std::io::BufReader::new(age::armor::ArmoredReader::new(bytes)))
    } else {
        Box::new(bytes)
    };
    age::Decryptor::new_buffered(reader).is_ok_and(|d| d.is_scrypt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_whom_their_file_was_about() {
        let named = br#"{"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"text": "Ayesha Khan"}],
                "identifier": [{"value": "35202-1234567-4"}]}},
            {"resource": {"resourceType": "Observation", "status": "final",
                "code": {"text": "Weight"}, "valueQuantity": {"value": 70, "unit": "kg"}}}]}"#;
        let records = records_from_file("lab.json", named, 0).unwrap();
        assert_eq!(records.len(), 2);
        for r in &records {
            let Source::ImportedFrom { file, patient } = &r.source else {
                panic!("{:?}", r.source)
            };
            assert_eq!(
                (file.as_str(), patient.describe()),
                ("lab.json", "Ayesha Khan, CNIC 35202-1234567-4".to_string())
            );
        }
        // A file that names nobody says only where it came from.
        let anonymous = br#"{"resourceType": "Observation", "status": "final",
            "code": {"text": "Weight"}, "valueQuantity": {"value": 70, "unit": "kg"}}"#;
        let records = records_from_file("w.json", anonymous, 0).unwrap();
        assert_eq!(
            records[0].source,
            Source::Import {
                file: "w.json".into()
            }
        );
    }

    #[test]
    fn a_signed_record_imports_saying_who_signed_it_once_their_registry_is_trusted() {
        let text = include_bytes!("../tests/vectors/signed-record/prescription.amanat-record");
        assert_eq!(FileKind::detect(text), Some(FileKind::SignedRecord));
        let err = records_from_bytes("rx.amanat-record", text, &[], &Trusted::default(), 0).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "signed by Dr. Imran Rao (PMDC-12345-P), who is not listed by Pakistan Medical & Dental Council"
            ),
            "{err}"
        );
        let card = include_str!("../tests/vectors/signed-record/provider-card.json");
        let council = crate::provider::RegistrySnapshot {
            v: 1,
            registry: "Pakistan Medical & Dental Council".into(),
            issued: 0,
            providers: vec![crate::provider::ProviderCard::parse(card).unwrap()],
            publishers: Vec::new(),
        };
        let trusted = Trusted {
            registries: vec![council],
            ..Trusted::default()
        };
        let records = records_from_bytes("rx.amanat-record", text, &[], &trusted, 0).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].source.to_string(),
            "signed by Dr. Imran Rao (PMDC-12345-P, Pakistan Medical & Dental Council), signature verified; from rx.amanat-record"
        );
        // What the wallet stores is what was signed: the signature it keeps
        // verifies over those bytes.
        let Source::Signed { signature, .. } = &records[0].source else {
            unreachable!()
        };
        crate::provider::signed::verify_detached(signature, &records[0].resource.to_bytes()).unwrap();
    }

    #[test]
    fn a_health_card_imports_saying_who_issued_it_once_its_issuer_is_trusted() {
        let card = include_bytes!("../tests/vectors/shc/example-00.smart-health-card");
        let qr = include_bytes!("../tests/vectors/shc/example-chunked.qr.txt");
        assert_eq!(FileKind::detect(card), Some(FileKind::HealthCard));
        assert_eq!(FileKind::detect(qr), Some(FileKind::HealthCard));
        let jwks = include_bytes!("../tests/vectors/shc/issuer.jwks.json");
        let issuer = crate::shc::Issuer::from_jwks(
            "https://spec.smarthealth.cards/examples/issuer",
            Some("SMART example".into()),
            jwks,
        )
        .unwrap();
        let now = 1_796_083_200;
        // Trusting no one, the card is refused naming its issuer.
        let err =
            records_from_bytes("card.smart-health-card", card, &[], &Trusted::default(), now).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("issued by https://spec.smarthealth.cards/examples/issuer, which is not among"),
            "{err}"
        );
        let trusted = &Trusted {
            issuers: vec![issuer],
            ..Trusted::default()
        };
        let records = records_from_bytes("card.txt", qr, &[], trusted, now).unwrap();
        let kinds: Vec<&str> = records.iter().map(|r| r.resource.resource_type()).collect();
        assert_eq!(kinds, ["Coverage", "Organization", "Patient", "Patient"]);
        assert_eq!(
            records[0].source.to_string(),
            "issued by SMART example (https://spec.smarthealth.cards/examples/issuer), signature verified; from card.txt"
        );
        // A card that verifies but carries invalid FHIR (this published one's
        // Coverage.payor is an object, not a list) is refused at the path.
        let err = records_from_bytes("card", card, &[], trusted, now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid FHIR at entry[1].resource.payor: invalid type: map, expected a sequence"
        );
    }

    #[test]
    fn kinds_are_sniffed_from_content() {
        assert_eq!(FileKind::detect(b"  \n{\"a\":1}"), Some(FileKind::Json));
        assert_eq!(FileKind::detect(b"%PDF-1.7"), Some(FileKind::Pdf));
        assert_eq!(FileKind::detect(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(FileKind::Jpeg));
        assert_eq!(FileKind::detect(b"\x89PNG\r\n\x1a\nxxxx"), Some(FileKind::Png));
        assert_eq!(FileKind::detect(b"age-encryption.org/v1\n"), Some(FileKind::Age));
        assert_eq!(FileKind::detect(b"hello"), None);
    }

    #[test]
    fn pdf_becomes_a_document_reference() {
        let pdf = crate::demo::simple_pdf("x", &[]);
        let recs = records_from_file("scan of report.pdf", &pdf, 1_700_000_000).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].resource.resource_type(), "DocumentReference");
        assert_eq!(recs[0].description.title, "scan of report");
        assert_eq!(recs[0].identity.as_deref(), Some(&pdf[..]));
    }

    #[test]
    fn unknown_files_are_refused() {
        assert!(matches!(
            records_from_file("x.txt", b"hello", 0),
            Err(ImportError::UnknownKind)
        ));
    }
}
