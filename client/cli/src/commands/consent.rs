//! `emr consent …`: a patient grants, revokes and lists consent.

use std::io::Write;

use clap::Subcommand;
use emr_client::{
	chain::NodeClient,
	records_on_chain::{describe, grant_slot, submit_and_wait, WorkflowError},
};
use emr_primitives::{
	names::{bit_names, PERMISSIONS, PURPOSES},
	ops::{scope, GrantId, Operation, ParticipantId},
	stored::StoredClaimStatus,
};

use super::{names_to_bits, print_submitted};
use crate::context::{CliError, Context, Stderr};

/// `emr consent …` (grant and revoke with the patient's key set).
#[derive(Subcommand, Debug)]
pub enum ConsentCmd {
	/// Give a participant access to your records.
	Grant {
		/// Who receives it: a participant id (a hospital's grant covers its doctors).
		#[arg(long = "to", value_name = "ID")]
		to: ParticipantId,
		/// Comma-separated: read, write, claim.
		#[arg(long, value_name = "LIST", default_value = "read")]
		permissions: String,
		/// Comma-separated: treatment, research, insurance, emergency, audit.
		#[arg(long, value_name = "LIST", default_value = "treatment")]
		purposes: String,
		/// Record categories (bits); default every category.
		#[arg(long, value_name = "BITS")]
		scope: Option<u32>,
		/// How long it holds: e.g. 30d, 12h, 90m, 600s (or `block:N` for an exact block).
		#[arg(long, value_name = "DURATION", default_value = "30d")]
		expires: String,
		/// The consent slot to use (default: the lowest free one).
		#[arg(long)]
		slot: Option<GrantId>,
	},
	/// Withdraw a grant (by its slot, as `consent list` shows).
	Revoke {
		/// The grant's slot.
		slot: GrantId,
	},
	/// List a patient's grants (default: your own).
	List {
		/// The patient's participant id.
		#[arg(long)]
		patient: Option<ParticipantId>,
	},
}

/// A duration in seconds from `30d`, `12h`, `90m` or `600s`.
pub fn parse_duration(s: &str) -> Result<u64, CliError> {
	let bad = || CliError::Usage(format!("{s:?} is not a duration: use e.g. 30d, 12h, 90m, 600s"));
	let s = s.trim();
	let unit = s.chars().last().ok_or_else(bad)?;
	let mult = match unit {
		'd' => 86_400,
		'h' => 3_600,
		'm' => 60,
		's' => 1,
		_ => return Err(bad()),
	};
	let n: u64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
	n.checked_mul(mult).filter(|&v| v > 0).ok_or_else(bad)
}

/// The claim status as a word (`Open`, `Approved`, `Rejected`).
pub fn claim_name(status: StoredClaimStatus) -> String {
	format!("{status:?}")
}

impl ConsentCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		match self {
			ConsentCmd::Grant { to, permissions, purposes, scope, expires, slot } => {
				let permissions = names_to_bits(&permissions, &PERMISSIONS, "permission")?;
				let purposes = names_to_bits(&purposes, &PURPOSES, "purpose")?;
				let keys = ctx.open_keys()?;
				let me = node.me(&keys.public).await?;
				node.existing(to).await?;
				let now = node.best_block().await?;
				let expires_at = match expires.strip_prefix("block:") {
					Some(n) => n
						.parse()
						.map_err(|_| CliError::Usage(format!("{expires:?}: block:N expected")))?,
					None => {
						let secs = parse_duration(&expires)?;
						let ms = node.block_time_ms().await?;
						let blocks = (secs * 1000).div_ceil(ms);
						now.saturating_add(u32::try_from(blocks).unwrap_or(u32::MAX))
					},
				};
				let slot = match slot {
					Some(s) => s,
					None => match grant_slot(node, me.id, now).await {
						Err(WorkflowError::NoFreeSlot) => {
							return Err(CliError::Usage(
								"every consent slot holds a live grant: revoke one first".into(),
							))
						},
						other => other?,
					},
				};
				let op = Operation::GrantConsent {
					grantee: to,
					permissions,
					purposes,
					scope: scope.unwrap_or(scope::ALL),
					expires_at,
					slot,
				};
				let what = describe(&op);
				let s = submit_and_wait(node, &keys, op, ctx.wait, &mut Stderr).await?;
				print_submitted(&mut out, what, &s);
				let _ = writeln!(out, "slot:        {slot}");
				let _ = writeln!(out, "expires at:  block #{expires_at}");
			},
			ConsentCmd::Revoke { slot } => {
				let keys = ctx.open_keys()?;
				let op = Operation::RevokeConsent { grant: slot };
				let what = describe(&op);
				let s = submit_and_wait(node, &keys, op, ctx.wait, &mut Stderr).await?;
				print_submitted(&mut out, what, &s);
			},
			ConsentCmd::List { patient } => {
				let patient = match patient {
					Some(p) => p,
					None => node.me(&ctx.keystore.public(&ctx.cli_key)?).await?.id,
				};
				let now = node.best_block().await?;
				let grants = node.grants(patient).await?;
				let _ =
					writeln!(out, "patient {patient}: {} grant(s) at block #{now}", grants.len());
				for g in grants {
					let (slot, emergency, g) = (g.slot, g.emergency, g.grant);
					let state = if now >= g.expires_at { "expired" } else { "active" };
					let names = |bits, table| bit_names(bits, table).collect::<Vec<_>>().join(",");
					let _ = writeln!(
						out,
						"  slot {:>3}  to {:>6}  {:<16} {:<28} until block #{} ({state}){}{}",
						slot,
						g.grantee,
						names(g.permissions, &PERMISSIONS),
						names(g.purposes, &PURPOSES),
						g.expires_at,
						if emergency { "  EMERGENCY" } else { "" },
						if g.claim_status != StoredClaimStatus::None {
							format!("  claim {}", claim_name(g.claim_status))
						} else {
							String::new()
						},
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
	fn durations_in_human_units() {
		assert_eq!(parse_duration("30d").unwrap(), 30 * 86_400);
		assert_eq!(parse_duration("12h").unwrap(), 43_200);
		assert_eq!(parse_duration("90m").unwrap(), 5_400);
		assert_eq!(parse_duration("600s").unwrap(), 600);
		for bad in ["", "30", "d", "0d", "-1h", "1.5h", "1w"] {
			assert!(parse_duration(bad).is_err(), "{bad:?}");
		}
	}
}
