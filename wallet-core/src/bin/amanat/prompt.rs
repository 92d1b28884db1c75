//! Asking the user: passphrases (never echoed, never logged) and confirmations.

use std::io::{IsTerminal, Write};

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{Context, Result, bail};

/// Shortest new passphrase accepted.
const MIN_PASSPHRASE_CHARS: usize = 8;

pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn read_hidden(prompt: &str) -> Result<SecretString> {
    let text = rpassword::prompt_password(prompt).context("cannot read the passphrase from the terminal")?;
    Ok(SecretString::from(text))
}

fn from_env(var: &str) -> Option<SecretString> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

/// The passphrase of an existing wallet or file: from `env_var`, else asked once.
pub fn existing(env_var: &str, prompt: &str) -> Result<SecretString> {
    if let Some(p) = from_env(env_var) {
        return Ok(p);
    }
    if !interactive() {
        bail!("a passphrase is needed: set {env_var} or run in a terminal");
    }
    read_hidden(prompt)
}

/// A new passphrase: from `env_var`, else asked twice.
pub fn new(env_var: &str, what: &str) -> Result<SecretString> {
    let pass = match from_env(env_var) {
        Some(p) => p,
        None => {
            if !interactive() {
                bail!("a new passphrase is needed: set {env_var} or run in a terminal");
            }
            eprintln!("Choose a passphrase for {what}. It cannot be recovered if you forget it;");
            eprintln!("several unrelated words are strong and easy to remember.");
            let first = read_hidden("New passphrase: ")?;
            let second = read_hidden("Same passphrase again: ")?;
            if first.expose_secret() != second.expose_secret() {
                bail!("the two passphrases differ; nothing was changed");
            }
            first
        }
    };
    if pass.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS {
        bail!("a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters");
    }
    Ok(pass)
}

/// Asks a yes/no question; `false` unless the user types y or yes.
pub fn confirm(question: &str) -> Result<bool> {
    if !interactive() {
        bail!("not running in a terminal: pass --yes to confirm");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}
