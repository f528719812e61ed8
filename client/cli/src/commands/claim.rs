//! `emr claim …`: an insurer files, decides and lists claims.

use std::io::Write;

use clap::Subcommand;
use emr_client::{
	chain::NodeClient,
	records_on_chain::{claim_grant, describe, submit_and_wait},
};
use emr_primitives::{
	ops::{GrantId, Operation, ParticipantId},
	stored::StoredClaimStatus,
};

use super::{consent::claim_name, print_submitted};
use crate::context::{parse_cid, CliError, Context, Stderr};

/// `emr claim …` (insurers).
#[derive(Subcommand, Debug)]
pub enum ClaimCmd {
	/// File a claim under the patient's CLAIM consent.
	Submit {
		/// The patient's participant id.
		#[arg(long)]
		patient: ParticipantId,
		/// Amount claimed, in the smallest currency unit.
		#[arg(long)]
		amount: u64,
		/// The record the claim refers to: a CID or 64 hex characters (a digest).
		#[arg(long, value_name = "CID|HEX")]
		record: String,
		/// The consent slot (default: the patient's CLAIM grant to you).
		#[arg(long)]
		grant: Option<GrantId>,
	},
	/// Decide an open claim.
	Decide {
		/// The patient's participant id.
		#[arg(long)]
		patient: ParticipantId,
		/// The consent slot holding the claim.
		#[arg(long)]
		grant: GrantId,
		/// Approve and settle this amount (otherwise the claim is rejected).
		#[arg(long, value_name = "AMOUNT")]
		approve: Option<u64>,
	},
	/// List the claims filed under a patient's consents.
	List {
		/// The patient's participant id.
		#[arg(long)]
		patient: ParticipantId,
	},
}

/// A record's digest from 64 hex characters or a CID.
fn record_digest(s: &str) -> Result<[u8; 32], CliError> {
	let s = s.trim();
	if let Ok(bytes) = hex::decode(s.trim_start_matches("0x")) {
		if let Ok(d) = <[u8; 32]>::try_from(bytes) {
			return Ok(d);
		}
	}
	let cid = parse_cid(s)?;
	<[u8; 32]>::try_from(cid.hash().digest())
		.map_err(|_| CliError::Usage(format!("the CID {s} does not carry a 32-byte digest")))
}

impl ClaimCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		match self {
			ClaimCmd::Submit { patient, amount, record, grant } => {
				let record = record_digest(&record)?;
				let keys = ctx.open_keys()?;
				let grant = match grant {
					Some(g) => g,
					None => claim_grant(node, &keys, patient).await?,
				};
				let op = Operation::SubmitClaim { patient, grant, record, amount };
				let what = describe(&op);
				let s = submit_and_wait(node, &keys, op, ctx.wait, &mut Stderr).await?;
				print_submitted(&mut out, what, &s);
				let _ =
					writeln!(out, "claim:       patient {patient}, slot {grant}, amount {amount}");
			},
			ClaimCmd::Decide { patient, grant, approve } => {
				let keys = ctx.open_keys()?;
				let op = Operation::DecideClaim {
					patient,
					grant,
					approve: approve.is_some(),
					settled: approve.unwrap_or(0),
				};
				let what = describe(&op);
				let s = submit_and_wait(node, &keys, op, ctx.wait, &mut Stderr).await?;
				print_submitted(&mut out, what, &s);
				let _ = match approve {
					Some(a) => writeln!(out, "decision:    approved, {a} settled"),
					None => writeln!(out, "decision:    rejected"),
				};
			},
			ClaimCmd::List { patient } => {
				let claims: Vec<_> = node
					.grants(patient)
					.await?
					.into_iter()
					.filter(|g| g.grant.claim_status != StoredClaimStatus::None)
					.collect();
				let _ = writeln!(out, "patient {patient}: {} claim(s)", claims.len());
				for c in claims {
					let g = c.grant;
					let _ = writeln!(
						out,
						"  slot {:>3}  insurer {:>6}  {:<9} amount {} settled {}",
						c.slot,
						g.grantee,
						claim_name(g.claim_status),
						g.claim_amount,
						g.settled
					);
				}
			},
		}
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_claim_names_its_record_by_cid_or_digest() {
		let hex64 = "11".repeat(32);
		assert_eq!(record_digest(&hex64).unwrap(), [0x11; 32]);
		let cid = emr_client::unixfs::cid_of(b"record");
		assert_eq!(record_digest(&cid.to_string()).unwrap().as_slice(), cid.hash().digest());
		assert!(record_digest("nonsense").is_err());
	}
}
