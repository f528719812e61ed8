//! Harness for emr-chain's end-to-end tests.
//!
//! The tests under `tests/tests/` start the release `emr-node` binary as real processes, talk to
//! them over JSON-RPC (HTTP), and stop them again. Every wait has a deadline; when one passes,
//! the error carries the tail of the node's log.
//!
//! No port is chosen by the harness: a process is told to listen on port 0, so the kernel gives
//! it a port that it holds from the moment it binds, and the harness reads the port from the
//! process's own log (a port that the harness bound, released and handed on could be taken by
//! another test's connection in between). Before a node counts as ready, its RPC server must
//! answer with the peer id that the node's own log printed, so an answer from another process
//! is never taken for this node's.
//!
//! The binary is found next to the test executable (`<target>/release/emr-node` when the
//! tests run with `cargo test --release`), or at `$EMR_NODE_BIN`.

pub mod cli;
pub mod devnet;
pub mod l1;

use serde_json::{json, Value};
use std::{
	fmt,
	fs::{self, File},
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
	sync::atomic::{AtomicU32, Ordering},
	thread,
	time::{Duration, Instant},
};

/// Errors of the harness; each says what was being attempted.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&self.0)
	}
}

impl std::error::Error for Error {}

/// Result alias of the harness.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T> {
	Err(Error(msg.into()))
}

/// The repository root (parent of this crate).
pub fn repo_root() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The metadata version the client's types are generated from (`client/metadata/emr.scale`).
pub const CLIENT_METADATA_VERSION: u32 = 15;

/// Where the client's generated types come from: the runtime's metadata, committed.
pub fn client_metadata_path() -> PathBuf {
	repo_root().join("client/metadata/emr.scale")
}

/// The runtime's metadata at [`CLIENT_METADATA_VERSION`], SCALE-encoded
/// (`RuntimeMetadataPrefixed`), as the runtime API `Metadata_metadata_at_version` returns it.
pub fn runtime_metadata() -> Vec<u8> {
	let metadata = emr_runtime::Runtime::metadata_at_version(CLIENT_METADATA_VERSION)
		.expect("the runtime serves its metadata at the client's version");
	metadata.to_vec()
}

/// Path of the `emr-node` binary under test.
pub fn node_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("EMR_NODE_BIN") {
		return PathBuf::from(path);
	}
	// <target>/release/deps/<test-binary> -> <target>/release/emr-node
	let exe = std::env::current_exe().unwrap_or_default();
	exe.parent()
		.and_then(Path::parent)
		.map(|dir| dir.join("emr-node"))
		.unwrap_or_else(|| PathBuf::from("emr-node"))
}

/// A loopback address where nothing listens, for tests of an unreachable endpoint: port 9
/// (discard) of `127.0.0.1`, a privileged port that no test process can bind, so no other test
/// can be answering there.
pub const CLOSED_ADDRESS: &str = "127.0.0.1:9";

/// A loopback address of this process alone (`127.x.y.z`, from the process id and `instance`,
/// never `127.0.0.1`), for a server that must come back on the same address after a restart:
/// outgoing connections on this machine take their source ports on `127.0.0.1`, so while the
/// server is down no other test can take its port on this address.
pub fn private_loopback(instance: u8) -> Result<std::net::Ipv4Addr> {
	let pid = std::process::id();
	// Linux process ids are below 2^22: 6 bits of the second octet, then two octets.
	if pid >= 1 << 22 || instance >= 2 {
		return err(format!("no private loopback address for process {pid}, instance {instance}"));
	}
	let second = 128 | (instance << 6) | (pid >> 16) as u8;
	Ok(std::net::Ipv4Addr::new(127, second, (pid >> 8) as u8, pid as u8))
}

/// Waits until a line of the file `log` (only its part after byte `from`) yields `Some` through
/// `find`, for at most `timeout`; `running` is asked between looks and stops the wait with an
/// error when it answers `false`. `what` names the awaited line in errors.
pub(crate) fn wait_log_line<T>(
	log: &Path,
	from: u64,
	what: &str,
	timeout: Duration,
	mut running: impl FnMut() -> bool,
	mut find: impl FnMut(&str) -> Option<T>,
) -> Result<T> {
	let deadline = Instant::now() + timeout;
	loop {
		let text = log_after(log, from);
		if let Some(found) = text.lines().find_map(&mut find) {
			return Ok(found);
		}
		let tail = || last_lines(&text, 40);
		if !running() {
			return err(format!(
				"the process exited before its log showed {what}; log tail:\n{}",
				tail()
			));
		}
		if Instant::now() >= deadline {
			return err(format!(
				"the log showed no {what} within {timeout:?}; log tail:\n{}",
				tail()
			));
		}
		thread::sleep(Duration::from_millis(100));
	}
}

/// The part of the file `log` after byte `from` (what the current run of a process wrote to
/// a log that its earlier runs also wrote to), or nothing if it cannot be read.
pub(crate) fn log_after(log: &Path, from: u64) -> String {
	let bytes = fs::read(log).unwrap_or_default();
	let from = (from as usize).min(bytes.len());
	String::from_utf8_lossy(&bytes[from..]).into_owned()
}

/// The last `n` lines of `text`, joined by newlines (a log's tail for an error message).
pub(crate) fn last_lines(text: &str, n: usize) -> String {
	let all: Vec<&str> = text.lines().collect();
	all[all.len().saturating_sub(n)..].join("\n")
}

/// The length of the file at `path`, 0 if there is none.
pub(crate) fn file_len(path: &Path) -> u64 {
	fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The port of the first `127.0.0.1:PORT` in `text` after `marker` (e.g. a listening line).
pub(crate) fn loopback_port_after(text: &str, marker: &str) -> Option<u16> {
	let rest = &text[text.find(marker)? + marker.len()..];
	let rest = &rest[rest.find("127.0.0.1:")? + "127.0.0.1:".len()..];
	let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
	digits.parse().ok()
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
	/// Creates a fresh directory whose name starts with `prefix`.
	pub fn new(prefix: &str) -> Result<Self> {
		static COUNTER: AtomicU32 = AtomicU32::new(0);
		let n = COUNTER.fetch_add(1, Ordering::SeqCst);
		let path =
			std::env::temp_dir().join(format!("emr-tests-{prefix}-{}-{n}", std::process::id()));
		let _ = fs::remove_dir_all(&path);
		fs::create_dir_all(&path)
			.map_err(|e| Error(format!("cannot create {}: {e}", path.display())))?;
		Ok(TempDir(path))
	}

	/// The directory's path.
	pub fn path(&self) -> &Path {
		&self.0
	}
}

impl Drop for TempDir {
	/// Removes the directory, unless `EMR_TESTS_KEEP` is set or the test is failing on a panic
	/// (a plain `assert!`): then its logs and databases are kept, and their place said.
	fn drop(&mut self) {
		if thread::panicking() {
			eprintln!("the test failed: its files are kept in {}", self.0.display());
			return;
		}
		if std::env::var_os("EMR_TESTS_KEEP").is_none() {
			let _ = fs::remove_dir_all(&self.0);
		}
	}
}

/// How many lines of a process's log a failing test prints when it drops the process.
const FAILURE_LOG_LINES: usize = 80;

/// Prints the last [`FAILURE_LOG_LINES`] lines of `log` (the log of `who`) when the current
/// thread is panicking: an `assert!` failure then shows what the process said, as the harness's
/// own errors do.
fn print_log_on_panic(who: &str, log: &Path) {
	if thread::panicking() {
		let tail = last_lines(&fs::read_to_string(log).unwrap_or_default(), FAILURE_LOG_LINES);
		eprintln!(
			"--- the last {FAILURE_LOG_LINES} lines of {who}'s log ({}) ---\n{tail}\n---",
			log.display()
		);
	}
}

/// Runs `emr-node` with `args` to completion (for sub-commands such as `build-spec`).
pub fn run_node_command(args: &[&str]) -> Result<Output> {
	Command::new(node_binary())
		.args(args)
		.stdin(Stdio::null())
		.output()
		.map_err(|e| Error(format!("cannot run {}: {e}", node_binary().display())))
}

/// How a node is started.
#[derive(Clone, Debug)]
pub struct NodeConfig {
	/// Name shown in logs and telemetry.
	pub name: String,
	/// `--chain` value, or `None` with `dev = true`.
	pub chain: Option<String>,
	/// Start with `--dev` (implies `--alice --validator --tmp`-like behaviour of Substrate).
	pub dev: bool,
	/// Run as a validator (needs keys in the keystore).
	pub validator: bool,
	/// Database and keystore directory (`--base-path`).
	pub base_path: PathBuf,
	/// libp2p listen port; 0 (the default): the node binds one of the kernel's choice, which
	/// [`Node::p2p_port`] reads back.
	pub p2p_port: u16,
	/// JSON-RPC port (HTTP and WebSocket); 0 (the default): chosen by the kernel, read back by
	/// [`Node::rpc_port`] from the node's log.
	pub rpc_port: u16,
	/// Prometheus port; 0 (the default): chosen by the kernel, read back by
	/// [`Node::prometheus_port`] from the node's log.
	pub prometheus_port: u16,
	/// 32-byte ed25519 secret of the libp2p identity, hex without `0x` (fixes the peer id).
	pub node_key: Option<String>,
	/// `--bootnodes` multiaddresses.
	pub bootnodes: Vec<String>,
	/// Further arguments (e.g. `--prover --prover-keys DIR`).
	pub extra: Vec<String>,
}

impl NodeConfig {
	/// A configuration whose ports the node chooses (port 0), with its data under `base_path`.
	pub fn new(name: &str, base_path: &Path) -> Result<Self> {
		Ok(NodeConfig {
			name: name.to_string(),
			chain: None,
			dev: false,
			validator: false,
			base_path: base_path.to_path_buf(),
			p2p_port: 0,
			rpc_port: 0,
			prometheus_port: 0,
			node_key: None,
			bootnodes: Vec::new(),
			extra: Vec::new(),
		})
	}

	fn args(&self) -> Vec<String> {
		let mut args = vec![
			"--name".to_string(),
			self.name.clone(),
			"--base-path".into(),
			self.base_path.display().to_string(),
			"--rpc-port".into(),
			self.rpc_port.to_string(),
			"--prometheus-port".into(),
			self.prometheus_port.to_string(),
			"--listen-addr".into(),
			format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port),
			"--no-mdns".into(),
			"--no-telemetry".into(),
			"--rpc-methods".into(),
			"unsafe".into(),
		];
		if self.dev {
			args.push("--dev".into());
		}
		if let Some(chain) = &self.chain {
			args.push("--chain".into());
			args.push(chain.clone());
		}
		if self.validator {
			args.push("--validator".into());
		}
		if let Some(key) = &self.node_key {
			args.push("--node-key".into());
			args.push(key.clone());
		}
		for bootnode in &self.bootnodes {
			args.push("--bootnodes".into());
			args.push(bootnode.clone());
		}
		args.extend(self.extra.iter().cloned());
		args
	}
}

/// Starts `program` with `args` and `env`, stdin closed, stdout and stderr appended to `log`.
pub(crate) fn spawn_logged(
	program: &Path,
	args: &[String],
	env: &[(&str, &str)],
	log: &Path,
) -> Result<Child> {
	let out = File::options()
		.create(true)
		.append(true)
		.open(log)
		.map_err(|e| Error(format!("cannot open {}: {e}", log.display())))?;
	let err_out =
		out.try_clone().map_err(|e| Error(format!("cannot duplicate log handle: {e}")))?;
	Command::new(program)
		.args(args)
		.envs(env.iter().copied())
		.stdin(Stdio::null())
		.stdout(out)
		.stderr(err_out)
		.spawn()
		.map_err(|e| Error(format!("cannot start {}: {e}", program.display())))
}

/// What a running node told its log about itself: where it listens and who it is.
#[derive(Clone, Debug, Default)]
struct Listening {
	peer_id: String,
	rpc: u16,
	prometheus: u16,
	p2p: u16,
}

/// A running `emr-node` process; it is killed when dropped.
pub struct Node {
	/// How it was started (restart uses the same).
	pub config: NodeConfig,
	child: Option<Child>,
	log_path: PathBuf,
	listening: Listening,
}

/// How long a starting node may take until its RPC server listens (a loaded two-core machine
/// opens a database and builds the genesis in seconds, but three test binaries start together).
const NODE_START: Duration = Duration::from_secs(120);

impl Node {
	/// Starts a node and waits until it listens: its peer id, RPC and Prometheus ports are read
	/// from its log, its libp2p port from `system_localListenAddresses`. Its stdout and stderr
	/// go to `<base_path>/../<name>.log`.
	pub fn start(config: NodeConfig) -> Result<Node> {
		fs::create_dir_all(&config.base_path)
			.map_err(|e| Error(format!("cannot create {}: {e}", config.base_path.display())))?;
		let log_path = config
			.base_path
			.parent()
			.unwrap_or(&config.base_path)
			.join(format!("{}.log", config.name));
		let mut node = Node { config, child: None, log_path, listening: Listening::default() };
		node.spawn()?;
		Ok(node)
	}

	fn spawn(&mut self) -> Result<()> {
		let args = self.config.args();
		let from = file_len(&self.log_path);
		self.child =
			Some(spawn_logged(&node_binary(), &args, &[("RUST_LOG", "info")], &self.log_path)?);
		let peer_id =
			self.wait_own_log(from, "its peer id (\"Local node identity is\")", |line| {
				Some(line.split_once("Local node identity is: ")?.1.trim().to_string())
			})?;
		let rpc = self.wait_own_log(
			from,
			"its JSON-RPC address (\"Running JSON-RPC server\")",
			|line| loopback_port_after(line, "Running JSON-RPC server: addr="),
		)?;
		let prometheus = self.wait_own_log(from, "its Prometheus address", |line| {
			loopback_port_after(line, "Prometheus exporter started at ")
		})?;
		self.listening = Listening { peer_id, rpc, prometheus, p2p: 0 };
		// The libp2p port: from the node itself, over the RPC server just found.
		let p2p = self.wait_for("its libp2p listen address", NODE_START, |n| {
			let addresses = n.rpc("system_localListenAddresses", json!([])).ok()?;
			addresses.as_array()?.iter().find_map(|a| {
				let rest = a.as_str()?.strip_prefix("/ip4/127.0.0.1/tcp/")?;
				rest.split('/').next()?.parse::<u16>().ok()
			})
		})?;
		self.listening.p2p = p2p;
		Ok(())
	}

	/// Waits (up to [`NODE_START`]) for a line of the current run's log that `find` accepts.
	fn wait_own_log<T>(
		&mut self,
		from: u64,
		what: &str,
		find: impl FnMut(&str) -> Option<T>,
	) -> Result<T> {
		let Node { config, child, log_path, .. } = self;
		let running = || child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)));
		wait_log_line(log_path, from, what, NODE_START, running, find)
			.map_err(|e| Error(format!("{}: {e}", config.name)))
	}

	/// The JSON-RPC port the node listens on (chosen by the kernel unless configured).
	pub fn rpc_port(&self) -> u16 {
		self.listening.rpc
	}

	/// The Prometheus port the node listens on.
	pub fn prometheus_port(&self) -> u16 {
		self.listening.prometheus
	}

	/// The libp2p port the node listens on.
	pub fn p2p_port(&self) -> u16 {
		self.listening.p2p
	}

	/// The node's libp2p peer id, as its log printed it.
	pub fn peer_id(&self) -> &str {
		&self.listening.peer_id
	}

	/// The multiaddress other nodes (and light clients) dial to reach this node.
	pub fn p2p_address(&self) -> String {
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.listening.p2p, self.listening.peer_id)
	}

	/// The JSON-RPC URL of the node (HTTP).
	pub fn rpc_url(&self) -> String {
		format!("http://127.0.0.1:{}", self.rpc_port())
	}

	/// The last `lines` lines of the node's log.
	pub fn log_tail(&self, lines: usize) -> String {
		last_lines(&self.log(), lines)
	}

	/// The whole log of the node so far.
	pub fn log(&self) -> String {
		fs::read_to_string(&self.log_path).unwrap_or_default()
	}

	/// Whether the process is still running.
	pub fn is_running(&mut self) -> bool {
		match self.child.as_mut() {
			Some(child) => matches!(child.try_wait(), Ok(None)),
			None => false,
		}
	}

	/// Stops the node gracefully (SIGTERM), killing it if it has not exited within `timeout`.
	pub fn stop(&mut self, timeout: Duration) -> Result<()> {
		let Some(mut child) = self.child.take() else { return Ok(()) };
		let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
		let deadline = Instant::now() + timeout;
		while Instant::now() < deadline {
			if let Ok(Some(_)) = child.try_wait() {
				return Ok(());
			}
			thread::sleep(Duration::from_millis(100));
		}
		let _ = child.kill();
		let _ = child.wait();
		err(format!("{} did not stop within {timeout:?} and was killed", self.config.name))
	}

	/// Starts the node again with the same configuration (and so the same database and peer
	/// id); ports the configuration leaves at 0 are chosen anew and read back.
	pub fn restart(&mut self) -> Result<()> {
		if self.child.is_some() {
			return err(format!("{} is still running", self.config.name));
		}
		self.spawn()
	}

	/// Calls a JSON-RPC method; a JSON-RPC error becomes `Err` with its message.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value> {
		rpc_call(self.rpc_port(), method, params)
	}

	/// The chain's deployment id (`rollup_deploymentId`): what test actors sign for.
	pub fn deployment(&self) -> Result<emr_primitives::ops::DeploymentId> {
		deployment(self.rpc_port())
	}

	/// Waits until `check` returns `Some`, polling every 500 ms, for at most `timeout`.
	///
	/// `what` describes the awaited condition for the error message, which also includes the
	/// tail of the node's log.
	pub fn wait_for<T>(
		&mut self,
		what: &str,
		timeout: Duration,
		mut check: impl FnMut(&Node) -> Option<T>,
	) -> Result<T> {
		let deadline = Instant::now() + timeout;
		loop {
			// Whether it runs is asked first: an answer read after this process exited could
			// only come from another process that took its port.
			let running = self.is_running();
			if running {
				if let Some(value) = check(self) {
					return Ok(value);
				}
			}
			if !running {
				return err(format!(
					"{} exited while waiting for {what}; log tail:\n{}",
					self.config.name,
					self.log_tail(40)
				));
			}
			if Instant::now() >= deadline {
				return err(format!(
					"{} did not reach {what} within {timeout:?}; log tail:\n{}",
					self.config.name,
					self.log_tail(40)
				));
			}
			thread::sleep(Duration::from_millis(500));
		}
	}

	/// Waits until the RPC server answers `system_health` and names, in `system_localPeerId`,
	/// the peer id this node's log printed (so the answer is this node's, not another's).
	pub fn wait_rpc_ready(&mut self, timeout: Duration) -> Result<()> {
		let expected = self.listening.peer_id.clone();
		let mut other = None;
		let ready = self.wait_for("a responding RPC server with its own peer id", timeout, |n| {
			n.rpc("system_health", json!([])).ok()?;
			let peer = n.rpc("system_localPeerId", json!([])).ok()?;
			if peer.as_str() == Some(expected.as_str()) {
				return Some(());
			}
			other = Some(peer);
			None
		});
		ready.map_err(|e| match other {
			Some(peer) => Error(format!("{e}\n(port {} answered as peer {peer})", self.rpc_port())),
			None => e,
		})
	}

	/// Number of the best block.
	pub fn best_number(&self) -> Result<u64> {
		let header = self.rpc("chain_getHeader", json!([]))?;
		parse_number(&header["number"])
	}

	/// Hash and number of the last finalized block.
	pub fn finalized(&self) -> Result<(String, u64)> {
		let hash = self.rpc("chain_getFinalizedHead", json!([]))?;
		let hash = hash.as_str().map(str::to_string).ok_or_else(|| {
			Error(format!("chain_getFinalizedHead returned a non-string: {hash}"))
		})?;
		let header = self.rpc("chain_getHeader", json!([hash]))?;
		Ok((hash, parse_number(&header["number"])?))
	}

	/// Hash of the block at `number` on the node's best chain, if it has one.
	pub fn block_hash(&self, number: u64) -> Result<Option<String>> {
		let hash = self.rpc("chain_getBlockHash", json!([number]))?;
		Ok(hash.as_str().map(str::to_string))
	}

	/// Waits until the node has finalized at least block `number`; returns the finalized head.
	pub fn wait_finalized(&mut self, number: u64, timeout: Duration) -> Result<(String, u64)> {
		self.wait_for(&format!("finalized block #{number}"), timeout, |n| {
			n.finalized().ok().filter(|(_, finalized)| *finalized >= number)
		})
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		print_log_on_panic(&self.config.name, &self.log_path);
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

/// Parses a block number as the RPC returns it (`"0x1a"`) or as a plain JSON number.
pub fn parse_number(value: &Value) -> Result<u64> {
	match value {
		Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16)
			.map_err(|e| Error(format!("bad hex number {s}: {e}"))),
		Value::Number(n) => n.as_u64().ok_or_else(|| Error(format!("bad number {n}"))),
		other => err(format!("expected a block number, got {other}")),
	}
}

/// One JSON-RPC 2.0 call over HTTP/1.1 to `127.0.0.1:port` (the prover's client,
/// [`emr_worker::http`]); a JSON-RPC error is `Err` with its code, message and data.
pub fn rpc_call(port: u16, method: &str, params: Value) -> Result<Value> {
	emr_worker::http::rpc_call(&format!("127.0.0.1:{port}"), method, params)
		.map_err(|e| Error(e.to_string()))
}

/// The deployment id of the node at `127.0.0.1:port` (`rollup_deploymentId`).
pub fn deployment(port: u16) -> Result<emr_primitives::ops::DeploymentId> {
	let v = rpc_call(port, "rollup_deploymentId", json!([]))?;
	let text =
		v.as_str().ok_or_else(|| Error(format!("rollup_deploymentId: not a string: {v}")))?;
	let bytes = hex::decode(text.trim_start_matches("0x"))
		.map_err(|e| Error(format!("rollup_deploymentId {text}: {e}")))?;
	let id: [u8; 32] =
		bytes.try_into().map_err(|_| Error(format!("rollup_deploymentId {text}: not 32 bytes")))?;
	Ok(emr_primitives::ops::DeploymentId(id))
}

/// `GET path` on `127.0.0.1:port`, returning the body (used for Prometheus metrics).
pub fn http_get(port: u16, path: &str) -> Result<String> {
	emr_worker::http::get(&format!("127.0.0.1:{port}"), path).map_err(|e| Error(e.to_string()))
}

/// Path of the `emr-prover` binary (next to `emr-node`, or `$EMR_PROVER_BIN`).
pub fn prover_binary() -> PathBuf {
	if let Ok(path) = std::env::var("EMR_PROVER_BIN") {
		return PathBuf::from(path);
	}
	node_binary().with_file_name("emr-prover")
}

/// The development chains' proving keys (4 slots, seeded, insecure): made once by
/// `scripts/dev-keys.sh` (a seeded setup: about 15 s) and kept in `$HOME/.cache/emr-chain/dev-keys`.
pub fn dev_prover_keys() -> Result<PathBuf> {
	static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
	let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
	let out = Command::new("bash")
		.arg(repo_root().join("scripts/dev-keys.sh"))
		.env("EMR_PROVER_BIN", prover_binary())
		.stdin(Stdio::null())
		.output()
		.map_err(|e| Error(format!("cannot run scripts/dev-keys.sh: {e}")))?;
	let stdout = String::from_utf8_lossy(&out.stdout);
	match stdout.lines().last() {
		Some(dir) if out.status.success() => Ok(PathBuf::from(dir.trim())),
		_ => err(format!(
			"scripts/dev-keys.sh failed:\n{stdout}\n{}",
			String::from_utf8_lossy(&out.stderr)
		)),
	}
}

/// A running `emr-prover run` (the standalone prover worker); killed when dropped.
pub struct Worker {
	args: Vec<String>,
	child: Option<Child>,
	log_path: PathBuf,
	/// Where the current run's part of the log starts.
	log_from: u64,
}

impl Worker {
	/// Starts `emr-prover` with `args` (another sub-command, e.g. `relay`), its output
	/// appended to `log`.
	pub fn command(args: Vec<String>, log: PathBuf) -> Result<Worker> {
		let mut w = Worker { args, child: None, log_path: log, log_from: 0 };
		w.spawn()?;
		Ok(w)
	}

	/// Starts `emr-prover run` against `node` with the keys in `keys`, the state in `state`
	/// and the prover account `suri`; its output is appended to `<state>.log`.
	pub fn start(node: &Node, keys: &Path, state: &Path, suri: &str) -> Result<Worker> {
		let key_file = state.with_extension("key");
		fs::write(&key_file, suri)
			.map_err(|e| Error(format!("cannot write {}: {e}", key_file.display())))?;
		let args = vec![
			"run".to_string(),
			"--rpc".into(),
			format!("ws://127.0.0.1:{}", node.rpc_port()),
			"--keys".into(),
			keys.display().to_string(),
			"--state".into(),
			state.display().to_string(),
			"--account-key".into(),
			key_file.display().to_string(),
			"--prometheus".into(),
			"127.0.0.1:0".into(),
			"--poll".into(),
			"1".into(),
		];
		let mut w =
			Worker { args, child: None, log_path: state.with_extension("log"), log_from: 0 };
		w.spawn()?;
		Ok(w)
	}

	fn spawn(&mut self) -> Result<()> {
		self.log_from = file_len(&self.log_path);
		self.child = Some(spawn_logged(&prover_binary(), &self.args, &[], &self.log_path)?);
		Ok(())
	}

	/// The port its current run serves Prometheus metrics on (`--prometheus 127.0.0.1:0`), as
	/// that run's log says; `None` until it says so.
	pub fn metrics_port(&self) -> Option<u16> {
		let text = log_after(&self.log_path, self.log_from);
		text.lines().find_map(|l| loopback_port_after(l, "Prometheus metrics on http://"))
	}

	/// The worker's whole log so far (all runs).
	pub fn log(&self) -> String {
		fs::read_to_string(&self.log_path).unwrap_or_default()
	}

	/// The last `lines` lines of its log.
	pub fn log_tail(&self, lines: usize) -> String {
		last_lines(&self.log(), lines)
	}

	/// Kills it at once (SIGKILL: no chance to clean up), as a crash would.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Starts it again with the same arguments (same state directory).
	pub fn restart(&mut self) -> Result<()> {
		self.kill();
		self.spawn()
	}

	/// Its exit status once it has exited, waiting at most `timeout`.
	pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
		let deadline = Instant::now() + timeout;
		while Instant::now() < deadline {
			if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
				return Some(status);
			}
			thread::sleep(Duration::from_millis(200));
		}
		None
	}

	/// Its `emr_prover_*` metric `name`, if served.
	pub fn metric(&self, name: &str) -> Option<f64> {
		metric(&http_get(self.metrics_port()?, "/metrics").ok()?, name)
	}
}

impl Drop for Worker {
	fn drop(&mut self) {
		print_log_on_panic(
			&format!("emr-prover {}", self.args.first().map_or("", String::as_str)),
			&self.log_path,
		);
		self.kill();
	}
}

/// The value of the sample `name` in a Prometheus text page, with or without labels (a node
/// adds `{chain="…"}`).
pub fn metric(page: &str, name: &str) -> Option<f64> {
	page.lines().find_map(|l| {
		let rest = l.strip_prefix(name)?;
		let value = match rest.strip_prefix('{') {
			Some(labelled) => labelled.split_once("} ")?.1,
			None => rest.strip_prefix(' ')?,
		};
		value.trim().parse().ok()
	})
}

/// The participant id of a development identity admitted at genesis (`Alice`, `Eve`, …) on
/// `node`'s chain (ids are assigned in admission order, so they depend on the preset).
pub fn dev_id(node: &Node, name: &str) -> Result<emr_primitives::ops::ParticipantId> {
	let key = emr_primitives::testing::dev_rollup_key(name).public();
	key_id(node, &key.to_bytes())?.ok_or_else(|| Error(format!("{name} is not a member")))
}

/// The participant id the chain gave a rollup key, if it is registered (`emr_participantId`).
pub fn key_id(node: &Node, key: &[u8; 32]) -> Result<Option<emr_primitives::ops::ParticipantId>> {
	let v = node.rpc("emr_participantId", json!([hex::encode(key)]))?;
	Ok(v.as_u64().map(|id| id as emr_primitives::ops::ParticipantId))
}

/// A development identity admitted at genesis (`Alice`, `Eve`, …) as a test actor signing for
/// `node`'s deployment: its rollup key and id, nonce 0 and its X25519 key.
pub fn dev_actor(node: &Node, name: &str) -> Result<emr_primitives::testing::Actor> {
	let key = emr_primitives::testing::dev_rollup_key(name);
	let enc = emr_primitives::testing::dev_encryption_key(name).unwrap_or_default();
	Ok(emr_primitives::testing::Actor {
		key,
		id: dev_id(node, name)?,
		nonce: 0,
		enc,
		deployment: node.deployment()?,
	})
}

/// A new test actor from `seed` signing for `node`'s deployment; its id is 0 until it
/// registers ([`registered`]).
pub fn new_actor(node: &Node, seed: u64) -> Result<emr_primitives::testing::Actor> {
	let mut actor = emr_primitives::testing::Actor::new(seed, 0);
	actor.deployment = node.deployment()?;
	Ok(actor)
}

/// Waits (up to a minute) until `actor`'s registration is applied, and sets its id to the one
/// the chain gave it.
pub fn registered(node: &Node, actor: &mut emr_primitives::testing::Actor) -> Result<()> {
	let key = actor.public();
	let start = Instant::now();
	loop {
		if let Some(id) = key_id(node, &key)? {
			actor.id = id;
			return Ok(());
		}
		if start.elapsed() > Duration::from_secs(60) {
			return err("a registration was not applied within a minute");
		}
		thread::sleep(Duration::from_millis(200));
	}
}

/// Submits an L2 operation with `rollup_submit`; a refusal is `Err` with the node's reason.
pub fn submit_op(node: &Node, op: &emr_primitives::ops::SignedOp) -> Result<Value> {
	use codec::Encode;
	node.rpc("rollup_submit", json!([format!("0x{}", hex::encode(op.encode()))]))
}
