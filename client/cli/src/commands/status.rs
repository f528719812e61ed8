//! `emr status`: where an earlier operation stands.

use std::io::Write;

use clap::Args;
use emr_client::chain::NodeClient;
use emr_primitives::ops::ParticipantId;

use crate::context::CliError;

/// `emr status`.
#[derive(Args, Debug)]
pub struct StatusCmd {
	/// The acting participant's id.
	actor: ParticipantId,
	/// The nonce it used.
	nonce: u32,
}

impl StatusCmd {
	/// Runs it.
	pub async fn execute(self, node: &NodeClient) -> Result<(), CliError> {
		let s = node.status(self.actor, self.nonce).await?;
		let _ = writeln!(std::io::stdout().lock(), "operation {} {}: {s}", self.actor, self.nonce);
		Ok(())
	}
}
