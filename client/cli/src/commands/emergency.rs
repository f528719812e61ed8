//! `emr emergency`: a doctor opens emergency access, co-signed by its hospital.

use std::io::Write;

use clap::Args;
use emr_client::{
	chain::NodeClient,
	records_on_chain::{grant_slot, wait_for},
	signing,
};
use emr_primitives::ops::{Operation, ParticipantId};

use crate::context::{CliError, Context, Stderr};

/// `emr emergency`.
#[derive(Args, Debug)]
pub struct EmergencyCmd {
	/// The patient's participant id.
	#[arg(long)]
	patient: ParticipantId,
	/// Reason code from the hospital's catalogue (not zero).
	#[arg(long)]
	reason: u16,
	/// The hospital's key set (in the same keystore, with the same passphrase source).
	#[arg(long, value_name = "NAME")]
	hospital_key: String,
}

impl EmergencyCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let EmergencyCmd { patient, reason, hospital_key } = self;
		let mut out = std::io::stdout().lock();
		let keys = ctx.open_keys()?;
		let hospital = ctx.open_named_keys(&hospital_key)?;
		let me = node.me(&keys.public).await?;
		node.existing(patient).await?;
		let now = node.best_block().await?;
		let slot = grant_slot(node, patient, now).await?;
		let deployment = node.deployment().await?;
		let op = Operation::EmergencyAccess { patient, reason, slot };
		let signed =
			signing::cosign(&keys, &hospital, me.id, me.participant.nonce, op, &deployment)
				.map_err(|_| CliError::Usage("the co-signing session failed; retry".into()))?;
		node.submit(&signed).await?;
		eprintln!(
			"… emergency access to patient {patient} submitted by doctor {} with {hospital_key:?} (reason {reason})",
			me.id
		);
		let status = wait_for(node, ctx.wait, signed.actor, signed.nonce, &mut Stderr).await?;
		let _ = writeln!(out, "emergency access: {status}");
		let _ = writeln!(out, "operation:   {} {}", signed.actor, signed.nonce);
		let _ = writeln!(out, "slot:        {slot} (flagged for the patient's review)");
		Ok(())
	}
}
