//! JSON-RPC methods beyond Substrate's standard set (`system_*`, `chain_*`, `state_*`,
//! `author_*`, `grandpa_*`, which the service registers itself).
//!
//! * `system_accountNextIndex` (nonce lookup, includes pending transactions) and
//!   `payment_queryInfo`/`payment_queryFeeDetails` (fee estimates);
//! * `beefy_subscribeJustifications` and `beefy_getFinalizedHead` (BEEFY-signed commitments),
//!   `mmr_root`, `mmr_generateProof`, `mmr_verifyProof` (the keccak MMR the commitments sign:
//!   what a relayer hands to Ethereum);
//! * the auditors' and clients' `emr_*` methods (participants, index heads, grants, access logs,
//!   claims) and `rollup_*` methods (status, batches, an operation's finality, submission of an
//!   L2 operation with the rule that refused it named), backed by the runtime API
//!   [`EmrApi`], and the `bridge_*` methods (the contracts on Ethereum, the relayers, where each
//!   batch settled), backed by [`EthBridgeApi`]. Each answer is a type of [`emr_rpc_types`]
//!   (JSON with named fields; binary values are `0x` hex), which clients can decode without
//!   depending on the node. The README documents each method with an example.

use codec::{Decode, Encode};
use emr_primitives::{
	names::{bit_names, kind_name, PERMISSIONS, PURPOSES},
	ops::{Operation, Origin, Role, SignedOp},
	rules::RuleError,
	stored::StoredClaimStatus,
};
use emr_rpc_types as answer;
use emr_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Hash, Nonce};
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
	RpcModule,
};
use pallet_emr_eth_bridge::EthBridgeApi;
use pallet_rollup::{
	runtime_api::{BatchView, EmrApi, GrantView, ParticipantView},
	OperationRef,
};
use polkadot_sdk::{
	sc_consensus_beefy::communication::notification::{
		BeefyBestBlockStream, BeefyVersionedFinalityProofStream,
	},
	sc_rpc::SubscriptionTaskExecutor,
	sc_transaction_pool_api::{error::IntoPoolError, TransactionPool, TransactionSource},
	sp_api::ProvideRuntimeApi,
	sp_block_builder::BlockBuilder,
	sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata},
	sp_consensus_beefy::ecdsa_crypto::AuthorityId as BeefyId,
	sp_core::offchain::OffchainStorage,
	sp_runtime::transaction_validity::InvalidTransaction,
	*,
};
use std::sync::Arc;

/// The streams the BEEFY voter feeds to the `beefy_*` methods.
pub struct BeefyDeps {
	/// Signed commitments (BEEFY justifications) as the voter finalizes them.
	pub finality_proofs: BeefyVersionedFinalityProofStream<Block, BeefyId>,
	/// The hash of each new best BEEFY-finalized block.
	pub best_blocks: BeefyBestBlockStream<Block>,
	/// Runs the subscriptions.
	pub executor: SubscriptionTaskExecutor,
}

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P, S> {
	/// The client, for runtime API calls and headers.
	pub client: Arc<C>,
	/// The transaction pool, for nonces and L2 submissions.
	pub pool: Arc<P>,
	/// The offchain database, where the MMR's nodes are indexed (`None`: no `mmr_*` methods).
	pub offchain: Option<S>,
	/// The BEEFY voter's streams.
	pub beefy: BeefyDeps,
}

/// Builds the RPC module with emr-chain's extensions.
pub fn create_full<C, P, S>(
	deps: FullDeps<C, P, S>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>,
	C: HeaderBackend<Block> + HeaderMetadata<Block, Error = BlockChainError> + 'static,
	C: Send + Sync + 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: EmrApi<Block, AccountId>,
	C::Api: EthBridgeApi<Block, AccountId, BlockNumber>,
	C::Api: sp_mmr_primitives::MmrApi<Block, Hash, BlockNumber>,
	P: TransactionPool<Block = Block> + 'static,
	S: OffchainStorage + 'static,
{
	use mmr_rpc::{Mmr, MmrApiServer};
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use sc_consensus_beefy_rpc::{Beefy, BeefyApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, offchain, beefy } = deps;

	module.merge(System::new(client.clone(), pool.clone()).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	if let Some(storage) = offchain {
		module.merge(Mmr::<_, (Block, Hash), _>::new(client.clone(), storage).into_rpc())?;
	}
	module.merge(
		Beefy::<Block, BeefyId>::new(beefy.finality_proofs, beefy.best_blocks, beefy.executor)?
			.into_rpc(),
	)?;
	module.merge(Emr { client, pool }.into_rpc())?;

	Ok(module)
}

/// The `emr_*`, `rollup_*` and `bridge_*` methods.
#[rpc(server)]
pub trait EmrRpc {
	/// A participant: role, keys, nonce, index version, affiliation, log head.
	#[method(name = "emr_participant")]
	fn participant(&self, id: u32) -> RpcResult<Option<answer::Participant>>;

	/// The participant id of a registered rollup key (64 hex characters, compressed): ids are
	/// assigned in registration order, so a client learns its own here after registering.
	#[method(name = "emr_participantId")]
	fn participant_id(&self, public_key: String) -> RpcResult<Option<u32>>;

	/// A patient's record-index head (the CID of the newest encrypted index entry).
	#[method(name = "emr_indexHead")]
	fn index_head(&self, patient: u32) -> RpcResult<Option<answer::IndexHead>>;

	/// A patient's grants, emergency grants included.
	#[method(name = "emr_grants")]
	fn grants(&self, patient: u32) -> RpcResult<Vec<answer::Grant>>;

	/// A page of a patient's access log (`count` at most 1000, default 100).
	#[method(name = "emr_accessLog")]
	fn access_log(
		&self,
		patient: u32,
		from: Option<u32>,
		count: Option<u32>,
	) -> RpcResult<answer::AccessLog>;

	/// The claims filed under a patient's CLAIM grants.
	#[method(name = "emr_claims")]
	fn claims(&self, patient: u32) -> RpcResult<Vec<answer::Claim>>;

	/// Open, last sealed and last proven batch, the proven root, the verifying key.
	#[method(name = "rollup_status")]
	fn status(&self) -> RpcResult<answer::RollupStatus>;

	/// This deployment's id (hex): what every operation's signature covers and every batch's
	/// inbox commitment starts from. Clients sign with it.
	#[method(name = "rollup_deploymentId")]
	fn deployment_id(&self) -> RpcResult<answer::Hex>;

	/// A batch: entries, commitment, proof, the block of each stage.
	#[method(name = "rollup_batch")]
	fn batch(&self, batch: u64) -> RpcResult<Option<answer::Batch>>;

	/// Where an operation stands: unknown, included, finalized, proven or settled (its batch
	/// settled on Ethereum), with the batch and, once settled, the L1 block and transaction.
	#[method(name = "rollup_operationStatus")]
	fn operation_status(&self, actor: u32, nonce: u32) -> RpcResult<answer::OperationStatus>;

	/// The settlement bridge: contracts on Ethereum, relayers, halt switch, the next batch to
	/// settle, the last settled and the last proven batch.
	#[method(name = "bridge_status")]
	fn bridge_status(&self) -> RpcResult<answer::BridgeStatus>;

	/// Where a batch settled on Ethereum (`null` while it has not).
	#[method(name = "bridge_anchor")]
	fn bridge_anchor(&self, batch: u64) -> RpcResult<Option<answer::Anchor>>;

	/// Submits a SCALE-encoded `SignedOp` (hex) as an unsigned extrinsic; a refusal names the
	/// rule (e.g. `BadNonce`) or the pool's reason in its data ([`answer::Refusal`]).
	#[method(name = "rollup_submit")]
	async fn submit(&self, op: String) -> RpcResult<answer::Submitted>;
}

/// The implementation over the node's client and pool.
pub struct Emr<C, P> {
	client: Arc<C>,
	pool: Arc<P>,
}

/// Error codes of the `emr_*` and `rollup_*` methods.
mod code {
	/// A runtime API call failed.
	pub const RUNTIME: i32 = 9000;
	/// The parameters do not decode.
	pub const BAD_PARAMS: i32 = 9001;
	/// The rules refuse the operation.
	pub const RULE: i32 = 9002;
	/// The transaction pool refuses the operation.
	pub const POOL: i32 = 9003;
}

/// An error without data.
fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned::<()>(code, message.into(), None)
}

fn runtime_error(e: impl std::fmt::Debug) -> ErrorObjectOwned {
	error(code::RUNTIME, format!("runtime API call failed: {e:?}"))
}

/// The names of the bits of `value` (upper case, as `emr` shows them).
fn names(value: u8, table: &[(&'static str, u8)]) -> Vec<String> {
	bit_names(value, table).map(String::from).collect()
}

/// A role as the answers name it.
fn role(role: Role) -> answer::Role {
	match role {
		Role::Patient => answer::Role::Patient,
		Role::Doctor => answer::Role::Doctor,
		Role::Hospital => answer::Role::Hospital,
		Role::Insurer => answer::Role::Insurer,
		Role::Researcher => answer::Role::Researcher,
		Role::Auditor => answer::Role::Auditor,
	}
}

/// A claim status as the answers name it.
fn claim_status(status: StoredClaimStatus) -> answer::ClaimStatus {
	match status {
		StoredClaimStatus::None => answer::ClaimStatus::None,
		StoredClaimStatus::Open => answer::ClaimStatus::Open,
		StoredClaimStatus::Approved => answer::ClaimStatus::Approved,
		StoredClaimStatus::Rejected => answer::ClaimStatus::Rejected,
	}
}

/// A CID as text: the bytes as UTF-8 when they are printable (CID strings), else hex.
fn cid_string(bytes: &[u8]) -> String {
	match std::str::from_utf8(bytes) {
		Ok(s) if s.chars().all(|c| c.is_ascii_graphic()) => s.to_string(),
		_ => answer::Hex::from(bytes).to_string(),
	}
}

/// The `emr_participant` answer.
fn participant_answer(id: u32, v: &ParticipantView) -> answer::Participant {
	let p = &v.participant;
	answer::Participant {
		active: p.active,
		affiliation: (v.live_affiliation != 0).then_some(v.live_affiliation),
		credential_lapsed: p.affiliation != 0 && v.live_affiliation == 0,
		emergency_key: p.emergency_key.is_some(),
		encryption_key: v.encryption_key.map(answer::Hex::from),
		id,
		index_version: p.index_version,
		log_head: p.log.into(),
		nonce: p.nonce,
		public_key: v.public_key.into(),
		role: role(p.role),
	}
}

/// The `emr_indexHead` answer.
fn index_head_answer(patient: u32, h: &pallet_emr_registry::IndexHead) -> answer::IndexHead {
	answer::IndexHead {
		author: h.author,
		block: h.block,
		cid: cid_string(&h.cid.0),
		patient,
		version: h.version,
	}
}

/// One grant of the `emr_grants` answer.
fn grant_answer(v: &GrantView) -> answer::Grant {
	let g = &v.grant;
	answer::Grant {
		claim: claim_status(g.claim_status),
		emergency: v.emergency.map(|e| answer::Emergency {
			doctor: e.doctor,
			hospital: e.hospital,
			opened_at: e.opened_at,
			reason: e.reason,
		}),
		expires_at: g.expires_at,
		grantee: g.grantee,
		permissions: names(g.permissions, &PERMISSIONS),
		purposes: names(g.purposes, &PURPOSES),
		scope: g.scope,
		slot: v.slot,
	}
}

/// The `emr_accessLog` answer: the page of entries that starts at `from`.
fn access_log_answer(
	patient: u32,
	from: u32,
	total: u32,
	entries: &[pallet_consent::LogEntry],
) -> answer::AccessLog {
	let entries = entries
		.iter()
		.enumerate()
		.map(|(i, e)| answer::LogEntry {
			actor: e.actor,
			batch: e.batch,
			block: e.block,
			grant: e.grant,
			index: from + i as u32,
			message: e.message.into(),
			operation: kind_name(e.kind).into(),
			outcome: match e.outcome {
				pallet_consent::LogOutcome::Recorded => answer::Outcome::Recorded,
				pallet_consent::LogOutcome::Granted => answer::Outcome::Granted,
				pallet_consent::LogOutcome::Denied => answer::Outcome::Denied,
			},
			purpose: bit_names(e.purpose, &PURPOSES).next().map(String::from),
		})
		.collect();
	answer::AccessLog { entries, from, patient, total }
}

/// The claim in a grant slot, if one was filed (an `emr_claims` item).
fn claim_answer(v: &GrantView) -> Option<answer::Claim> {
	let g = &v.grant;
	(g.claim_status != StoredClaimStatus::None).then(|| answer::Claim {
		amount: g.claim_amount,
		insurer: g.grantee,
		record: g.claim_record.into(),
		settled: g.settled,
		slot: v.slot,
		status: claim_status(g.claim_status),
	})
}

/// The `rollup_status` answer, with the node's best and finalized block.
fn status_answer(
	s: &pallet_rollup::runtime_api::RollupStatus,
	best_block: BlockNumber,
	finalized_block: BlockNumber,
) -> answer::RollupStatus {
	answer::RollupStatus {
		best_block,
		finalized_block,
		last_proven: s.last_proven,
		last_sealed: s.last_sealed,
		open_batch: s.open_batch,
		open_entries: s.open_entries,
		params: s.params.as_ref().map(|p| answer::BatchParams {
			max_ops_per_block: p.max_ops_per_block,
			max_queued_per_actor: p.max_queued_per_actor,
			seal_after: p.seal_after,
		}),
		proven_root: s.proven_root.into(),
		verifying_key: s.verifying_key.map(|(id, hash, batch_size)| answer::VerifyingKey {
			batch_size,
			hash: hash.into(),
			id,
		}),
	}
}

/// The operation's fields (what was done, not who signed).
fn operation_fields(op: &Operation) -> answer::OperationFields {
	use answer::OperationFields as Fields;
	match op {
		Operation::AdmitMember { role: r, public_key, encryption_key }
		| Operation::Register { role: r, public_key, encryption_key } => Fields {
			role: Some(role(*r)),
			public_key: Some(public_key.into()),
			encryption_key: Some(encryption_key.into()),
			..Fields::default()
		},
		Operation::RemoveMember => Fields::default(),
		Operation::CredentialDoctor { doctor } | Operation::RevokeCredential { doctor } => {
			Fields { doctor: Some(*doctor), ..Fields::default() }
		},
		Operation::AppendRecord { patient, grant, expected_version, index_head } => Fields {
			patient: Some(*patient),
			grant: Some(*grant),
			expected_version: Some(*expected_version),
			index_head: Some(cid_string(&index_head.0)),
			..Fields::default()
		},
		Operation::GrantConsent { grantee, permissions, purposes, scope, expires_at, slot } => {
			Fields {
				grantee: Some(*grantee),
				permissions: Some(names(*permissions, &PERMISSIONS)),
				purposes: Some(names(*purposes, &PURPOSES)),
				scope: Some(*scope),
				expires_at: Some(*expires_at),
				slot: Some(*slot),
				..Fields::default()
			}
		},
		Operation::RevokeConsent { grant } => Fields { grant: Some(*grant), ..Fields::default() },
		Operation::AccessRecord { patient, grant, purpose, scope } => Fields {
			patient: Some(*patient),
			grant: Some(*grant),
			purpose: Some(names(*purpose, &PURPOSES)),
			scope: Some(*scope),
			..Fields::default()
		},
		Operation::EmergencyAccess { patient, reason, slot } => Fields {
			patient: Some(*patient),
			reason: Some(*reason),
			slot: Some(*slot),
			..Fields::default()
		},
		Operation::SubmitClaim { patient, grant, record, amount } => Fields {
			patient: Some(*patient),
			grant: Some(*grant),
			record: Some(record.into()),
			amount: Some(*amount),
			..Fields::default()
		},
		Operation::DecideClaim { patient, grant, approve, settled } => Fields {
			patient: Some(*patient),
			grant: Some(*grant),
			approve: Some(*approve),
			settled: Some(*settled),
			..Fields::default()
		},
	}
}

/// The `rollup_batch` answer.
fn batch_answer(batch: u64, b: &BatchView<AccountId>) -> answer::Batch {
	let entries = b
		.entries
		.iter()
		.enumerate()
		.map(|(i, e)| answer::BatchEntry {
			actor: e.op.actor,
			block: e.block,
			encoded: e.encode().into(),
			index: i as u32,
			kind: kind_name(e.op.op.kind()).into(),
			nonce: e.op.nonce,
			operation: operation_fields(&e.op.op),
			origin: match e.origin {
				Origin::User => answer::Origin::User,
				Origin::Governance => answer::Origin::Governance,
			},
			signature: e.op.signature.into(),
		})
		.collect();
	let i = &b.info;
	answer::Batch {
		batch,
		commitment: i.commitment.into(),
		entries,
		last_block: i.last_block,
		new_root: i.new_root.map(answer::Hex::from),
		old_root: i.old_root.map(answer::Hex::from),
		opened_at: i.opened_at,
		proof: b.proof.clone().map(answer::Hex::from),
		proven_at: i.proven_at,
		prover: i.prover.as_ref().map(|a| a.to_string()),
		sealed_at: i.sealed_at,
		verifying_key: i.vk,
	}
}

/// A settlement anchor (the `bridge_anchor` answer).
fn anchor_answer(
	batch: u64,
	a: &pallet_emr_eth_bridge::Anchor<AccountId, BlockNumber>,
) -> answer::Anchor {
	answer::Anchor {
		batch,
		confirmed_at: a.confirmed_at,
		l1_block: a.l1_block,
		l1_tx: a.l1_tx.into(),
		relayer: a.relayer.to_string(),
	}
}

/// The `rollup_operationStatus` answer for an operation that was applied (`r`), given whether
/// its block is finalized, whether its batch is proven and where that batch settled.
fn applied_answer(
	actor: u32,
	nonce: u32,
	r: &OperationRef,
	finalized: bool,
	proven: bool,
	anchor: Option<&pallet_emr_eth_bridge::Anchor<AccountId, BlockNumber>>,
) -> answer::OperationStatus {
	let status = match (finalized, proven, anchor) {
		(true, true, Some(_)) => answer::Stage::Settled,
		(true, true, None) => answer::Stage::Proven,
		(true, false, _) => answer::Stage::Finalized,
		_ => answer::Stage::Included,
	};
	answer::OperationStatus {
		actor,
		batch: Some(r.batch),
		block: Some(r.block),
		index: Some(r.index),
		nonce,
		settlement: anchor.filter(|_| finalized).map(|a| anchor_answer(r.batch, a)),
		status,
	}
}

/// The `rollup_operationStatus` answer for an operation the chain has not applied.
fn unknown_answer(actor: u32, nonce: u32) -> answer::OperationStatus {
	answer::OperationStatus {
		actor,
		batch: None,
		block: None,
		index: None,
		nonce,
		settlement: None,
		status: answer::Stage::Unknown,
	}
}

/// The `bridge_status` answer.
fn bridge_status_answer(
	s: &pallet_emr_eth_bridge::BridgeStatus<AccountId>,
) -> answer::BridgeStatus {
	answer::BridgeStatus {
		contracts: s.contracts.as_ref().map(|c| answer::Contracts {
			chain_id: c.chain_id,
			first_batch: c.first_batch,
			light_client: c.light_client.into(),
			rollup: c.rollup.into(),
		}),
		halted: s.halted,
		last_proven: s.last_proven,
		last_settled: s.last_settled,
		next_to_settle: s.next_to_settle,
		relayers: s.relayers.iter().map(|r| r.to_string()).collect(),
	}
}

/// What the pool or the rules said, in words, and the refusal's data.
fn invalid_reason(i: &InvalidTransaction) -> (String, Option<answer::Refusal>) {
	let reason = |r: String| Some(answer::Refusal { reason: Some(r), rule: None });
	match i {
		InvalidTransaction::Custom(pallet_rollup::TOO_MANY_QUEUED) => (
			"too many operations of this actor are already queued; wait for a block".into(),
			reason("TooManyQueued".into()),
		),
		InvalidTransaction::Custom(c) => match RuleError::decode(&mut &[*c][..]) {
			Ok(rule) => (
				format!("the rules refuse the operation: {rule:?}"),
				Some(answer::Refusal { reason: None, rule: Some(format!("{rule:?}")) }),
			),
			Err(_) => (format!("refused by the pool (custom code {c})"), None),
		},
		InvalidTransaction::Stale => {
			("stale: this nonce was already used (a replay)".into(), reason("Stale".into()))
		},
		InvalidTransaction::ExhaustsResources => {
			("the block is full of L2 operations; retry".into(), reason("ExhaustsResources".into()))
		},
		other => (format!("refused by the pool: {other:?}"), reason(format!("{other:?}"))),
	}
}

impl<C, P> Emr<C, P>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: EmrApi<Block, AccountId> + EthBridgeApi<Block, AccountId, BlockNumber>,
{
	fn api(&self) -> (sp_api::ApiRef<'_, C::Api>, <Block as sp_runtime::traits::Block>::Hash) {
		(self.client.runtime_api(), self.client.info().best_hash)
	}
}

#[async_trait]
impl<C, P> EmrRpcServer for Emr<C, P>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: EmrApi<Block, AccountId> + EthBridgeApi<Block, AccountId, BlockNumber>,
	P: TransactionPool<Block = Block> + 'static,
{
	fn participant(&self, id: u32) -> RpcResult<Option<answer::Participant>> {
		let (api, at) = self.api();
		Ok(api.participant(at, id).map_err(runtime_error)?.map(|v| participant_answer(id, &v)))
	}

	fn participant_id(&self, public_key: String) -> RpcResult<Option<u32>> {
		let key: [u8; 32] = ::hex::decode(public_key.trim_start_matches("0x"))
			.ok()
			.and_then(|b| b.try_into().ok())
			.ok_or_else(|| error(code::BAD_PARAMS, "the public key is not 32 bytes of hex"))?;
		let (api, at) = self.api();
		api.participant_id(at, key).map_err(runtime_error)
	}

	fn index_head(&self, patient: u32) -> RpcResult<Option<answer::IndexHead>> {
		let (api, at) = self.api();
		Ok(api
			.index_head(at, patient)
			.map_err(runtime_error)?
			.map(|h| index_head_answer(patient, &h)))
	}

	fn grants(&self, patient: u32) -> RpcResult<Vec<answer::Grant>> {
		let (api, at) = self.api();
		Ok(api.grants(at, patient).map_err(runtime_error)?.iter().map(grant_answer).collect())
	}

	fn access_log(
		&self,
		patient: u32,
		from: Option<u32>,
		count: Option<u32>,
	) -> RpcResult<answer::AccessLog> {
		let (api, at) = self.api();
		let from = from.unwrap_or(0);
		let (total, entries) = api
			.access_log(at, patient, from, count.unwrap_or(100).min(1000))
			.map_err(runtime_error)?;
		Ok(access_log_answer(patient, from, total, &entries))
	}

	fn claims(&self, patient: u32) -> RpcResult<Vec<answer::Claim>> {
		let (api, at) = self.api();
		Ok(api
			.grants(at, patient)
			.map_err(runtime_error)?
			.iter()
			.filter_map(claim_answer)
			.collect())
	}

	fn status(&self) -> RpcResult<answer::RollupStatus> {
		let (api, at) = self.api();
		let s = api.rollup_status(at).map_err(runtime_error)?;
		let info = self.client.info();
		Ok(status_answer(&s, info.best_number, info.finalized_number))
	}

	fn deployment_id(&self) -> RpcResult<answer::Hex> {
		let (api, at) = self.api();
		Ok(api.deployment(at).map_err(runtime_error)?.0.into())
	}

	fn batch(&self, batch: u64) -> RpcResult<Option<answer::Batch>> {
		let (api, at) = self.api();
		Ok(api.rollup_batch(at, batch).map_err(runtime_error)?.map(|b| batch_answer(batch, &b)))
	}

	fn operation_status(&self, actor: u32, nonce: u32) -> RpcResult<answer::OperationStatus> {
		let (api, at) = self.api();
		let Some(r) = api.operation(at, actor, nonce).map_err(runtime_error)? else {
			return Ok(unknown_answer(actor, nonce));
		};
		let info = self.client.info();
		let proven =
			api.rollup_status(at).map_err(runtime_error)?.last_proven.is_some_and(|p| r.batch <= p);
		let finalized = r.block <= info.finalized_number;
		let anchor =
			if proven { api.bridge_anchor(at, r.batch).map_err(runtime_error)? } else { None };
		Ok(applied_answer(actor, nonce, &r, finalized, proven, anchor.as_ref()))
	}

	fn bridge_status(&self) -> RpcResult<answer::BridgeStatus> {
		let (api, at) = self.api();
		Ok(bridge_status_answer(&api.bridge_status(at).map_err(runtime_error)?))
	}

	fn bridge_anchor(&self, batch: u64) -> RpcResult<Option<answer::Anchor>> {
		let (api, at) = self.api();
		Ok(api.bridge_anchor(at, batch).map_err(runtime_error)?.map(|a| anchor_answer(batch, &a)))
	}

	async fn submit(&self, op: String) -> RpcResult<answer::Submitted> {
		let bytes = ::hex::decode(op.trim_start_matches("0x"))
			.map_err(|e| error(code::BAD_PARAMS, format!("the operation is not hex: {e}")))?;
		let op = SignedOp::decode(&mut &bytes[..])
			.map_err(|e| error(code::BAD_PARAMS, format!("the bytes are not a SignedOp: {e}")))?;
		let at = self.client.info().best_hash;
		let call = emr_runtime::RuntimeCall::Rollup(pallet_rollup::Call::submit { op: op.clone() });
		let xt = emr_runtime::UncheckedExtrinsic::new_bare(call);
		let opaque = <Block as sp_runtime::traits::Block>::Extrinsic::decode(&mut &xt.encode()[..])
			.map_err(|e| error(code::BAD_PARAMS, format!("cannot wrap the operation: {e}")))?;
		match self.pool.submit_one(at, TransactionSource::External, opaque).await {
			Ok(hash) => Ok(answer::Submitted {
				actor: op.actor,
				extrinsic: hash.encode().into(),
				kind: kind_name(op.op.kind()).into(),
				nonce: op.nonce,
			}),
			Err(e) => Err(match e.into_pool_error() {
				Ok(sc_transaction_pool_api::error::Error::InvalidTransaction(i)) => {
					let (message, data) = invalid_reason(&i);
					let code = if data.as_ref().is_some_and(|d| d.rule.is_some()) {
						code::RULE
					} else {
						code::POOL
					};
					ErrorObjectOwned::owned(code, message, data)
				},
				Ok(other) => error(code::POOL, format!("refused by the pool: {other}")),
				Err(other) => error(code::POOL, format!("the pool failed: {other}")),
			}),
		}
	}
}

#[cfg(test)]
// Tests may unwrap; the node's code may not (workspace lint `clippy::unwrap_used`).
#[allow(clippy::unwrap_used)]
mod tests {
	//! Each answer against the text the node wrote before its answers were types: the
	//! `json!` objects of that code, whose keys `serde_json` sorted, with the same inputs.

	use super::*;
	use emr_primitives::{
		inbox::InboxEntry,
		ops::{kind, Cid},
		stored::{StoredGrant, StoredKey, StoredParticipant},
	};
	use pallet_consent::{EmergencyGrant, LogEntry, LogOutcome};
	use pallet_emr_eth_bridge::{Anchor, BridgeStatus, Contracts};
	use pallet_rollup::{runtime_api::RollupStatus, BatchInfo, BatchParams};
	use polkadot_sdk::sp_keyring::Sr25519Keyring;

	/// Alice's account as SS58 (the text `AccountId`'s `Display` writes).
	const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

	fn alice() -> AccountId {
		Sr25519Keyring::Alice.to_account_id()
	}

	/// `0x` and `byte` written `n` times in hex.
	fn hex_of(byte: u8, n: usize) -> String {
		format!("0x{}", format!("{byte:02x}").repeat(n))
	}

	/// `value` as `T`, to give a decoded value the type of the one it should equal.
	fn same_type<T>(_: &T, value: T) -> T {
		value
	}

	/// Serializes the value, compares the text with the expected one and decodes it back.
	macro_rules! check {
		($value:expr, $expected:expr $(,)?) => {{
			let value = $value;
			let expected: &str = $expected;
			assert_eq!(serde_json::to_string(&value).unwrap(), expected);
			let back = serde_json::from_str(expected).unwrap();
			assert_eq!(value, same_type(&value, back));
		}};
	}

	fn stored_participant(role: Role) -> StoredParticipant {
		StoredParticipant {
			role,
			active: true,
			key: StoredKey { x: [0; 32], y: [0; 32] },
			encryption_key_digest: [0; 32],
			nonce: 3,
			index_head_digest: [0; 32],
			index_version: 2,
			affiliation: 1,
			affiliation_org: 1,
			org: 0,
			emergency_key: Some(StoredKey { x: [0; 32], y: [0; 32] }),
			log: [0xab; 32],
		}
	}

	fn grant_view(slot: u32, claim_status: StoredClaimStatus, emergency: bool) -> GrantView {
		GrantView {
			slot,
			grant: StoredGrant {
				grantee: 2,
				permissions: 1 | 4,
				purposes: 1 | 8,
				scope: 7,
				expires_at: 1_000_001,
				emergency,
				claim_status,
				claim_record: [9; 32],
				claim_amount: 500,
				settled: 450,
			},
			emergency: emergency.then_some(EmergencyGrant {
				doctor: 5,
				hospital: 1,
				reason: 3,
				opened_at: 40,
			}),
		}
	}

	#[test]
	fn roles_and_claim_statuses_keep_their_names() {
		for r in [
			Role::Patient,
			Role::Doctor,
			Role::Hospital,
			Role::Insurer,
			Role::Researcher,
			Role::Auditor,
		] {
			assert_eq!(serde_json::to_string(&role(r)).unwrap(), format!("\"{r:?}\""));
		}
		for s in [
			StoredClaimStatus::None,
			StoredClaimStatus::Open,
			StoredClaimStatus::Approved,
			StoredClaimStatus::Rejected,
		] {
			assert_eq!(serde_json::to_string(&claim_status(s)).unwrap(), format!("\"{s:?}\""));
		}
	}

	#[test]
	fn participant() {
		let mut v = ParticipantView {
			participant: stored_participant(Role::Doctor),
			public_key: [0xb5; 32],
			encryption_key: Some([1; 32]),
			live_affiliation: 1,
		};
		check!(
			participant_answer(4, &v),
			&format!(
				r#"{{"active":true,"affiliation":1,"credentialLapsed":false,"emergencyKey":true,"encryptionKey":"{}","id":4,"indexVersion":2,"logHead":"{}","nonce":3,"publicKey":"{}","role":"Doctor"}}"#,
				hex_of(1, 32),
				hex_of(0xab, 32),
				hex_of(0xb5, 32)
			),
		);
		// A lapsed credential, no encryption key.
		v.live_affiliation = 0;
		v.encryption_key = None;
		v.participant.emergency_key = None;
		check!(
			participant_answer(4, &v),
			&format!(
				r#"{{"active":true,"affiliation":null,"credentialLapsed":true,"emergencyKey":false,"encryptionKey":null,"id":4,"indexVersion":2,"logHead":"{}","nonce":3,"publicKey":"{}","role":"Doctor"}}"#,
				hex_of(0xab, 32),
				hex_of(0xb5, 32)
			),
		);
	}

	#[test]
	fn index_head() {
		let head = |cid: &[u8]| pallet_emr_registry::IndexHead {
			cid: Cid(cid.to_vec()),
			version: 1,
			author: 5,
			block: 42,
		};
		check!(
			index_head_answer(4, &head(b"bafkreiabc")),
			r#"{"author":5,"block":42,"cid":"bafkreiabc","patient":4,"version":1}"#,
		);
		// A CID that is not printable text is hex.
		check!(
			index_head_answer(4, &head(&[1, 0x55])),
			r#"{"author":5,"block":42,"cid":"0x0155","patient":4,"version":1}"#,
		);
	}

	#[test]
	fn grants() {
		check!(
			grant_answer(&grant_view(0, StoredClaimStatus::None, false)),
			r#"{"claim":"None","emergency":null,"expiresAt":1000001,"grantee":2,"permissions":["READ","CLAIM"],"purposes":["TREATMENT","EMERGENCY"],"scope":7,"slot":0}"#,
		);
		check!(
			grant_answer(&grant_view(1, StoredClaimStatus::Open, true)),
			r#"{"claim":"Open","emergency":{"doctor":5,"hospital":1,"openedAt":40,"reason":3},"expiresAt":1000001,"grantee":2,"permissions":["READ","CLAIM"],"purposes":["TREATMENT","EMERGENCY"],"scope":7,"slot":1}"#,
		);
	}

	#[test]
	fn access_log() {
		let entry = |kind, grant, purpose, outcome| LogEntry {
			actor: 4,
			kind,
			grant,
			purpose,
			outcome,
			block: 9,
			batch: 1,
			message: [0xcf; 32],
		};
		let entries = [
			entry(kind::GRANT_CONSENT, Some(0), 0, LogOutcome::Recorded),
			entry(kind::ACCESS_RECORD, Some(0), 1, LogOutcome::Granted),
			entry(kind::ACCESS_RECORD, None, 2, LogOutcome::Denied),
		];
		let m = hex_of(0xcf, 32);
		check!(
			access_log_answer(4, 10, 13, &entries),
			&format!(
				concat!(
					r#"{{"entries":["#,
					r#"{{"actor":4,"batch":1,"block":9,"grant":0,"index":10,"message":"{m}","operation":"GrantConsent","outcome":"RECORDED","purpose":null}},"#,
					r#"{{"actor":4,"batch":1,"block":9,"grant":0,"index":11,"message":"{m}","operation":"AccessRecord","outcome":"GRANTED","purpose":"TREATMENT"}},"#,
					r#"{{"actor":4,"batch":1,"block":9,"grant":null,"index":12,"message":"{m}","operation":"AccessRecord","outcome":"DENIED","purpose":"RESEARCH"}}"#,
					r#"],"from":10,"patient":4,"total":13}}"#
				),
				m = m
			),
		);
		check!(access_log_answer(4, 0, 0, &[]), r#"{"entries":[],"from":0,"patient":4,"total":0}"#);
	}

	#[test]
	fn claims() {
		assert_eq!(claim_answer(&grant_view(0, StoredClaimStatus::None, false)), None);
		let claim = claim_answer(&grant_view(1, StoredClaimStatus::Approved, false))
			.expect("a claim was filed");
		check!(
			claim,
			&format!(
				r#"{{"amount":500,"insurer":2,"record":"{}","settled":450,"slot":1,"status":"Approved"}}"#,
				hex_of(9, 32)
			),
		);
	}

	#[test]
	fn rollup_status() {
		let mut s = RollupStatus {
			open_batch: 3,
			open_entries: 0,
			last_sealed: Some(2),
			last_proven: None,
			proven_root: [0xfa; 32],
			verifying_key: Some((0, [0x6a; 32], 4)),
			params: Some(BatchParams {
				seal_after: 10,
				max_ops_per_block: 2000,
				max_queued_per_actor: 16,
			}),
		};
		check!(
			status_answer(&s, 9, 6),
			&format!(
				r#"{{"bestBlock":9,"finalizedBlock":6,"lastProven":null,"lastSealed":2,"openBatch":3,"openEntries":0,"params":{{"maxOpsPerBlock":2000,"maxQueuedPerActor":16,"sealAfter":10}},"provenRoot":"{}","verifyingKey":{{"batchSize":4,"hash":"{}","id":0}}}}"#,
				hex_of(0xfa, 32),
				hex_of(0x6a, 32)
			),
		);
		s.verifying_key = None;
		s.params = None;
		s.last_sealed = None;
		check!(
			status_answer(&s, 0, 0),
			&format!(
				r#"{{"bestBlock":0,"finalizedBlock":0,"lastProven":null,"lastSealed":null,"openBatch":3,"openEntries":0,"params":null,"provenRoot":"{}","verifyingKey":null}}"#,
				hex_of(0xfa, 32)
			),
		);
	}

	#[test]
	fn deployment_id() {
		check!(answer::Hex::from([0xa5u8; 32]), &format!("\"{}\"", hex_of(0xa5, 32)));
	}

	#[test]
	fn operation_fields_of_every_kind() {
		let ops = [
			(
				Operation::AdmitMember {
					role: Role::Hospital,
					public_key: [0xdc; 32],
					encryption_key: [0x95; 32],
				},
				format!(
					r#"{{"encryptionKey":"{}","publicKey":"{}","role":"Hospital"}}"#,
					hex_of(0x95, 32),
					hex_of(0xdc, 32)
				),
			),
			(Operation::RemoveMember, "{}".to_string()),
			(
				Operation::Register {
					role: Role::Patient,
					public_key: [0xdc; 32],
					encryption_key: [0x95; 32],
				},
				format!(
					r#"{{"encryptionKey":"{}","publicKey":"{}","role":"Patient"}}"#,
					hex_of(0x95, 32),
					hex_of(0xdc, 32)
				),
			),
			(Operation::CredentialDoctor { doctor: 5 }, r#"{"doctor":5}"#.to_string()),
			(Operation::RevokeCredential { doctor: 5 }, r#"{"doctor":5}"#.to_string()),
			(
				Operation::AppendRecord {
					patient: 4,
					grant: 1,
					expected_version: 2,
					index_head: Cid(b"bafkreiabc".to_vec()),
				},
				r#"{"expectedVersion":2,"grant":1,"indexHead":"bafkreiabc","patient":4}"#
					.to_string(),
			),
			(
				Operation::GrantConsent {
					grantee: 1,
					permissions: 1 | 2,
					purposes: 16,
					scope: 4_294_967_295,
					expires_at: 1_000_001,
					slot: 0,
				},
				r#"{"expiresAt":1000001,"grantee":1,"permissions":["READ","WRITE"],"purposes":["AUDIT"],"scope":4294967295,"slot":0}"#
					.to_string(),
			),
			(Operation::RevokeConsent { grant: 3 }, r#"{"grant":3}"#.to_string()),
			(
				Operation::AccessRecord { patient: 4, grant: 0, purpose: 4, scope: 1 },
				r#"{"grant":0,"patient":4,"purpose":["INSURANCE"],"scope":1}"#.to_string(),
			),
			(
				Operation::EmergencyAccess { patient: 4, reason: 3, slot: 2 },
				r#"{"patient":4,"reason":3,"slot":2}"#.to_string(),
			),
			(
				Operation::SubmitClaim { patient: 4, grant: 1, record: [9; 32], amount: 500 },
				format!(
					r#"{{"amount":500,"grant":1,"patient":4,"record":"{}"}}"#,
					hex_of(9, 32)
				),
			),
			(
				Operation::DecideClaim { patient: 4, grant: 1, approve: true, settled: 450 },
				r#"{"approve":true,"grant":1,"patient":4,"settled":450}"#.to_string(),
			),
		];
		for (op, expected) in &ops {
			check!(operation_fields(op), expected);
		}
	}

	#[test]
	fn batch() {
		let entry = InboxEntry {
			op: SignedOp {
				actor: 1,
				nonce: 0,
				op: Operation::CredentialDoctor { doctor: 5 },
				signature: [7; 64],
			},
			origin: Origin::Governance,
			block: 12,
		};
		let encoded = format!("0x{}", ::hex::encode(entry.encode()));
		let mut b = BatchView {
			batch: 2,
			info: BatchInfo {
				len: 1,
				commitment: [0xe5; 32],
				vk: 0,
				opened_at: 12,
				last_block: 12,
				sealed_at: None,
				proven_at: None,
				old_root: None,
				new_root: None,
				prover: None,
			},
			entries: vec![entry],
			proof: None,
		};
		let entries = format!(
			r#"[{{"actor":1,"block":12,"encoded":"{encoded}","index":0,"kind":"CredentialDoctor","nonce":0,"operation":{{"doctor":5}},"origin":"governance","signature":"{}"}}]"#,
			hex_of(7, 64)
		);
		check!(
			batch_answer(2, &b),
			&format!(
				r#"{{"batch":2,"commitment":"{}","entries":{entries},"lastBlock":12,"newRoot":null,"oldRoot":null,"openedAt":12,"proof":null,"provenAt":null,"prover":null,"sealedAt":null,"verifyingKey":0}}"#,
				hex_of(0xe5, 32)
			),
		);
		// Proven, by Alice, with a user entry.
		b.entries[0].origin = Origin::User;
		b.info.sealed_at = Some(20);
		b.info.proven_at = Some(30);
		b.info.old_root = Some([1; 32]);
		b.info.new_root = Some([2; 32]);
		b.info.prover = Some(alice());
		b.proof = Some(vec![0xcc; 3]);
		let answer = batch_answer(2, &b);
		assert_eq!(answer.entries[0].origin, answer::Origin::User);
		check!(
			answer::Batch { entries: vec![], ..answer },
			&format!(
				r#"{{"batch":2,"commitment":"{}","entries":[],"lastBlock":12,"newRoot":"{}","oldRoot":"{}","openedAt":12,"proof":"0xcccccc","provenAt":30,"prover":"{ALICE}","sealedAt":20,"verifyingKey":0}}"#,
				hex_of(0xe5, 32),
				hex_of(2, 32),
				hex_of(1, 32)
			),
		);
	}

	fn anchor() -> Anchor<AccountId, BlockNumber> {
		Anchor { l1_block: 33, l1_tx: [0x8e; 32], relayer: alice(), confirmed_at: 57 }
	}

	#[test]
	fn bridge_anchor() {
		check!(
			anchor_answer(0, &anchor()),
			&format!(
				r#"{{"batch":0,"confirmedAt":57,"l1Block":33,"l1Tx":"{}","relayer":"{ALICE}"}}"#,
				hex_of(0x8e, 32)
			),
		);
	}

	#[test]
	fn operation_status_at_every_stage() {
		check!(unknown_answer(4, 1), r#"{"actor":4,"nonce":1,"status":"unknown"}"#);
		let r = OperationRef { batch: 1, index: 2, block: 9 };
		let a = anchor();
		let stage = |finalized, proven, anchor| applied_answer(4, 1, &r, finalized, proven, anchor);
		let placed = |status: &str| {
			format!(r#"{{"actor":4,"batch":1,"block":9,"index":2,"nonce":1,"status":"{status}"}}"#)
		};
		check!(stage(false, false, None), &placed("included"));
		check!(stage(true, false, None), &placed("finalized"));
		check!(stage(true, true, None), &placed("proven"));
		// Not finalized: no settlement shown, whatever the anchor.
		check!(stage(false, true, Some(&a)), &placed("included"));
		check!(
			stage(true, true, Some(&a)),
			&format!(
				r#"{{"actor":4,"batch":1,"block":9,"index":2,"nonce":1,"settlement":{{"batch":1,"confirmedAt":57,"l1Block":33,"l1Tx":"{}","relayer":"{ALICE}"}},"status":"settled"}}"#,
				hex_of(0x8e, 32)
			),
		);
	}

	#[test]
	fn bridge_status() {
		let mut s = BridgeStatus {
			contracts: Some(Contracts {
				chain_id: 31337,
				light_client: [0x5f; 20],
				rollup: [0xe7; 20],
				first_batch: 0,
			}),
			relayers: vec![alice()],
			halted: false,
			next_to_settle: 2,
			last_settled: Some(1),
			last_proven: Some(3),
		};
		check!(
			bridge_status_answer(&s),
			&format!(
				r#"{{"contracts":{{"chainId":31337,"firstBatch":0,"lightClient":"{}","rollup":"{}"}},"halted":false,"lastProven":3,"lastSettled":1,"nextToSettle":2,"relayers":["{ALICE}"]}}"#,
				hex_of(0x5f, 20),
				hex_of(0xe7, 20)
			),
		);
		s.contracts = None;
		s.relayers = vec![];
		s.last_settled = None;
		s.last_proven = None;
		s.halted = true;
		check!(
			bridge_status_answer(&s),
			r#"{"contracts":null,"halted":true,"lastProven":null,"lastSettled":null,"nextToSettle":2,"relayers":[]}"#,
		);
	}

	#[test]
	fn submitted() {
		check!(
			answer::Submitted {
				actor: 4,
				extrinsic: [0x11; 32].into(),
				kind: kind_name(kind::GRANT_CONSENT).into(),
				nonce: 1,
			},
			&format!(
				r#"{{"actor":4,"extrinsic":"{}","kind":"GrantConsent","nonce":1}}"#,
				hex_of(0x11, 32)
			),
		);
	}

	#[test]
	fn refusals_name_the_rule_or_the_reason() {
		let data = |i: InvalidTransaction| {
			invalid_reason(&i).1.map(|d| serde_json::to_string(&d).unwrap())
		};
		let bad_nonce = RuleError::BadNonce.encode()[0];
		assert_eq!(
			invalid_reason(&InvalidTransaction::Custom(bad_nonce)).0,
			"the rules refuse the operation: BadNonce"
		);
		assert_eq!(
			data(InvalidTransaction::Custom(bad_nonce)).as_deref(),
			Some(r#"{"rule":"BadNonce"}"#)
		);
		assert_eq!(
			data(InvalidTransaction::Custom(pallet_rollup::TOO_MANY_QUEUED)).as_deref(),
			Some(r#"{"reason":"TooManyQueued"}"#)
		);
		assert_eq!(data(InvalidTransaction::Stale).as_deref(), Some(r#"{"reason":"Stale"}"#));
		assert_eq!(
			data(InvalidTransaction::ExhaustsResources).as_deref(),
			Some(r#"{"reason":"ExhaustsResources"}"#)
		);
		assert_eq!(data(InvalidTransaction::Payment).as_deref(), Some(r#"{"reason":"Payment"}"#));
		// A custom code that is no rule: no data.
		assert_eq!(data(InvalidTransaction::Custom(249)), None);
		for text in [r#"{"rule":"BadNonce"}"#, r#"{"reason":"Stale"}"#] {
			let refusal: answer::Refusal = serde_json::from_str(text).unwrap();
			assert_eq!(serde_json::to_string(&refusal).unwrap(), text);
		}
	}
}
