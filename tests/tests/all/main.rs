//! Amanat's end-to-end tests, in one binary: the real `amanat` CLI against real
//! wallets on disk.

mod audit;
mod cards;
mod cli_contract;
mod crash;
mod documents;
mod emergency;
mod import_export;
mod package;
mod plugin_languages;
mod plugins;
mod printing;
mod profiles;
mod provenance;
mod readings;
mod relay;
mod requests;
mod scan_share;
mod sharing;
mod shl;
mod vault_safety;
mod viewer;
mod web;
