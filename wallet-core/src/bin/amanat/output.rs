//! Printing: JSON for scripts, aligned text for people.

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;
pub use wallet_core::terminal::{safe, safe_lines};

/// Prints a value as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints rows with every column but the last padded to its widest cell.
/// Cells may come from outside: control characters are shown escaped.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let cols = header.len();
    let rows: Vec<Vec<_>> = rows
        .iter()
        .map(|row| row.iter().map(|c| safe(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(cols.saturating_sub(1)) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < cols {
                s.push_str(cell);
                s.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            } else {
                s.push_str(cell);
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(|c| c.as_ref()).collect()))?;
    }
    Ok(())
}

/// [`table`], or the sentence `empty` when there are no rows.
pub fn table_or(empty: &str, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    if rows.is_empty() {
        println!("{empty}");
        return Ok(());
    }
    table(header, rows)
}

/// Prints `label: value` lines aligned on the colon. Values may come from
/// outside (a plugin's publisher): control characters are shown escaped.
pub fn fields(pairs: &[(&str, String)]) -> Result<()> {
    let width = pairs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (k, v) in pairs {
        writeln!(out, "  {k}:{} {}", " ".repeat(width - k.chars().count()), safe(v))?;
    }
    Ok(())
}

/// Bytes for people: `1.2 MB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / (1 << 10) as f64),
        b => format!("{b} bytes"),
    }
}

/// A Unix time as `YYYY-MM-DD hh:mm UTC`.
pub fn time(seconds: i64) -> String {
    let t = wallet_core::fhir::date::FhirDateTime::from_unix(seconds);
    let s = t.as_str();
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// Creates a directory for health data saved outside the wallet: mode 0700
/// when it is new (an existing directory is the user's, and keeps its mode).
pub fn private_dir(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))
}

/// Writes health data outside the wallet readable by its owner only (0600,
/// whatever the umask), replacing the file if it exists.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let write = || -> std::io::Result<()> {
        let mut file = options.open(path)?;
        // An existing file keeps its old mode through open(): narrow it too.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        file.write_all(bytes)
    };
    write().map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Writes a QR code as a PNG image (8 pixels a module).
pub fn write_png(qr: &wallet_core::qr::Qr, path: &std::path::Path) -> Result<()> {
    let (side, pixels) = qr.to_pixels(8);
    let img = image::GrayImage::from_raw(side as u32, side as u32, pixels)
        .ok_or_else(|| anyhow::anyhow!("QR image size"))?;
    img.save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Draws a QR code in the terminal, when there is one.
pub fn show_qr(qr: &wallet_core::qr::Qr) {
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        println!("{}", qr.to_terminal());
    }
}

/// What a command scans: the QR code in `qr_image`, else `text` (`-`: read
/// from standard input); `what` says what to give when neither is.
pub fn scanned(text: Option<&str>, qr_image: Option<&std::path::Path>, what: &str) -> Result<String> {
    match (qr_image, text) {
        (Some(path), _) => qr_in_image(path),
        (None, Some("-")) => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
            Ok(text)
        }
        (None, Some(text)) => Ok(text.to_string()),
        (None, None) => anyhow::bail!("give {what} or --qr-image FILE"),
    }
}

/// The text of the QR code in an image file (a photo or a screenshot).
pub fn qr_in_image(path: &std::path::Path) -> Result<String> {
    let img = image::open(path)
        .with_context(|| format!("cannot read the image {}", path.display()))?
        .to_luma8();
    let (w, h) = img.dimensions();
    Ok(wallet_core::qr::read_greyscale(
        w as usize,
        h as usize,
        |x, y| img.get_pixel(x as u32, y as u32)[0],
    )?)
}
