//! The consent-gated workflows on the chain, for every front end (the `emr` command line, a
//! browser portal): the chain decides, these functions choose what to ask and return what the
//! chain answered, typed.
//!
//! * [`submit_and_wait`] — sign as the key set's participant, submit, wait for a [`Level`];
//! * [`access`] — the logged access attempt before reading someone else's records: an
//!   `AccessRecord` naming the grant that covers the caller (or its hospital), and the outcome
//!   the patient's access log recorded for it;
//! * [`adopt_chain_head`] — make the chain's head of a patient's index the one a [`Client`]
//!   starts from, and learn its version;
//! * [`append_head`] — append a new index head after the version read (`expected_version`: a
//!   write by someone else in between is refused), under the caller's WRITE grant;
//! * [`grant_slot`], [`claim_grant`], [`participant_reader`] — which slot or key a request names.

use std::time::Duration;

use emr_client_core::consent::free_slot;
use emr_primitives::{
	ops::{
		kind, permission, purpose, scope, BlockNumber, GrantId, Operation, ParticipantId, SignedOp,
	},
	rules::RuleError,
};

use crate::{
	chain::{read::LogOutcome, ChainError, Level, NodeClient, OpStatus},
	client::{Client, ClientError, Progress},
	ids::{PatientId, Reader},
	keys::KeySet,
	storage::{Cid, Storage},
};

/// What the workflows can report.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
	/// Talking to the chain failed, or the chain refused.
	#[error(transparent)]
	Chain(#[from] ChainError),
	/// The local index state could not be updated.
	#[error(transparent)]
	Client(#[from] ClientError),
	/// The chain holds an index head that is not a CID.
	#[error("invalid CID {0:?}")]
	BadCid(String),
	/// The participant registered no encryption key.
	#[error("participant {0} registered no encryption key")]
	NoEncryptionKey(ParticipantId),
	/// Every consent slot of the patient holds a live grant.
	#[error("every consent slot of this patient holds a live grant")]
	NoFreeSlot,
}

/// How long to wait for an operation, and for what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
	/// The level to reach.
	pub level: Level,
	/// Give up after this long.
	pub timeout: Duration,
}

impl Wait {
	/// Wait for `level`, for `timeout` or the level's [`Level::default_timeout`].
	pub fn new(level: Level, timeout: Option<Duration>) -> Self {
		Wait { level, timeout: timeout.unwrap_or_else(|| level.default_timeout()) }
	}
}

/// A submitted operation and the level it reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
	/// The operation as signed.
	pub signed: SignedOp,
	/// Where it stands.
	pub status: OpStatus,
}

/// What an operation is, in words (progress messages and the command line's output).
pub fn describe(op: &Operation) -> &'static str {
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

/// Waits until the operation `(actor, nonce)` reaches `wait.level`, reporting each level below
/// it to `progress`.
pub async fn wait_for(
	node: &NodeClient,
	wait: Wait,
	actor: ParticipantId,
	nonce: u32,
	progress: &mut impl Progress,
) -> Result<OpStatus, ChainError> {
	node.wait(actor, nonce, wait.level, wait.timeout, |s| {
		if s.level < wait.level {
			progress.step(&s.to_string());
		}
	})
	.await
}

/// Signs `op` as the key set's participant with its next nonce, submits it and waits.
pub async fn submit_and_wait(
	node: &NodeClient,
	keys: &KeySet,
	op: Operation,
	wait: Wait,
	progress: &mut impl Progress,
) -> Result<Submitted, ChainError> {
	let what = describe(&op);
	let signed = node.submit_as(keys, op).await?;
	progress.step(&format!(
		"{what} submitted by participant {} (nonce {})",
		signed.actor, signed.nonce
	));
	let status = wait_for(node, wait, signed.actor, signed.nonce, progress).await?;
	Ok(Submitted { signed, status })
}

/// A logged access attempt and what the patient's access log recorded for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessAttempt {
	/// The `AccessRecord` operation.
	pub submitted: Submitted,
	/// The outcome logged (`None` when the log shows no entry for it yet).
	pub outcome: Option<LogOutcome>,
}

impl AccessAttempt {
	/// Whether the chain granted the access.
	pub fn granted(&self) -> bool {
		self.outcome == Some(LogOutcome::Granted)
	}
}

/// The logged access attempt before a read: submits an `AccessRecord` for `purpose` (one
/// purpose bit) over `scope` naming the grant that covers the caller or its hospital (with
/// none, slot 0: the chain logs a DENIED attempt), waits, and reads the outcome from the log.
pub async fn access(
	node: &NodeClient,
	keys: &KeySet,
	patient: ParticipantId,
	purpose: u8,
	scope: Option<u32>,
	wait: Wait,
	progress: &mut impl Progress,
) -> Result<AccessAttempt, ChainError> {
	let me = node.me(&keys.public).await?;
	node.existing(patient).await?;
	let now = node.best_block().await?;
	let scope = scope.unwrap_or(scope::ALL);
	let grant = me
		.caller()
		.covering_grant(&node.grants(patient).await?, permission::READ, purpose, scope, now)
		.unwrap_or(0);
	let op = Operation::AccessRecord { patient, grant, purpose, scope };
	let submitted = submit_and_wait(node, keys, op, wait, progress).await?;
	let outcome =
		access_outcome(node, patient, submitted.signed.actor, submitted.status.block).await?;
	Ok(AccessAttempt { submitted, outcome })
}

/// The outcome the access log recorded for `actor`'s access to `patient` in `block` (the
/// newest such entry among the last 100).
async fn access_outcome(
	node: &NodeClient,
	patient: ParticipantId,
	actor: ParticipantId,
	block: Option<u64>,
) -> Result<Option<LogOutcome>, ChainError> {
	let total = node.access_log(patient, 0, 1).await?.total;
	let page = node.access_log(patient, total.saturating_sub(100), 100).await?;
	Ok(page
		.entries
		.iter()
		.rev()
		.find(|e| {
			e.actor == actor
				&& e.kind == kind::ACCESS_RECORD
				&& block.is_none_or(|b| u64::from(e.block) == b)
		})
		.map(|e| e.outcome.clone()))
}

/// The chain's head of a patient's index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
	/// The head (none before the first record).
	pub head: Option<Cid>,
	/// The index version (0: no record yet).
	pub version: u32,
}

/// Makes the chain's head of participant `id`'s index the one `client` starts from for
/// `patient`, and returns it.
pub async fn adopt_chain_head<S: Storage>(
	node: &NodeClient,
	client: &Client<S>,
	patient: &PatientId,
	id: ParticipantId,
) -> Result<ChainHead, WorkflowError> {
	node.existing(id).await?;
	let (head, version) = match node.index_head(id).await? {
		None => (None, 0),
		Some((cid, version)) => {
			let cid = Cid::try_from(cid.0.as_slice())
				.map_err(|_| WorkflowError::BadCid(format!("0x{}", hex::encode(&cid.0))))?;
			(Some(cid), version)
		},
	};
	client.adopt_head(patient, head.as_ref())?;
	Ok(ChainHead { head, version })
}

/// Appends `head` as the new head of patient `patient`'s index on chain, after `version` (the
/// version seen when the write started: someone else's write in between is refused). A writer
/// other than the patient names its WRITE grant (or its hospital's).
pub async fn append_head(
	node: &NodeClient,
	keys: &KeySet,
	patient: ParticipantId,
	version: u32,
	head: &Cid,
	wait: Wait,
	progress: &mut impl Progress,
) -> Result<Submitted, ChainError> {
	let me = node.me(&keys.public).await?;
	let grant = if me.id == patient {
		0
	} else {
		let now = node.best_block().await?;
		let grants = node.grants(patient).await?;
		me.caller()
			.covering_grant(&grants, permission::WRITE, purpose::TREATMENT, 0, now)
			.ok_or(ChainError::Refused { rule: RuleError::NoWriteGrant })?
	};
	let op = Operation::AppendRecord {
		patient,
		grant,
		expected_version: version,
		index_head: emr_primitives::ops::Cid(head.to_bytes()),
	};
	submit_and_wait(node, keys, op, wait, progress).await
}

/// The lowest consent slot of `patient` a new grant may take at block `now`.
pub async fn grant_slot(
	node: &NodeClient,
	patient: ParticipantId,
	now: BlockNumber,
) -> Result<GrantId, WorkflowError> {
	free_slot(patient, &node.grants(patient).await?, now).ok_or(WorkflowError::NoFreeSlot)
}

/// The slot of `patient`'s CLAIM grant to the key set's participant (an insurer) at `now`.
pub async fn claim_grant(
	node: &NodeClient,
	keys: &KeySet,
	patient: ParticipantId,
) -> Result<GrantId, ChainError> {
	let me = node.me(&keys.public).await?;
	let now = node.best_block().await?;
	me.caller()
		.covering_grant(&node.grants(patient).await?, permission::CLAIM, purpose::INSURANCE, 0, now)
		.ok_or(ChainError::Refused { rule: RuleError::NoClaimGrant })
}

/// The reader entry of participant `id`: its encryption key from the chain's registry.
pub async fn participant_reader(
	node: &NodeClient,
	id: ParticipantId,
) -> Result<Reader, WorkflowError> {
	let p = node.existing(id).await?;
	let key = p.encryption_key.ok_or(WorkflowError::NoEncryptionKey(id))?;
	Ok(Reader { name: format!("participant-{id}"), key })
}
