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
//!   batch settled), backed by [`EthBridgeApi`]. Every answer is JSON with named fields; binary values are `0x` hex. The README
//!   documents each method with an example.

use codec::{Decode, Encode};
use emr_primitives::{
	names::{bit_names, kind_name, PERMISSIONS, PURPOSES},
	ops::{Operation, Origin, SignedOp},
	rules::RuleError,
};
use emr_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Hash, Nonce};
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
	RpcModule,
};
use pallet_emr_eth_bridge::EthBridgeApi;
use pallet_rollup::runtime_api::EmrApi;
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
use serde_json::{json, Value};
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

/// The `emr_*` and `rollup_*` methods.
#[rpc(server)]
pub trait EmrRpc {
	/// A participant: role, keys, nonce, index version, affiliation, log head.
	#[method(name = "emr_participant")]
	fn participant(&self, id: u32) -> RpcResult<Option<Value>>;

	/// The participant id of a registered rollup key (64 hex characters, compressed): ids are
	/// assigned in registration order, so a client learns its own here after registering.
	#[method(name = "emr_participantId")]
	fn participant_id(&self, public_key: String) -> RpcResult<Option<u32>>;

	/// A patient's record-index head (the CID of the newest encrypted index entry).
	#[method(name = "emr_indexHead")]
	fn index_head(&self, patient: u32) -> RpcResult<Option<Value>>;

	/// A patient's grants, emergency grants included.
	#[method(name = "emr_grants")]
	fn grants(&self, patient: u32) -> RpcResult<Vec<Value>>;

	/// A page of a patient's access log (`count` at most 1000, default 100).
	#[method(name = "emr_accessLog")]
	fn access_log(&self, patient: u32, from: Option<u32>, count: Option<u32>) -> RpcResult<Value>;

	/// The claims filed under a patient's CLAIM grants.
	#[method(name = "emr_claims")]
	fn claims(&self, patient: u32) -> RpcResult<Vec<Value>>;

	/// Open, last sealed and last proven batch, the proven root, the verifying key.
	#[method(name = "rollup_status")]
	fn status(&self) -> RpcResult<Value>;

	/// This deployment's id (hex): what every operation's signature covers and every batch's
	/// inbox commitment starts from. Clients sign with it.
	#[method(name = "rollup_deploymentId")]
	fn deployment_id(&self) -> RpcResult<String>;

	/// A batch: entries, commitment, proof, the block of each stage.
	#[method(name = "rollup_batch")]
	fn batch(&self, batch: u64) -> RpcResult<Option<Value>>;

	/// Where an operation stands: unknown, included, finalized, proven or settled (its batch
	/// settled on Ethereum), with the batch and, once settled, the L1 block and transaction.
	#[method(name = "rollup_operationStatus")]
	fn operation_status(&self, actor: u32, nonce: u32) -> RpcResult<Value>;

	/// The settlement bridge: contracts on Ethereum, relayers, halt switch, the next batch to
	/// settle, the last settled and the last proven batch.
	#[method(name = "bridge_status")]
	fn bridge_status(&self) -> RpcResult<Value>;

	/// Where a batch settled on Ethereum (`null` while it has not).
	#[method(name = "bridge_anchor")]
	fn bridge_anchor(&self, batch: u64) -> RpcResult<Option<Value>>;

	/// Submits a SCALE-encoded `SignedOp` (hex) as an unsigned extrinsic; a refusal names the
	/// rule (e.g. `BadNonce`) or the pool's reason.
	#[method(name = "rollup_submit")]
	async fn submit(&self, op: String) -> RpcResult<Value>;
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

fn error(code: i32, message: impl Into<String>, data: Option<Value>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), data)
}

fn runtime_error(e: impl std::fmt::Debug) -> ErrorObjectOwned {
	error(code::RUNTIME, format!("runtime API call failed: {e:?}"), None)
}

fn hex(bytes: &[u8]) -> String {
	format!("0x{}", ::hex::encode(bytes))
}

/// The names of the bits of `value` (upper case, as `emr` shows them).
fn names(value: u8, table: &[(&'static str, u8)]) -> Vec<&'static str> {
	bit_names(value, table).collect()
}

/// The operation's fields as JSON (what was done, not who signed).
fn operation_json(op: &Operation) -> Value {
	match op {
		Operation::AdmitMember { role, public_key, encryption_key }
		| Operation::Register { role, public_key, encryption_key } => json!({
			"role": format!("{role:?}"), "publicKey": hex(public_key),
			"encryptionKey": hex(encryption_key),
		}),
		Operation::RemoveMember => json!({}),
		Operation::CredentialDoctor { doctor } | Operation::RevokeCredential { doctor } => {
			json!({ "doctor": doctor })
		},
		Operation::AppendRecord { patient, grant, expected_version, index_head } => json!({
			"patient": patient, "grant": grant, "expectedVersion": expected_version,
			"indexHead": cid_string(&index_head.0),
		}),
		Operation::GrantConsent { grantee, permissions, purposes, scope, expires_at, slot } => {
			json!({
				"grantee": grantee, "permissions": names(*permissions, &PERMISSIONS),
				"purposes": names(*purposes, &PURPOSES), "scope": scope,
				"expiresAt": expires_at, "slot": slot,
			})
		},
		Operation::RevokeConsent { grant } => json!({ "grant": grant }),
		Operation::AccessRecord { patient, grant, purpose, scope } => json!({
			"patient": patient, "grant": grant, "purpose": names(*purpose, &PURPOSES),
			"scope": scope,
		}),
		Operation::EmergencyAccess { patient, reason, slot } => {
			json!({ "patient": patient, "reason": reason, "slot": slot })
		},
		Operation::SubmitClaim { patient, grant, record, amount } => json!({
			"patient": patient, "grant": grant, "record": hex(record), "amount": amount,
		}),
		Operation::DecideClaim { patient, grant, approve, settled } => json!({
			"patient": patient, "grant": grant, "approve": approve, "settled": settled,
		}),
	}
}

/// A CID as text: the bytes as UTF-8 when they are printable (CID strings), else hex.
fn cid_string(bytes: &[u8]) -> String {
	match std::str::from_utf8(bytes) {
		Ok(s) if s.chars().all(|c| c.is_ascii_graphic()) => s.to_string(),
		_ => hex(bytes),
	}
}

/// A settlement anchor as JSON.
fn anchor_json(batch: u64, a: &pallet_emr_eth_bridge::Anchor<AccountId, BlockNumber>) -> Value {
	json!({
		"batch": batch, "l1Block": a.l1_block, "l1Tx": hex(&a.l1_tx),
		"relayer": a.relayer.to_string(), "confirmedAt": a.confirmed_at,
	})
}

/// What the pool or the rules said, in words.
fn invalid_reason(i: &InvalidTransaction) -> (String, Option<Value>) {
	match i {
		InvalidTransaction::Custom(pallet_rollup::TOO_MANY_QUEUED) => (
			"too many operations of this actor are already queued; wait for a block".into(),
			Some(json!({ "reason": "TooManyQueued" })),
		),
		InvalidTransaction::Custom(c) => match RuleError::decode(&mut &[*c][..]) {
			Ok(rule) => (
				format!("the rules refuse the operation: {rule:?}"),
				Some(json!({ "rule": format!("{rule:?}") })),
			),
			Err(_) => (format!("refused by the pool (custom code {c})"), None),
		},
		InvalidTransaction::Stale => (
			"stale: this nonce was already used (a replay)".into(),
			Some(json!({ "reason": "Stale" })),
		),
		InvalidTransaction::ExhaustsResources => (
			"the block is full of L2 operations; retry".into(),
			Some(json!({ "reason": "ExhaustsResources" })),
		),
		other => (
			format!("refused by the pool: {other:?}"),
			Some(json!({ "reason": format!("{other:?}") })),
		),
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
	fn participant(&self, id: u32) -> RpcResult<Option<Value>> {
		let (api, at) = self.api();
		let Some(v) = api.participant(at, id).map_err(runtime_error)? else { return Ok(None) };
		let p = &v.participant;
		Ok(Some(json!({
			"id": id,
			"role": format!("{:?}", p.role),
			"active": p.active,
			"publicKey": hex(&v.public_key),
			"encryptionKey": v.encryption_key.map(|k| hex(&k)),
			"nonce": p.nonce,
			"indexVersion": p.index_version,
			"affiliation": (v.live_affiliation != 0).then_some(v.live_affiliation),
			"credentialLapsed": p.affiliation != 0 && v.live_affiliation == 0,
			"emergencyKey": p.emergency_key.is_some(),
			"logHead": hex(&p.log),
		})))
	}

	fn participant_id(&self, public_key: String) -> RpcResult<Option<u32>> {
		let key: [u8; 32] = ::hex::decode(public_key.trim_start_matches("0x"))
			.ok()
			.and_then(|b| b.try_into().ok())
			.ok_or_else(|| {
				error(code::BAD_PARAMS, "the public key is not 32 bytes of hex".to_string(), None)
			})?;
		let (api, at) = self.api();
		api.participant_id(at, key).map_err(runtime_error)
	}

	fn index_head(&self, patient: u32) -> RpcResult<Option<Value>> {
		let (api, at) = self.api();
		Ok(api.index_head(at, patient).map_err(runtime_error)?.map(|h| {
			json!({
				"patient": patient,
				"cid": cid_string(&h.cid.0),
				"version": h.version,
				"author": h.author,
				"block": h.block,
			})
		}))
	}

	fn grants(&self, patient: u32) -> RpcResult<Vec<Value>> {
		let (api, at) = self.api();
		Ok(api
			.grants(at, patient)
			.map_err(runtime_error)?
			.into_iter()
			.map(|v| {
				let g = v.grant;
				json!({
					"slot": v.slot,
					"grantee": g.grantee,
					"permissions": names(g.permissions, &PERMISSIONS),
					"purposes": names(g.purposes, &PURPOSES),
					"scope": g.scope,
					"expiresAt": g.expires_at,
					"emergency": v.emergency.map(|e| json!({
						"doctor": e.doctor, "hospital": e.hospital, "reason": e.reason,
						"openedAt": e.opened_at,
					})),
					"claim": format!("{:?}", g.claim_status),
				})
			})
			.collect())
	}

	fn access_log(&self, patient: u32, from: Option<u32>, count: Option<u32>) -> RpcResult<Value> {
		let (api, at) = self.api();
		let from = from.unwrap_or(0);
		let (total, entries) = api
			.access_log(at, patient, from, count.unwrap_or(100).min(1000))
			.map_err(runtime_error)?;
		let entries: Vec<Value> = entries
			.into_iter()
			.enumerate()
			.map(|(i, e)| {
				json!({
					"index": from + i as u32,
					"actor": e.actor,
					"operation": kind_name(e.kind),
					"grant": e.grant,
					"purpose": names(e.purpose, &PURPOSES).first(),
					"outcome": match e.outcome {
						pallet_consent::LogOutcome::Recorded => "RECORDED",
						pallet_consent::LogOutcome::Granted => "GRANTED",
						pallet_consent::LogOutcome::Denied => "DENIED",
					},
					"block": e.block,
					"batch": e.batch,
					"message": hex(&e.message),
				})
			})
			.collect();
		Ok(json!({ "patient": patient, "total": total, "from": from, "entries": entries }))
	}

	fn claims(&self, patient: u32) -> RpcResult<Vec<Value>> {
		let (api, at) = self.api();
		Ok(api
			.grants(at, patient)
			.map_err(runtime_error)?
			.into_iter()
			.filter(|v| v.grant.claim_status != emr_primitives::stored::StoredClaimStatus::None)
			.map(|v| {
				let g = v.grant;
				json!({
					"slot": v.slot,
					"insurer": g.grantee,
					"status": format!("{:?}", g.claim_status),
					"record": hex(&g.claim_record),
					"amount": g.claim_amount,
					"settled": g.settled,
				})
			})
			.collect())
	}

	fn status(&self) -> RpcResult<Value> {
		let (api, at) = self.api();
		let s = api.rollup_status(at).map_err(runtime_error)?;
		Ok(json!({
			"openBatch": s.open_batch,
			"openEntries": s.open_entries,
			"lastSealed": s.last_sealed,
			"lastProven": s.last_proven,
			"provenRoot": hex(&s.proven_root),
			"verifyingKey": s.verifying_key.map(|(id, hash, size)| json!({
				"id": id, "hash": hex(&hash), "batchSize": size,
			})),
			"params": s.params.map(|p| json!({
				"sealAfter": p.seal_after, "maxOpsPerBlock": p.max_ops_per_block,
				"maxQueuedPerActor": p.max_queued_per_actor,
			})),
			"bestBlock": self.client.info().best_number,
			"finalizedBlock": self.client.info().finalized_number,
		}))
	}

	fn deployment_id(&self) -> RpcResult<String> {
		let (api, at) = self.api();
		Ok(hex(&api.deployment(at).map_err(runtime_error)?.0))
	}

	fn batch(&self, batch: u64) -> RpcResult<Option<Value>> {
		let (api, at) = self.api();
		let Some(b) = api.rollup_batch(at, batch).map_err(runtime_error)? else { return Ok(None) };
		let entries: Vec<Value> = b
			.entries
			.iter()
			.enumerate()
			.map(|(i, e)| {
				json!({
					"index": i,
					"origin": match e.origin { Origin::User => "user", Origin::Governance => "governance" },
					"block": e.block,
					"actor": e.op.actor,
					"nonce": e.op.nonce,
					"kind": kind_name(e.op.op.kind()),
					"operation": operation_json(&e.op.op),
					"signature": hex(&e.op.signature),
					"encoded": hex(&e.encode()),
				})
			})
			.collect();
		let i = b.info;
		Ok(Some(json!({
			"batch": batch,
			"entries": entries,
			"commitment": hex(&i.commitment),
			"verifyingKey": i.vk,
			"openedAt": i.opened_at,
			"lastBlock": i.last_block,
			"sealedAt": i.sealed_at,
			"provenAt": i.proven_at,
			"oldRoot": i.old_root.map(|r| hex(&r)),
			"newRoot": i.new_root.map(|r| hex(&r)),
			"prover": i.prover.map(|a| a.to_string()),
			"proof": b.proof.map(|p| hex(&p)),
		})))
	}

	fn operation_status(&self, actor: u32, nonce: u32) -> RpcResult<Value> {
		let (api, at) = self.api();
		let Some(r) = api.operation(at, actor, nonce).map_err(runtime_error)? else {
			return Ok(json!({ "actor": actor, "nonce": nonce, "status": "unknown" }));
		};
		let info = self.client.info();
		let proven =
			api.rollup_status(at).map_err(runtime_error)?.last_proven.is_some_and(|p| r.batch <= p);
		let finalized = r.block <= info.finalized_number;
		let anchor =
			if proven { api.bridge_anchor(at, r.batch).map_err(runtime_error)? } else { None };
		let status = match (finalized, proven, &anchor) {
			(true, true, Some(_)) => "settled",
			(true, true, None) => "proven",
			(true, false, _) => "finalized",
			_ => "included",
		};
		let mut answer = json!({
			"actor": actor, "nonce": nonce, "status": status, "batch": r.batch,
			"index": r.index, "block": r.block,
		});
		if let Some(a) = anchor.filter(|_| finalized) {
			answer["settlement"] = anchor_json(r.batch, &a);
		}
		Ok(answer)
	}

	fn bridge_status(&self) -> RpcResult<Value> {
		let (api, at) = self.api();
		let s = api.bridge_status(at).map_err(runtime_error)?;
		Ok(json!({
			"contracts": s.contracts.map(|c| json!({
				"chainId": c.chain_id, "lightClient": hex(&c.light_client),
				"rollup": hex(&c.rollup), "firstBatch": c.first_batch,
			})),
			"relayers": s.relayers.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
			"halted": s.halted,
			"nextToSettle": s.next_to_settle,
			"lastSettled": s.last_settled,
			"lastProven": s.last_proven,
		}))
	}

	fn bridge_anchor(&self, batch: u64) -> RpcResult<Option<Value>> {
		let (api, at) = self.api();
		Ok(api.bridge_anchor(at, batch).map_err(runtime_error)?.map(|a| anchor_json(batch, &a)))
	}

	async fn submit(&self, op: String) -> RpcResult<Value> {
		let bytes = ::hex::decode(op.trim_start_matches("0x"))
			.map_err(|e| error(code::BAD_PARAMS, format!("the operation is not hex: {e}"), None))?;
		let op = SignedOp::decode(&mut &bytes[..]).map_err(|e| {
			error(code::BAD_PARAMS, format!("the bytes are not a SignedOp: {e}"), None)
		})?;
		let at = self.client.info().best_hash;
		let call = emr_runtime::RuntimeCall::Rollup(pallet_rollup::Call::submit { op: op.clone() });
		let xt = emr_runtime::UncheckedExtrinsic::new_bare(call);
		let opaque = <Block as sp_runtime::traits::Block>::Extrinsic::decode(&mut &xt.encode()[..])
			.map_err(|e| {
				error(code::BAD_PARAMS, format!("cannot wrap the operation: {e}"), None)
			})?;
		match self.pool.submit_one(at, TransactionSource::External, opaque).await {
			Ok(hash) => Ok(json!({
				"actor": op.actor, "nonce": op.nonce, "kind": kind_name(op.op.kind()),
				"extrinsic": hex(&hash.encode()),
			})),
			Err(e) => {
				let (message, data) = match e.into_pool_error() {
					Ok(sc_transaction_pool_api::error::Error::InvalidTransaction(i)) => {
						let (m, d) = invalid_reason(&i);
						let code = if d.as_ref().is_some_and(|d| d.get("rule").is_some()) {
							code::RULE
						} else {
							code::POOL
						};
						return Err(error(code, m, d));
					},
					Ok(other) => (format!("refused by the pool: {other}"), None),
					Err(other) => (format!("the pool failed: {other}"), None),
				};
				Err(error(code::POOL, message, data))
			},
		}
	}
}
