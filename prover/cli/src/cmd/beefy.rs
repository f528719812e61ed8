//! `emr-prover beefy`: the node's latest BEEFY justification and a proven batch under its root,
//! checked the way the Ethereum contracts will check them.

use clap::Args;
use codec::Encode;
use emr_settlement::evidence;
use emr_worker::http;

/// Checks, the way the Ethereum contracts will, the node's latest BEEFY justification
/// (signatures of more than two thirds of the validator set, the set's keyset commitment)
/// and that a proven batch's rollup digest is in the MMR root it signed. Exits non-zero,
/// with the reason, when anything disagrees.
#[derive(Debug, Args)]
pub struct BeefyCmd {
	/// The node's JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	rpc: String,
	/// The batch to show under the signed root (default: the last proven batch).
	#[arg(long)]
	batch: Option<u64>,
}

/// What does not check, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BeefyError {
	/// The node could not be asked, or what it answers does not check.
	#[error("{0}")]
	Node(String),
	/// BEEFY has not finalized anything yet.
	#[error(
		"the node has no BEEFY justification yet (BEEFY starts after GRANDPA's first finality)"
	)]
	NoJustification,
	/// The commitment carries no MMR root.
	#[error("the commitment has no MMR root")]
	NoMmrRoot,
}

impl BeefyCmd {
	/// Checks the latest justification and the batch, and prints what holds.
	pub fn execute(self) -> Result<(), BeefyError> {
		let rpc = http::caller(http::authority(&self.rpc).map_err(BeefyError::Node)?);
		let j = evidence::latest_justification(&rpc)
			.map_err(BeefyError::Node)?
			.ok_or(BeefyError::NoJustification)?;
		let checked = evidence::check_justification(&rpc, &j).map_err(BeefyError::Node)?;
		let root = j.commitment.mmr_root().ok_or(BeefyError::NoMmrRoot)?;
		println!(
			"BEEFY commitment of block {} (validator set {}): {} of {} validators signed; every \
			 signature recovers (ecrecover) to its validator's address; the set's keyset \
			 commitment is the Merkle root of those addresses",
			j.commitment.block_number,
			checked.set_id,
			checked.signed,
			checked.set.len()
		);
		println!(
			"  signed MMR root 0x{}; justification {} bytes",
			hex::encode(root),
			j.encoded_len
		);
		let batch = match self.batch {
			Some(b) => b,
			None => {
				let status =
					rpc("rollup_status", serde_json::json!([])).map_err(BeefyError::Node)?;
				match status["lastProven"].as_u64() {
					Some(b) => b,
					None => {
						println!("  no batch is proven yet");
						return Ok(());
					},
				}
			},
		};
		let covered = evidence::check_batch(&rpc, &j, batch).map_err(BeefyError::Node)?;
		println!(
			"batch {batch}, proven in block {}: its rollup digest 0x{} is the extra data of that \
			 block's MMR leaf, and the leaf's proof ({} items, {} bytes) leads to the signed root",
			covered.proven_at,
			hex::encode(covered.digest),
			covered.proof.items.len(),
			covered.proof.encode().len()
		);
		Ok(())
	}
}
