//! `amanat issuers`: the SMART Health Card issuers the wallet trusts.

use anyhow::{Context, Result};
use wallet_core::shc::Issuer;

use crate::cli::IssuersCommand;
use crate::{Ctx, output};

pub fn issuers(ctx: &Ctx, cmd: IssuersCommand) -> Result<()> {
    match cmd {
        IssuersCommand::Trust { file, iss, name } => {
            let jwks = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let issuer = Issuer::from_jwks(&iss, name, &jwks)?;
            let mut vault = ctx.open()?;
            vault.trust_issuer(&issuer)?;
            println!(
                "Trusted {} ({} key(s)): its SMART Health Cards now import, each record saying it issued them.",
                output::safe(&issuer.label()),
                issuer.keys.len()
            );
            Ok(())
        }
        IssuersCommand::List(a) => {
            let list = ctx.open()?.issuers()?;
            if a.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|i| {
                    vec![
                        i.iss.clone(),
                        i.name.clone().unwrap_or_default(),
                        i.keys
                            .iter()
                            .map(|k| k.kid.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                })
                .collect();
            output::table_or(
                "You trust no issuer yet (amanat issuers trust JWKS --iss URL).",
                &["ISSUER", "NAME", "KEYS"],
                &rows,
            )
        }
        IssuersCommand::Remove { iss } => {
            let removed = ctx.open()?.remove_issuer(&iss)?;
            println!(
                "No longer trusting {}; the records it issued stay.",
                output::safe(&removed.label())
            );
            Ok(())
        }
    }
}
