//! A full node that takes operations: signed with the key set's rollup key
//! ([`emr_client_core::signing`], for the chain's deployment id) and submitted without tokens
//! through its JSON-RPC (`rollup_submit`: an unsigned extrinsic the runtime checks with the
//! rules). Reads of the chain's state go through subxt ([`super::read::ChainState`]), over the
//! node's WebSocket or a light client, and come back typed as the runtime returns them.
//!
//! A submitted operation moves through the levels of [`Level`]; [`NodeClient::wait`] polls
//! `rollup_operationStatus` until the level asked for and reports each step. A refusal comes
//! back as [`ChainError::Refused`], whose message says in words what the rule means.

use std::time::Duration;

use bytes::Bytes;
use codec::Encode;
use emr_client_core::{consent::SlotGrant, signing};
use emr_primitives::ops::{BlockNumber, Cid, DeploymentId, Operation, ParticipantId, SignedOp};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;

use super::{
	error::ChainError,
	read::{At, ChainState, LogPage, ParticipantView},
	status::{Level, OpStatus},
};
use crate::{
	endpoint::HttpEndpoint,
	keys::{KeySet, PublicKeys},
};

/// The default node address (a local development node).
pub const DEFAULT_NODE: &str = "http://127.0.0.1:9944";

/// Largest JSON-RPC answer accepted.
const MAX_ANSWER: usize = 16 << 20;

/// A client of one full node: operations are submitted and their levels asked through its
/// JSON-RPC over plain HTTP; the chain's state is read through subxt ([`ChainState`]), over the
/// node's WebSocket (the node serves HTTP and WebSocket on one port) or through a light client
/// ([`NodeClient::with_light`]).
#[derive(Clone, Debug)]
pub struct NodeClient {
	host: String,
	port: u16,
	endpoint: String,
	timeout: Duration,
	// The node's WebSocket, connected at its first use.
	node_state: std::sync::Arc<tokio::sync::OnceCell<ChainState>>,
	light: Option<std::sync::Arc<ChainState>>,
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
	v.get(name).filter(|x| !x.is_null())
}

impl NodeClient {
	/// A client of the node at `url` (`http://host:port`, `ws://host:port` or `host:port`),
	/// waiting at most `timeout` for each answer.
	pub fn new(url: &str, timeout: Duration) -> Result<Self, ChainError> {
		let bad = |reason: &str| ChainError::BadEndpoint { url: url.into(), reason: reason.into() };
		let trimmed = url.trim();
		let rest = match trimmed.split_once("://") {
			Some(("http" | "ws", rest)) => rest,
			Some(("https" | "wss", _)) => return Err(bad(
				"TLS is not supported: use http:// to a node on this host or behind a local proxy",
			)),
			Some(_) => return Err(bad("expected http://host:port or ws://host:port")),
			None => trimmed,
		};
		let HttpEndpoint { host, port, url: endpoint } =
			HttpEndpoint::from_authority(rest).map_err(bad)?;
		Ok(Self { host, port, endpoint, timeout, node_state: Default::default(), light: None })
	}

	/// Reads participants, grants and access logs through `state` (a light client) from now
	/// on, at its latest finalized block; operations are still submitted to this node.
	pub fn with_light(mut self, state: ChainState) -> Self {
		self.light = Some(std::sync::Arc::new(state));
		self
	}

	/// The light client reads go through, if any.
	pub fn light(&self) -> Option<&ChainState> {
		self.light.as_deref()
	}

	/// What the chain's state is read through: the light client, or this node's WebSocket
	/// (connected at the first call).
	pub async fn state(&self) -> Result<&ChainState, ChainError> {
		match &self.light {
			Some(light) => Ok(light),
			None => self.node_state().await,
		}
	}

	/// This node's state, over its WebSocket (connected at the first call).
	async fn node_state(&self) -> Result<&ChainState, ChainError> {
		self.node_state.get_or_try_init(|| ChainState::node(&self.endpoint, self.timeout)).await
	}

	/// The state and the block reads are made at ([`ChainState::latest`]).
	async fn read(&self) -> Result<(&ChainState, At), ChainError> {
		let state = self.state().await?;
		Ok((state, state.latest().await?))
	}

	/// The node's address as `http://host:port`.
	pub fn endpoint(&self) -> &str {
		&self.endpoint
	}

	/// Calls `method` with `params` and returns its `result`.
	pub(crate) async fn call(&self, method: &str, params: Value) -> Result<Value, ChainError> {
		match tokio::time::timeout(self.timeout, self.call_inner(method, params)).await {
			Ok(r) => r,
			Err(_) => Err(ChainError::Timeout {
				endpoint: self.endpoint.clone(),
				method: method.into(),
				seconds: self.timeout.as_secs(),
			}),
		}
	}

	async fn call_inner(&self, method: &str, params: Value) -> Result<Value, ChainError> {
		let bad = |detail: String| ChainError::BadAnswer {
			endpoint: self.endpoint.clone(),
			method: method.into(),
			detail,
		};
		let stream = TcpStream::connect((self.host.as_str(), self.port)).await.map_err(|e| {
			ChainError::Unreachable { endpoint: self.endpoint.clone(), reason: e.to_string() }
		})?;
		let _ = stream.set_nodelay(true);
		let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
			.await
			.map_err(|e| bad(format!("not an HTTP server ({e})")))?;
		let conn = tokio::spawn(async move {
			let _ = conn.await;
		});
		let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
		let req = http::Request::post("/")
			.header(http::header::HOST, format!("{}:{}", self.host, self.port))
			.header(http::header::CONTENT_TYPE, "application/json")
			.header(http::header::USER_AGENT, concat!("emr-cli/", env!("CARGO_PKG_VERSION")))
			.body(Full::new(Bytes::from(body.to_string())))
			.map_err(|e| bad(e.to_string()))?;
		let answer = sender.send_request(req).await;
		let result = match answer {
			Err(e) => Err(ChainError::Unreachable {
				endpoint: self.endpoint.clone(),
				reason: e.to_string(),
			}),
			Ok(response) => {
				let status = response.status();
				let bytes = Limited::new(response.into_body(), MAX_ANSWER)
					.collect()
					.await
					.map_err(|e| bad(format!("reading the answer: {e}")))?
					.to_bytes();
				if !status.is_success() {
					Err(bad(format!("HTTP status {status}")))
				} else {
					serde_json::from_slice::<Value>(&bytes)
						.map_err(|e| bad(format!("invalid JSON: {e}")))
				}
			},
		};
		conn.abort();
		let v = result?;
		if let Some(err) = v.get("error") {
			let code = err.get("code").and_then(Value::as_i64).unwrap_or_default();
			let message = err.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
			let data = err.get("data");
			if let Some(rule) = data.and_then(|d| d.get("rule")).and_then(Value::as_str) {
				return Err(ChainError::refused(rule));
			}
			if code == -32601 {
				return Err(bad(format!(
					"the node does not offer {method}: is it an emr-chain node of this release?"
				)));
			}
			if method == "rollup_submit" && code == 9003 {
				return Err(ChainError::Pool(message));
			}
			return Err(ChainError::Rpc { method: method.into(), code, message });
		}
		v.get("result").cloned().ok_or_else(|| bad("no result".into()))
	}

	/// The chain's deployment id (what every signature covers).
	pub async fn deployment(&self) -> Result<DeploymentId, ChainError> {
		let (state, at) = self.read().await?;
		state.deployment(&at).await
	}

	/// The number of the block reads are made at: the node's best block, or the light
	/// client's latest finalized block.
	pub async fn best_block(&self) -> Result<BlockNumber, ChainError> {
		Ok(self.read().await?.1.number as BlockNumber)
	}

	/// Milliseconds between blocks (the runtime's Aura slot duration).
	pub async fn block_time_ms(&self) -> Result<u64, ChainError> {
		let (state, at) = self.read().await?;
		let ms = state.slot_duration_ms(&at).await?;
		if ms == 0 {
			return Err(ChainError::State {
				via: state.via().to_owned(),
				what: "AuraApi".into(),
				detail: "a slot duration of 0 ms".into(),
			});
		}
		Ok(ms)
	}

	/// The id the chain gave the rollup key `public_key` (compressed), if it is registered.
	pub async fn participant_id(
		&self,
		public_key: &[u8; 32],
	) -> Result<Option<ParticipantId>, ChainError> {
		let (state, at) = self.read().await?;
		state.participant_id(&at, public_key).await
	}

	/// The participant `id`, if there is one.
	pub async fn participant(
		&self,
		id: ParticipantId,
	) -> Result<Option<ParticipantView>, ChainError> {
		let (state, at) = self.read().await?;
		state.participant(&at, id).await
	}

	/// The participant `id`, or [`ChainError::UnknownParticipant`].
	pub async fn existing(&self, id: ParticipantId) -> Result<ParticipantView, ChainError> {
		self.participant(id).await?.ok_or(ChainError::UnknownParticipant(id))
	}

	/// The key set's participant, or [`ChainError::NotRegistered`].
	pub async fn me(&self, keys: &PublicKeys) -> Result<ParticipantView, ChainError> {
		let not = || ChainError::NotRegistered { name: keys.name.clone() };
		let id = self.participant_id(&keys.rollup.to_bytes()).await?.ok_or_else(not)?;
		self.participant(id).await?.ok_or_else(not)
	}

	/// A patient's grant slots as stored, with whether each was opened by emergency access.
	pub async fn grants(&self, patient: ParticipantId) -> Result<Vec<SlotGrant>, ChainError> {
		let (state, at) = self.read().await?;
		state.grants(&at, patient).await
	}

	/// A patient's record-index head (CID, version), if it has one.
	pub async fn index_head(
		&self,
		patient: ParticipantId,
	) -> Result<Option<(Cid, u32)>, ChainError> {
		let (state, at) = self.read().await?;
		state.index_head(&at, patient).await
	}

	/// Signs `op` as the key set's participant with its next nonce and submits it.
	pub async fn submit_as(&self, keys: &KeySet, op: Operation) -> Result<SignedOp, ChainError> {
		let me = self.me(&keys.public).await?;
		let deployment = self.deployment().await?;
		let nonce = match &self.light {
			None => me.participant.nonce,
			// The light client sees finalized state only: an operation of this key set in a
			// block not yet final has used the finalized nonce. The node's best block knows;
			// a wrong nonce could only get the operation refused, never forged.
			Some(_) => {
				let node = self.node_state().await?;
				let best = node.participant(&node.best().await?, me.id).await?;
				me.participant.nonce.max(best.map_or(0, |p| p.participant.nonce))
			},
		};
		let signed = signing::sign(keys, me.id, nonce, op, &deployment);
		self.submit(&signed).await?;
		Ok(signed)
	}

	/// Submits a signed operation (`rollup_submit`).
	pub async fn submit(&self, op: &SignedOp) -> Result<(), ChainError> {
		self.call("rollup_submit", json!([format!("0x{}", hex::encode(op.encode()))])).await?;
		Ok(())
	}

	/// Where the operation `(actor, nonce)` stands. With a light client, the levels from
	/// *finalized* up are the light client's own reading of its latest finalized block (the
	/// operation's place, the last proven batch, the batch's settlement); only *included* is
	/// the node's word.
	pub async fn status(&self, actor: ParticipantId, nonce: u32) -> Result<OpStatus, ChainError> {
		let said = self.node_status(actor, nonce).await?;
		let Some(light) = self.light() else { return Ok(said) };
		let at = light.finalized().await?;
		let Some((batch, block)) = light.operation(&at, actor, nonce).await? else {
			// Not final yet, as far as the light client can tell.
			return Ok(OpStatus { level: said.level.min(Level::Included), l1: None, ..said });
		};
		let proven = light.last_proven(&at).await?.is_some_and(|p| batch <= p);
		let anchor = if proven { light.anchor(&at, batch).await? } else { None };
		Ok(OpStatus {
			actor,
			nonce,
			level: match (proven, &anchor) {
				(true, Some(_)) => Level::Settled,
				(true, None) => Level::Proven,
				(false, _) => Level::Finalized,
			},
			block: Some(block.into()),
			batch: Some(batch),
			l1: anchor.map(|(l1_block, tx)| (l1_block, format!("0x{}", hex::encode(tx)))),
		})
	}

	/// Where the node says the operation `(actor, nonce)` stands (`rollup_operationStatus`).
	async fn node_status(&self, actor: ParticipantId, nonce: u32) -> Result<OpStatus, ChainError> {
		let v = self.call("rollup_operationStatus", json!([actor, nonce])).await?;
		let level = match field(&v, "status").and_then(Value::as_str) {
			Some("included") => Level::Included,
			Some("finalized") => Level::Finalized,
			Some("proven") => Level::Proven,
			Some("settled") => Level::Settled,
			_ => Level::Unknown,
		};
		let l1 = field(&v, "settlement").and_then(|s| {
			Some((field(s, "l1Block")?.as_u64()?, field(s, "l1Tx")?.as_str()?.to_owned()))
		});
		Ok(OpStatus {
			actor,
			nonce,
			level,
			block: field(&v, "block").and_then(Value::as_u64),
			batch: field(&v, "batch").and_then(Value::as_u64),
			l1,
		})
	}

	/// Waits until the operation `(actor, nonce)` reaches `wanted` (or `timeout` passes),
	/// calling `progress` each time it moves up a level.
	pub async fn wait(
		&self,
		actor: ParticipantId,
		nonce: u32,
		wanted: Level,
		timeout: Duration,
		mut progress: impl FnMut(&OpStatus),
	) -> Result<OpStatus, ChainError> {
		let start = tokio::time::Instant::now();
		let mut last = Level::Unknown;
		loop {
			let s = self.status(actor, nonce).await?;
			if s.level > last {
				last = s.level;
				progress(&s);
			}
			if s.level >= wanted {
				return Ok(s);
			}
			if s.level == Level::Unknown && start.elapsed() > Duration::from_secs(30) {
				// Not in a block after five block times: did another operation take the nonce?
				if let Some(p) = self.participant(actor).await? {
					if p.participant.nonce > nonce {
						return Err(ChainError::Dropped);
					}
				}
			}
			if start.elapsed() >= timeout {
				let hint = match s.level {
					Level::Unknown | Level::Included => ": are blocks being produced?",
					Level::Finalized => {
						": is a prover running (`emr-node --prover` or `emr-prover run`)?"
					},
					_ => ": is the relayer running (`emr-prover relay`)?",
				};
				return Err(ChainError::WaitTimeout {
					wanted,
					reached: s,
					seconds: timeout.as_secs(),
					hint,
				});
			}
			tokio::time::sleep(Duration::from_millis(1000)).await;
		}
	}

	/// Waits until the rollup key `public_key` has an id (its registration was applied to the
	/// best block), for at most `timeout`.
	pub async fn wait_registered(
		&self,
		public_key: &[u8; 32],
		timeout: Duration,
	) -> Result<Option<ParticipantId>, ChainError> {
		let start = tokio::time::Instant::now();
		loop {
			if let Some(id) = self.participant_id(public_key).await? {
				return Ok(Some(id));
			}
			if start.elapsed() >= timeout {
				return Ok(None);
			}
			tokio::time::sleep(Duration::from_millis(1000)).await;
		}
	}

	/// A page of a patient's access log: at most `count` entries from `from`.
	pub async fn access_log(
		&self,
		patient: ParticipantId,
		from: u32,
		count: u32,
	) -> Result<LogPage, ChainError> {
		let (state, at) = self.read().await?;
		let (total, entries) = state.log_page(&at, patient, from, count).await?;
		Ok(LogPage { total, from, entries })
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn node_addresses_parse_or_say_why_not() {
		let t = Duration::from_secs(1);
		assert_eq!(NodeClient::new("ws://127.0.0.1:9944", t).unwrap().endpoint(), DEFAULT_NODE);
		assert_eq!(NodeClient::new("127.0.0.1:9944", t).unwrap().endpoint(), DEFAULT_NODE);
		assert_eq!(
			NodeClient::new("http://[::1]:9944/", t).unwrap().endpoint(),
			"http://[::1]:9944"
		);
		for (url, why) in [
			("wss://node:443", "TLS"),
			("ftp://node:1", "expected"),
			("http://node", "port is missing"),
			("http://node:x", "not a number"),
		] {
			let e = NodeClient::new(url, t).unwrap_err().to_string();
			assert!(e.contains(why), "{url}: {e}");
		}
	}

	#[test]
	fn levels_are_ordered_and_parse() {
		assert!(Level::Included < Level::Finalized && Level::Proven < Level::Settled);
		assert_eq!("proven".parse::<Level>(), Ok(Level::Proven));
		assert!("sealed".parse::<Level>().is_err());
	}

	#[tokio::test]
	async fn a_node_that_is_not_there_is_said_so() {
		// Port 9 (discard) of the loopback: privileged, so no test process can be listening
		// there (a port bound, learnt and closed could be taken by another test meanwhile).
		let node = NodeClient::new("127.0.0.1:9", Duration::from_secs(5)).unwrap();
		let e = node.best_block().await.unwrap_err();
		assert!(matches!(e, ChainError::Unreachable { .. }), "{e}");
		assert!(e.to_string().contains("no node reachable"), "{e}");
	}
}
