//! Shared helpers of the integration tests: a real js-ipfs daemon per test binary, test data,
//! running the `emr` binary.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
	sync::OnceLock,
};

/// The repository root.
pub fn repo_root() -> PathBuf {
	let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
	cli.ancestors().nth(2).expect("client/cli/ is two levels down").to_path_buf()
}

/// A js-ipfs daemon started through `scripts/ipfs.sh start` in a temporary state directory.
/// `scripts/ipfs.sh` watches this test process: when it exits (or is killed) the daemon is
/// stopped and the directory removed, so no test run leaves a daemon behind.
pub struct Daemon {
	/// RPC API address.
	pub url: String,
	/// State directory.
	pub dir: PathBuf,
}

static DAEMON: OnceLock<Daemon> = OnceLock::new();

/// The daemon of this test binary, started on first use. Panics (fails the test) if js-ipfs
/// cannot be installed or started: these tests never skip.
pub fn daemon() -> &'static Daemon {
	DAEMON.get_or_init(|| {
		let nanos = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map(|d| d.subsec_nanos())
			.unwrap_or(0);
		let dir = std::env::temp_dir().join(format!("emr-ipfs-test-{}-{nanos}", std::process::id()));
		let out = Command::new(repo_root().join("scripts/ipfs.sh"))
			.arg("start")
			.env("EMR_IPFS_DIR", &dir)
			.env("EMR_IPFS_WATCH_PID", std::process::id().to_string())
			.env("EMR_IPFS_REMOVE_DIR", "1")
			.output()
			.expect("scripts/ipfs.sh could not be run");
		assert!(
			out.status.success(),
			"scripts/ipfs.sh start failed (js-ipfs must be installable and start; this test does not skip):\n{}",
			String::from_utf8_lossy(&out.stderr)
		);
		let url = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned();
		assert!(url.starts_with("http://127.0.0.1:"), "unexpected API URL {url:?}");
		Daemon { url, dir }
	})
}

/// Deterministic pseudo-random bytes (xorshift), so chunks differ from each other.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
	let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
	let mut out = Vec::with_capacity(len + 8);
	while out.len() < len {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out.extend_from_slice(&x.to_le_bytes());
	}
	out.truncate(len);
	out
}

/// Runs the built `emr` binary with a fixed passphrase and the given data directory.
pub fn emr(data_dir: &Path, key: &str, args: &[&str]) -> Output {
	Command::new(env!("CARGO_BIN_EXE_emr"))
		.arg("--data-dir")
		.arg(data_dir)
		.args(["--key", key])
		.args(args)
		.env("EMR_PASSPHRASE", format!("passphrase of {key}"))
		.env_remove("EMR_DATA_DIR")
		.env_remove("EMR_KEY")
		.output()
		.expect("the emr binary runs")
}

/// Runs `emr` and returns its stdout, failing the test with stderr if it fails.
pub fn emr_ok(data_dir: &Path, key: &str, args: &[&str]) -> String {
	let out = emr(data_dir, key, args);
	assert!(
		out.status.success(),
		"emr {args:?} failed:\n{}\n{}",
		String::from_utf8_lossy(&out.stdout),
		String::from_utf8_lossy(&out.stderr)
	);
	String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of a `label:   value` line of `emr` output.
pub fn field(output: &str, label: &str) -> String {
	output
		.lines()
		.find_map(|l| l.strip_prefix(&format!("{label}:")))
		.unwrap_or_else(|| panic!("no {label:?} in {output}"))
		.trim()
		.to_owned()
}
