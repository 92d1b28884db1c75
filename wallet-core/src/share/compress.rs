//! Compression of a share's records before they are encrypted: brotli (RFC
//! 7932) with a preset dictionary of FHIR resource skeletons, so that a few
//! records fit a QR code. The dictionary is part of link format version 2 and
//! never changes (see `docs/link-format.md`).

/// The preset brotli dictionary of version 2: skeletons of common FHIR resources.
pub const DICTIONARY: &[u8] = include_bytes!("dictionary.txt");

/// Bundles up to this size get brotli's slowest, densest setting (about 20 ms):
/// only they can hope to fit a QR code. Larger ones go to a relay, where speed
/// matters more than the last few percent.
const DENSEST_UP_TO: usize = 64 * 1024;

/// Why compressed bytes do not expand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompressError {
    /// They expand beyond the limit (a compression bomb, or simply too much).
    #[error("it expands beyond {0} bytes")]
    TooLarge(usize),
    /// They end early.
    #[error("it is cut short")]
    Truncated,
    /// They are not brotli with this dictionary.
    #[error("it does not decompress ({0})")]
    Damaged(String),
}

/// Brotli (RFC 7932) with the preset dictionary in front of the data.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: if data.len() <= DENSEST_UP_TO { 11 } else { 5 },
        lgwin: 22,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    // Reading a slice and writing to a Vec cannot fail.
    let _ = brotli::enc::BrotliCompressCustomIoCustomDict(
        &mut brotli::enc::IoReaderWrapper(&mut &data[..]),
        &mut brotli::enc::IoWriterWrapper(&mut out),
        &mut [0u8; 4096],
        &mut [0u8; 4096],
        &params,
        brotli::enc::StandardAlloc::default(),
        &mut |_, _, _, _| (),
        DICTIONARY,
        std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
    );
    out
}

/// Inverse of [`compress`], refusing output beyond `limit` bytes.
pub fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, CompressError> {
    /// A writer that refuses to grow past its limit.
    struct Capped {
        out: Vec<u8>,
        limit: usize,
        over: bool,
    }
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.out.len() + buf.len() > self.limit {
                self.over = true;
                return Err(std::io::Error::other("over the limit"));
            }
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = Capped {
        out: Vec::with_capacity(data.len() * 8),
        limit,
        over: false,
    };
    let result = brotli_decompressor::BrotliDecompressCustomDict(
        &mut &data[..],
        &mut w,
        &mut [0u8; 4096],
        &mut [0u8; 4096],
        DICTIONARY.to_vec(),
    );
    match result {
        Ok(()) => Ok(w.out),
        Err(_) if w.over => Err(CompressError::TooLarge(limit)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(CompressError::Truncated),
        Err(e) => Err(CompressError::Damaged(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn dictionary_is_frozen_for_version_2() {
        let digest = data_encoding::HEXLOWER.encode(&Sha256::digest(DICTIONARY));
        assert_eq!(
            digest, FROZEN_DICTIONARY_SHA256,
            "the v2 dictionary must never change"
        );
    }

    const FROZEN_DICTIONARY_SHA256: &str = "ff686d4906ccd3863e409f3dd9c8577a0f50bbdd213143ddaa3d41ff9a3932cc";

    #[test]
    fn compression_round_trips_and_refuses_bombs() {
        let bundle = br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Condition","id":"c1"}}]}"#;
        let packed = compress(bundle);
        assert!(
            packed.len() < bundle.len() / 2,
            "the dictionary should do most of the work"
        );
        assert_eq!(decompress(&packed, 1 << 20).unwrap(), bundle);
        let bomb = compress(&vec![b'a'; 1 << 20]);
        assert!(matches!(
            decompress(&bomb, 1000),
            Err(CompressError::TooLarge(1000))
        ));
        assert!(matches!(
            decompress(&packed[..packed.len() / 2], 1 << 20),
            Err(CompressError::Truncated | CompressError::Damaged(_))
        ));
    }
}
