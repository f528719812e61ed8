//! What a relayer will send Ethereum, read from a node and checked the way the contracts will
//! ([`crate::beefy`]): the latest BEEFY justification, the validator set that signed it,
//! and the MMR leaf and proof that carry a proven batch's rollup digest.
//!
//! Used by `emr-prover beefy` (auditors, the demo) and by the finality tests. Every node call
//! goes through an [`Rpc`] function, so the same code serves the HTTP client and the tests'
//! harness.

use crate::beefy::{self, Address, Commitment, LeafProof, MmrLeaf};
use codec::{Decode, Encode};
use emr_primitives::settlement;
use polkadot_sdk::sp_consensus_beefy::{
	ecdsa_crypto::{AuthorityId as BeefyId, Signature as BeefySignature},
	ValidatorSet, VersionedFinalityProof, BEEFY_ENGINE_ID,
};
use serde_json::{json, Value};

/// A JSON-RPC call to the node: method and params to the result, or the error in words.
pub type Rpc<'a> = &'a dyn Fn(&str, Value) -> Result<Value, String>;

/// A BEEFY justification as a node stores it with its block, in the contract's terms.
#[derive(Clone, Debug)]
pub struct Justification {
	/// The hash of the block it finalizes (`0x` hex).
	pub block_hash: String,
	/// The signed commitment.
	pub commitment: Commitment,
	/// One slot per validator of the signing set, in the set's order.
	pub signatures: Vec<Option<[u8; 65]>>,
	/// Its SCALE size as stored (compact signatures).
	pub encoded_len: usize,
}

/// A justification checked against the set active at its block.
#[derive(Clone, Debug)]
pub struct Checked {
	/// The set's id.
	pub set_id: u64,
	/// The set's BEEFY keys (compressed secp256k1).
	pub set: Vec<BeefyId>,
	/// How many of them signed.
	pub signed: usize,
}

/// A proven batch shown to be under a signed MMR root.
#[derive(Clone, Debug)]
pub struct Covered {
	/// The block whose state first holds the batch's proof.
	pub proven_at: u32,
	/// The rollup digest of the batch.
	pub digest: [u8; 32],
	/// The MMR leaf of `proven_at`.
	pub leaf: MmrLeaf,
	/// Its proof against the signed root.
	pub proof: LeafProof,
}

fn bytes(v: &Value) -> Result<Vec<u8>, String> {
	if let Some(items) = v.as_array() {
		return items
			.iter()
			.map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
			.collect::<Option<Vec<u8>>>()
			.ok_or_else(|| format!("not a byte array: {v}"));
	}
	let s = v.as_str().ok_or_else(|| format!("expected hex, got {v}"))?;
	hex::decode(s.trim_start_matches("0x")).map_err(|e| format!("bad hex {s}: {e}"))
}

fn bytes32(v: &Value, what: &str) -> Result<[u8; 32], String> {
	bytes(v)?.try_into().map_err(|_| format!("{what} is not 32 bytes: {v}"))
}

fn decode<T: Decode>(what: &str, data: &[u8]) -> Result<T, String> {
	T::decode(&mut &data[..]).map_err(|e| format!("cannot decode {what}: {e}"))
}

fn state_call(rpc: Rpc, method: &str, at: &str) -> Result<Vec<u8>, String> {
	bytes(&rpc("state_call", json!([method, "0x", at]))?)
}

/// The justification stored with the node's best BEEFY-finalized block (`None` before the
/// first one).
pub fn latest_justification(rpc: Rpc) -> Result<Option<Justification>, String> {
	let head = rpc("beefy_getFinalizedHead", json!([]))?;
	let head = head.as_str().ok_or_else(|| format!("beefy_getFinalizedHead: {head}"))?;
	justification_at(rpc, head)
}

/// The BEEFY justification stored with block `hash` (`0x` hex), if the node has one: every
/// block BEEFY finalized on this node, and always the first block of each validator set.
pub fn justification_at(rpc: Rpc, hash: &str) -> Result<Option<Justification>, String> {
	let block = rpc("chain_getBlock", json!([hash]))?;
	for entry in block["justifications"].as_array().into_iter().flatten() {
		if bytes(&entry[0])? != BEEFY_ENGINE_ID {
			continue;
		}
		let encoded = bytes(&entry[1])?;
		let VersionedFinalityProof::V1(signed) = decode::<
			VersionedFinalityProof<u32, BeefySignature>,
		>("a BEEFY justification", &encoded)?;
		// The contract reads the same bytes: decode the commitment with the contract-side type.
		let commitment: Commitment = decode("a BEEFY commitment", &signed.commitment.encode())?;
		let signatures = signed
			.signatures
			.iter()
			.map(|s| {
				s.as_ref().map(|s| {
					let mut raw = [0u8; 65];
					raw.copy_from_slice(s.as_ref());
					raw
				})
			})
			.collect();
		return Ok(Some(Justification {
			block_hash: hash.to_string(),
			commitment,
			signatures,
			encoded_len: encoded.len(),
		}));
	}
	Ok(None)
}

/// The hash (`0x` hex) of block `number` of the node's best chain.
pub fn block_hash(rpc: Rpc, number: u32) -> Result<String, String> {
	let hash = rpc("chain_getBlockHash", json!([number]))?;
	hash.as_str().map(String::from).ok_or_else(|| format!("the node has no block {number}"))
}

/// The first block of BEEFY validator set `set_id` (its mandatory block, which the set signs
/// and whose MMR leaf announces the set after it), searched between blocks `from` and `to`
/// (both finalized, `to` under set `set_id` or a later one).
pub fn first_block_of_set(rpc: Rpc, set_id: u64, from: u32, to: u32) -> Result<u32, String> {
	let (mut lo, mut hi) = (from, to);
	if validator_set(rpc, &block_hash(rpc, hi)?)?.id() < set_id {
		return Err(format!("block {to} is still before BEEFY set {set_id}"));
	}
	// Invariant: the set at `hi` is `set_id` or later; find the first such block.
	while lo < hi {
		let mid = lo + (hi - lo) / 2;
		if validator_set(rpc, &block_hash(rpc, mid)?)?.id() >= set_id {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	Ok(hi)
}

/// The MMR leaf that block `number` appended (it stands for block `number − 1`) with its proof
/// against the MMR root of block `at` (number and hash).
pub fn leaf_proof(rpc: Rpc, number: u32, at: (u32, &str)) -> Result<(MmrLeaf, LeafProof), String> {
	let generated = rpc("mmr_generateProof", json!([[number], at.0, at.1]))?;
	let leaves: Vec<Vec<u8>> = decode("MMR leaves", &bytes(&generated["leaves"])?)?;
	let proof: LeafProof = decode("an MMR proof", &bytes(&generated["proof"])?)?;
	let [leaf] = &leaves[..] else {
		return Err(format!("mmr_generateProof returned {} leaves, not one", leaves.len()));
	};
	Ok((decode("an MMR leaf", leaf)?, proof))
}

/// The BEEFY validator set active at block `at`.
pub fn validator_set(rpc: Rpc, at: &str) -> Result<ValidatorSet<BeefyId>, String> {
	let encoded = state_call(rpc, "BeefyApi_validator_set", at)?;
	decode::<Option<ValidatorSet<BeefyId>>>("the BEEFY validator set", &encoded)?
		.ok_or_else(|| "BEEFY has no validator set".to_string())
}

/// The Ethereum addresses of `keys`.
pub fn addresses(keys: &[BeefyId]) -> Result<Vec<Address>, String> {
	keys.iter()
		.map(|k| beefy::eth_address(AsRef::<[u8]>::as_ref(k)).map_err(|e| e.to_string()))
		.collect()
}

/// Checks `j` as the light-client contract will: signed by the set active at its block (same
/// id), more than two thirds of it, each signature by the validator at its position; and the
/// set's keyset commitment on chain is the Merkle root of its addresses.
pub fn check_justification(rpc: Rpc, j: &Justification) -> Result<Checked, String> {
	let set = validator_set(rpc, &j.block_hash)?;
	if j.commitment.validator_set_id != set.id() {
		return Err(format!(
			"the commitment of block {} names set {}, but set {} is active there",
			j.commitment.block_number,
			j.commitment.validator_set_id,
			set.id()
		));
	}
	let addresses = addresses(set.validators())?;
	let signed = beefy::verify_commitment(&j.commitment, &j.signatures, &addresses)
		.map_err(|e| format!("the commitment of block {}: {e}", j.commitment.block_number))?;
	let encoded = state_call(rpc, "BeefyMmrApi_authority_set_proof", &j.block_hash)?;
	let (id, len, root): (u64, u32, [u8; 32]) = decode("the BEEFY authority set", &encoded)?;
	if (id, len as usize) != (set.id(), set.len()) || root != beefy::set_root(&addresses) {
		return Err(format!(
			"the chain's keyset commitment of set {id} ({len} validators, 0x{}) is not the \
			 Merkle root of the set's addresses",
			hex::encode(root)
		));
	}
	Ok(Checked { set_id: set.id(), set: set.validators().to_vec(), signed })
}

/// Shows that proven batch `batch` is under the MMR root `j` signed: the MMR leaf of the block
/// that proved it carries the batch's rollup digest, and its proof leads to the signed root.
pub fn check_batch(rpc: Rpc, j: &Justification, batch: u64) -> Result<Covered, String> {
	let view = rpc("rollup_batch", json!([batch]))?;
	let proven_at = view["provenAt"]
		.as_u64()
		.ok_or_else(|| format!("batch {batch} is not proven (rollup_batch: {view})"))?
		as u32;
	let root = bytes32(&view["newRoot"], "newRoot")?;
	let commitment = bytes32(&view["commitment"], "commitment")?;
	let digest = settlement::digest(batch, &root, &commitment);
	// The leaf of block n is appended by block n + 1.
	if j.commitment.block_number <= proven_at {
		return Err(format!(
			"batch {batch} was proven in block {proven_at}; the latest BEEFY commitment (block \
			 {}) does not cover it yet",
			j.commitment.block_number
		));
	}
	let (leaf, proof) = leaf_proof(rpc, proven_at + 1, (j.commitment.block_number, &j.block_hash))?;
	if leaf.parent_number != proven_at {
		return Err(format!("the MMR leaf is of block {}, not {proven_at}", leaf.parent_number));
	}
	if leaf.extra != digest {
		return Err(format!(
			"the MMR leaf of block {proven_at} carries 0x{}, not batch {batch}'s digest 0x{}",
			hex::encode(leaf.extra),
			hex::encode(digest)
		));
	}
	let root = j.commitment.mmr_root().ok_or("the commitment has no MMR root")?;
	beefy::verify_leaf(&root, &leaf, &proof).map_err(|e| e.to_string())?;
	Ok(Covered { proven_at, digest, leaf, proof })
}
