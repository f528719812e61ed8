//! The `emr` commands that act on the chain (register, doctors, consent, access, emergency,
//! claims, the access log, operation status), over [`crate::chain::NodeClient`].

use std::{io::Write, time::Duration};

use clap::{Args, Subcommand, ValueEnum};
use emr_primitives::{
	names::{PERMISSIONS, PURPOSES},
	ops::{scope, GrantId, Operation, ParticipantId, Role, SignedOp},
	schnorr::cosign,
	stored::StoredClaimStatus,
};
use rand::RngCore;
use serde_json::Value;

use super::{CliError, Context};
use crate::{
	audit::{self, AuditError, Evidence, PatientEvidence},
	chain::{free_slot, ChainError, GrantInfo, Level, NodeClient, OpStatus},
	client::Client,
	ids::{PatientId, Reader},
	keys::KeySet,
	state::{grant_info, At},
	storage::Storage,
};

/// How far a submitting command waits (global options).
#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
	/// Wait until the operation is included, finalized (GRANDPA), proven (its batch's proof
	/// verified on chain) or settled (on Ethereum).
	#[arg(long, global = true, value_name = "LEVEL", default_value = "finalized")]
	pub wait: Level,
	/// Give up waiting after this many seconds (default: 60 for included, 120 finalized,
	/// 900 proven, 1200 settled).
	#[arg(long, global = true, value_name = "SECS")]
	pub wait_timeout: Option<u64>,
}

/// A role a person registers with.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PersonRole {
	/// A patient.
	Patient,
	/// A doctor (acts for a hospital once the hospital credentials it).
	Doctor,
}

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

/// The chain commands.
#[derive(Subcommand, Debug)]
pub enum ChainCmd {
	/// Register this key set on the chain as a patient or a doctor (no tokens needed).
	Register {
		/// The role.
		#[arg(long, value_enum, default_value = "patient")]
		role: PersonRole,
	},
	/// Show this key set's participant on the chain.
	Whoami,
	/// Hospitals: credential and revoke doctors.
	#[command(subcommand)]
	Doctor(DoctorCmd),
	/// Patients: share access to your records, withdraw it, list it.
	#[command(subcommand)]
	Consent(ConsentCmd),
	/// Ask to read a patient's records: the attempt is logged on chain, GRANTED or DENIED.
	Access {
		/// The patient's participant id.
		#[arg(long)]
		patient: ParticipantId,
		/// Why: treatment, research, insurance, emergency or audit.
		#[arg(long, default_value = "treatment")]
		purpose: String,
		/// Record categories (bits); default every category.
		#[arg(long, value_name = "BITS")]
		scope: Option<u32>,
	},
	/// Doctors: open emergency access to a patient, co-signed by your hospital (this command
	/// holds both key sets: yours and the hospital's, named by --hospital-key).
	Emergency {
		/// The patient's participant id.
		#[arg(long)]
		patient: ParticipantId,
		/// Reason code from the hospital's catalogue (not zero).
		#[arg(long)]
		reason: u16,
		/// The hospital's key set (in the same keystore, with the same passphrase source).
		#[arg(long, value_name = "NAME")]
		hospital_key: String,
	},
	/// Insurers: file, decide and list claims.
	#[command(subcommand)]
	Claim(ClaimCmd),
	/// A patient's access log: who did what, when, why, and the outcome (default: yours).
	Log {
		/// The patient's participant id.
		#[arg(long)]
		patient: Option<ParticipantId>,
		/// Show at most this many of the newest entries.
		#[arg(long, default_value_t = 50)]
		last: u32,
	},
	/// Auditors and patients: check proven batches (their operations, their Groth16 proof with
	/// the verifying key from the chain, the chain of roots) and, with --l1, that Ethereum
	/// settled the same roots. Exits non-zero with the reason when anything disagrees.
	Audit {
		/// A batch to check (repeatable; default every proven batch).
		#[arg(long)]
		batch: Vec<u64>,
		/// An Ethereum node's JSON-RPC address: also check each batch's settlement there.
		#[arg(long, value_name = "URL")]
		l1: Option<String>,
		/// Save the evidence gathered to this JSON file (to check again later or elsewhere).
		#[arg(long, value_name = "FILE")]
		save: Option<std::path::PathBuf>,
		/// Check evidence saved earlier instead of asking the nodes.
		#[arg(long, value_name = "FILE", conflicts_with_all = ["batch", "l1", "save", "patient"])]
		evidence: Option<std::path::PathBuf>,
		/// Check this patient's access log and grants instead: a storage proof (from the node)
		/// against the state root of the latest finalized block (from the light client with
		/// --light, else from the node), and the chain's own answer at that block.
		#[arg(long, value_name = "ID", conflicts_with_all = ["batch", "l1"])]
		patient: Option<ParticipantId>,
	},
	/// Where an earlier operation stands (included, finalized, proven, settled).
	Status {
		/// The acting participant's id.
		actor: ParticipantId,
		/// The nonce it used.
		nonce: u32,
	},
}

fn names_to_bits(list: &str, table: &[(&str, u8)], what: &str) -> Result<u8, CliError> {
	let mut bits = 0;
	for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
		let bit =
			table.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, b)| *b).ok_or_else(
				|| {
					CliError::Usage(format!(
						"unknown {what} {name:?}: expected {}",
						table.iter().map(|(n, _)| n.to_lowercase()).collect::<Vec<_>>().join(", ")
					))
				},
			)?;
		bits |= bit;
	}
	if bits == 0 {
		return Err(CliError::Usage(format!("name at least one {what}")));
	}
	Ok(bits)
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

fn record_digest(s: &str) -> Result<[u8; 32], CliError> {
	let s = s.trim();
	if let Ok(bytes) = hex::decode(s.trim_start_matches("0x")) {
		if let Ok(d) = <[u8; 32]>::try_from(bytes) {
			return Ok(d);
		}
	}
	let cid = super::parse_cid(s)?;
	<[u8; 32]>::try_from(cid.hash().digest())
		.map_err(|_| CliError::Usage(format!("the CID {s} does not carry a 32-byte digest")))
}

/// Submits, then waits for the level asked for, printing each level reached.
async fn submit_and_wait(
	node: &NodeClient,
	wait: &WaitArgs,
	out: &mut impl Write,
	keys: &KeySet,
	op: Operation,
) -> Result<(SignedOp, OpStatus), CliError> {
	let kind = op_name(&op);
	let signed = node.submit_as(keys, op).await?;
	eprintln!("… {kind} submitted by participant {} (nonce {})", signed.actor, signed.nonce);
	let status = wait_for(node, wait, signed.actor, signed.nonce).await?;
	let _ = writeln!(out, "{kind}: {status}");
	let _ = writeln!(out, "operation:   {} {}", signed.actor, signed.nonce);
	Ok((signed, status))
}

async fn wait_for(
	node: &NodeClient,
	wait: &WaitArgs,
	actor: ParticipantId,
	nonce: u32,
) -> Result<OpStatus, CliError> {
	let timeout =
		wait.wait_timeout.map(Duration::from_secs).unwrap_or_else(|| wait.wait.default_timeout());
	Ok(node
		.wait(actor, nonce, wait.wait, timeout, |s| {
			if s.level < wait.wait {
				eprintln!("… {s}");
			}
		})
		.await?)
}

fn op_name(op: &Operation) -> &'static str {
	match op {
		Operation::AdmitMember { .. } => "admission",
		Operation::RemoveMember => "removal",
		Operation::Register { .. } => "registration",
		Operation::CredentialDoctor { .. } => "credential",
		Operation::RevokeCredential { .. } => "credential revocation",
		Operation::AppendRecord { .. } => "record index update",
		Operation::GrantConsent { .. } => "consent",
		Operation::RevokeConsent { .. } => "consent revocation",
		Operation::AccessRecord { .. } => "access",
		Operation::EmergencyAccess { .. } => "emergency access",
		Operation::SubmitClaim { .. } => "claim",
		Operation::DecideClaim { .. } => "claim decision",
	}
}

/// Runs a chain command.
pub(super) async fn run(
	ctx: &Context,
	node: &NodeClient,
	wait: &WaitArgs,
	cmd: ChainCmd,
) -> Result<(), CliError> {
	let mut out = std::io::stdout().lock();
	match cmd {
		ChainCmd::Register { role } => {
			let keys = ctx.open_keys()?;
			let public = keys.public.rollup.to_bytes();
			if let Some(id) = node.participant_id(&public).await? {
				return Err(CliError::Usage(format!(
					"key set {:?} is already registered on this chain as participant {id}",
					keys.public.name
				)));
			}
			let role = match role {
				PersonRole::Patient => Role::Patient,
				PersonRole::Doctor => Role::Doctor,
			};
			let deployment = node.deployment().await?;
			let op = Operation::Register {
				role,
				public_key: public,
				encryption_key: keys.public.encryption,
			};
			let signed = SignedOp { actor: 0, nonce: 0, op, signature: [0; 64] }
				.sign(&keys.rollup_secret(), &deployment);
			node.submit(&signed).await?;
			eprintln!("… registration of {:?} as a {role:?} submitted", keys.public.name);
			let timeout = wait
				.wait_timeout
				.map(Duration::from_secs)
				.unwrap_or_else(|| Level::Included.default_timeout());
			let id = node.wait_registered(&public, timeout).await?.ok_or(ChainError::Dropped)?;
			eprintln!("… the chain gave {:?} participant id {id}", keys.public.name);
			let status = wait_for(node, wait, id, 0).await?;
			let _ = writeln!(out, "registration: {status}");
			let _ = writeln!(out, "participant: {id}");
			let _ = writeln!(out, "role:        {role:?}");
		},
		ChainCmd::Whoami => {
			let keys = ctx.keystore.public(&ctx.cli_key)?;
			let id = node.participant_id(&keys.rollup.to_bytes()).await?;
			let Some(id) = id else {
				return Err(ChainError::NotRegistered { name: keys.name }.into());
			};
			let p = node.existing(id).await?;
			let _ = writeln!(out, "participant: {id}");
			let _ = writeln!(out, "role:        {}", p.role);
			let _ = writeln!(out, "active:      {}", p.active);
			let _ = writeln!(out, "next nonce:  {}", p.nonce);
			if let Some(h) = p.affiliation {
				let _ = writeln!(out, "hospital:    {h}");
			} else if p.credential_lapsed {
				let _ = writeln!(out, "hospital:    none (its hospital was removed)");
			}
		},
		ChainCmd::Doctor(cmd) => {
			let keys = ctx.open_keys()?;
			let op = match cmd {
				DoctorCmd::Credential { doctor } => {
					let d = node.existing(doctor).await?;
					if d.role != "Doctor" {
						return Err(ChainError::Refused { rule: "NotADoctor".into() }.into());
					}
					Operation::CredentialDoctor { doctor }
				},
				DoctorCmd::Revoke { doctor } => Operation::RevokeCredential { doctor },
			};
			submit_and_wait(node, wait, &mut out, &keys, op).await?;
		},
		ChainCmd::Consent(ConsentCmd::Grant {
			to,
			permissions,
			purposes,
			scope,
			expires,
			slot,
		}) => {
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
				None => free_slot(me.id, &node.grants(me.id).await?, now).ok_or_else(|| {
					CliError::Usage(
						"every consent slot holds a live grant: revoke one first".into(),
					)
				})?,
			};
			let op = Operation::GrantConsent {
				grantee: to,
				permissions,
				purposes,
				scope: scope.unwrap_or(scope::ALL),
				expires_at,
				slot,
			};
			submit_and_wait(node, wait, &mut out, &keys, op).await?;
			let _ = writeln!(out, "slot:        {slot}");
			let _ = writeln!(out, "expires at:  block #{expires_at}");
		},
		ChainCmd::Consent(ConsentCmd::Revoke { slot }) => {
			let keys = ctx.open_keys()?;
			submit_and_wait(node, wait, &mut out, &keys, Operation::RevokeConsent { grant: slot })
				.await?;
		},
		ChainCmd::Consent(ConsentCmd::List { patient }) => {
			let patient = match patient {
				Some(p) => p,
				None => node.me(&ctx.keystore.public(&ctx.cli_key)?).await?.id,
			};
			let now = node.best_block().await?;
			let grants = node.grants(patient).await?;
			let _ = writeln!(out, "patient {patient}: {} grant(s) at block #{now}", grants.len());
			for g in grants {
				let state = if now >= g.expires_at { "expired" } else { "active" };
				let _ = writeln!(
					out,
					"  slot {:>3}  to {:>6}  {:<16} {:<28} until block #{} ({state}){}{}",
					g.slot,
					g.grantee,
					g.permissions.join(","),
					g.purposes.join(","),
					g.expires_at,
					if g.emergency { "  EMERGENCY" } else { "" },
					if g.claim != "None" { format!("  claim {}", g.claim) } else { String::new() },
				);
			}
		},
		ChainCmd::Access { patient, purpose, scope } => {
			let keys = ctx.open_keys()?;
			access(node, wait, &mut out, &keys, patient, &purpose, scope).await?;
		},
		ChainCmd::Emergency { patient, reason, hospital_key } => {
			let keys = ctx.open_keys()?;
			let hospital = ctx.open_named_keys(&hospital_key)?;
			let me = node.me(&keys.public).await?;
			node.existing(patient).await?;
			let now = node.best_block().await?;
			let slot = free_slot(patient, &node.grants(patient).await?, now).ok_or_else(|| {
				CliError::Usage("every consent slot of this patient holds a live grant".into())
			})?;
			let deployment = node.deployment().await?;
			let mut signed = SignedOp {
				actor: me.id,
				nonce: me.nonce,
				op: Operation::EmergencyAccess { patient, reason, slot },
				signature: [0; 64],
			};
			let msg = signed.signed_message(&deployment);
			let (doctor_key, hospital_secret) = (keys.rollup_secret(), hospital.rollup_secret());
			let joint = doctor_key.public().joint(&hospital_secret.public());
			// Two rounds: both signers commit to fresh nonces, then answer the session.
			let fresh = || {
				let mut r = [0u8; 32];
				rand::rngs::OsRng.fill_bytes(&mut r);
				r
			};
			let (n1, p1) = cosign::commit(&doctor_key, &fresh(), msg);
			let (n2, p2) = cosign::commit(&hospital_secret, &fresh(), msg);
			let session = cosign::Session::new(&joint, &[p1, p2], msg)
				.map_err(|_| CliError::Usage("the co-signing session failed; retry".into()))?;
			let shares = [
				cosign::respond(&doctor_key, n1, &session),
				cosign::respond(&hospital_secret, n2, &session),
			];
			signed.signature = cosign::combine(&session, &shares).to_bytes();
			node.submit(&signed).await?;
			eprintln!(
				"… emergency access to patient {patient} submitted by doctor {} with {hospital_key:?} (reason {reason})",
				me.id
			);
			let status = wait_for(node, wait, signed.actor, signed.nonce).await?;
			let _ = writeln!(out, "emergency access: {status}");
			let _ = writeln!(out, "operation:   {} {}", signed.actor, signed.nonce);
			let _ = writeln!(out, "slot:        {slot} (flagged for the patient's review)");
		},
		ChainCmd::Claim(ClaimCmd::Submit { patient, amount, record, grant }) => {
			let record = record_digest(&record)?;
			let keys = ctx.open_keys()?;
			let me = node.me(&keys.public).await?;
			let now = node.best_block().await?;
			let grant = match grant {
				Some(g) => g,
				None => node
					.grants(patient)
					.await?
					.into_iter()
					.find(|g| g.allows(&[me.id], "CLAIM", None, now))
					.map(|g| g.slot)
					.ok_or(ChainError::Refused { rule: "NoClaimGrant".into() })?,
			};
			let op = Operation::SubmitClaim { patient, grant, record, amount };
			submit_and_wait(node, wait, &mut out, &keys, op).await?;
			let _ = writeln!(out, "claim:       patient {patient}, slot {grant}, amount {amount}");
		},
		ChainCmd::Claim(ClaimCmd::Decide { patient, grant, approve }) => {
			let keys = ctx.open_keys()?;
			let op = Operation::DecideClaim {
				patient,
				grant,
				approve: approve.is_some(),
				settled: approve.unwrap_or(0),
			};
			submit_and_wait(node, wait, &mut out, &keys, op).await?;
			let _ = match approve {
				Some(a) => writeln!(out, "decision:    approved, {a} settled"),
				None => writeln!(out, "decision:    rejected"),
			};
		},
		ChainCmd::Claim(ClaimCmd::List { patient }) => {
			let claims: Vec<_> = node
				.stored_grants(patient)
				.await?
				.into_iter()
				.filter(|(_, g, _)| g.claim_status != StoredClaimStatus::None)
				.collect();
			let _ = writeln!(out, "patient {patient}: {} claim(s)", claims.len());
			for (slot, g, _) in claims {
				let _ = writeln!(
					out,
					"  slot {slot:>3}  insurer {:>6}  {:<9} amount {} settled {}",
					g.grantee,
					format!("{:?}", g.claim_status),
					g.claim_amount,
					g.settled
				);
			}
		},
		ChainCmd::Log { patient, last } => {
			let patient = match patient {
				Some(p) => p,
				None => node.me(&ctx.keystore.public(&ctx.cli_key)?).await?.id,
			};
			let first = node.access_log(patient, 0, 1).await?;
			let total = first["total"].as_u64().unwrap_or(0) as u32;
			let from = total.saturating_sub(last.max(1));
			let page = node.access_log(patient, from, last.clamp(1, 1000)).await?;
			let _ = writeln!(
				out,
				"access log of patient {patient}: {total} entr{}{}",
				if total == 1 { "y" } else { "ies" },
				if from > 0 { format!(", the newest {}", total - from) } else { String::new() }
			);
			let _ = writeln!(
				out,
				"  {:>5}  {:>8}  {:>6}  {:<16} {:>5}  {:<10} outcome",
				"#", "block", "who", "what", "slot", "purpose"
			);
			for e in page["entries"].as_array().cloned().unwrap_or_default() {
				let _ = writeln!(
					out,
					"  {:>5}  {:>8}  {:>6}  {:<16} {:>5}  {:<10} {}",
					text(&e["index"]),
					text(&e["block"]),
					text(&e["actor"]),
					text(&e["operation"]),
					text(&e["grant"]),
					text(&e["purpose"]),
					text(&e["outcome"]),
				);
			}
		},
		ChainCmd::Audit { patient: Some(patient), save, .. } => {
			let state = node.state().await?;
			let e = audit::collect_patient(node, state, patient).await?;
			if let Some(path) = save {
				std::fs::write(&path, format!("{:#}\n", e.to_json()))
					.map_err(super::io_err("writing the evidence", &path))?;
				eprintln!("… evidence saved to {}", path.display());
			}
			let proven = audit::check_patient(&e)?;
			report_patient(&mut out, &e, &proven);
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
			let said: Vec<GrantInfo> = state.grants(&at, patient).await?;
			let proven: Vec<GrantInfo> =
				proven.grants.iter().map(|(slot, g)| grant_info(*slot, g)).collect();
			let key = |g: &GrantInfo| {
				(
					g.slot,
					g.grantee,
					g.permissions.clone(),
					g.purposes.clone(),
					g.scope,
					g.expires_at,
					g.claim.clone(),
				)
			};
			if said.iter().map(key).collect::<Vec<_>>()
				!= proven.iter().map(key).collect::<Vec<_>>()
			{
				return Err(AuditError::Patient {
					patient,
					what: format!(
						"{} answers with grants that differ from the proven ones",
						state.via()
					),
				}
				.into());
			}
			let _ = writeln!(
				out,
				"audit: patient {patient}'s access log and grants agree with the storage proof \
				 (and with {})",
				state.via()
			);
		},
		ChainCmd::Audit { batch, l1, save, evidence, patient: None } => {
			let evidence = match evidence {
				Some(path) => {
					let text = std::fs::read_to_string(&path)
						.map_err(super::io_err("reading the evidence", &path))?;
					let v: Value = serde_json::from_str(&text)
						.map_err(|e| AuditError::File(format!("{}: {e}", path.display())))?;
					if v.get("patient").is_some() {
						let e = PatientEvidence::from_json(&v)?;
						let proven = audit::check_patient(&e)?;
						report_patient(&mut out, &e, &proven);
						let _ = writeln!(
							out,
							"audit: patient {}'s access log and grants agree with the storage proof",
							e.patient
						);
						return Ok(());
					}
					Evidence::from_json(&v)?
				},
				None => {
					let eth =
						l1.map(|url| NodeClient::new(&url, Duration::from_secs(30))).transpose()?;
					let e = audit::collect(node, &batch, eth.as_ref()).await?;
					if let Some(path) = save {
						std::fs::write(&path, format!("{:#}\n", e.to_json()))
							.map_err(super::io_err("writing the evidence", &path))?;
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
		},
		ChainCmd::Status { actor, nonce } => {
			let s = node.status(actor, nonce).await?;
			let _ = writeln!(out, "operation {actor} {nonce}: {s}");
		},
	}
	Ok(())
}

/// What a patient's evidence proved, a line each.
fn report_patient(out: &mut impl Write, e: &PatientEvidence, proven: &audit::PatientState) {
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

/// A JSON value as plain text for a table cell (`-` for null).
fn text(v: &Value) -> String {
	match v {
		Value::String(s) => s.clone(),
		Value::Null => "-".into(),
		other => other.to_string(),
	}
}

/// The logged access attempt before a read: submits an `AccessRecord` naming the grant that
/// covers the caller (or its hospital) for `purpose`, waits, and fails unless it was GRANTED.
pub(super) async fn access(
	node: &NodeClient,
	wait: &WaitArgs,
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
	let me = node.me(&keys.public).await?;
	node.existing(patient).await?;
	let now = node.best_block().await?;
	let who: Vec<ParticipantId> = std::iter::once(me.id).chain(me.affiliation).collect();
	// The grant the request relies on; with none, slot 0 (the chain logs a DENIED attempt).
	let grant = node
		.grants(patient)
		.await?
		.into_iter()
		.find(|g| g.allows(&who, "READ", Some(purpose.trim()), now))
		.map(|g| g.slot)
		.unwrap_or(0);
	let op = Operation::AccessRecord {
		patient,
		grant,
		purpose: wanted,
		scope: scope.unwrap_or(scope::ALL),
	};
	let (signed, status) = submit_and_wait(node, wait, out, keys, op).await?;
	let outcome = access_outcome(node, patient, signed.actor, status.block).await?;
	let _ = writeln!(out, "outcome:     {outcome}");
	if outcome != "GRANTED" {
		return Err(CliError::Usage(format!(
			"access refused: patient {patient} has not shared these records with you for this purpose, or the consent expired or was revoked (your attempt is in the patient's access log)"
		)));
	}
	Ok(())
}

/// The reader entry of participant `id`: its encryption key from the chain's registry.
pub(super) async fn participant_reader(
	node: &NodeClient,
	id: ParticipantId,
) -> Result<Reader, CliError> {
	let p = node.existing(id).await?;
	let key = p
		.encryption_key
		.ok_or_else(|| CliError::Usage(format!("participant {id} registered no encryption key")))?;
	Ok(Reader { name: format!("participant-{id}"), key })
}

/// Makes the chain's head of `id`'s index the one `client` starts from; returns the index
/// version it had (0: no record yet).
pub(super) async fn adopt_chain_head<S: Storage>(
	node: &NodeClient,
	client: &Client<S>,
	patient: &PatientId,
	id: ParticipantId,
) -> Result<u32, CliError> {
	node.existing(id).await?;
	let (head, version) = match node.index_head(id).await? {
		None => (None, 0),
		Some((cid, version)) => {
			let cid = crate::storage::Cid::try_from(cid.0.as_slice())
				.map_err(|_| CliError::BadCid(format!("0x{}", hex::encode(&cid.0))))?;
			(Some(cid), version)
		},
	};
	client.adopt_head(patient, head.as_ref())?;
	eprintln!(
		"… index head of patient {id} from the chain: {}",
		head.map(|h| format!("{h} (version {version})")).unwrap_or_else(|| "none yet".into())
	);
	Ok(version)
}

/// Appends `head` as the new head of patient `id`'s index on chain, after `version` (the
/// version seen when the command started: someone else's write in between is refused).
pub(super) async fn append_head(
	node: &NodeClient,
	wait: &WaitArgs,
	out: &mut impl Write,
	keys: &KeySet,
	patient: ParticipantId,
	version: u32,
	head: &crate::storage::Cid,
) -> Result<OpStatus, CliError> {
	let me = node.me(&keys.public).await?;
	let grant = if me.id == patient {
		0
	} else {
		let now = node.best_block().await?;
		let who: Vec<ParticipantId> = std::iter::once(me.id).chain(me.affiliation).collect();
		node.grants(patient)
			.await?
			.into_iter()
			.find(|g| g.allows(&who, "WRITE", None, now))
			.map(|g| g.slot)
			.ok_or(ChainError::Refused { rule: "NoWriteGrant".into() })?
	};
	let op = Operation::AppendRecord {
		patient,
		grant,
		expected_version: version,
		index_head: emr_primitives::ops::Cid(head.to_bytes()),
	};
	Ok(submit_and_wait(node, wait, out, keys, op).await?.1)
}

/// The outcome the access log recorded for `actor`'s access to `patient` in `block` (the
/// newest such entry).
async fn access_outcome(
	node: &NodeClient,
	patient: ParticipantId,
	actor: ParticipantId,
	block: Option<u64>,
) -> Result<String, CliError> {
	let first = node.access_log(patient, 0, 1).await?;
	let total = first["total"].as_u64().unwrap_or(0) as u32;
	let page = node.access_log(patient, total.saturating_sub(100), 100).await?;
	let entries = page["entries"].as_array().cloned().unwrap_or_default();
	Ok(entries
		.iter()
		.rev()
		.find(|e| {
			e["actor"].as_u64() == Some(actor as u64)
				&& e["operation"] == "AccessRecord"
				&& (block.is_none() || e["block"].as_u64() == block)
		})
		.and_then(|e| e["outcome"].as_str().map(str::to_owned))
		.unwrap_or_else(|| "unknown".into()))
}

#[cfg(test)]
mod tests {
	use super::*;
	use emr_primitives::ops::purpose;

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

	#[test]
	fn permission_and_purpose_names() {
		assert_eq!(names_to_bits("read,claim", &PERMISSIONS, "permission").unwrap(), 5);
		assert_eq!(names_to_bits("Treatment", &PURPOSES, "purpose").unwrap(), purpose::TREATMENT);
		assert!(names_to_bits("read,fly", &PERMISSIONS, "permission").is_err());
		assert!(names_to_bits("", &PERMISSIONS, "permission").is_err());
	}

	#[test]
	fn a_claim_names_its_record_by_cid_or_digest() {
		let hex64 = "11".repeat(32);
		assert_eq!(record_digest(&hex64).unwrap(), [0x11; 32]);
		let cid = crate::storage::unixfs::cid_of(b"record");
		assert_eq!(record_digest(&cid.to_string()).unwrap().as_slice(), cid.hash().digest());
		assert!(record_digest("nonsense").is_err());
	}
}
