//! The local Ethereum of the settlement tests: anvil from the pinned npm package (installed by
//! `scripts/l1.sh install`), with its state in a file so that it can be stopped and started
//! again with its contracts, and a block a second so that L1 confirmations accumulate.

use crate::{err, free_port, rpc_call, Error, Result};
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
	/// Its JSON-RPC port.
	pub port: u16,
	state: PathBuf,
	log: PathBuf,
	child: Option<Child>,
}

impl Anvil {
	/// Starts anvil with its state in `dir` (Prague, chain id 31337, one block a second).
	pub fn start(dir: &Path) -> Result<Anvil> {
		let binary = emr_prover::l1::anvil_binary();
		if !binary.exists() {
			return err(format!(
				"anvil not found at {}: run `scripts/l1.sh install` (or set EMR_ANVIL)",
				binary.display()
			));
		}
		std::fs::create_dir_all(dir).map_err(|e| Error(format!("{}: {e}", dir.display())))?;
		let mut anvil = Anvil {
			port: free_port()?,
			state: dir.join("state.json"),
			log: dir.join("anvil.log"),
			child: None,
		};
		anvil.spawn()?;
		Ok(anvil)
	}

	fn spawn(&mut self) -> Result<()> {
		let port = self.port.to_string();
		let state = self.state.display().to_string();
		let args = [
			"--host",
			"127.0.0.1",
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
		self.child =
			Some(crate::spawn_logged(&emr_prover::l1::anvil_binary(), &args, &[], &self.log)?);
		let deadline = Instant::now() + Duration::from_secs(30);
		while self.eth("eth_chainId", json!([])).is_err() {
			if Instant::now() > deadline {
				return err(format!(
					"anvil did not answer within 30 s; log {}",
					self.log.display()
				));
			}
			thread::sleep(Duration::from_millis(100));
		}
		Ok(())
	}

	/// Its JSON-RPC URL.
	pub fn url(&self) -> String {
		format!("http://127.0.0.1:{}", self.port)
	}

	/// An Ethereum JSON-RPC call.
	pub fn eth(&self, method: &str, params: Value) -> Result<Value> {
		rpc_call(self.port, method, params)
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

	/// Starts it again on the same port from its saved state.
	pub fn restart(&mut self) -> Result<()> {
		self.stop();
		self.spawn()
	}
}

impl Drop for Anvil {
	fn drop(&mut self) {
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
