//! `emr register`: a person registers its key set as a patient or a doctor.

use std::io::Write;

use clap::{Args, ValueEnum};
use emr_client::{
	chain::{ChainError, Level, NodeClient},
	records_on_chain::{wait_for, Wait},
	signing,
};
use emr_primitives::ops::Role;

use crate::context::{CliError, Context, Stderr};

/// A role a person registers with.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PersonRole {
	/// A patient.
	Patient,
	/// A doctor (acts for a hospital once the hospital credentials it).
	Doctor,
}

/// `emr register`.
#[derive(Args, Debug)]
pub struct RegisterCmd {
	/// The role.
	#[arg(long, value_enum, default_value = "patient")]
	role: PersonRole,
}

impl RegisterCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		let keys = ctx.open_keys()?;
		let public = keys.public.rollup.to_bytes();
		if let Some(id) = node.participant_id(&public).await? {
			return Err(CliError::Usage(format!(
				"key set {:?} is already registered on this chain as participant {id}",
				keys.public.name
			)));
		}
		let role = match self.role {
			PersonRole::Patient => Role::Patient,
			PersonRole::Doctor => Role::Doctor,
		};
		let deployment = node.deployment().await?;
		let signed = signing::register(&keys, role, &deployment);
		node.submit(&signed).await?;
		eprintln!("… registration of {:?} as a {role:?} submitted", keys.public.name);
		// The id is waited for as long as an inclusion (the chain assigns it when included).
		let timeout = Wait::new(Level::Included, ctx.wait_timeout).timeout;
		let id = node.wait_registered(&public, timeout).await?.ok_or(ChainError::Dropped)?;
		eprintln!("… the chain gave {:?} participant id {id}", keys.public.name);
		let status = wait_for(node, ctx.wait, id, 0, &mut Stderr).await?;
		let _ = writeln!(out, "registration: {status}");
		let _ = writeln!(out, "participant: {id}");
		let _ = writeln!(out, "role:        {role:?}");
		Ok(())
	}
}
