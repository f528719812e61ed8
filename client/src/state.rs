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
//! Reads are made at the latest *finalized* block. smoldot cannot validate L2 operations (the
//! runtime's Poseidon host function is not one it knows, `docs/plans/clients-research.md`), so a
//! light client submits through a node ([`crate::chain::NodeClient::submit`]); the operation is
//! signed, so the node can refuse it but not forge it.

use std::time::Duration;

use emr_primitives::{
	ops::{GrantId, ParticipantId},
	stored::StoredGrant,
};
use serde_json::{json, Value};
use subxt::{lightclient::LightClient, OnlineClient, SubstrateConfig};

use crate::chain::{ChainError, GrantInfo, ParticipantInfo};

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
	derive_for_type(
		path = "pallet_consent::LogEntry",
		derive = "::subxt::ext::codec::Decode, Clone, PartialEq, Eq",
		recursive
	)
)]
pub mod runtime {}

pub use runtime::runtime_types::pallet_consent::{LogEntry, LogOutcome};

/// Sends the light client's log (smoldot logs through the `log` facade) to standard error at
/// `level` (`error`, `warn`, `info`, `debug`, `trace`; `EMR_LOG`). Without it nothing is
/// logged.
pub fn log_to_stderr(level: &str) {
	struct Stderr;
	impl log::Log for Stderr {
		fn enabled(&self, _: &log::Metadata<'_>) -> bool {
			true
		}
		fn log(&self, record: &log::Record<'_>) {
			if self.enabled(record.metadata()) {
				eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
			}
		}
		fn flush(&self) {}
	}
	static LOGGER: Stderr = Stderr;
	if let Ok(filter) = level.parse::<log::LevelFilter>() {
		if log::set_logger(&LOGGER).is_ok() {
			log::set_max_level(filter);
		}
	}
}

/// How long one read may take (a light client fetches proofs from its peers and runs the
/// runtime itself; a node answers in milliseconds).
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

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
	/// the same server's WebSocket).
	pub async fn node(url: &str) -> Result<Self, ChainError> {
		let ws = match url.split_once("://") {
			Some(("http", rest)) => format!("ws://{rest}"),
			Some(("https", rest)) => format!("wss://{rest}"),
			Some(_) => url.to_owned(),
			None => format!("ws://{url}"),
		};
		let api = OnlineClient::<SubstrateConfig>::from_insecure_url(&ws)
			.await
			.map_err(|e| ChainError::Unreachable { endpoint: ws.clone(), reason: e.to_string() })?;
		Ok(ChainState { api, via: format!("the node at {ws}"), _light: None })
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
		Ok(ChainState { api, via: "the light client".into(), _light: Some(light) })
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

	/// The SCALE-encoded header of block `hash` (its Blake2-256 is the hash).
	pub async fn header(&self, hash: [u8; 32]) -> Result<Vec<u8>, ChainError> {
		use codec::Encode;
		let at = self.at(hash).await?;
		let header = self.timed("block header", at.block_header()).await?;
		Ok(header.encode())
	}

	async fn at(
		&self,
		hash: [u8; 32],
	) -> Result<
		subxt::client::ClientAtBlock<
			SubstrateConfig,
			subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>,
		>,
		ChainError,
	> {
		self.timed("block", self.api.at_block(subxt::config::substrate::H256(hash))).await
	}

	/// The id of the registered rollup key `public_key` (compressed), at block `at`.
	pub async fn participant_id(
		&self,
		at: &At,
		public_key: &[u8; 32],
	) -> Result<Option<ParticipantId>, ChainError> {
		let call = runtime::runtime_apis().emr_api().participant_id(*public_key);
		self.timed("EmrApi", self.at(at.hash).await?.runtime_apis().call(call)).await
	}

	/// The participant `id` at block `at`, as [`crate::chain::NodeClient::participant`] shows it.
	pub async fn participant(
		&self,
		at: &At,
		id: ParticipantId,
	) -> Result<Option<ParticipantInfo>, ChainError> {
		let call = runtime::runtime_apis().emr_api().participant(id);
		let view = self.timed("EmrApi", self.at(at.hash).await?.runtime_apis().call(call)).await?;
		Ok(view.map(|v| {
			let p = v.participant.0;
			ParticipantInfo {
				id,
				role: format!("{:?}", p.role),
				active: p.active,
				nonce: p.nonce,
				encryption_key: v.encryption_key,
				affiliation: (v.live_affiliation != 0).then_some(v.live_affiliation),
				credential_lapsed: p.affiliation != 0 && v.live_affiliation == 0,
			}
		}))
	}

	/// A patient's grants at block `at`, as [`crate::chain::NodeClient::grants`] shows them.
	pub async fn grants(
		&self,
		at: &At,
		patient: ParticipantId,
	) -> Result<Vec<GrantInfo>, ChainError> {
		let call = runtime::runtime_apis().emr_api().grants(patient);
		let views = self.timed("EmrApi", self.at(at.hash).await?.runtime_apis().call(call)).await?;
		Ok(views
			.into_iter()
			.map(|v| GrantInfo {
				emergency: v.emergency.is_some(),
				..grant_info(v.slot, &v.grant.0)
			})
			.collect())
	}

	/// A page of a patient's access log at block `at`, in the JSON form of the node's
	/// `emr_accessLog`.
	pub async fn access_log(
		&self,
		at: &At,
		patient: ParticipantId,
		from: u32,
		count: u32,
	) -> Result<Value, ChainError> {
		let call = runtime::runtime_apis().emr_api().access_log(patient, from, count.min(1000));
		let (total, entries) =
			self.timed("EmrApi", self.at(at.hash).await?.runtime_apis().call(call)).await?;
		let entries: Vec<Value> =
			entries.iter().enumerate().map(|(i, e)| log_entry_json(from + i as u32, e)).collect();
		Ok(json!({ "patient": patient, "total": total, "from": from, "entries": entries }))
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

/// A stored grant as [`crate::chain::NodeClient::grants`] shows it (`emergency` from the grant's
/// own flag).
pub fn grant_info(slot: GrantId, g: &StoredGrant) -> GrantInfo {
	GrantInfo {
		slot,
		grantee: g.grantee,
		permissions: bit_names(g.permissions, &crate::names::PERMISSIONS),
		purposes: bit_names(g.purposes, &crate::names::PURPOSES),
		scope: g.scope,
		expires_at: g.expires_at,
		emergency: g.emergency,
		claim: format!("{:?}", g.claim_status),
	}
}

/// Decodes an access-log entry as stored (`Consent::AccessLog`).
pub fn decode_log_entry(bytes: &[u8]) -> Result<LogEntry, codec::Error> {
	<LogEntry as codec::Decode>::decode(&mut &bytes[..])
}

/// One access-log entry in the JSON form of the node's `emr_accessLog`.
pub fn log_entry_json(index: u32, e: &LogEntry) -> Value {
	json!({
		"index": index,
		"actor": e.actor,
		"operation": crate::names::kind_name(e.kind),
		"grant": e.grant,
		"purpose": bit_names(e.purpose, &crate::names::PURPOSES).first(),
		"outcome": match e.outcome {
			LogOutcome::Recorded => "RECORDED",
			LogOutcome::Granted => "GRANTED",
			LogOutcome::Denied => "DENIED",
		},
		"block": e.block,
		"batch": e.batch,
		"message": format!("0x{}", hex::encode(e.message)),
	})
}

/// The names of the bits set in `bits`, upper case (`READ`, `TREATMENT`, …), as the node shows
/// them.
pub fn bit_names(bits: u8, table: &[(&str, u8)]) -> Vec<String> {
	table.iter().filter(|(_, bit)| bits & bit != 0).map(|(n, _)| n.to_uppercase()).collect()
}
