//! Extism's call overhead for a plugin doing the same work as Amanat's
//! lab-import `metadata` call, under the same limits as Amanat's host (fuel
//! 5e9, 64 MiB memory, 10 s timeout, no WASI), printed beside the figures of
//! `amanat bench --only plugins --json` with their ratio.
//!
//! Usage: extism-compare EXTISM_PLUGIN.wasm AMANAT_BENCH.json

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};

/// The median of `n` timed runs of `f`.
fn median(n: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[n / 2])
}

/// Calls `metadata` and parses the JSON it returns, as Amanat's host lifts the
/// WIT record into Rust values.
fn call(plugin: &mut Plugin) -> Result<()> {
    let out: &[u8] = plugin.call("metadata", "")?;
    let value: serde_json::Value = serde_json::from_slice(out)?;
    anyhow::ensure!(value["name"] == "lab-import", "unexpected metadata: {value}");
    Ok(())
}

fn main() -> Result<()> {
    let usage = "usage: extism-compare EXTISM_PLUGIN.wasm AMANAT_BENCH.json";
    let mut args = std::env::args().skip(1);
    let (path, figures) = (args.next().context(usage)?, args.next().context(usage)?);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
    let amanat: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&figures).with_context(|| format!("reading {figures}"))?)?;
    let amanat_figure = |prefix: &str| {
        amanat
            .iter()
            .find(|f| f["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
            .and_then(|f| f["value"].as_f64())
            .with_context(|| format!("no '{prefix}' figure in Amanat's bench output"))
    };
    let builder = || {
        let manifest = Manifest::new([Wasm::data(bytes.clone())])
            .with_memory_max(64 * 1024 * 1024 / 65_536)
            .with_timeout(Duration::from_secs(10));
        PluginBuilder::new(manifest)
            .with_wasi(false)
            .with_fuel_limit(5_000_000_000)
            // A true first compile, as Amanat's figure is: no on-disk cache.
            .with_cache_disabled()
    };

    let compile = median(3, || CompiledPlugin::new(builder()).map(drop))?;
    let compiled = CompiledPlugin::new(builder())?;
    let fresh = median(201, || call(&mut Plugin::new_from_compiled(&compiled)?))?;
    let mut reused = Plugin::new_from_compiled(&compiled)?;
    let warm = median(2001, || call(&mut reused))?;

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let amanat_call = amanat_figure("lab-import: warm call")?;
    let amanat_compile = amanat_figure("lab-import: first compile")?;
    println!(
        "{:<62} {:>10} {:>10} {:>8}",
        "lab-import metadata, same limits (medians)", "Amanat", "Extism", "ratio"
    );
    let row = |what: &str, ours: f64, theirs: f64, unit: &str| {
        println!(
            "{what:<62} {ours:>7.1} {unit:<2} {theirs:>7.1} {unit:<2} {:>7.2}x",
            ours / theirs
        );
    };
    row(
        "first compile (Amanat: a component; Extism: a core module)",
        amanat_compile,
        compile.as_secs_f64() * 1e3,
        "ms",
    );
    row(
        "fresh instance + call (Amanat's every call)",
        amanat_call,
        us(fresh),
        "µs",
    );
    row(
        "Amanat fresh vs Extism reused instance",
        amanat_call,
        us(warm),
        "µs",
    );
    println!("(the Extism module is {} KB)", bytes.len() / 1024);
    Ok(())
}
