//! The relayer: settles the chain's proven batches on Ethereum, in order, and reports where
//! each settled back to the chain (`ethBridge.confirm`).
//!
//! One [`Relayer::step`] looks at both sides and does the one next thing:
//!
//! 1. **Report what Ethereum already has.** If the rollup contract is past the chain's next
//!    batch to settle (a relayer sent it and stopped before confirming, or another relayer
//!    did), it finds the batch's `BatchSettled` event, waits for the confirmations and sends
//!    `confirm`. It never sends a batch the contract already holds: every step reads the
//!    contract's state first, so a restart never pays twice.
//! 2. **Bring the light client forward.** A batch proven in block `P` is under the MMR root of
//!    every BEEFY commitment from block `P + 1` on (the leaf of `P` is appended by `P + 1`). If
//!    the light client's latest commitment is older, the relayer sends the node's latest BEEFY
//!    justification; when the chain has moved on by more than one validator set, it first sends
//!    the first block of each set in turn (signed by that set, with the MMR leaf that
//!    announces the next), which is how the contract follows the handoffs.
//! 3. **Settle the next batch.** With the leaf of `P + 1` and its proof against the light
//!    client's latest root, it calls `submitBatch`, waits for the confirmations, and confirms
//!    on the chain.
//!
//! Everything sent is checked here first, the way the contracts check it
//! ([`crate::beefy`]), so a relayer does not pay for a transaction that must fail. An
//! Ethereum node that cannot be reached is an [`RelayError::Unreachable`] (retried with
//! backoff by the caller); a transaction the contract refuses is an [`RelayError::Refused`]:
//! the relayer reports it and does not send that batch again until restarted.

use crate::{
	beefy::{Address, LeafProof, MmrLeaf},
	evidence::{self, Justification, Rpc},
	l1::{self, L1Error, TxOutcome, L1},
};
use codec::Decode;
use emr_primitives::settlement;
use emr_runtime::{AccountId, BlockNumber, RuntimeCall};
use emr_worker::rpc::RpcChain;
use pallet_emr_eth_bridge::{Anchor, BridgeStatus};
use serde_json::{json, Value};
use std::time::Duration;

/// A BEEFY validator set as the light client holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetInfo {
	/// The set's id.
	pub id: u64,
	/// Its size.
	pub len: u32,
	/// Its keyset commitment.
	pub root: [u8; 32],
}

/// The light client contract's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LightClientState {
	/// The set that signs now.
	pub current: SetInfo,
	/// The set after it.
	pub next: SetInfo,
	/// The block of the latest accepted commitment.
	pub latest_block: u32,
	/// The MMR root it signed.
	pub latest_root: [u8; 32],
}

/// A transaction included on Ethereum.
pub type Included = TxOutcome;

/// A proven batch as the chain holds it (field elements little-endian, the proof compressed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenBatch {
	/// The batch number.
	pub batch: u64,
	/// The state root before it.
	pub old_root: [u8; 32],
	/// The state root after it.
	pub new_root: [u8; 32],
	/// Its inbox commitment.
	pub commitment: [u8; 32],
	/// The Groth16 proof the chain accepted.
	pub proof: Vec<u8>,
	/// The block whose state first holds the proof.
	pub proven_at: u32,
}

/// What the relayer needs from Ethereum: the two contracts.
pub trait Ethereum {
	/// The light client's state.
	fn light_client(&mut self) -> Result<LightClientState, L1Error>;
	/// The batch the rollup contract accepts next.
	fn next_batch(&mut self) -> Result<u64, L1Error>;
	/// Sends a signed commitment (with the handoff leaf when it is signed by the next set).
	fn submit_commitment(
		&mut self,
		justification: &Justification,
		validators: &[Address],
		handoff: Option<&(MmrLeaf, LeafProof)>,
	) -> Result<Included, L1Error>;
	/// Sends a proven batch with the MMR leaf that carries its digest, proven against the
	/// light client's root `mmr_root`.
	fn submit_batch(
		&mut self,
		batch: &ProvenBatch,
		leaf: &MmrLeaf,
		proof: &LeafProof,
		mmr_root: [u8; 32],
	) -> Result<Included, L1Error>;
	/// Where the rollup contract settled `batch` (its `BatchSettled` event), if it did.
	fn settled(&mut self, batch: u64) -> Result<Option<Included>, L1Error>;
	/// Waits until `tx` has `confirmations` blocks on top of its own (counting its own).
	fn wait_confirmations(&mut self, tx: &Included, confirmations: u64) -> Result<(), L1Error>;
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
	/// Nothing to do now, and why.
	Idle(String),
	/// The light client accepted a commitment.
	LightClient {
		/// The commitment's block.
		block: u32,
		/// The set that signed it.
		set_id: u64,
		/// The L1 transaction.
		tx: Included,
	},
	/// The rollup contract settled a batch.
	Settled {
		/// The batch.
		batch: u64,
		/// The L1 transaction.
		tx: Included,
	},
	/// The chain recorded where a batch settled.
	Confirmed {
		/// The batch.
		batch: u64,
		/// The L1 transaction.
		tx: Included,
	},
}

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
	/// Ethereum or the chain's node cannot be reached now: retry with backoff.
	#[error("{0}")]
	Unreachable(String),
	/// A contract refused what was sent: reported, not retried.
	#[error("{0}")]
	Refused(String),
	/// The chain or the contracts are in a state the relayer cannot act on.
	#[error("{0}")]
	Stuck(String),
}

impl From<L1Error> for RelayError {
	fn from(e: L1Error) -> Self {
		match e {
			L1Error::Refused { .. } | L1Error::Reverted { .. } | L1Error::Invalid(_) => {
				RelayError::Refused(e.to_string())
			},
			L1Error::Unreachable(_) | L1Error::Node(_) => {
				RelayError::Unreachable(format!("Ethereum: {e}"))
			},
		}
	}
}

fn chain_err(e: String) -> RelayError {
	RelayError::Unreachable(format!("the chain's node: {e}"))
}

fn decode<T: Decode>(what: &str, bytes: &[u8]) -> Result<T, RelayError> {
	T::decode(&mut &bytes[..]).map_err(|e| {
		RelayError::Stuck(format!(
			"{what} does not decode ({e}); is this emr-prover built for the chain's runtime?"
		))
	})
}

/// A runtime API call at the node's best block, decoded.
fn runtime_call<T: Decode>(rpc: Rpc, method: &str, args: &[u8]) -> Result<T, RelayError> {
	let answer = rpc("state_call", json!([method, format!("0x{}", hex::encode(args))]))
		.map_err(chain_err)?;
	let s = answer.as_str().ok_or_else(|| chain_err(format!("{method}: {answer}")))?;
	let bytes = hex::decode(s.trim_start_matches("0x")).map_err(|e| chain_err(e.to_string()))?;
	decode(method, &bytes)
}

/// The bridge's state on the chain.
pub fn bridge_status(rpc: Rpc) -> Result<BridgeStatus<AccountId>, RelayError> {
	runtime_call(rpc, "EthBridgeApi_bridge_status", &[])
}

/// Where `batch` settled, as the chain recorded it.
pub fn bridge_anchor(
	rpc: Rpc,
	batch: u64,
) -> Result<Option<Anchor<AccountId, BlockNumber>>, RelayError> {
	runtime_call(rpc, "EthBridgeApi_bridge_anchor", &codec::Encode::encode(&batch))
}

fn hex32(v: &Value, what: &str) -> Result<[u8; 32], RelayError> {
	let s = v.as_str().ok_or_else(|| RelayError::Stuck(format!("{what} missing: {v}")))?;
	let mut out = [0u8; 32];
	hex::decode_to_slice(s.trim_start_matches("0x"), &mut out)
		.map_err(|e| RelayError::Stuck(format!("{what}: {e}")))?;
	Ok(out)
}

/// A proven batch from the node (`None` while it is not proven).
pub fn proven_batch(rpc: Rpc, batch: u64) -> Result<Option<ProvenBatch>, RelayError> {
	let view = rpc("rollup_batch", json!([batch])).map_err(chain_err)?;
	let (Some(proven_at), Some(proof)) = (view["provenAt"].as_u64(), view["proof"].as_str()) else {
		return Ok(None);
	};
	Ok(Some(ProvenBatch {
		batch,
		old_root: hex32(&view["oldRoot"], "oldRoot")?,
		new_root: hex32(&view["newRoot"], "newRoot")?,
		commitment: hex32(&view["commitment"], "commitment")?,
		proof: hex::decode(proof.trim_start_matches("0x"))
			.map_err(|e| RelayError::Stuck(format!("proof: {e}")))?,
		proven_at: proven_at as u32,
	}))
}

/// The number of the node's GRANDPA-finalized head.
fn finalized_number(rpc: Rpc) -> Result<u32, RelayError> {
	let hash = rpc("chain_getFinalizedHead", json!([])).map_err(chain_err)?;
	let header = rpc("chain_getHeader", json!([hash])).map_err(chain_err)?;
	let number = header["number"].as_str().unwrap_or_default();
	u32::from_str_radix(number.trim_start_matches("0x"), 16)
		.map_err(|e| chain_err(format!("header number {number}: {e}")))
}

/// The relayer: a node (with the relayer's account key), the Ethereum contracts, and how many
/// L1 confirmations make a settlement final enough to report.
pub struct Relayer<E: Ethereum> {
	chain: RpcChain,
	eth: E,
	confirmations: u64,
	refused: Option<(u64, String)>,
}

impl<E: Ethereum> Relayer<E> {
	/// A relayer over `chain` and `eth` that reports a settlement after `confirmations` L1
	/// blocks (at least 1).
	pub fn new(chain: RpcChain, eth: E, confirmations: u64) -> Self {
		Relayer { chain, eth, confirmations: confirmations.max(1), refused: None }
	}

	/// The Ethereum side.
	pub fn ethereum(&mut self) -> &mut E {
		&mut self.eth
	}

	/// Does the one next thing (module docs).
	pub fn step(&mut self) -> Result<Progress, RelayError> {
		let call = self.chain.rpc_fn();
		let rpc: Rpc = &call;
		let status = bridge_status(rpc)?;
		if status.halted {
			return Ok(Progress::Idle(
				"the council halted the bridge (ethBridge.setHalted)".into(),
			));
		}
		if status.contracts.is_none() {
			return Ok(Progress::Idle(
				"the council has not set the contracts (ethBridge.setContracts)".into(),
			));
		}
		let next_l1 = self.eth.next_batch()?;
		let next_chain = status.next_to_settle;
		if next_chain < next_l1 {
			return self.report(rpc, next_chain);
		}
		if next_chain > next_l1 {
			return Err(RelayError::Stuck(format!(
				"the chain records batches up to {} as settled, but the rollup contract expects \
				 batch {next_l1}: are these the contracts the council set?",
				next_chain - 1
			)));
		}
		if let Some((batch, reason)) = &self.refused {
			if *batch == next_l1 {
				return Ok(Progress::Idle(format!(
					"batch {batch} was refused by the contract ({reason}); not sending it again"
				)));
			}
		}
		if status.last_proven.is_none_or(|p| p < next_l1) {
			return Ok(Progress::Idle(format!("waiting for batch {next_l1} to be proven")));
		}
		let Some(batch) = proven_batch(rpc, next_l1)? else {
			return Ok(Progress::Idle(format!("waiting for batch {next_l1} to be proven")));
		};
		let needed = batch.proven_at + 1;
		if finalized_number(rpc)? < needed {
			return Ok(Progress::Idle(format!(
				"waiting for block {needed} (batch {next_l1}'s MMR leaf) to be finalized"
			)));
		}
		let lc = self.eth.light_client()?;
		if lc.latest_block < needed {
			return self.advance_light_client(rpc, &lc, needed);
		}
		self.settle(rpc, &lc, &batch)
	}

	/// Confirms on the chain a batch the contract already settled.
	fn report(&mut self, rpc: Rpc, batch: u64) -> Result<Progress, RelayError> {
		let tx = self.eth.settled(batch)?.ok_or_else(|| {
			RelayError::Stuck(format!(
				"the rollup contract is past batch {batch} but has no BatchSettled event for it"
			))
		})?;
		self.eth.wait_confirmations(&tx, self.confirmations)?;
		self.confirm(rpc, batch, tx)?;
		Ok(Progress::Confirmed { batch, tx })
	}

	/// Sends `ethBridge.confirm` and waits until the chain records the anchor (or the
	/// transaction's mortality ends: the next step then sends it again).
	fn confirm(&mut self, rpc: Rpc, batch: u64, tx: Included) -> Result<(), RelayError> {
		if bridge_anchor(rpc, batch)?.is_some() {
			return Ok(());
		}
		let call = RuntimeCall::EthBridge(pallet_emr_eth_bridge::Call::confirm {
			batch,
			l1_block: tx.block,
			l1_tx: tx.tx_hash.0,
		});
		let sent = self.chain.submit_call(call).map_err(|e| match e {
			emr_worker::SubmitError::Unavailable(e) => chain_err(e.to_string()),
			other => RelayError::Refused(format!("the chain refused confirm({batch}): {other}")),
		})?;
		loop {
			std::thread::sleep(Duration::from_secs(1));
			if bridge_anchor(rpc, batch)?.is_some() {
				return Ok(());
			}
			let best = rpc("chain_getHeader", json!([])).map_err(chain_err)?;
			let number = best["number"].as_str().unwrap_or("0x0");
			let number = u32::from_str_radix(number.trim_start_matches("0x"), 16).unwrap_or(0);
			if number > sent.valid_until {
				return Err(RelayError::Unreachable(format!(
					"confirm({batch}) was not included before block {}; sending it again",
					sent.valid_until
				)));
			}
		}
	}

	/// Sends the light client the commitment that brings it toward block `needed`.
	fn advance_light_client(
		&mut self,
		rpc: Rpc,
		lc: &LightClientState,
		needed: u32,
	) -> Result<Progress, RelayError> {
		let Some(latest) = evidence::latest_justification(rpc).map_err(chain_err)? else {
			return Ok(Progress::Idle("waiting for the first BEEFY justification".into()));
		};
		if latest.commitment.block_number < needed
			|| latest.commitment.block_number <= lc.latest_block
		{
			return Ok(Progress::Idle(format!(
				"waiting for BEEFY to finalize block {needed} (latest BEEFY block {})",
				latest.commitment.block_number
			)));
		}
		let set_id = latest.commitment.validator_set_id;
		let target = if set_id <= lc.next.id {
			latest
		} else {
			// More than one handoff behind: the first block of the next set, signed by it.
			let first = evidence::first_block_of_set(
				rpc,
				lc.next.id,
				lc.latest_block + 1,
				latest.commitment.block_number,
			)
			.map_err(chain_err)?;
			let hash = evidence::block_hash(rpc, first).map_err(chain_err)?;
			evidence::justification_at(rpc, &hash).map_err(chain_err)?.ok_or_else(|| {
				RelayError::Stuck(format!(
					"the node has no BEEFY justification for block {first}, the first of set {}",
					lc.next.id
				))
			})?
		};
		let (block, set_id) = (target.commitment.block_number, target.commitment.validator_set_id);
		let set = evidence::validator_set(rpc, &target.block_hash).map_err(chain_err)?;
		let validators = evidence::addresses(set.validators()).map_err(RelayError::Stuck)?;
		crate::beefy::verify_commitment(&target.commitment, &target.signatures, &validators)
			.map_err(|e| RelayError::Stuck(format!("the commitment of block {block}: {e}")))?;
		let handoff = if set_id == lc.next.id && set_id != lc.current.id {
			let leaf =
				evidence::leaf_proof(rpc, block, (block, &target.block_hash)).map_err(chain_err)?;
			if leaf.0.next_set_id != set_id + 1 {
				return Err(RelayError::Stuck(format!(
					"the MMR leaf of block {block} announces set {}, not {}",
					leaf.0.next_set_id,
					set_id + 1
				)));
			}
			Some(leaf)
		} else {
			None
		};
		let tx = self.eth.submit_commitment(&target, &validators, handoff.as_ref())?;
		Ok(Progress::LightClient { block, set_id, tx })
	}

	/// Settles `batch` against the light client's latest root and confirms it on the chain.
	fn settle(
		&mut self,
		rpc: Rpc,
		lc: &LightClientState,
		batch: &ProvenBatch,
	) -> Result<Progress, RelayError> {
		let hash = evidence::block_hash(rpc, lc.latest_block).map_err(chain_err)?;
		let (leaf, proof) =
			evidence::leaf_proof(rpc, batch.proven_at + 1, (lc.latest_block, &hash))
				.map_err(chain_err)?;
		let digest = settlement::digest(batch.batch, &batch.new_root, &batch.commitment);
		if leaf.extra != digest {
			return Err(RelayError::Stuck(format!(
				"the MMR leaf of block {} does not carry batch {}'s digest",
				batch.proven_at, batch.batch
			)));
		}
		crate::beefy::verify_leaf(&lc.latest_root, &leaf, &proof).map_err(|e| {
			RelayError::Stuck(format!(
				"the leaf of batch {} is not under the light client's root: {e}",
				batch.batch
			))
		})?;
		let tx = match self.eth.submit_batch(batch, &leaf, &proof, lc.latest_root) {
			Ok(tx) => tx,
			Err(e @ (L1Error::Refused { .. } | L1Error::Reverted { .. } | L1Error::Invalid(_))) => {
				let reason = e.to_string();
				self.refused = Some((batch.batch, reason.clone()));
				return Err(RelayError::Refused(format!(
					"the rollup contract refused batch {}: {reason}",
					batch.batch
				)));
			},
			Err(e) => return Err(e.into()),
		};
		self.eth.wait_confirmations(&tx, self.confirmations)?;
		self.confirm(rpc, batch.batch, tx)?;
		Ok(Progress::Settled { batch: batch.batch, tx })
	}
}

/// What the contracts are deployed with, read from the chain at its finalized head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
	/// The finalized block it was read at.
	pub at_block: u32,
	/// The BEEFY set active there.
	pub current: SetInfo,
	/// The set after it.
	pub next: SetInfo,
	/// The rollup's current verifying key (compressed, as the chain stores it).
	pub verifying_key: Vec<u8>,
	/// The first batch the rollup contract will take: the one after the last proven.
	pub first_batch: u64,
	/// The proven state root before it (little-endian, as the chain stores it).
	pub initial_root: [u8; 32],
}

/// Reads what the contracts must start from: the BEEFY sets, the verifying key, and the
/// proven root and next batch, all at the finalized head.
pub fn deployment(rpc: Rpc) -> Result<Deployment, RelayError> {
	use polkadot_sdk::frame_support::storage::generator::StorageMap;
	let hash = rpc("chain_getFinalizedHead", json!([])).map_err(chain_err)?;
	let at = hash.as_str().ok_or_else(|| chain_err(format!("finalized head: {hash}")))?;
	let at_block = finalized_number(rpc)?;
	let call = |method: &str| -> Result<Vec<u8>, RelayError> {
		let v = rpc("state_call", json!([method, "0x", at])).map_err(chain_err)?;
		let s = v.as_str().ok_or_else(|| chain_err(format!("{method}: {v}")))?;
		hex::decode(s.trim_start_matches("0x")).map_err(|e| chain_err(e.to_string()))
	};
	let set = |method: &str| -> Result<SetInfo, RelayError> {
		let (id, len, root): (u64, u32, [u8; 32]) = decode(method, &call(method)?)?;
		Ok(SetInfo { id, len, root })
	};
	let current = set("BeefyMmrApi_authority_set_proof")?;
	let next = set("BeefyMmrApi_next_authority_set_proof")?;
	let status: pallet_rollup::runtime_api::RollupStatus =
		decode("EmrApi_rollup_status", &call("EmrApi_rollup_status")?)?;
	let (key_id, _, _) = status
		.verifying_key
		.ok_or_else(|| RelayError::Stuck("the chain has no verifying key yet".into()))?;
	let storage_key = <pallet_rollup::VerifyingKeys<emr_runtime::Runtime> as StorageMap<
		u32,
		pallet_rollup::VerifyingKeyInfo,
	>>::storage_map_final_key(key_id);
	let stored = rpc("state_getStorage", json!([format!("0x{}", hex::encode(storage_key)), at]))
		.map_err(chain_err)?;
	let stored = stored
		.as_str()
		.ok_or_else(|| RelayError::Stuck(format!("verifying key {key_id} is not in storage")))?;
	let stored =
		hex::decode(stored.trim_start_matches("0x")).map_err(|e| chain_err(e.to_string()))?;
	let info: pallet_rollup::VerifyingKeyInfo = decode("the verifying key", &stored)?;
	Ok(Deployment {
		at_block,
		current,
		next,
		verifying_key: info.key.into_inner(),
		first_batch: status.last_proven.map_or(0, |p| p + 1),
		initial_root: status.proven_root,
	})
}

/// The consortium's contracts on an Ethereum node, as the relayer uses them.
pub struct Contracts {
	l1: L1,
	light_client: l1::Address,
	rollup: l1::Address,
	/// Where to start looking for `BatchSettled` events.
	deployed_at: u64,
	/// How long to wait for confirmations.
	timeout: Duration,
}

impl Contracts {
	/// The contracts at `light_client` and `rollup` (deployed at or after L1 block
	/// `deployed_at`), reached through `l1`.
	pub fn new(l1: L1, light_client: l1::Address, rollup: l1::Address, deployed_at: u64) -> Self {
		Contracts { l1, light_client, rollup, deployed_at, timeout: Duration::from_secs(600) }
	}

	/// The client.
	pub fn l1(&self) -> &L1 {
		&self.l1
	}
}

impl Ethereum for Contracts {
	fn light_client(&mut self) -> Result<LightClientState, L1Error> {
		let lc = self.l1.light_client(self.light_client);
		let set = |s: l1::ValidatorSet| SetInfo { id: s.id, len: s.len, root: s.root };
		Ok(LightClientState {
			current: set(lc.current_set()?),
			next: set(lc.next_set()?),
			latest_block: lc.latest_block()?,
			latest_root: lc.latest_mmr_root()?,
		})
	}

	fn next_batch(&mut self) -> Result<u64, L1Error> {
		self.l1.rollup(self.rollup).next_batch()
	}

	fn submit_commitment(
		&mut self,
		j: &Justification,
		validators: &[Address],
		handoff: Option<&(MmrLeaf, LeafProof)>,
	) -> Result<Included, L1Error> {
		self.l1.light_client(self.light_client).submit_commitment(
			&j.commitment,
			&j.signatures,
			validators,
			handoff.map(|(leaf, proof)| (leaf, proof)),
		)
	}

	fn submit_batch(
		&mut self,
		b: &ProvenBatch,
		leaf: &MmrLeaf,
		proof: &LeafProof,
		mmr_root: [u8; 32],
	) -> Result<Included, L1Error> {
		let inputs = l1::BatchInputs {
			batch: b.batch,
			old_root: b.old_root,
			new_root: b.new_root,
			inbox_commitment: b.commitment,
		};
		self.l1.rollup(self.rollup).submit_batch(&inputs, &b.proof, leaf, proof, &mmr_root)
	}

	fn settled(&mut self, batch: u64) -> Result<Option<Included>, L1Error> {
		let Some(s) = self.l1.rollup(self.rollup).find_settled(batch, self.deployed_at)? else {
			return Ok(None);
		};
		Ok(Some(TxOutcome { block: s.block, tx_hash: s.tx_hash, gas_used: 0 }))
	}

	fn wait_confirmations(&mut self, tx: &Included, confirmations: u64) -> Result<(), L1Error> {
		self.l1.wait_confirmations(tx, confirmations, self.timeout).map(|_| ())
	}
}
