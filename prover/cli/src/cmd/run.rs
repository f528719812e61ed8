//! `emr-prover run`: the standalone prover worker.

use crate::io::FileError;
use clap::Args;
use emr_worker::{metrics, rpc::RpcChain, Config, Metrics, Worker, WorkerError};
use std::{path::PathBuf, time::Instant};

/// The standalone prover worker: follows the node's finalized blocks over JSON-RPC, proves
/// every sealed batch in order and submits `rollup.submit_proof` signed by the prover
/// account. Runs until stopped (any moment is safe: see `emr_worker`).
#[derive(Debug, Args)]
pub struct RunCmd {
	/// The node's JSON-RPC endpoint (`ws://host:port` or `http://host:port`; the node
	/// serves both on one port).
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	rpc: String,
	/// Key directory written by `setup` (the circuit of the chain's current verifying key).
	#[arg(long)]
	keys: PathBuf,
	/// State directory (the worker's Merkle state and pending proofs; created if missing).
	#[arg(long, default_value = "emr-prover-state")]
	state: PathBuf,
	/// A file holding the prover account's secret URI (a mnemonic, a `0x` seed, or
	/// `//Alice` for development accounts); the account must be in the chain's prover set.
	#[arg(long)]
	account_key: PathBuf,
	/// Where to serve Prometheus metrics (`host:port`; `none` to serve none).
	#[arg(long, default_value = "127.0.0.1:9616")]
	prometheus: String,
	/// Seconds between polls of the node.
	#[arg(long, default_value_t = 2)]
	poll: u64,
}

/// Why the worker did not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
	/// The account key file.
	#[error(transparent)]
	File(#[from] FileError),
	/// The node's URL, the account key, the metrics endpoint or the proving key.
	#[error("{0}")]
	Setup(String),
	/// The metrics could not be registered.
	#[error(transparent)]
	Metrics(#[from] prometheus::Error),
	/// The worker stopped.
	#[error(transparent)]
	Worker(#[from] WorkerError),
}

impl RunCmd {
	/// Runs the worker until it stops.
	pub fn execute(self) -> Result<(), RunError> {
		let Self { rpc, keys, state, account_key, prometheus, poll } = self;
		let _ = log::set_logger(&Logger).map(|()| log::set_max_level(log::LevelFilter::Info));
		let suri = std::fs::read_to_string(&account_key)
			.map_err(|source| FileError::Io { path: account_key.display().to_string(), source })?;
		let chain = RpcChain::new(&rpc, &suri).map_err(RunError::Setup)?;
		log::info!(target: "emr-prover", "prover account {}", chain.account());
		let registry = prometheus::Registry::new();
		let metrics = Metrics::register(&registry)?;
		if prometheus != "none" {
			let addr = metrics::serve(registry, &prometheus).map_err(RunError::Setup)?;
			log::info!(target: "emr-prover", "Prometheus metrics on http://{addr}/metrics");
		}
		log::info!(target: "emr-prover", "loading the proving key from {} …", keys.display());
		let t = Instant::now();
		let prover = emr_worker::load_prover(&keys).map_err(RunError::Setup)?;
		log::info!(
			target: "emr-prover",
			"proving key loaded, constraint matrices built in {:.1} s",
			t.elapsed().as_secs_f64()
		);
		let mut config = Config::new(state);
		config.poll = std::time::Duration::from_secs(poll.max(1));
		let mut worker = Worker::new(chain, prover, config, metrics)?;
		Ok(worker.run()?)
	}
}

/// Log lines on stderr: `2026-12-03 18:00:00 INFO  emr-prover: …` (targets `emr*` only).
struct Logger;

impl log::Log for Logger {
	/// Only the worker's own records: the circuit gadgets emit a record per constraint (their
	/// `tracing` spans reach `log` when no subscriber is set), whose formatting alone would
	/// dominate proving.
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::Level::Info && metadata.target().starts_with("emr")
	}

	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			eprintln!("{} {:<5} {}: {}", utc_now(), record.level(), record.target(), record.args());
		}
	}

	fn flush(&self) {}
}

/// The current UTC time as `YYYY-MM-DD HH:MM:SS` (civil calendar from days since 1970).
fn utc_now() -> String {
	let secs = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs() as i64)
		.unwrap_or_default();
	let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
	let z = days + 719_468;
	let era = z.div_euclid(146_097);
	let doe = z - era * 146_097;
	let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
	let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	let mp = (5 * doy + 2) / 153;
	let day = doy - (153 * mp + 2) / 5 + 1;
	let month = if mp < 10 { mp + 3 } else { mp - 9 };
	let year = yoe + era * 400 + i64::from(month <= 2);
	format!(
		"{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
		rem / 3_600,
		rem % 3_600 / 60,
		rem % 60
	)
}
