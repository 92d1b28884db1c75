//! QR codes: drawing share links and provider cards, and reading them back.
//!
//! Links are encoded at error-correction level M (15 % of the code can be damaged
//! or hidden and it still reads), the level the share format is sized for.
//! Reading works on greyscale pixels, so the browser can pass camera frames and
//! the CLI decoded PNG or JPEG files.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode, Version};

/// Largest QR version (177×177 modules).
pub const MAX_VERSION: i16 = 40;

/// Why a QR code could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// More data than one QR code holds at level M.
    #[error(
        "{chars} characters do not fit one QR code at error correction M (at most about 3,390 alphanumeric characters)"
    )]
    TooLong {
        /// Length of the text.
        chars: usize,
    },
    /// No QR code found in the image.
    #[error("no QR code was found in the image (hold the code flat, fill the frame, avoid glare)")]
    NotFound,
    /// A QR code was found but could not be read.
    #[error("a QR code was found but could not be read ({0}); try a sharper photo")]
    Unreadable(String),
}

/// A QR code for some text.
pub struct Qr {
    code: QrCode,
}

impl Qr {
    /// Encodes text at level M, choosing the smallest version and the densest modes.
    pub fn new(text: &str) -> Result<Qr, QrError> {
        QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map(|code| Qr { code })
            .map_err(|_| QrError::TooLong { chars: text.len() })
    }

    /// The QR version, 1 to 40.
    pub fn version(&self) -> i16 {
        match self.code.version() {
            Version::Normal(v) | Version::Micro(v) => v,
        }
    }

    /// Modules per side.
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// Whether module (x, y) is dark.
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.code[(x, y)] == qrcode::Color::Dark
    }

    /// For terminals: two modules per character with Unicode half blocks, drawn
    /// light-on-dark-friendly (dark modules as spaces would vanish on dark themes).
    pub fn to_terminal(&self) -> String {
        self.code
            .render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build()
    }

    /// An SVG image.
    pub fn to_svg(&self) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .min_dimensions(256, 256)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build()
    }

    /// Greyscale pixels (0 dark, 255 light), `scale` pixels a module, with the
    /// four-module quiet zone; returns (width, pixels).
    pub fn to_pixels(&self, scale: usize) -> (usize, Vec<u8>) {
        let quiet = 4;
        let n = self.width();
        let side = (n + 2 * quiet) * scale;
        let mut pixels = vec![255u8; side * side];
        for y in 0..n {
            for x in 0..n {
                if self.dark(x, y) {
                    for dy in 0..scale {
                        let row = (y + quiet) * scale + dy;
                        let start = row * side + (x + quiet) * scale;
                        pixels[start..start + scale].fill(0);
                    }
                }
            }
        }
        (side, pixels)
    }
}

/// Reads the first QR code in a greyscale image (`pixel(x, y)`: 0 dark, 255 light).
pub fn read_greyscale(
    width: usize,
    height: usize,
    mut pixel: impl FnMut(usize, usize) -> u8,
) -> Result<String, QrError> {
    let mut image = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            image.push(pixel(x, y));
        }
    }
    let mut decoder = quircs::Quirc::default();
    let mut last_error = None;
    for code in decoder.identify(width, height, &image) {
        let decoded = code
            .map_err(|e| e.to_string())
            .and_then(|code| code.decode().map_err(|e| e.to_string()));
        match decoded {
            Ok(data) => {
                return String::from_utf8(data.payload)
                    .map_err(|_| QrError::Unreadable("it does not hold text".into()));
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.map_or(QrError::NotFound, QrError::Unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_and_reads_back() {
        let text = "AMANAT:TEST 123 $%*+-./:";
        let qr = Qr::new(text).unwrap();
        let (side, px) = qr.to_pixels(4);
        assert_eq!(read_greyscale(side, side, |x, y| px[y * side + x]).unwrap(), text);
        assert!(qr.to_svg().contains("<svg"));
        assert!(qr.to_terminal().contains('▀') || qr.to_terminal().contains('▄'));
    }

    #[test]
    fn the_largest_codes_read_back() {
        // A share link as long as version 40 at level M holds.
        let text: String = "AMANAT:"
            .chars()
            .chain("ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".chars().cycle().take(3350))
            .collect();
        let qr = Qr::new(&text).unwrap();
        assert_eq!(qr.version(), 40);
        let (side, px) = qr.to_pixels(3);
        assert_eq!(read_greyscale(side, side, |x, y| px[y * side + x]).unwrap(), text);
    }

    #[test]
    fn too_long_and_not_found() {
        let long = "A".repeat(5000);
        assert!(matches!(Qr::new(&long), Err(QrError::TooLong { .. })));
        assert_eq!(read_greyscale(50, 50, |_, _| 255).unwrap_err(), QrError::NotFound);
    }
}
