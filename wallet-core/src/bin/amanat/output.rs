//! Printing: JSON for scripts, aligned text for people.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

/// Prints a value as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints rows with every column but the last padded to its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
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
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// Prints `label: value` lines aligned on the colon.
pub fn fields(pairs: &[(&str, String)]) -> Result<()> {
    let width = pairs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (k, v) in pairs {
        writeln!(out, "  {k}:{} {v}", " ".repeat(width - k.chars().count()))?;
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
