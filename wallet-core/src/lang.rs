//! The languages Amanat speaks: English, Urdu (right to left) and Hindi.
//!
//! The web wallet's interface text lives beside its views; what the library
//! itself words for people in more than one language (the audit log) takes a
//! [`Lang`] from here.

use serde::{Deserialize, Serialize};

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Urdu (written right to left).
    Ur,
    /// Hindi.
    Hi,
}

impl Lang {
    /// BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ur => "ur",
            Lang::Hi => "hi",
        }
    }

    /// Whether text runs right to left.
    pub fn rtl(self) -> bool {
        self == Lang::Ur
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        self.pick("English", "اردو", "हिन्दी")
    }

    /// Of one text's three translations, the one in this language.
    pub fn pick<'a>(self, en: &'a str, ur: &'a str, hi: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ur => ur,
            Lang::Hi => hi,
        }
    }

    /// From a code.
    pub fn from_code(code: &str) -> Lang {
        match code {
            "ur" => Lang::Ur,
            "hi" => Lang::Hi,
            _ => Lang::En,
        }
    }
}
