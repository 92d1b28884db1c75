//! Real Redis for the relay's tests: Debian's `redis-server` on free loopback
//! ports, one server and one 3-master Cluster shared by the whole suite, and
//! servers of a test's own where the test stops or fills them.
//!
//! Each server has a watchdog that stops it when the test process ends, so a
//! failed run leaves nothing listening.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A free loopback port (bound and released: the server takes it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn cli(port: u16, args: &[&str]) -> Result<String, String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .map_err(|e| format!("redis-cli: {e} (the README test command installs redis-tools)"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() && !text.starts_with("ERR") && !text.contains("Could not connect") {
        Ok(text)
    } else {
        Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// One `redis-server` process.
pub struct RedisServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its working directory (RDB and AOF files).
    pub dir: PathBuf,
    child: Option<Child>,
    extra: Vec<String>,
    _tmp: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// A server with no persistence.
    pub fn start() -> RedisServer {
        Self::start_with(&["--appendonly", "no"])
    }

    /// A server with an append-only file synced every second (what docs/relay.md recommends).
    pub fn start_aof() -> RedisServer {
        Self::start_with(&["--appendonly", "yes", "--appendfsync", "everysec"])
    }

    /// A server with these extra settings.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut server = RedisServer {
            port: free_port(),
            dir: tmp.path().to_path_buf(),
            child: None,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            _tmp: Some(tmp),
        };
        server.run();
        server
    }

    fn run(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--rdbcompression", "no", "--protected-mode", "yes"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server starts (the README test command installs redis-server)");
        watchdog(child.id());
        self.child = Some(child);
        wait_for(
            || cli(self.port, &["PING"]).is_ok_and(|r| r.contains("PONG")),
            "redis-server answering",
        );
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server as an operator would (SIGTERM: the AOF is written out).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    /// Runs a `redis-cli` command against it.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args).unwrap_or_else(|e| panic!("redis-cli {args:?}: {e}"))
    }

    /// Everything the server holds, as bytes on disk: it saves an
    /// uncompressed RDB snapshot, which is returned.
    pub fn snapshot(&self) -> Vec<u8> {
        self.cli(&["SAVE"]);
        std::fs::read(self.dir.join("dump.rdb")).expect("dump.rdb")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Redis Cluster of three masters on loopback.
pub struct RedisCluster {
    /// The masters.
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers and joins them (`redis-cli --cluster create`).
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--appendonly",
                    "no",
                ])
            })
            .collect();
        let mut args = vec!["--cluster".to_string(), "create".to_string()];
        args.extend(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        args.extend(["--cluster-replicas", "0", "--cluster-yes"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let created = cli(nodes[0].port, &args).expect("redis-cli --cluster create");
        assert!(created.contains("All 16384 slots covered"), "{created}");
        for n in &nodes {
            wait_for(
                || cli(n.port, &["CLUSTER", "INFO"]).is_ok_and(|i| i.contains("cluster_state:ok")),
                "the cluster's state ok",
            );
        }
        RedisCluster { nodes }
    }

    /// `redis+cluster://127.0.0.1:A,127.0.0.1:B,127.0.0.1:C`.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// Every node's snapshot.
    pub fn snapshots(&self) -> Vec<Vec<u8>> {
        self.nodes.iter().map(RedisServer::snapshot).collect()
    }
}

/// The suite's shared Redis server.
pub fn shared_redis() -> &'static RedisServer {
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(RedisServer::start)
}

/// The suite's shared Redis Cluster.
pub fn shared_cluster() -> &'static RedisCluster {
    static CLUSTER: OnceLock<RedisCluster> = OnceLock::new();
    CLUSTER.get_or_init(RedisCluster::start)
}

/// Stops `pid` when this test process ends, even if it panics or is killed:
/// a shared server's `Drop` never runs.
fn watchdog(pid: u32) {
    let me = std::process::id();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {me} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 1; done; kill {pid} 2>/dev/null"
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// Polls `ready` every 20 ms for up to 20 s.
#[track_caller]
pub fn wait_for(mut ready: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `dir`, read.
pub fn files_under(dir: &Path) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path())
            } else if let Ok(bytes) = std::fs::read(e.path()) {
                files.push(bytes)
            }
        }
    }
    files
}
