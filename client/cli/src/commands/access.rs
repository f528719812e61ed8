//! `emr access`: the logged access attempt, GRANTED or DENIED.

use std::io::Write;

use clap::Args;
use emr_client::{
	chain::{read::LogOutcome, NodeClient},
	keys::KeySet,
	records_on_chain::{self, AccessAttempt},
};
use emr_primitives::{names::PURPOSES, ops::ParticipantId};

use super::{names_to_bits, print_submitted};
use crate::context::{CliError, Context, Stderr};

/// `emr access`.
#[derive(Args, Debug)]
pub struct AccessCmd {
	/// The patient's participant id.
	#[arg(long)]
	patient: ParticipantId,
	/// Why: treatment, research, insurance, emergency or audit.
	#[arg(long, default_value = "treatment")]
	purpose: String,
	/// Record categories (bits); default every category.
	#[arg(long, value_name = "BITS")]
	scope: Option<u32>,
}

impl AccessCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let keys = ctx.open_keys()?;
		let mut out = std::io::stdout().lock();
		access(ctx, node, &mut out, &keys, self.patient, &self.purpose, self.scope).await
	}
}

/// The word the access log uses for an outcome.
pub fn outcome_name(outcome: &LogOutcome) -> &'static str {
	match outcome {
		LogOutcome::Recorded => "RECORDED",
		LogOutcome::Granted => "GRANTED",
		LogOutcome::Denied => "DENIED",
	}
}

/// The logged access attempt before a read, printed to `out`; fails unless it was GRANTED.
pub async fn access(
	ctx: &Context,
	node: &NodeClient,
	out: &mut impl Write,
	keys: &KeySet,
	patient: ParticipantId,
	purpose: &str,
	scope: Option<u32>,
) -> Result<(), CliError> {
	let wanted = names_to_bits(purpose, &PURPOSES, "purpose")?;
	if wanted.count_ones() != 1 {
		return Err(CliError::Usage("an access names exactly one purpose".into()));
	}
	let attempt: AccessAttempt =
		records_on_chain::access(node, keys, patient, wanted, scope, ctx.wait, &mut Stderr).await?;
	print_submitted(out, "access", &attempt.submitted);
	let _ = writeln!(
		out,
		"outcome:     {}",
		attempt.outcome.as_ref().map(outcome_name).unwrap_or("unknown")
	);
	if !attempt.granted() {
		return Err(CliError::Usage(format!(
			"access refused: patient {patient} has not shared these records with you for this purpose, or the consent expired or was revoked (your attempt is in the patient's access log)"
		)));
	}
	Ok(())
}
