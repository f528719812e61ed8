//! The local Ethereum of the settlement tests: anvil from the pinned npm package (installed by
//! `scripts/l1.sh install`), with its state in a file so that it can be stopped and started
//! again with its contracts, and a block a second so that L1 confirmations accumulate.
//!
//! Anvil listens on a loopback address of the test process alone ([`crate::private_loopback`])
//! on a port it chooses itself (port 0) and prints; a restart binds that same address and port
//! again, which no other test can have taken meanwhile, so the relayer finds it where it was.

use crate::{err, file_len, log_after, private_loopback, wait_log_line, Error, Result};
use serde_json::{json, Value};
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	thread,
	time::{Duration, Instant},
};

/// The private key of anvil's first development account (it deploys and relays in the tests
/// and the demo; never use it on a real network).
pub const DEV_L1_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A running anvil; killed when dropped.
pub struct Anvil {
	/// Its loopback address (one of this process's own).
	pub host: std::net::Ipv4Addr,
	/// Its JSON-RPC port (chosen by anvil at its first start, kept across restarts).
	pub port: u16,
	state: PathBuf,
	log: PathBuf,
	child: Option<Child>,
}

impl Anvil {
	/// Starts anvil with its state in `dir` (Prague, chain id 31337, one block a second).
	pub fn start(dir: &Path) -> Result<Anvil> {
		let binary = emr_settlement::l1::anvil_binary();
		if !binary.exists() {
			return err(format!(
				"anvil not found at {}: run `scripts/l1.sh install` (or set EMR_ANVIL)",
				binary.display()
			));
		}
		std::fs::create_dir_all(dir).map_err(|e| Error(format!("{}: {e}", dir.display())))?;
		// One private address per anvil of this process.
		static STARTED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
		let instance = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
		let mut anvil = Anvil {
			host: private_loopback(instance)?,
			port: 0,
			state: dir.join("state.json"),
			log: dir.join("anvil.log"),
			child: None,
		};
		anvil.spawn()?;
		Ok(anvil)
	}

	fn spawn(&mut self) -> Result<()> {
		let port = self.port.to_string();
		let host = self.host.to_string();
		let state = self.state.display().to_string();
		let args = [
			"--host",
			&host,
			"--port",
			&port,
			"--hardfork",
			"prague",
			"--chain-id",
			"31337",
			"--block-time",
			"1",
			"--state",
			&state,
			"--state-interval",
			"1",
			"--mnemonic",
			"test test test test test test test test test test test junk",
		];
		let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
		let from = file_len(&self.log);
		self.child =
			Some(crate::spawn_logged(&emr_settlement::l1::anvil_binary(), &args, &[], &self.log)?);
		// "Listening on HOST:PORT": the port it bound (its choice at the first start).
		let listening = format!("Listening on {host}:");
		let child = &mut self.child;
		let running = || child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)));
		self.port = wait_log_line(
			&self.log,
			from,
			"anvil's address",
			Duration::from_secs(30),
			running,
			|l| l.trim().strip_prefix(&listening)?.parse::<u16>().ok(),
		)
		.map_err(|e| Error(format!("anvil: {e}")))?;
		// Ready when it answers as the chain it was started as.
		let deadline = Instant::now() + Duration::from_secs(30);
		loop {
			match self.eth("eth_chainId", json!([])) {
				Ok(id) if id.as_str() == Some("0x7a69") => return Ok(()),
				Ok(other) => {
					return err(format!("{} answered chain id {other}, not 31337", self.url()))
				},
				Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(100)),
				Err(e) => {
					return err(format!(
						"anvil did not answer within 30 s ({e}); log:\n{}",
						log_after(&self.log, from)
					))
				},
			}
		}
	}

	/// Its JSON-RPC URL.
	pub fn url(&self) -> String {
		format!("http://{}:{}", self.host, self.port)
	}

	/// An Ethereum JSON-RPC call.
	pub fn eth(&self, method: &str, params: Value) -> Result<Value> {
		emr_worker::http::rpc_call(&format!("{}:{}", self.host, self.port), method, params)
			.map_err(|e| Error(e.to_string()))
	}

	/// Stops it (SIGTERM: it writes its state), as an L1 node going down.
	pub fn stop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
			let deadline = Instant::now() + Duration::from_secs(20);
			while Instant::now() < deadline {
				if let Ok(Some(_)) = child.try_wait() {
					return;
				}
				thread::sleep(Duration::from_millis(100));
			}
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Starts it again on the same address and port from its saved state.
	pub fn restart(&mut self) -> Result<()> {
		self.stop();
		self.spawn()
	}
}

impl Drop for Anvil {
	fn drop(&mut self) {
		crate::print_log_on_panic("anvil", &self.log);
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

/// A file holding `content` (a key for a CLI), in `dir`.
pub fn key_file(dir: &Path, name: &str, content: &str) -> Result<PathBuf> {
	let path = dir.join(name);
	std::fs::write(&path, content).map_err(|e| Error(format!("{}: {e}", path.display())))?;
	let _ = Command::new("chmod").arg("600").arg(&path).stdin(Stdio::null()).status();
	Ok(path)
}
