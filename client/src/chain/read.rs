//! The chain's state through [`subxt`], with types generated at build time from the runtime's
//! metadata (`client/metadata/emr.scale`, written from the runtime by `scripts/gen-chain-specs.sh`
//! and checked fresh by the test `chain_specs.rs`).
//!
//! Two ways in:
//! * [`ChainState::node`]: a full node's WebSocket (a node you trust);
//! * [`ChainState::light`]: a smoldot light client inside this process, started from the chain
//!   spec (raw genesis) and its boot nodes. It follows the chain by GRANDPA finality, checks
//!   every storage value it reads against a storage proof from its peers, and runs the runtime
//!   API calls below itself (with call proofs): no node is trusted.
//!
//! A node is read through subxt's legacy backend (`state_call`, `state_getStorage` at a block
//! hash), so any block it has can be read: [`ChainState::latest`] is its *best* block, where an
//! operation shows as soon as it is included. The light client reads at its latest *finalized*
//! block, the one it can check.
//!
//! smoldot cannot validate L2 operations (the runtime's Poseidon host function is not one it
//! knows, `docs/plans/clients-research.md`), so a light client submits through a node
//! ([`super::submit::NodeClient::submit`]); the operation is signed, so the node can refuse it
//! but not forge it.

use std::{sync::Arc, time::Duration};

use emr_client_core::consent::{Caller, SlotGrant};
use emr_primitives::{
	inbox::InboxEntry,
	ops::{BlockNumber, Cid, DeploymentId, GrantId, ParticipantId},
	stored::StoredParticipant,
};
use subxt::{
	backend::LegacyBackend,
	config::RpcConfigFor,
	lightclient::LightClient,
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	OnlineClient, SubstrateConfig,
};

use super::error::ChainError;

/// Types, storage addresses and runtime API calls generated from the runtime's metadata.
#[allow(missing_docs, clippy::all, unused_qualifications)]
#[subxt::subxt(
	runtime_metadata_path = "metadata/emr.scale",
	substitute_type(
		path = "emr_primitives::stored::StoredParticipant",
		with = "::subxt::utils::Static<::emr_primitives::stored::StoredParticipant>"
	),
	substitute_type(
		path = "emr_primitives::stored::StoredGrant",
		with = "::subxt::utils::Static<::emr_primitives::stored::StoredGrant>"
	),
	substitute_type(
		path = "emr_primitives::ops::DeploymentId",
		with = "::subxt::utils::Static<::emr_primitives::ops::DeploymentId>"
	),
	substitute_type(
		path = "emr_primitives::ops::Cid",
		with = "::subxt::utils::Static<::emr_primitives::ops::Cid>"
	),
	substitute_type(
		path = "emr_primitives::inbox::InboxEntry",
		with = "::subxt::utils::Static<::emr_primitives::inbox::InboxEntry>"
	),
	derive_for_type(
		path = "pallet_consent::LogEntry",
		derive = "::subxt::ext::codec::Decode, Clone, PartialEq, Eq",
		recursive
	)
)]
pub mod runtime {}

pub use runtime::runtime_types::pallet_consent::{LogEntry, LogOutcome};

/// How long one read may take (a light client fetches proofs from its peers and runs the
/// runtime itself; a node answers in milliseconds).
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The most access-log entries one runtime call returns (the runtime's own cap).
pub const LOG_PAGE: u32 = 1000;

type AtBlock = subxt::client::OnlineClientAtBlock<SubstrateConfig>;

/// A block the reads were made at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
	/// Its number.
	pub number: u64,
	/// Its hash.
	pub hash: [u8; 32],
}

/// The chain's state, through a node or a light client.
pub struct ChainState {
	api: OnlineClient<SubstrateConfig>,
	via: String,
	// A node's own RPC (its best block); `None` for the light client.
	rpc: Option<LegacyRpcMethods<RpcConfigFor<SubstrateConfig>>>,
	// The client at the block read last.
	last_at: std::sync::Mutex<Option<([u8; 32], AtBlock)>>,
	// Keeps smoldot running while the client is used.
	_light: Option<LightClient>,
}

impl std::fmt::Debug for ChainState {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("ChainState").field("via", &self.via).finish_non_exhaustive()
	}
}

impl ChainState {
	/// Connects to a full node's JSON-RPC WebSocket (`ws://…`; an `http://` address is taken as
	/// the same server's WebSocket), giving up after `timeout`.
	pub async fn node(url: &str, timeout: Duration) -> Result<Self, ChainError> {
		let ws = match url.split_once("://") {
			Some(("http", rest)) => format!("ws://{rest}"),
			Some(("https", rest)) => format!("wss://{rest}"),
			Some(_) => url.to_owned(),
			None => format!("ws://{url}"),
		};
		let unreachable = |reason: String| ChainError::Unreachable { endpoint: ws.clone(), reason };
		let connect = async {
			let rpc =
				RpcClient::from_insecure_url(&ws).await.map_err(|e| unreachable(e.to_string()))?;
			let backend = LegacyBackend::<SubstrateConfig>::builder().build(rpc.clone());
			let api = OnlineClient::<SubstrateConfig>::from_backend(Arc::new(backend))
				.await
				.map_err(|e| unreachable(e.to_string()))?;
			Ok::<_, ChainError>((api, rpc))
		};
		let (api, rpc) = tokio::time::timeout(timeout, connect)
			.await
			.map_err(|_| unreachable(format!("no answer within {} s", timeout.as_secs())))??;
		Ok(ChainState {
			api,
			via: format!("the node at {ws}"),
			rpc: Some(LegacyRpcMethods::new(rpc)),
			last_at: Default::default(),
			_light: None,
		})
	}

	/// Starts a light client for the chain of the raw chain spec `spec` (JSON), connecting to
	/// `bootnodes` (multiaddresses with peer ids; the spec's own boot nodes when empty), and
	/// waits up to `timeout` until it follows the chain.
	pub async fn light(
		spec: &str,
		bootnodes: &[String],
		timeout: Duration,
	) -> Result<Self, ChainError> {
		let bad = |reason: String| ChainError::Light { reason };
		let mut config = subxt::lightclient::ChainConfig::chain_spec(spec);
		if !bootnodes.is_empty() {
			config = config
				.set_bootnodes(bootnodes)
				.map_err(|e| bad(format!("the chain spec is not JSON: {e}")))?;
		}
		let (light, rpc) = LightClient::relay_chain(config)
			.map_err(|e| bad(format!("the chain spec was refused: {e}")))?;
		// Joined once the first finalized block (and the runtime's metadata at it) is known.
		let join = async {
			let api = OnlineClient::<SubstrateConfig>::from_rpc_client(rpc)
				.await
				.map_err(|e| e.to_string())?;
			api.at_current_block().await.map_err(|e| e.to_string())?;
			Ok::<_, String>(api)
		};
		let api = tokio::time::timeout(timeout, join)
			.await
			.map_err(|_| {
				bad(format!(
					"no finalized block from the network within {} s: are the boot nodes ({}) \
					 reachable, and is the chain finalizing?",
					timeout.as_secs(),
					if bootnodes.is_empty() {
						"the spec's".to_owned()
					} else {
						bootnodes.join(", ")
					}
				))
			})?
			.map_err(bad)?;
		Ok(ChainState {
			api,
			via: "the light client".into(),
			rpc: None,
			last_at: Default::default(),
			_light: Some(light),
		})
	}

	/// Whether reads go through the in-process light client.
	pub fn is_light(&self) -> bool {
		self._light.is_some()
	}

	/// What the reads go through, for messages.
	pub fn via(&self) -> &str {
		&self.via
	}

	fn failed(&self, what: &str, e: impl std::fmt::Display) -> ChainError {
		ChainError::State { via: self.via.clone(), what: what.to_owned(), detail: e.to_string() }
	}

	/// Awaits one request, for at most [`READ_TIMEOUT`].
	async fn timed<T, E: std::fmt::Display>(
		&self,
		what: &str,
		request: impl std::future::Future<Output = Result<T, E>>,
	) -> Result<T, ChainError> {
		match tokio::time::timeout(READ_TIMEOUT, request).await {
			Ok(answer) => answer.map_err(|e| self.failed(what, e)),
			Err(_) => {
				Err(self.failed(what, format!("no answer within {} s", READ_TIMEOUT.as_secs())))
			},
		}
	}

	/// The latest finalized block.
	pub async fn finalized(&self) -> Result<At, ChainError> {
		let at = self.timed("finalized block", self.api.at_current_block()).await?;
		Ok(At { number: at.block_number(), hash: at.block_hash().0 })
	}

	/// A node's best block (the light client's latest finalized block: it follows no other).
	pub async fn best(&self) -> Result<At, ChainError> {
		let Some(rpc) = &self.rpc else { return self.finalized().await };
		let hash = self
			.timed("best block", rpc.chain_get_block_hash(None))
			.await?
			.ok_or_else(|| self.failed("best block", "the node names none"))?;
		let at = self.at(hash.0).await?;
		Ok(At { number: at.block_number(), hash: hash.0 })
	}

	/// The block reads are made at by default: a node's best block (an operation shows there
	/// as soon as it is included), the light client's latest finalized block (the newest it
	/// can check).
	pub async fn latest(&self) -> Result<At, ChainError> {
		if self.is_light() {
			self.finalized().await
		} else {
			self.best().await
		}
	}

	/// The SCALE-encoded header of block `hash` (its Blake2-256 is the hash).
	pub async fn header(&self, hash: [u8; 32]) -> Result<Vec<u8>, ChainError> {
		use codec::Encode;
		let at = self.at(hash).await?;
		let header = self.timed("block header", at.block_header()).await?;
		Ok(header.encode())
	}

	/// A client at block `hash`; the last one is kept, so the reads of one block fetch its
	/// header and runtime version once.
	async fn at(&self, hash: [u8; 32]) -> Result<AtBlock, ChainError> {
		if let Some((h, client)) = self.last_at.lock().ok().and_then(|last| last.clone()) {
			if h == hash {
				return Ok(client);
			}
		}
		let client =
			self.timed("block", self.api.at_block(subxt::config::substrate::H256(hash))).await?;
		if let Ok(mut last) = self.last_at.lock() {
			*last = Some((hash, client.clone()));
		}
		Ok(client)
	}

	/// Runs the runtime API call `payload` at block `at` (a light client runs it itself, with a
	/// call proof); errors name the call.
	async fn call<P: subxt::runtime_apis::Payload>(
		&self,
		at: &At,
		payload: P,
	) -> Result<P::ReturnType, ChainError> {
		let what = format!("{}_{}", payload.trait_name(), payload.method_name());
		let client = self.at(at.hash).await?;
		self.timed(&what, client.runtime_apis().call(payload)).await
	}

	/// The id of the registered rollup key `public_key` (compressed), at block `at`.
	pub async fn participant_id(
		&self,
		at: &At,
		public_key: &[u8; 32],
	) -> Result<Option<ParticipantId>, ChainError> {
		let call = runtime::runtime_apis().emr_api().participant_id(*public_key);
		self.call(at, call).await
	}

	/// The participant `id` at block `at`.
	pub async fn participant(
		&self,
		at: &At,
		id: ParticipantId,
	) -> Result<Option<ParticipantView>, ChainError> {
		let call = runtime::runtime_apis().emr_api().participant(id);
		let view = self.call(at, call).await?;
		Ok(view.map(|v| ParticipantView {
			id,
			participant: v.participant.0,
			encryption_key: v.encryption_key,
			live_affiliation: v.live_affiliation,
		}))
	}

	/// A page of a patient's access log at block `at` (at most [`LOG_PAGE`] entries from
	/// `from`) and the log's length.
	pub async fn log_page(
		&self,
		at: &At,
		patient: ParticipantId,
		from: u32,
		count: u32,
	) -> Result<(u32, Vec<LogEntry>), ChainError> {
		let call = runtime::runtime_apis().emr_api().access_log(patient, from, count.min(LOG_PAGE));
		self.call(at, call).await
	}

	/// A patient's whole access log at block `at`, read a page at a time.
	pub async fn whole_log(
		&self,
		at: &At,
		patient: ParticipantId,
	) -> Result<Vec<LogEntry>, ChainError> {
		let mut all = Vec::new();
		loop {
			let (total, page) = self.log_page(at, patient, all.len() as u32, LOG_PAGE).await?;
			let done = page.is_empty();
			all.extend(page);
			if done || all.len() as u32 >= total {
				return Ok(all);
			}
		}
	}

	/// This deployment's id (what every signature covers), at block `at`.
	pub async fn deployment(&self, at: &At) -> Result<DeploymentId, ChainError> {
		let call = runtime::runtime_apis().emr_api().deployment();
		Ok(self.call(at, call).await?.0)
	}

	/// Milliseconds between blocks (Aura's slot duration), at block `at`.
	pub async fn slot_duration_ms(&self, at: &At) -> Result<u64, ChainError> {
		let call = runtime::runtime_apis().aura_api().slot_duration();
		Ok(self.call(at, call).await?.0)
	}

	/// Patient `patient`'s record-index head (CID and version), at block `at`.
	pub async fn index_head(
		&self,
		at: &At,
		patient: ParticipantId,
	) -> Result<Option<(Cid, u32)>, ChainError> {
		let call = runtime::runtime_apis().emr_api().index_head(patient);
		let head = self.call(at, call).await?;
		Ok(head.map(|h| (h.cid.0, h.version)))
	}

	/// A patient's grant slots as stored, with whether each was opened by emergency access,
	/// at block `at`.
	pub async fn grants(
		&self,
		at: &At,
		patient: ParticipantId,
	) -> Result<Vec<SlotGrant>, ChainError> {
		let call = runtime::runtime_apis().emr_api().grants(patient);
		let views = self.call(at, call).await?;
		Ok(views
			.into_iter()
			.map(|v| SlotGrant { slot: v.slot, grant: v.grant.0, emergency: v.emergency.is_some() })
			.collect())
	}

	/// Where the operation `(actor, nonce)` landed (batch, block), at block `at`.
	pub async fn operation(
		&self,
		at: &At,
		actor: ParticipantId,
		nonce: u32,
	) -> Result<Option<(u64, BlockNumber)>, ChainError> {
		let call = runtime::runtime_apis().emr_api().operation(actor, nonce);
		let r = self.call(at, call).await?;
		Ok(r.map(|r| (r.batch, r.block)))
	}

	/// The last proven batch, at block `at`.
	pub async fn last_proven(&self, at: &At) -> Result<Option<u64>, ChainError> {
		let call = runtime::runtime_apis().emr_api().rollup_status();
		Ok(self.call(at, call).await?.last_proven)
	}

	/// A batch as the chain keeps it, at block `at`.
	pub async fn batch(&self, at: &At, batch: u64) -> Result<Option<ChainBatch>, ChainError> {
		let call = runtime::runtime_apis().emr_api().rollup_batch(batch);
		let Some(b) = self.call(at, call).await? else {
			return Ok(None);
		};
		Ok(Some(ChainBatch {
			entries: b.entries.into_iter().map(|e| e.0).collect(),
			commitment: b.info.commitment,
			vk: b.info.vk,
			proven_at: b.info.proven_at,
			old_root: b.info.old_root,
			new_root: b.info.new_root,
			proof: b.proof,
		}))
	}

	/// Verifying key `id` (compressed) and its Blake2b-256, as the chain stores it, at block
	/// `at`.
	pub async fn verifying_key(
		&self,
		at: &At,
		id: u32,
	) -> Result<Option<(Vec<u8>, [u8; 32])>, ChainError> {
		let client = self.at(at.hash).await?;
		let entry = client
			.storage()
			.entry(runtime::storage().rollup().verifying_keys())
			.map_err(|e| self.failed("Rollup::VerifyingKeys", e))?;
		let value = self.timed("Rollup::VerifyingKeys", entry.try_fetch((id,))).await?;
		let Some(value) = value else { return Ok(None) };
		let k = value.decode().map_err(|e| self.failed("Rollup::VerifyingKeys", e))?;
		Ok(Some((k.key.0, k.hash)))
	}

	/// The Ethereum contracts the chain settles to (chain id, rollup contract, first batch), at
	/// block `at`.
	pub async fn contracts(&self, at: &At) -> Result<Option<(u64, [u8; 20], u64)>, ChainError> {
		let call = runtime::runtime_apis().eth_bridge_api().bridge_status();
		let s = self.call(at, call).await?;
		Ok(s.contracts.map(|c| (c.chain_id, c.rollup, c.first_batch)))
	}

	/// Where batch `batch` settled on Ethereum (L1 block, transaction), at block `at`.
	pub async fn anchor(&self, at: &At, batch: u64) -> Result<Option<(u64, [u8; 32])>, ChainError> {
		let call = runtime::runtime_apis().eth_bridge_api().bridge_anchor(batch);
		let a = self.call(at, call).await?;
		Ok(a.map(|a| (a.l1_block, a.l1_tx)))
	}

	/// The storage keys of a patient's access log (its length and each entry) and grant slots
	/// (their count and each slot), for a storage proof. Reads the two counts at `at`.
	pub async fn patient_keys(
		&self,
		at: &At,
		patient: ParticipantId,
	) -> Result<PatientKeys, ChainError> {
		let client = self.at(at.hash).await?;
		let storage = client.storage();
		let consent = runtime::storage().consent();
		let err = |e: subxt::error::StorageError| self.failed("storage", e);
		let log_length = storage.entry(consent.log_length()).map_err(err)?;
		let slots_used = storage.entry(consent.slots_used()).map_err(err)?;
		let log = storage.entry(consent.access_log()).map_err(err)?;
		let grants = storage.entry(consent.grants()).map_err(err)?;
		let entries: u32 = self
			.timed("Consent::LogLength", log_length.fetch((patient,)))
			.await?
			.decode()
			.map_err(|e| self.failed("Consent::LogLength", e))?;
		let slots: u32 = self
			.timed("Consent::SlotsUsed", slots_used.fetch((patient,)))
			.await?
			.decode()
			.map_err(|e| self.failed("Consent::SlotsUsed", e))?;
		let mut keys = PatientKeys {
			log_length: log_length.fetch_key((patient,)).map_err(err)?,
			slots_used: slots_used.fetch_key((patient,)).map_err(err)?,
			log: Vec::new(),
			grants: Vec::new(),
		};
		for i in 0..entries {
			keys.log.push(log.fetch_key((patient, i)).map_err(err)?);
		}
		for slot in 0..slots {
			keys.grants.push((
				slot as GrantId,
				grants.fetch_key((patient, slot as GrantId)).map_err(err)?,
			));
		}
		Ok(keys)
	}
}

/// A batch as the chain keeps it ([`ChainState::batch`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBatch {
	/// Its operations in inbox order.
	pub entries: Vec<InboxEntry>,
	/// The inbox commitment over them (field bytes).
	pub commitment: [u8; 32],
	/// The verifying key (id) that proves it.
	pub vk: u32,
	/// The block in which its proof was accepted.
	pub proven_at: Option<BlockNumber>,
	/// The state root before it (once proven).
	pub old_root: Option<[u8; 32]>,
	/// The state root after it (once proven).
	pub new_root: Option<[u8; 32]>,
	/// The accepted proof.
	pub proof: Option<Vec<u8>>,
}

/// The storage keys of one patient's log and grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientKeys {
	/// `Consent::LogLength(patient)`.
	pub log_length: Vec<u8>,
	/// `Consent::SlotsUsed(patient)`.
	pub slots_used: Vec<u8>,
	/// `Consent::AccessLog(patient, i)` for every entry.
	pub log: Vec<Vec<u8>>,
	/// `Consent::Grants(patient, slot)` for every slot ever used.
	pub grants: Vec<(GrantId, Vec<u8>)>,
}

/// Decodes an access-log entry as stored (`Consent::AccessLog`).
pub fn decode_log_entry(bytes: &[u8]) -> Result<LogEntry, codec::Error> {
	<LogEntry as codec::Decode>::decode(&mut &bytes[..])
}

/// A participant as the runtime's `EmrApi::participant` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantView {
	/// Its id.
	pub id: ParticipantId,
	/// Its record as stored.
	pub participant: StoredParticipant,
	/// Its X25519 encryption key, if it registered one.
	pub encryption_key: Option<[u8; 32]>,
	/// A doctor's hospital while that hospital is a member (0: none).
	pub live_affiliation: ParticipantId,
}

impl ParticipantView {
	/// A doctor's hospital while that hospital is a member.
	pub fn affiliation(&self) -> Option<ParticipantId> {
		(self.live_affiliation != 0).then_some(self.live_affiliation)
	}

	/// A doctor whose hospital was removed (its credential no longer holds).
	pub fn credential_lapsed(&self) -> bool {
		self.participant.affiliation != 0 && self.live_affiliation == 0
	}

	/// The participant as the maker of a request ([`Caller::covering_grant`]).
	pub fn caller(&self) -> Caller {
		Caller {
			id: self.id,
			participant: self.participant.clone(),
			live_affiliation: self.live_affiliation,
		}
	}
}

/// A page of a patient's access log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogPage {
	/// The log's length.
	pub total: u32,
	/// The index of the first entry of the page.
	pub from: u32,
	/// The entries, oldest first.
	pub entries: Vec<LogEntry>,
}
