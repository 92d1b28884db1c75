//! Amanat's end-to-end tests, in one binary: the real `amanat` CLI against real
//! wallets on disk.

mod audit;
mod crash;
mod import_export;
mod plugins;
mod profiles;
mod sharing;
mod vault_safety;
mod web;
