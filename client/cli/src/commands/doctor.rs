//! `emr doctor …`: a hospital credentials and revokes doctors.

use clap::Subcommand;
use emr_client::{
	chain::{ChainError, NodeClient},
	records_on_chain::{describe, submit_and_wait},
};
use emr_primitives::{
	ops::{Operation, ParticipantId, Role},
	rules::RuleError,
};

use super::print_submitted;
use crate::context::{CliError, Context, Stderr};

/// `emr doctor …` (run with a hospital's key set).
#[derive(Subcommand, Debug)]
pub enum DoctorCmd {
	/// Credential a registered doctor for your hospital.
	Credential {
		/// The doctor's participant id.
		doctor: ParticipantId,
	},
	/// Revoke a doctor's credential.
	Revoke {
		/// The doctor's participant id.
		doctor: ParticipantId,
	},
}

impl DoctorCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let keys = ctx.open_keys()?;
		let op = match self {
			DoctorCmd::Credential { doctor } => {
				let d = node.existing(doctor).await?;
				if d.participant.role != Role::Doctor {
					return Err(ChainError::Refused { rule: RuleError::NotADoctor }.into());
				}
				Operation::CredentialDoctor { doctor }
			},
			DoctorCmd::Revoke { doctor } => Operation::RevokeCredential { doctor },
		};
		let what = describe(&op);
		let s = submit_and_wait(node, &keys, op, ctx.wait, &mut Stderr).await?;
		print_submitted(&mut std::io::stdout().lock(), what, &s);
		Ok(())
	}
}
