//! `emr-prover status`: a running worker's progress from its metrics.

use clap::Args;

/// Prints a running worker's progress from its Prometheus metrics (standalone worker:
/// port 9616; a node with `--prover`: its Prometheus port, 9615 by default).
#[derive(Debug, Args)]
pub struct StatusCmd {
	/// The metrics endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9616/metrics")]
	metrics: String,
}

/// The endpoint could not be read, or serves no worker metrics.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StatusError(String);

impl StatusCmd {
	/// Reads the endpoint and prints the report.
	pub fn execute(self) -> Result<(), StatusError> {
		print!("{}", emr_worker::metrics::status(&self.metrics).map_err(StatusError)?);
		Ok(())
	}
}
