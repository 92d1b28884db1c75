//! The WASI a plugin gets: wasmtime's own WASI 0.2, with nothing behind it.
//!
//! Python (componentize-py) and JavaScript (componentize-js) runtimes, and
//! Rust's standard library, call WASI as they start even when a plugin needs
//! nothing from it. Refusing those imports would keep every non-Rust plugin
//! out; granting them as a command-line program would get them would hand out
//! the patient's files and network. So each call gets a `WasiCtx` that answers
//! and grants nothing:
//!
//! - no environment variables, no arguments, no preopened directories (every
//!   file operation fails with WASI's own error: there is no directory to
//!   open anything under), no current directory;
//! - sockets and name lookups refused (`access-denied`); the network stays the
//!   host's `http-fetch`, with its approved origins;
//! - stdin empty; stdout and stderr captured into the plugin log, at most
//!   [`OUTPUT_LIMIT`] bytes each per call, the rest counted and dropped;
//! - the wall clock and monotonic clock are real (a plugin may learn the time,
//!   as `host.now` already tells it), and random bytes are real (randomness is
//!   not authority; hash maps and Python need it).
//!
//! None of this is audited: it grants nothing. docs/plugins.md lists exactly
//! what a plugin can observe.

use std::sync::{Arc, Mutex};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, async_trait};

/// Bytes of stdout (and, apart, of stderr) one call may leave in the log.
pub const OUTPUT_LIMIT: usize = 16 * 1024;

/// A bounded capture of one output stream. Writes never fail: past the limit
/// the bytes are only counted, so a chatty plugin neither traps nor grows the
/// wallet's memory.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Output>>);

#[derive(Default)]
struct Output {
    kept: Vec<u8>,
    dropped: usize,
}

impl Captured {
    fn keep(&self, bytes: &[u8]) {
        let mut out = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let room = OUTPUT_LIMIT.saturating_sub(out.kept.len()).min(bytes.len());
        out.kept.extend_from_slice(&bytes[..room]);
        out.dropped += bytes.len() - room;
    }

    /// The captured text as lines, and a last line saying how much was dropped.
    pub fn lines(&self) -> Vec<String> {
        let out = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&out.kept);
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        if out.dropped > 0 {
            lines.push(format!("({} more bytes of output not kept)", out.dropped));
        }
        lines
    }

    /// The line that says what an uncaught error was, from stderr: Python's
    /// exception line (componentize-py then panics, in Rust, with a generic
    /// message), or the thrown value a JavaScript runtime reports (before its
    /// stack and abort notice).
    pub fn last_error(&self) -> Option<String> {
        let lines = self.lines();
        let end = lines
            .iter()
            .position(|l| l.starts_with("thread '"))
            .unwrap_or(lines.len());
        let noise = |l: &&String| {
            l.starts_with(char::is_whitespace)
                || ["note: ", "Stack:", "Redirecting call to abort()"]
                    .iter()
                    .any(|p| l.starts_with(p))
                || l.ends_with("of output not kept)")
        };
        let line = lines[..end].iter().rev().find(|l| !noise(l))?;
        // componentize-js: "invalid variant tag value `undefined` (received `TypeError: …`) …"
        let thrown = line
            .split_once("(received `")
            .and_then(|(_, rest)| rest.rsplit_once("`)"))
            .map(|(thrown, _)| thrown);
        Some(thrown.unwrap_or(line).trim().to_string())
    }
}

impl IsTerminal for Captured {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Captured {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[async_trait]
impl Pollable for Captured {
    async fn ready(&mut self) {}
}

impl OutputStream for Captured {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.keep(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for Captured {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.keep(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// One call's WASI: the context, its resources (streams, pollables), and
/// where stdout and stderr go.
///
/// The context is built when the plugin first calls WASI, not with the
/// call's `Store`: building one (random generators seeded, streams boxed)
/// costs about 0.4 µs, 4-5 % of a whole call of a Rust plugin, and most
/// calls of a Rust plugin never touch WASI.
#[derive(Default)]
pub struct Wasi {
    ctx: Option<WasiCtx>,
    table: ResourceTable,
    /// What the plugin wrote to stdout.
    pub stdout: Captured,
    /// What the plugin wrote to stderr.
    pub stderr: Captured,
}

impl Wasi {
    /// The context (built now if this is the call's first use) and its resources.
    pub fn view(&mut self) -> WasiCtxView<'_> {
        let (stdout, stderr) = (&self.stdout, &self.stderr);
        let ctx = self.ctx.get_or_insert_with(|| {
            let mut builder = WasiCtxBuilder::new();
            builder
                .stdout(stdout.clone())
                .stderr(stderr.clone())
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .socket_addr_check(|_, _| Box::pin(async { false }));
            builder.build()
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_is_built_at_first_use_and_writes_to_the_capture() {
        use wasmtime_wasi::cli::WasiCliCtxView;
        use wasmtime_wasi::p2::bindings::random::insecure_seed::Host as _;
        use wasmtime_wasi::p2::bindings::sync::cli::stdout::Host as _;
        use wasmtime_wasi::p2::bindings::sync::io::streams::HostOutputStream as _;

        let mut wasi = Wasi::default();
        assert!(wasi.ctx.is_none(), "built before any WASI call");
        // What a plugin's `get-stdout` and `write` reach.
        let view = wasi.view();
        let mut cli = WasiCliCtxView {
            ctx: view.ctx.cli(),
            table: view.table,
        };
        let stdout = cli.get_stdout().expect("stdout");
        cli.table
            .write(stdout, b"hello from the plugin\n".to_vec())
            .expect("the capture accepts writes");
        // Each context is seeded anew when built, so an unchanged seed shows
        // the first use's context was kept, not rebuilt.
        let seed = |wasi: &mut Wasi| wasi.view().ctx.random().insecure_seed().expect("seed");
        let first = seed(&mut wasi);
        assert_eq!(
            seed(&mut wasi),
            first,
            "the first use's context is kept, not rebuilt"
        );
        assert_ne!(
            seed(&mut Wasi::default()),
            first,
            "another call's context is its own"
        );
        assert_eq!(wasi.stdout.lines(), ["hello from the plugin"]);
        assert!(wasi.stderr.lines().is_empty());
    }

    #[test]
    fn output_past_the_limit_is_counted_not_kept() {
        let out = Captured::default();
        out.keep(b"first line\n");
        out.keep(&vec![b'x'; OUTPUT_LIMIT]);
        let lines = out.lines();
        assert_eq!(lines[0], "first line");
        assert_eq!(lines[1].len(), OUTPUT_LIMIT - "first line\n".len());
        assert_eq!(lines[2], "(11 more bytes of output not kept)");
    }

    #[test]
    fn the_error_line_is_the_exception_not_the_runtime_panic() {
        let out = Captured::default();
        out.keep(b"Traceback (most recent call last):\n  File \"/0/app.py\", line 87, in run\n");
        out.keep(
            b"ValueError: fails on purpose\nthread '<unnamed>' (1) panicked at runtime/src/lib.rs:1293:29:\n",
        );
        out.keep(b"Python function threw an unexpected exception\nnote: run with `RUST_BACKTRACE=1`\n");
        assert_eq!(out.last_error().as_deref(), Some("ValueError: fails on purpose"));
        let js = Captured::default();
        js.keep(b"invalid variant tag value `undefined` (received `TypeError: null has no properties`) specified for `PluginError`\n");
        js.keep(b"Stack:\n  export_run@/tmp/x/initializer.js:476:17\nRedirecting call to abort() to mozalloc_abort\n");
        assert_eq!(
            js.last_error().as_deref(),
            Some("TypeError: null has no properties")
        );
    }
}
