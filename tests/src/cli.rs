//! Running the `emr` command line in tests: one data directory, one node, optionally a light
//! client (`--light`), with the passphrase in the environment.

use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
};

use crate::node_binary;

/// The keystore passphrase the tests use.
pub const PASSPHRASE: &str = "a passphrase for the test";

/// The `emr` binary next to `emr-node`, run with one data directory and node.
pub struct Emr {
	/// The binary.
	pub bin: PathBuf,
	/// `--data-dir`.
	pub data: PathBuf,
	/// `--node`.
	pub node: String,
	/// Arguments given before every command's own (e.g. `--light SPEC --bootnode ADDR`).
	pub extra: Vec<String>,
}

impl Emr {
	/// `emr` with data under `data`, talking to the node at `node`.
	pub fn new(data: &Path, node: &str) -> Self {
		Emr {
			bin: emr_binary(),
			data: data.to_path_buf(),
			node: node.to_owned(),
			extra: Vec::new(),
		}
	}

	/// The same, reading through a light client started from `spec` with `bootnode`.
	pub fn light(&self, spec: &Path, bootnode: &str) -> Self {
		let mut extra = self.extra.clone();
		extra.extend([
			"--light".into(),
			spec.display().to_string(),
			"--bootnode".into(),
			bootnode.into(),
		]);
		Emr { bin: self.bin.clone(), data: self.data.clone(), node: self.node.clone(), extra }
	}

	/// Runs `emr` as `key`. Commands wait for *included* unless `args` names a level (the
	/// default, *finalized*, is checked where it matters: two blocks more per command).
	pub fn run(&self, key: &str, args: &[&str], passphrase: &str) -> Output {
		let wait: &[&str] = if args.contains(&"--wait") { &[] } else { &["--wait", "included"] };
		Command::new(&self.bin)
			.arg("--data-dir")
			.arg(&self.data)
			.args(["--key", key, "--node", &self.node])
			.args(&self.extra)
			.args(args)
			.args(wait)
			.env("EMR_PASSPHRASE", passphrase)
			.env_remove("EMR_NODE")
			.env_remove("EMR_CHAIN_SPEC")
			.env_remove("EMR_BOOTNODES")
			.output()
			.unwrap_or_else(|e| panic!("cannot run {}: {e}", self.bin.display()))
	}

	/// Runs `emr` as `key` and returns its standard output; panics with both streams on failure.
	pub fn ok(&self, key: &str, args: &[&str]) -> String {
		let out = self.run(key, args, PASSPHRASE);
		let (stdout, stderr) =
			(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
		assert!(out.status.success(), "emr --key {key} {args:?} failed:\n{stdout}\n{stderr}");
		stdout.into_owned()
	}

	/// Runs `emr` as `key`, expecting a failure; returns its standard error.
	pub fn fails(&self, key: &str, args: &[&str]) -> String {
		self.fails_with(key, args, PASSPHRASE)
	}

	/// Runs `emr` as `key` with `passphrase`, expecting a failure; returns its standard error.
	pub fn fails_with(&self, key: &str, args: &[&str], passphrase: &str) -> String {
		let out = self.run(key, args, passphrase);
		let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
		assert!(
			!out.status.success(),
			"emr --key {key} {args:?} should have failed:\n{}\n{stderr}",
			String::from_utf8_lossy(&out.stdout)
		);
		stderr
	}
}

/// The value after `label:` on its line of `output`.
pub fn field(output: &str, label: &str) -> String {
	output
		.lines()
		.find_map(|l| l.strip_prefix(&format!("{label}:")))
		.map(|v| v.trim().to_owned())
		.unwrap_or_else(|| panic!("no {label:?} in:\n{output}"))
}

/// `hex` ("0x…") with its last byte changed (one bit flipped).
pub fn alter_one_byte(hex: &str) -> String {
	let mut bytes = hex::decode(hex.trim_start_matches("0x"))
		.unwrap_or_else(|e| panic!("not hex ({e}): {hex}"));
	*bytes.last_mut().unwrap_or_else(|| panic!("nothing to alter in {hex:?}")) ^= 1;
	format!("0x{}", hex::encode(bytes))
}

/// The `emr` binary: `$EMR_CLI_BIN`, else next to `emr-node`.
pub fn emr_binary() -> PathBuf {
	std::env::var_os("EMR_CLI_BIN")
		.map(PathBuf::from)
		.unwrap_or_else(|| node_binary().with_file_name("emr"))
}
