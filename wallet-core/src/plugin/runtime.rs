//! The plugin host: wasmtime with the component model, and nothing else.
//!
//! WASI 0.2 is linked with nothing behind it (see [`super::wasi`]): runtimes
//! that call it at start-up work, and a plugin that reaches for files, sockets
//! or the environment gets WASI's own error. Any other import is a trap.
//! Every call gets a fresh `Store` with a fuel budget, an epoch (wall-clock)
//! deadline driven by a ticker thread, and a memory cap; a trap becomes a
//! [`PluginError`] naming the plugin and the cause. Compiled code is cached in the
//! vault, sealed like everything else, so deserializing it (which trusts its
//! bytes) only ever sees bytes this wallet produced.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store, Trap,
};

use super::code_memory::{CodeMappings, Region};
use super::http::{self, HttpError};
use super::manifest::Permissions;
use super::wasi;
use super::{ActionInfo, Installed, PluginError};
use crate::audit::{Actor, Event};
use crate::clock::Clock;
use crate::ids::{ProfileId, RecordId};
use crate::vault::{Query, SealedCode, Vault};

/// The generated bindings, apart: the world's own `plugin-error` type would
/// otherwise shadow the wallet's [`PluginError`].
mod bindings {
    wasmtime::component::bindgen!({
        path: "../plugin-sdk/wit/v0.1.0",
        world: "plugin",
        imports: { default: trappable },
    });
}

use bindings::amanat::plugin::types::{self as wit, LogLevel};
use bindings::{Plugin, PluginPre};

/// How much a plugin call may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Fuel (roughly, WebAssembly instructions).
    pub fuel: u64,
    /// Wall-clock time for the call.
    pub deadline: Duration,
    /// Linear memory, bytes.
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 5_000_000_000,
            deadline: Duration::from_secs(10),
            memory: super::manifest::DEFAULT_MEMORY_MIB as usize * 1024 * 1024,
        }
    }
}

/// What `metadata()` may use. It runs at install, before the patient has
/// approved anything, and only returns a few strings, so it gets a small fixed
/// budget whatever the runtime's limits are: a plugin cannot make installing
/// it cost the full limits of an approved call.
pub const METADATA_LIMITS: Limits = Limits {
    fuel: 50_000_000,
    deadline: Duration::from_secs(1),
    memory: 64 * 1024 * 1024,
};

/// How often the epoch advances; the deadline is counted in these ticks.
const TICK: Duration = Duration::from_millis(10);

/// A loaded plugin: its checked, pre-linked component.
pub struct Loaded {
    installed: Installed,
    pre: PluginPre<State>,
}

impl Loaded {
    /// The installed record.
    pub fn installed(&self) -> &Installed {
        &self.installed
    }
}

/// The host: one engine, one ticker, a cache of pre-linked plugins.
pub struct Runtime {
    engine: Engine,
    limits: Limits,
    /// Whether `limits.memory` was chosen for this run (`--memory-limit`) and
    /// so overrides what each plugin's manifest asked for.
    fixed_memory: bool,
    stop: Arc<AtomicBool>,
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
    /// The memory code loaded from the vault runs from (the engine holds it too).
    code: Arc<CodeMappings>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Core instances, linear memories and tables one plugin call may create. A
/// Rust plugin uses 2-4 instances, 1-2 memories and 1-2 tables; bigger
/// runtimes a few more. wasmtime's defaults (10,000 each) would let one call
/// multiply the memory it is given.
const MAX_INSTANCES: usize = 64;
const MAX_MEMORIES: usize = 8;
const MAX_TABLES: usize = 16;
/// Elements a table may grow to.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Plugin calls that may run at once (the server runs a few; the CLI one).
/// Past this, a call fails to instantiate with wasmtime's "pool exhausted".
const CONCURRENT_CALLS: u32 = 16;

/// The pooling instance allocator: every call's instances, memories and
/// tables come from slots reserved once, and a memory slot is reset on reuse
/// (copy-on-write from the component's initial image) instead of mapped anew.
/// A fresh Store + instantiate + call of a Rust plugin costs a few
/// microseconds this way; the slots are sized by the per-call caps above, so
/// no call can get more from the pool than its limiter allows.
fn pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(CONCURRENT_CALLS)
        .total_core_instances(CONCURRENT_CALLS * MAX_INSTANCES as u32)
        .total_memories(CONCURRENT_CALLS * MAX_MEMORIES as u32)
        .total_tables(CONCURRENT_CALLS * MAX_TABLES as u32)
        .max_core_instances_per_component(MAX_INSTANCES as u32)
        .max_memories_per_component(MAX_MEMORIES as u32)
        .max_tables_per_component(MAX_TABLES as u32)
        .max_memory_size(super::manifest::MAX_MEMORY_MIB as usize * 1024 * 1024)
        .table_elements(MAX_TABLE_ELEMENTS)
        // Python's and JavaScript's runtimes have large instances (many
        // globals and functions): room for them, reserved, touched only as used.
        .max_core_instance_size(8 << 20)
        .max_component_instance_size(8 << 20)
        // A returned slot's pages are reset in place rather than given back
        // to the kernel, so the next call faults nothing in: only the pages
        // the call dirtied, found with Linux's PAGEMAP_SCAN (6.7+; else the
        // first pages are reset whether dirtied or not).
        .linear_memory_keep_resident(16 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(wasmtime::Enabled::Auto);
    pool
}

/// Caps the memory of a whole call (every linear memory of every core
/// instance together, not each one) and its tables, and remembers that the
/// cap was hit (so the error can say "memory" rather than a generic trap).
struct Limiter {
    memory: usize,
    /// Bytes of linear memory the Store holds now, over all its memories.
    used: usize,
    hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used.saturating_sub(current).saturating_add(desired);
        if total > self.memory {
            self.hit = true;
            return Err(wasmtime::Error::msg("memory limit reached"));
        }
        self.used = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Audit entries one call records one by one, and the text they may hold;
/// past either bound further host calls are only counted, and one entry sums
/// them up. A plugin calling the host in a loop for its whole time limit thus
/// adds at most this much to the wallet's memory and audit log.
pub const MAX_CALL_EVENTS: usize = 500;
/// See [`MAX_CALL_EVENTS`].
pub const MAX_CALL_EVENT_BYTES: usize = 128 * 1024;
/// Longest text a plugin chose (a type, an id, a URL) kept in one entry.
const MAX_ARG_CHARS: usize = 200;
/// Most bytes of proposed records one call may hold for the patient.
const MAX_PROPOSAL_BYTES: usize = 64 * 1024 * 1024;

/// Text a plugin chose, cut to [`MAX_ARG_CHARS`] for the audit log.
fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_ARG_CHARS) {
        Some((at, _)) => format!("{}… ({} bytes)", &text[..at], text.len()),
        None => text.to_string(),
    }
}

/// The audit entries of one call, bounded (see [`MAX_CALL_EVENTS`]).
#[derive(Default)]
struct CallEvents {
    kept: Vec<Event>,
    bytes: usize,
    unlogged: u64,
    unlogged_refused: u64,
}

impl CallEvents {
    fn push(&mut self, event: Event) {
        let size = match &event {
            Event::Denied { what, reason } => what.len() + reason.len(),
            Event::Note { text } => text.len(),
            Event::Read { record } => record.len(),
            _ => 64,
        };
        if self.kept.len() < MAX_CALL_EVENTS && self.bytes + size <= MAX_CALL_EVENT_BYTES {
            self.bytes += size;
            self.kept.push(event);
        } else {
            self.unlogged += 1;
            self.unlogged_refused += u64::from(matches!(event, Event::Denied { .. }));
        }
    }

    /// The entries, and one more for what was only counted.
    fn into_entries(mut self, plugin: &str) -> Vec<Event> {
        if self.unlogged > 0 {
            self.kept.push(Event::Note {
                text: format!(
                    "plugin {plugin} made {} more host calls than are logged one by one ({} of them refused)",
                    self.unlogged, self.unlogged_refused
                ),
            });
        }
        self.kept
    }
}

/// What a plugin call can reach: everything through here, checked.
struct State {
    allowed: Permissions,
    settings: std::collections::BTreeMap<String, String>,
    vault: Arc<Mutex<Vault>>,
    profile: ProfileId,
    limiter: Limiter,
    events: CallEvents,
    /// The key the plugin is signed with: what a record it proposes signed
    /// must be signed with (none for an unsigned plugin).
    publisher: Option<ed25519_dalek::VerifyingKey>,
    proposals: Vec<super::Proposal>,
    proposal_bytes: usize,
    logs: Vec<(String, String)>,
    http: Option<http::Client>,
    /// When the call's time runs out: host calls that wait (HTTP) stop then too.
    deadline: Instant,
    /// The vault's clock: what the plugin is told the time is.
    clock: Clock,
    /// The capability-less WASI, and what the plugin printed.
    wasi: wasi::Wasi,
}

impl wasmtime_wasi::WasiView for State {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        self.wasi.view()
    }
}

/// What a run produced. Proposed records are not saved yet.
pub struct RunOutcome {
    /// The plugin's message, and document if any.
    pub message: String,
    /// A file for the patient.
    pub document: Option<(String, String, Vec<u8>)>,
    /// Records to save if the patient confirms (a document's entries name
    /// its place in this list).
    pub proposals: Vec<super::Proposal>,
    /// The plugin's log lines (level, text).
    pub logs: Vec<(String, String)>,
}

impl State {
    /// A signed record's resources (the signed one first), verified with the
    /// plugin's publisher key; or the words of the refusal.
    fn publisher_signed(
        &mut self,
        text: &str,
    ) -> Result<(Vec<crate::fhir::Read>, Option<super::PublisherSigned>), String> {
        let opened = crate::provider::signed::open(text.as_bytes()).map_err(|e| e.to_string())?;
        let Some(publisher) = self.publisher else {
            return Err(self.deny(
                "propose a signed record".into(),
                "this plugin is not signed by a publisher, so no signature can be its publisher's",
            ));
        };
        opened.by_publisher(&publisher).map_err(|e| e.to_string())?;
        let bytes = opened.resource.to_bytes();
        let reads = crate::fhir::read_resources(&bytes).map_err(|e| format!("not valid FHIR: {e}"))?;
        if reads.first().is_none_or(|r| r.resource.to_bytes() != bytes) {
            return Err("a signed record holds one resource or one FHIR document, not a collection".into());
        }
        let signed = super::PublisherSigned {
            signed_at: opened.signed_at,
            key: opened.key_thumbprint(),
            signature: opened.detached,
        };
        Ok((reads, Some(signed)))
    }

    fn deny(&mut self, what: String, reason: &str) -> String {
        let what = clip(&what);
        self.events.push(Event::Denied {
            what: what.clone(),
            reason: reason.to_string(),
        });
        format!("denied: {what}: {reason}")
    }

    fn vault(&self) -> std::sync::MutexGuard<'_, Vault> {
        self.vault.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The log, with what the plugin printed to stdout (info) and stderr (warn).
    fn into_logs(self) -> Vec<(String, String)> {
        let mut logs = self.logs;
        for (level, stream) in [("info", &self.wasi.stdout), ("warn", &self.wasi.stderr)] {
            logs.extend(stream.lines().into_iter().map(|l| (level.to_string(), l)));
        }
        logs
    }
}

impl bindings::amanat::plugin::types::Host for State {}

impl bindings::amanat::plugin::host::Host for State {
    fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        if self.logs.len() < 1000 {
            self.logs
                .push((level.into(), message.chars().take(2000).collect()));
        }
        Ok(())
    }

    fn list_records(
        &mut self,
        resource_type: Option<String>,
    ) -> wasmtime::Result<Result<Vec<wit::RecordSummary>, String>> {
        let types: Vec<String> = match resource_type {
            Some(t) if self.allowed.read.contains(&t) => vec![t],
            Some(t) => {
                return Ok(Err(self.deny(
                    format!("list {t} records"),
                    "this plugin may not read that type",
                )));
            }
            None => self.allowed.read.clone(),
        };
        if types.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let query = Query {
            profile: Some(self.profile),
            types: types.clone(),
            ..Query::default()
        };
        let listed = self.vault().list(&query);
        let metas = match listed {
            Ok(m) => m,
            Err(e) => return Ok(Err(format!("the wallet could not list records: {e}"))),
        };
        // `types` also matches ABDM types; keep exact FHIR types only.
        let out: Vec<wit::RecordSummary> = metas
            .into_iter()
            .filter(|m| types.contains(&m.resource_type))
            .map(|m| wit::RecordSummary {
                id: m.id.to_string(),
                resource_type: m.resource_type,
                date: m.date,
                title: m.title,
            })
            .collect();
        self.events.push(Event::Note {
            text: format!("listed {} {} record(s)", out.len(), types.join("/")),
        });
        Ok(Ok(out))
    }

    fn read_record(&mut self, id: String) -> wasmtime::Result<Result<wit::FhirRecord, String>> {
        let Ok(rid) = id.parse::<RecordId>() else {
            return Ok(Err(format!("'{id}' is not a record id")));
        };
        let record = self.vault().get(rid);
        let record = match record {
            Ok(r) => r,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if record.meta.profile != self.profile {
            return Ok(Err(
                self.deny(format!("read record {id}"), "it belongs to another profile")
            ));
        }
        if !self.allowed.read.contains(&record.meta.resource_type) {
            let what = format!("read record {id} ({})", record.meta.resource_type);
            return Ok(Err(self.deny(what, "this plugin may not read that type")));
        }
        self.events.push(Event::Read { record: id.clone() });
        Ok(Ok(wit::FhirRecord {
            id,
            resource_type: record.meta.resource_type,
            json: String::from_utf8_lossy(&record.bytes).into_owned(),
        }))
    }

    fn propose_record(&mut self, json: String) -> wasmtime::Result<Result<(), String>> {
        // A record its publisher signed (`AMANAT-RECORD:`, a lab's system
        // signing its report) keeps that signature, once it verifies with
        // the key the plugin is signed with.
        let (parsed, signed) = if crate::provider::signed::is_signed_record(json.as_bytes()) {
            match self.publisher_signed(&json) {
                Ok(pair) => pair,
                Err(words) => return Ok(Err(words)),
            }
        } else {
            match crate::fhir::read_resources(json.as_bytes()) {
                Ok(items) => (items, None),
                Err(e) => return Ok(Err(format!("not valid FHIR: {e}"))),
            }
        };
        let base = self.proposals.len();
        let mut signed = signed;
        for mut read in parsed {
            let t = read.resource.resource_type().to_string();
            if !self.allowed.propose.contains(&t) {
                return Ok(Err(self.deny(
                    format!("propose a {t}"),
                    "this plugin may not propose that type",
                )));
            }
            if self.proposals.len() >= 10_000 || self.proposal_bytes + json.len() > MAX_PROPOSAL_BYTES {
                return Ok(Err("too many proposed records".into()));
            }
            self.proposal_bytes += json.len();
            read.document = read.document.map(|at| at + base);
            // The signature covers the first: the resource, or the document
            // whose entries follow it.
            self.proposals.push(super::Proposal {
                read,
                signed: signed.take(),
            });
        }
        Ok(Ok(()))
    }

    fn http_fetch(
        &mut self,
        request: wit::HttpRequest,
    ) -> wasmtime::Result<Result<wit::HttpResponse, String>> {
        if self.allowed.network.is_empty() {
            let what = format!("connect to {}", request.url);
            return Ok(Err(self.deny(what, "this plugin has no network permission")));
        }
        if self.http.is_none() {
            match http::Client::new() {
                Ok(c) => self.http = Some(c),
                Err(e) => return Ok(Err(e.to_string())),
            }
        }
        let req = http::Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let mut hops = Vec::new();
        let allowed = self.allowed.network.clone();
        let result = match &self.http {
            Some(client) => client.fetch(req, &allowed, self.deadline, |url, ok| hops.push((clip(url), ok))),
            None => Err(HttpError::Failed("no HTTP client".into())),
        };
        for (url, ok) in hops {
            if ok {
                self.events.push(Event::Note {
                    text: format!("network request to {url}"),
                });
            } else {
                self.events.push(Event::Denied {
                    what: format!("connect to {url}"),
                    reason: "origin not approved".into(),
                });
            }
        }
        Ok(result
            .map(|r| wit::HttpResponse {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(|e| e.to_string()))
    }

    fn now(&mut self) -> wasmtime::Result<i64> {
        Ok(self.clock.now())
    }

    fn setting(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.settings.get(&key).cloned())
    }
}

impl Runtime {
    /// An engine with fuel, epochs and the component model; a ticker thread.
    pub fn new(limits: Limits) -> Result<Runtime, PluginError> {
        let code = Arc::new(CodeMappings::default());
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool()))
            // Compiled code without tables nobody here reads (native unwind
            // info for outside profilers; wasm addresses for backtraces the
            // patient never sees): a third smaller, and faster to load.
            .native_unwind_info(false)
            .generate_address_map(false)
            .with_custom_code_memory(Some(code.clone()));
        let engine = Engine::new(&config).map_err(|e| PluginError::Load(e.to_string()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ticker_engine, ticker_stop) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("amanat-plugin-epoch".into())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    match ticker_engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| PluginError::Load(e.to_string()))?;
        Ok(Runtime {
            engine,
            limits,
            fixed_memory: false,
            stop,
            loaded: Mutex::new(HashMap::new()),
            code,
        })
    }

    /// A runtime whose memory cap applies to every plugin, whatever its
    /// manifest asked for (the patient chose it for this run).
    pub fn with_fixed_memory(limits: Limits) -> Result<Runtime, PluginError> {
        let mut runtime = Runtime::new(limits)?;
        runtime.fixed_memory = true;
        Ok(runtime)
    }

    /// The limits each call gets (memory: unless the plugin was approved more).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The limits of one plugin's calls: the runtime's, with the memory the
    /// patient approved for it at install (`allowed`: its effective permissions).
    fn limits_for(&self, allowed: &Permissions) -> Limits {
        match allowed.memory_mib {
            Some(_) if !self.fixed_memory => Limits {
                memory: allowed.memory_bytes(),
                ..self.limits
            },
            _ => self.limits,
        }
    }

    /// Compiles a component and checks it implements this interface version.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component, PluginError> {
        let component =
            Component::new(&self.engine, bytes).map_err(|e| PluginError::NotAComponent(format!("{e:#}")))?;
        self.check_interface(&component)?;
        Ok(component)
    }

    fn check_interface(&self, component: &Component) -> Result<(), PluginError> {
        let ty = component.component_type();
        for (name, _) in ty.imports(&self.engine) {
            if let Some(version) = name.strip_prefix("amanat:plugin/host@")
                && !super::manifest::compatible(version)
            {
                return Err(PluginError::Interface {
                    found: version.into(),
                    supported: super::manifest::INTERFACE_VERSION.into(),
                });
            }
        }
        Ok(())
    }

    fn link(&self, component: &Component) -> Result<PluginPre<State>, PluginError> {
        let mut linker: Linker<State> = Linker::new(&self.engine);
        Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| PluginError::Load(e.to_string()))?;
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| PluginError::Load(e.to_string()))?;
        self.stub_unoffered(&mut linker, component)
            .map_err(|e| PluginError::Load(e.to_string()))?;
        let pre = linker
            .instantiate_pre(component)
            .map_err(|e| PluginError::Load(format!("{e:#}")))?;
        PluginPre::new(pre).map_err(|e| PluginError::Interface {
            found: format!("an unknown version ({e:#})"),
            supported: super::manifest::INTERFACE_VERSION.into(),
        })
    }

    /// Defines every import that neither the plugin interface nor WASI 0.2
    /// provides (JavaScript runtimes import `wasi:http` for `fetch`) as a
    /// function that fails when called, naming it: such a plugin installs, and
    /// learns at the call that the network is the host's `http-fetch`.
    ///
    /// Not `Linker::define_unknown_imports_as_traps`: it defines the exact
    /// versioned name, so a component importing `wasi:cli/environment@0.2.9`
    /// would get the trap instead of WASI 0.2.12, which semver lookup finds.
    fn stub_unoffered(&self, linker: &mut Linker<State>, component: &Component) -> wasmtime::Result<()> {
        use wasmtime::component::types::ComponentItem;
        for (name, item) in component.component_type().imports(&self.engine) {
            let offered = name.starts_with("amanat:plugin/")
                || name.split_once('@').is_some_and(|(interface, version)| {
                    version.starts_with("0.2.")
                        && ["cli", "clocks", "filesystem", "io", "random", "sockets"]
                            .iter()
                            .any(|p| interface.starts_with(&format!("wasi:{p}/")))
                });
            let ComponentItem::ComponentInstance(instance) = item.ty else {
                continue;
            };
            if offered {
                continue;
            }
            let mut stubs = linker.instance(name)?;
            for (export, item) in instance.exports(&self.engine) {
                match item.ty {
                    ComponentItem::ComponentFunc(_) => {
                        let what = format!("{name}#{export}");
                        stubs.func_new(export, move |_, _, _, _| {
                            wasmtime::bail!("the plugin called {what}, which Amanat does not offer")
                        })?;
                    }
                    ComponentItem::Resource(_) => {
                        use wasmtime::component::ResourceType;
                        use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable};
                        // Resources such interfaces `use` from `wasi:io` must be
                        // WASI's own; their own resources are never made.
                        let ty = match export {
                            "input-stream" => ResourceType::host::<DynInputStream>(),
                            "output-stream" => ResourceType::host::<DynOutputStream>(),
                            "pollable" => ResourceType::host::<DynPollable>(),
                            "io-error" | "error" => ResourceType::host::<wasmtime_wasi::p2::IoError>(),
                            _ => ResourceType::host::<()>(),
                        };
                        stubs.resource(export, ty, |_, _| Ok(()))?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Serialized compiled code for the vault's cache.
    pub fn serialize(&self, component: &Component) -> Result<Vec<u8>, PluginError> {
        component
            .serialize()
            .map_err(|e| PluginError::Load(e.to_string()))
    }

    /// The cache key for a component: its hash and this engine's compatibility hash.
    pub fn cache_key(&self, sha256: &str) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        format!("{sha256}-{:016x}", h.finish())
    }

    /// Loads compiled code from the vault's cache: opened (authenticated and
    /// decrypted) straight into memory of [`CodeMappings`], which wasmtime then
    /// runs it from.
    ///
    /// # Safety argument
    /// `Component::deserialize_raw` trusts its input. The bytes come only from
    /// the vault's cache, where they were written by [`Runtime::serialize`] and
    /// sealed with the vault's key (AES-256-GCM, storage key as associated
    /// data); a changed byte fails authentication before this is reached. The
    /// memory is read-only from then on, and stays mapped until wasmtime has
    /// dropped everything that refers to it (see [`CodeMappings`]).
    #[allow(unsafe_code)]
    fn deserialize(&self, sealed: &SealedCode) -> Result<Component, PluginError> {
        let mut region = Region::new(sealed.opened_len())
            .map_err(|e| PluginError::Load(format!("cannot map memory for the compiled code: {e}")))?;
        sealed.open_into(&mut region)?;
        let code = self
            .code
            .adopt(region)
            .map_err(|e| PluginError::Load(format!("cannot protect the compiled code: {e}")))?;
        // SAFETY: see above: authenticated output of `Component::serialize` by
        // this engine, in memory nothing writes to and that outlives its use.
        unsafe { Component::deserialize_raw(&self.engine, code) }.map_err(|e| {
            self.code.retire(code.as_ptr().cast());
            PluginError::Load(e.to_string())
        })
    }

    /// A plugin ready to call: from this process's cache, the vault's compiled
    /// cache, or compiled now (and cached).
    pub fn load(&self, vault: &Arc<Mutex<Vault>>, installed: &Installed) -> Result<Arc<Loaded>, PluginError> {
        let name = &installed.manifest.name;
        if let Some(l) = self.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(name)
            && l.installed.sha256 == installed.sha256
        {
            return Ok(l.clone());
        }
        let key = self.cache_key(&installed.sha256);
        let cached = {
            let vault = vault.lock().unwrap_or_else(|p| p.into_inner());
            let sealed = vault.plugin_code(&installed.sha256, &key)?;
            sealed.map(|sealed| self.deserialize(&sealed)).transpose()?
        };
        let component = match cached {
            Some(component) => component,
            None => {
                let bytes = vault
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .plugin_component(&installed.sha256)?
                    .ok_or_else(|| PluginError::NotInstalled(name.clone()))?;
                let component = self.compile(&bytes)?;
                let code = self.serialize(&component)?;
                vault.lock().unwrap_or_else(|p| p.into_inner()).put_plugin_code(
                    &installed.sha256,
                    &key,
                    &code,
                )?;
                component
            }
        };
        let loaded = Arc::new(Loaded {
            installed: installed.clone(),
            pre: self.link(&component)?,
        });
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.clone(), loaded.clone());
        Ok(loaded)
    }

    /// Forgets a pre-linked plugin (after removal or reinstall).
    pub fn forget(&self, name: &str) {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).remove(name);
    }

    fn store(
        &self,
        limits: &Limits,
        allowed: Permissions,
        settings: std::collections::BTreeMap<String, String>,
        vault: Arc<Mutex<Vault>>,
        profile: ProfileId,
    ) -> Result<Store<State>, PluginError> {
        let clock = vault.lock().unwrap_or_else(|p| p.into_inner()).clock();
        let state = State {
            allowed,
            settings,
            vault,
            profile,
            limiter: Limiter {
                memory: limits.memory,
                used: 0,
                hit: false,
            },
            events: CallEvents::default(),
            publisher: None,
            proposals: Vec::new(),
            proposal_bytes: 0,
            logs: Vec::new(),
            http: None,
            deadline: Instant::now() + limits.deadline,
            clock,
            wasi: wasi::Wasi::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store
            .set_fuel(limits.fuel)
            .map_err(|e| PluginError::Load(e.to_string()))?;
        store.set_epoch_deadline((limits.deadline.as_millis() / TICK.as_millis()).max(1) as u64);
        store.epoch_deadline_trap();
        Ok(store)
    }

    /// Turns a trap into a plugin error naming the cause.
    fn trap(&self, limits: &Limits, plugin: &str, store: &Store<State>, err: wasmtime::Error) -> PluginError {
        let plugin = plugin.to_string();
        if store.data().limiter.hit {
            return PluginError::Memory {
                plugin,
                mib: limits.memory / (1024 * 1024),
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => PluginError::Fuel {
                plugin,
                fuel: limits.fuel,
            },
            Some(Trap::Interrupt) => PluginError::TimeLimit {
                plugin,
                seconds: limits.deadline.as_secs().max(1),
            },
            Some(trap) => {
                let panic = store
                    .data()
                    .logs
                    .iter()
                    .rev()
                    .find(|(l, m)| l == "error" && m.starts_with("panic"))
                    .map(|(_, m)| m.clone());
                // A Python or JavaScript runtime reports an uncaught error on stderr.
                let panic = panic.or_else(|| store.data().wasi.stderr.last_error());
                let detail = match (trap, panic) {
                    (_, Some(p)) => p,
                    (Trap::UnreachableCodeReached, None) => {
                        "it reached unreachable code (a panic or abort)".into()
                    }
                    (t, None) => format!("{t}"),
                };
                PluginError::Crashed { plugin, detail }
            }
            // The cause, without the wasm backtrace wasmtime attaches (function
            // numbers mean nothing to a patient).
            None => PluginError::Crashed {
                plugin,
                detail: err.root_cause().to_string(),
            },
        }
    }

    /// Asks the plugin for its metadata (name, version, actions), sandboxed like any call.
    pub fn metadata(
        &self,
        component: &Component,
        installed_name: &str,
        vault: Arc<Mutex<Vault>>,
        profile: ProfileId,
    ) -> Result<(String, String, Vec<ActionInfo>), PluginError> {
        self.metadata_with(&self.link(component)?, installed_name, vault, profile)
    }

    /// The cheapest complete call of a loaded plugin: a fresh `Store`, instantiation,
    /// and its `metadata` export. What the warm-call benchmark measures.
    pub fn call_metadata(
        &self,
        loaded: &Loaded,
        vault: Arc<Mutex<Vault>>,
        profile: ProfileId,
    ) -> Result<(String, String, Vec<ActionInfo>), PluginError> {
        self.metadata_with(&loaded.pre, &loaded.installed.manifest.name, vault, profile)
    }

    fn metadata_with(
        &self,
        pre: &PluginPre<State>,
        name: &str,
        vault: Arc<Mutex<Vault>>,
        profile: ProfileId,
    ) -> Result<(String, String, Vec<ActionInfo>), PluginError> {
        let mut store = self.store(
            &METADATA_LIMITS,
            Permissions::default(),
            Default::default(),
            vault,
            profile,
        )?;
        let result = pre
            .instantiate(&mut store)
            .and_then(|bindings| bindings.call_metadata(&mut store));
        let meta = result
            .map_err(|e| PluginError::Describe(Box::new(self.trap(&METADATA_LIMITS, name, &store, e))))?;
        let actions = meta
            .actions
            .into_iter()
            .map(|a| ActionInfo {
                name: a.name,
                description: a.description,
                takes_file: a.takes_file,
                takes_records: a.takes_records,
            })
            .collect();
        Ok((meta.name, meta.version, actions))
    }

    /// Runs an action for a profile. Records passed in must be readable by the
    /// plugin; every access and refusal is written to the audit log afterwards,
    /// whatever the outcome.
    pub fn run(
        &self,
        loaded: &Loaded,
        vault: Arc<Mutex<Vault>>,
        profile: ProfileId,
        action: &str,
        file: Option<(String, Vec<u8>)>,
        records: &[RecordId],
    ) -> Result<RunOutcome, PluginError> {
        let installed = &loaded.installed;
        let name = installed.manifest.name.clone();
        let allowed = installed.effective();
        let limits = self.limits_for(&allowed);
        let mut store = self.store(
            &limits,
            allowed,
            installed.manifest.settings.clone(),
            vault.clone(),
            profile,
        )?;
        store.data_mut().publisher = installed.publisher_key();
        let mut input_records = Vec::new();
        let mut refused = None;
        for id in records {
            use bindings::amanat::plugin::host::Host;
            match store.data_mut().read_record(id.to_string()) {
                Ok(Ok(r)) => input_records.push(r),
                Ok(Err(reason)) => {
                    refused = Some(reason);
                    break;
                }
                Err(e) => refused = Some(e.to_string()),
            }
        }
        let result = match refused {
            Some(reason) => Err(PluginError::Usage(format!(
                "plugin {name} cannot be given that record: {reason}"
            ))),
            None => {
                let (file_name, file) = match file {
                    Some((n, b)) => (Some(n), Some(b)),
                    None => (None, None),
                };
                let input = wit::ActionInput {
                    file,
                    file_name,
                    records: input_records,
                };
                let call = loaded
                    .pre
                    .instantiate(&mut store)
                    .and_then(|bindings| bindings.call_run(&mut store, action, &input));
                match call {
                    Err(e) => Err(self.trap(&limits, &name, &store, e)),
                    Ok(Err(e)) => {
                        let message = match e {
                            wit::PluginError::InvalidInput(m) => format!("invalid input: {m}"),
                            wit::PluginError::Denied(m) => format!("refused by the wallet: {m}"),
                            wit::PluginError::Failed(m) => m,
                        };
                        Err(PluginError::Failed {
                            plugin: name.clone(),
                            message,
                        })
                    }
                    Ok(Ok(output)) => Ok(output),
                }
            }
        };
        let mut state = store.into_data();
        let outcome = match &result {
            Ok(_) => "completed".to_string(),
            Err(e) => e.to_string(),
        };
        let mut events: Vec<(Actor, Event)> = std::mem::take(&mut state.events)
            .into_entries(&name)
            .into_iter()
            .map(|e| (Actor::Plugin { name: name.clone() }, e))
            .collect();
        events.push((
            Actor::Patient,
            Event::PluginRan {
                plugin: name.clone(),
                action: action.to_string(),
                outcome,
            },
        ));
        vault
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .audit_many(events)?;
        let output = result?;
        Ok(RunOutcome {
            message: output.message,
            document: output.document.map(|d| (d.name, d.media_type, d.bytes)),
            proposals: std::mem::take(&mut state.proposals),
            logs: state.into_logs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ProfileDraft, Relationship};
    use crate::vault::{CreateOptions, MIN_KDF_LOG_N};

    fn vault(dir: &std::path::Path) -> (Arc<Mutex<Vault>>, ProfileId) {
        let owner = ProfileDraft {
            name: "Ayesha Siddiqui".into(),
            ..Default::default()
        }
        .build("2026-01-01", Relationship::Owner)
        .unwrap();
        let profile = owner.id;
        let options = CreateOptions {
            kdf_log_n: MIN_KDF_LOG_N,
            owner,
            clock: Clock::System,
        };
        let v = Vault::create(dir, &secrecy::SecretString::from("pw".to_string()), options).unwrap();
        (Arc::new(Mutex::new(v)), profile)
    }

    /// Instantiates a component in a plugin call's Store (the real limiter).
    fn instantiate(wat: &str, limits: Limits) -> Result<(), String> {
        let tmp = tempfile::tempdir().unwrap();
        let (vault, profile) = vault(&tmp.path().join("v"));
        let runtime = Runtime::new(limits).unwrap();
        // The pool refuses a component needing more than a call may have
        // already when it is compiled (at install), before any Store.
        let component =
            Component::new(&runtime.engine, wat::parse_str(wat).unwrap()).map_err(|e| format!("{e:#}"))?;
        let mut store = runtime
            .store(
                &limits,
                Permissions::default(),
                Default::default(),
                vault,
                profile,
            )
            .unwrap();
        let linker: Linker<State> = Linker::new(&runtime.engine);
        let verdict = linker.instantiate(&mut store, &component).map(|_| ());
        verdict.map_err(|e| {
            if store.data().limiter.hit {
                "memory limit".to_string()
            } else {
                format!("{e:#}")
            }
        })
    }

    const MIB_PAGES: usize = 16; // 64 KiB pages in a MiB

    fn with_memories(count: usize, mib_each: usize) -> String {
        let instances: String = (0..count)
            .map(|i| format!("(core instance $i{i} (instantiate $m))"))
            .collect();
        format!(
            "(component (core module $m (memory {})) {instances})",
            mib_each * MIB_PAGES
        )
    }

    #[test]
    fn the_memory_cap_is_for_all_memories_of_a_call_together() {
        let limits = Limits {
            memory: 64 * 1024 * 1024,
            ..Limits::default()
        };
        // One memory under the cap is fine; four of 40 MiB each (160 MiB in
        // all) used to pass, each on its own under 64 MiB.
        assert_eq!(instantiate(&with_memories(1, 40), limits), Ok(()));
        assert_eq!(
            instantiate(&with_memories(4, 40), limits),
            Err("memory limit".into())
        );
        assert_eq!(instantiate(&with_memories(6, 10), limits), Ok(()));
    }

    #[test]
    fn instances_memories_and_tables_are_few() {
        let limits = Limits::default();
        let many = with_memories(MAX_MEMORIES + 1, 0);
        let err = instantiate(&many, limits).unwrap_err();
        assert!(err.contains("memory count") || err.contains("memories"), "{err}");
        let instances: String = (0..=MAX_INSTANCES)
            .map(|i| format!("(core instance $i{i} (instantiate $m))"))
            .collect();
        let err = instantiate(&format!("(component (core module $m) {instances})"), limits).unwrap_err();
        assert!(err.contains("instance"), "{err}");
    }

    /// Code loaded from the vault's cache runs from memory mapped for it, and
    /// that memory is unmapped once wasmtime is done with the code (here a
    /// reload after each call, as after reinstalls in the web wallet's server),
    /// not kept for the life of the process.
    #[test]
    fn cached_code_runs_from_its_own_memory_and_gives_it_back() {
        let tmp = tempfile::tempdir().unwrap();
        let (vault, profile) = vault(&tmp.path().join("v"));
        let runtime = Runtime::new(Limits::default()).unwrap();
        let wat = r#"(component
            (core module $m (memory 1) (data (i32.const 0) "amanat")
                (func (export "start") (result i32) (i32.load8_u (i32.const 1))))
            (core instance $i (instantiate $m))
            (func (export "start") (result u32) (canon lift (core func $i "start"))))"#;
        let compiled = runtime.compile(&wat::parse_str(wat).unwrap()).unwrap();
        let code = runtime.serialize(&compiled).unwrap();
        drop(compiled);
        vault
            .lock()
            .unwrap()
            .put_plugin_code("c0de", "engine", &code)
            .unwrap();
        let mut most = 0;
        for _ in 0..40 {
            let component = {
                let v = vault.lock().unwrap();
                runtime
                    .deserialize(&v.plugin_code("c0de", "engine").unwrap().unwrap())
                    .unwrap()
            };
            let mut store = runtime
                .store(
                    &runtime.limits(),
                    Permissions::default(),
                    Default::default(),
                    vault.clone(),
                    profile,
                )
                .unwrap();
            let instance = Linker::new(&runtime.engine)
                .instantiate(&mut store, &component)
                .unwrap();
            let start = instance
                .get_typed_func::<(), (u32,)>(&mut store, "start")
                .unwrap();
            // The data segment's second byte, 'm': the code and its data came through.
            assert_eq!(start.call(&mut store, ()).unwrap(), (u32::from(b'm'),));
            drop(store);
            drop(component);
            most = most.max(runtime.code.held());
        }
        // The code in use, and at most one region retired but not yet unmapped
        // (an idle pool slot may keep the last module's memory image, and so
        // its code, until the slot is used again): not one per load.
        assert!(most <= 2, "{most} regions held after 40 loads");
    }
}
