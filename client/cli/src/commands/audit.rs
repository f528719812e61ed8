//! `emr audit`: proven batches checked against their operations, proof and L1, or a patient's
//! access log and grants against a storage proof.

use std::{io::Write, path::PathBuf, time::Duration};

use clap::Args;
use emr_client::{
	audit::{self, AuditError, PatientEvidence, PatientState, SavedEvidence},
	chain::{At, NodeClient},
};
use emr_primitives::ops::ParticipantId;

use crate::context::{io_err, CliError};

/// `emr audit`.
#[derive(Args, Debug)]
pub struct AuditCmd {
	/// A batch to check (repeatable; default every proven batch).
	#[arg(long)]
	batch: Vec<u64>,
	/// An Ethereum node's JSON-RPC address: also check each batch's settlement there.
	#[arg(long, value_name = "URL")]
	l1: Option<String>,
	/// Save the evidence gathered to this JSON file (to check again later or elsewhere).
	#[arg(long, value_name = "FILE")]
	save: Option<PathBuf>,
	/// Check evidence saved earlier instead of asking the nodes.
	#[arg(long, value_name = "FILE", conflicts_with_all = ["batch", "l1", "save", "patient"])]
	evidence: Option<PathBuf>,
	/// Check this patient's access log and grants instead: a storage proof (from the node)
	/// against the state root of the latest finalized block (from the light client with
	/// --light, else from the node), and the chain's own answer at that block.
	#[arg(long, value_name = "ID", conflicts_with_all = ["batch", "l1"])]
	patient: Option<ParticipantId>,
}

impl AuditCmd {
	/// Runs it.
	pub async fn execute(self, node: &NodeClient) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		let AuditCmd { batch, l1, save, evidence, patient } = self;
		if let Some(patient) = patient {
			return audit_patient(&mut out, node, patient, save).await;
		}
		let evidence = match evidence {
			Some(path) => {
				let text = std::fs::read_to_string(&path)
					.map_err(io_err("reading the evidence", &path))?;
				match SavedEvidence::from_file(&path.display().to_string(), &text)? {
					SavedEvidence::Patient(e) => {
						let proven = audit::check_patient(&e)?;
						report_patient(&mut out, &e, &proven);
						let _ = writeln!(
							out,
							"audit: patient {}'s access log and grants agree with the storage proof",
							e.patient
						);
						return Ok(());
					},
					SavedEvidence::Batches(e) => e,
				}
			},
			None => {
				let eth =
					l1.map(|url| NodeClient::new(&url, Duration::from_secs(30))).transpose()?;
				let e = audit::collect(node, &batch, eth.as_ref()).await?;
				if let Some(path) = save {
					std::fs::write(&path, e.to_file())
						.map_err(io_err("writing the evidence", &path))?;
					eprintln!("… evidence saved to {}", path.display());
				}
				e
			},
		};
		if evidence.batches.is_empty() {
			return Err(CliError::Usage("no batch is proven yet: nothing to audit".into()));
		}
		for line in audit::check(&evidence)? {
			let _ = writeln!(out, "{line}");
		}
		let _ = writeln!(out, "audit: {} batch(es) agree", evidence.batches.len());
		Ok(())
	}
}

/// A patient's log and grants: the storage proof, then the chain's own answer at that block.
async fn audit_patient(
	out: &mut impl Write,
	node: &NodeClient,
	patient: ParticipantId,
	save: Option<PathBuf>,
) -> Result<(), CliError> {
	let state = node.state().await?;
	let e = audit::collect_patient(node, state, patient).await?;
	if let Some(path) = save {
		std::fs::write(&path, e.to_file()).map_err(io_err("writing the evidence", &path))?;
		eprintln!("… evidence saved to {}", path.display());
	}
	let proven = audit::check_patient(&e)?;
	report_patient(out, &e, &proven);
	// The chain's own answer at that block (through the light client: run by it).
	let at = At { number: e.block, hash: e.hash };
	if state.whole_log(&at, patient).await? != proven.log {
		return Err(AuditError::Patient {
			patient,
			what: format!(
				"{} answers with an access log that differs from the proven one",
				state.via()
			),
		}
		.into());
	}
	// What a grant holds (the emergency flag is the chain's answer alone, not in the proof).
	let said: Vec<_> = state
		.grants(&at, patient)
		.await?
		.into_iter()
		.map(|g| {
			let g2 = &g.grant;
			(
				g.slot,
				g2.grantee,
				g2.permissions,
				g2.purposes,
				g2.scope,
				g2.expires_at,
				g2.claim_status,
			)
		})
		.collect();
	let proven: Vec<_> = proven
		.grants
		.iter()
		.map(|(slot, g)| {
			(*slot, g.grantee, g.permissions, g.purposes, g.scope, g.expires_at, g.claim_status)
		})
		.collect();
	if said != proven {
		return Err(AuditError::Patient {
			patient,
			what: format!("{} answers with grants that differ from the proven ones", state.via()),
		}
		.into());
	}
	let _ = writeln!(
		out,
		"audit: patient {patient}'s access log and grants agree with the storage proof \
		 (and with {})",
		state.via()
	);
	Ok(())
}

/// What a patient's evidence proved, a line each.
fn report_patient(out: &mut impl Write, e: &PatientEvidence, proven: &PatientState) {
	let _ = writeln!(
		out,
		"patient {} at finalized block #{} ({}): the storage proof ({} trie nodes) holds against \
		 the block's state root",
		e.patient,
		e.block,
		hex::encode(e.hash),
		e.proof.len()
	);
	let _ = writeln!(out, "  access log: {} entries, every one in the proof", proven.log.len());
	let _ = writeln!(
		out,
		"  grants:     {} held in {} slot(s) ever used",
		proven.grants.len(),
		e.grant_slots
	);
}
