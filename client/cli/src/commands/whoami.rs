//! `emr whoami`: this key set's participant on the chain.

use std::io::Write;

use clap::Args;
use emr_client::chain::{ChainError, NodeClient};

use crate::context::{CliError, Context};

/// `emr whoami`.
#[derive(Args, Debug)]
pub struct WhoamiCmd {}

impl WhoamiCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		let keys = ctx.keystore.public(&ctx.cli_key)?;
		let id = node.participant_id(&keys.rollup.to_bytes()).await?;
		let Some(id) = id else {
			return Err(ChainError::NotRegistered { name: keys.name }.into());
		};
		let p = node.existing(id).await?;
		let _ = writeln!(out, "participant: {id}");
		let _ = writeln!(out, "role:        {:?}", p.participant.role);
		let _ = writeln!(out, "active:      {}", p.participant.active);
		let _ = writeln!(out, "next nonce:  {}", p.participant.nonce);
		if let Some(h) = p.affiliation() {
			let _ = writeln!(out, "hospital:    {h}");
		} else if p.credential_lapsed() {
			let _ = writeln!(out, "hospital:    none (its hospital was removed)");
		}
		Ok(())
	}
}
