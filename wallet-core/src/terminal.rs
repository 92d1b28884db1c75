//! Text from outside (a share's patient name and record titles, a plugin's
//! publisher, description, messages and log lines, a manifest's origins, a
//! registry's names) made safe to print on a terminal.
//!
//! A terminal obeys control characters: `ESC[8m` hides what follows, `ESC[1A`
//! moves the cursor up to overwrite "VERIFIED" lines the wallet printed, an
//! OSC sequence retitles the window or plants a link, and Unicode bidi
//! overrides reorder what the reader sees. Each such character is shown as a
//! visible escape (`\u{1b}`) instead, so the text reads as what it is.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a character must not reach a terminal raw: C0 controls (ESC
/// among them), DEL, C1 controls, and the bidi embedding, override and
/// isolate controls (U+202A-U+202E, U+2066-U+2069).
fn dangerous(c: char) -> bool {
    c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c)
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| dangerous(c) && !(keep_newlines && c == '\n')) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if dangerous(c) && !(keep_newlines && c == '\n') {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of outside text: every control character escaped, newlines too
/// (a name must not forge a line of the wallet's own output).
pub fn safe(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Several lines of outside text (a plugin's message, an error): as [`safe`],
/// but line breaks stay.
pub fn safe_lines(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_and_bidi_overrides_become_visible() {
        assert_eq!(safe("Ayesha Siddiqui"), "Ayesha Siddiqui");
        assert!(
            matches!(safe("آیشہ صدیقی"), Cow::Borrowed(_)),
            "Urdu passes untouched"
        );
        assert_eq!(safe("Ayesha\u{1b}[8mhidden"), "Ayesha\\u{1b}[8mhidden");
        assert_eq!(safe("a\nb\tc\rd"), "a\\u{a}b\\u{9}c\\u{d}d");
        assert_eq!(safe_lines("a\nb\u{1b}[1A"), "a\nb\\u{1b}[1A");
        assert_eq!(safe("\u{9b}31m"), "\\u{9b}31m", "C1 CSI");
        assert_eq!(safe("\u{7f}"), "\\u{7f}");
        assert_eq!(safe("pay \u{202e}txt.exe"), "pay \\u{202e}txt.exe");
        assert_eq!(safe("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(
            safe("\u{1b}]8;;http://evil\u{7}link"),
            "\\u{1b}]8;;http://evil\\u{7}link"
        );
    }
}
