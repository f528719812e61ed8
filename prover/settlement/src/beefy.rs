//! BEEFY commitments and MMR proofs, checked the way the Ethereum contracts check them.
//!
//! The app-chain's validators sign, with secp256k1 ECDSA, the keccak-256 of a SCALE-encoded
//! [`Commitment`] whose payload holds the root of the chain's keccak Merkle mountain range
//! (MMR). Each MMR leaf ([`MmrLeaf`]) carries the rollup digest of the last proven batch
//! (`emr_primitives::settlement`). A relayer hands Ethereum a commitment, the validators'
//! signatures, a leaf and its MMR proof; the light-client and rollup contracts then check:
//!
//! 1. every signature recovers (`ecrecover`) to the address of the validator at its position in
//!    the current set, and more than two thirds of the set signed ([`verify_commitment`]);
//! 2. the set's addresses hash to the set's keyset commitment ([`set_root`], the binary keccak
//!    Merkle tree the MMR leaves announce the next set with);
//! 3. the leaf's keccak, climbed along its proof and bagged with the other peaks, gives the
//!    signed MMR root ([`verify_leaf`]).
//!
//! This module does the same, with no dependency on Substrate: the relayer uses it to check
//! what it will pay to send, and the tests use it to show that the chain's commitments pass
//! the contract's rules. Only single-leaf proofs are accepted (one batch is settled at a time).

use codec::{Decode, Encode};
use emr_primitives::settlement::keccak256;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

/// The payload id of the MMR root in a BEEFY commitment.
pub const MMR_ROOT_ID: [u8; 2] = *b"mh";

/// An Ethereum address (the last 20 bytes of the keccak of an uncompressed public key).
pub type Address = [u8; 20];

/// What BEEFY validators sign (`sp_consensus_beefy::Commitment`, same SCALE encoding).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Commitment {
	/// Payload entries: (id, SCALE-encoded value); `mh` is the MMR root.
	pub payload: Vec<([u8; 2], Vec<u8>)>,
	/// The block the commitment finalizes.
	pub block_number: u32,
	/// The id of the validator set that signs it.
	pub validator_set_id: u64,
}

impl Commitment {
	/// The message the validators sign: keccak-256 of the SCALE encoding.
	pub fn hash(&self) -> [u8; 32] {
		keccak256(&self.encode())
	}

	/// The MMR root in the payload, if there is exactly one well-formed `mh` entry.
	pub fn mmr_root(&self) -> Option<[u8; 32]> {
		let mut roots = self.payload.iter().filter(|(id, _)| *id == MMR_ROOT_ID);
		let (_, value) = roots.next()?;
		if roots.next().is_some() {
			return None;
		}
		value.as_slice().try_into().ok()
	}
}

/// An MMR leaf (`sp_consensus_beefy::mmr::MmrLeaf` with a 32-byte extra, same encoding).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct MmrLeaf {
	/// Leaf format version.
	pub version: u8,
	/// The number of the block this leaf stands for.
	pub parent_number: u32,
	/// That block's hash.
	pub parent_hash: [u8; 32],
	/// Id of the next BEEFY validator set.
	pub next_set_id: u64,
	/// Its size.
	pub next_set_len: u32,
	/// Its keyset commitment ([`set_root`] of its addresses).
	pub next_set_root: [u8; 32],
	/// The rollup digest of the last proven batch at that block.
	pub extra: [u8; 32],
}

impl MmrLeaf {
	/// The leaf's node in the MMR: keccak-256 of its SCALE encoding.
	pub fn hash(&self) -> [u8; 32] {
		keccak256(&self.encode())
	}
}

/// A proof of MMR leaves (`sp_mmr_primitives::LeafProof<H256>`, same encoding).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct LeafProof {
	/// The indices of the proven leaves.
	pub leaf_indices: Vec<u64>,
	/// How many leaves the MMR had.
	pub leaf_count: u64,
	/// The sibling hashes, left peaks, and the bag of the right peaks, in that order.
	pub items: Vec<[u8; 32]>,
}

/// Why a commitment or a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeefyError {
	/// There is not one signature slot per validator.
	#[error("{signatures} signature slots for a set of {validators} validators")]
	SignatureCount {
		/// Slots given.
		signatures: usize,
		/// Validators in the set.
		validators: usize,
	},
	/// A signature does not recover to the validator at its position.
	#[error("signature {index} is not by validator {index}")]
	BadSignature {
		/// Its position.
		index: usize,
	},
	/// Not more than two thirds of the set signed.
	#[error("{signed} of {validators} validators signed; more than two thirds ({needed}) must")]
	TooFewSignatures {
		/// Valid signatures.
		signed: usize,
		/// Validators in the set.
		validators: usize,
		/// The least count accepted.
		needed: usize,
	},
	/// A public key is not a point of secp256k1.
	#[error("not a secp256k1 public key")]
	BadKey,
	/// The proof is not one of a single leaf of the MMR.
	#[error("malformed MMR proof: {0}")]
	MalformedProof(&'static str),
	/// The proof leads to another root.
	#[error("the MMR proof leads to root 0x{}, not the signed 0x{}", hex::encode(.got), hex::encode(.expected))]
	RootMismatch {
		/// The root the proof gives.
		got: [u8; 32],
		/// The signed root.
		expected: [u8; 32],
	},
}

/// The Ethereum address of a compressed (33-byte) secp256k1 public key.
pub fn eth_address(compressed: &[u8]) -> Result<Address, BeefyError> {
	let key = VerifyingKey::from_sec1_bytes(compressed).map_err(|_| BeefyError::BadKey)?;
	Ok(address_of(&key))
}

fn address_of(key: &VerifyingKey) -> Address {
	let point = key.to_encoded_point(false);
	let hash = keccak256(&point.as_bytes()[1..]);
	let mut address = [0u8; 20];
	address.copy_from_slice(&hash[12..]);
	address
}

/// The signer of the 32-byte `message` under the 65-byte signature `r ‖ s ‖ v` (`v` as 0/1 or
/// 27/28), or `None` when it recovers to nothing or `s` is in the upper half (a malleated
/// signature, which the contract refuses too).
pub fn recover(message: &[u8; 32], signature: &[u8; 65]) -> Option<Address> {
	let v = match signature[64] {
		v @ (0 | 1) => v,
		v @ (27 | 28) => v - 27,
		_ => return None,
	};
	let sig = Signature::from_slice(&signature[..64]).ok()?;
	if sig.normalize_s().is_some() {
		return None;
	}
	let id = RecoveryId::from_byte(v)?;
	VerifyingKey::recover_from_prehash(message, &sig, id).ok().map(|key| address_of(&key))
}

/// The least number of signatures that is more than two thirds of `validators`.
pub fn threshold(validators: usize) -> usize {
	validators * 2 / 3 + 1
}

/// Checks `signatures` (one slot per validator, in the set's order) on `commitment`: each
/// present signature must recover to the address at its position, and more than two thirds of
/// the set must have signed. Returns the number of signatures.
pub fn verify_commitment(
	commitment: &Commitment,
	signatures: &[Option<[u8; 65]>],
	validators: &[Address],
) -> Result<usize, BeefyError> {
	if signatures.len() != validators.len() {
		return Err(BeefyError::SignatureCount {
			signatures: signatures.len(),
			validators: validators.len(),
		});
	}
	let message = commitment.hash();
	let mut signed = 0;
	for (index, (signature, validator)) in signatures.iter().zip(validators).enumerate() {
		let Some(signature) = signature else { continue };
		if recover(&message, signature).as_ref() != Some(validator) {
			return Err(BeefyError::BadSignature { index });
		}
		signed += 1;
	}
	let needed = threshold(validators.len());
	if signed < needed {
		return Err(BeefyError::TooFewSignatures { signed, validators: validators.len(), needed });
	}
	Ok(signed)
}

/// The keyset commitment of a validator set: the binary keccak Merkle root of its addresses
/// (leaves are `keccak(address)`, pairs `keccak(left ‖ right)`, an odd last node moves up
/// unchanged), as the MMR leaves and the light client hold it.
pub fn set_root(addresses: &[Address]) -> [u8; 32] {
	let mut row: Vec<[u8; 32]> = addresses.iter().map(|a| keccak256(a)).collect();
	if row.is_empty() {
		return [0; 32];
	}
	while row.len() > 1 {
		row = row
			.chunks(2)
			.map(|pair| match pair {
				[left, right] => hash_pair(left, right),
				[single] => *single,
				_ => unreachable!("chunks(2) yields one or two items"),
			})
			.collect();
	}
	row[0]
}

fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
	let mut both = [0u8; 64];
	both[..32].copy_from_slice(left);
	both[32..].copy_from_slice(right);
	keccak256(&both)
}

/// The MMR root that the leaf with hash `leaf` at `index`, among `count` leaves, and the proof
/// `items` lead to.
///
/// The MMR of `count` leaves is a row of perfect binary trees (peaks), one per set bit of
/// `count`, largest first. The items are: the root of each peak left of the leaf's, the
/// siblings from the leaf up to its peak, then (if there are peaks to the right) their bag.
/// Peaks are bagged right to left: `bag = keccak(bag ‖ peak)`.
pub fn mmr_root(
	leaf: [u8; 32],
	index: u64,
	count: u64,
	items: &[[u8; 32]],
) -> Result<[u8; 32], BeefyError> {
	if index >= count {
		return Err(BeefyError::MalformedProof("leaf index beyond the leaf count"));
	}
	let mut items = items.iter();
	let mut next = || items.next().copied().ok_or(BeefyError::MalformedProof("too few items"));
	let mut peaks = Vec::new();
	let mut start = 0u64;
	let mut found = false;
	for height in (0..64u32).rev() {
		if count >> height & 1 == 0 {
			continue;
		}
		let size = 1u64 << height;
		if found {
			// Everything right of the leaf's peak comes as one bagged item.
			peaks.push(next()?);
			break;
		}
		if index < start + size {
			let mut node = leaf;
			let mut position = index - start;
			for _ in 0..height {
				let sibling = next()?;
				node = if position & 1 == 0 {
					hash_pair(&node, &sibling)
				} else {
					hash_pair(&sibling, &node)
				};
				position >>= 1;
			}
			peaks.push(node);
			found = true;
		} else {
			peaks.push(next()?);
		}
		start += size;
	}
	if items.next().is_some() {
		return Err(BeefyError::MalformedProof("too many items"));
	}
	let mut bag = peaks.pop().ok_or(BeefyError::MalformedProof("no peaks"))?;
	while let Some(left) = peaks.pop() {
		bag = hash_pair(&bag, &left);
	}
	Ok(bag)
}

/// Checks that `leaf` is in the MMR with root `root` by the single-leaf `proof`.
pub fn verify_leaf(root: &[u8; 32], leaf: &MmrLeaf, proof: &LeafProof) -> Result<(), BeefyError> {
	let [index] = proof.leaf_indices[..] else {
		return Err(BeefyError::MalformedProof("not a proof of exactly one leaf"));
	};
	let got = mmr_root(leaf.hash(), index, proof.leaf_count, &proof.items)?;
	if &got != root {
		return Err(BeefyError::RootMismatch { got, expected: *root });
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn key(seed: u8) -> k256::ecdsa::SigningKey {
		k256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("a valid scalar")
	}

	fn sign(key: &k256::ecdsa::SigningKey, message: &[u8; 32]) -> [u8; 65] {
		let (sig, id) = key.sign_prehash_recoverable(message).expect("signing works");
		let mut out = [0u8; 65];
		out[..64].copy_from_slice(&sig.to_bytes());
		out[64] = id.to_byte();
		out
	}

	fn commitment() -> Commitment {
		Commitment {
			payload: vec![(MMR_ROOT_ID, vec![7; 32])],
			block_number: 9,
			validator_set_id: 2,
		}
	}

	#[test]
	fn address_of_a_compressed_key_is_the_ethereum_one() {
		// The secp256k1 generator (private key 1) has the well-known address 0x7e5f…bdf.
		let one = k256::ecdsa::SigningKey::from_slice(&{
			let mut k = [0u8; 32];
			k[31] = 1;
			k
		})
		.expect("1 is a valid key");
		let compressed = one.verifying_key().to_encoded_point(true);
		assert_eq!(
			hex::encode(eth_address(compressed.as_bytes()).expect("on the curve")),
			"7e5f4552091a69125d5dfcb7b8c2659029395bdf"
		);
		assert_eq!(eth_address(&[0x05; 33]), Err(BeefyError::BadKey));
		assert_eq!(eth_address(&[0x02; 20]), Err(BeefyError::BadKey));
	}

	#[test]
	fn commitment_needs_more_than_two_thirds_of_correct_signatures() {
		let keys: Vec<_> = (1..=4).map(key).collect();
		let set: Vec<Address> = keys.iter().map(|k| address_of(k.verifying_key())).collect();
		let c = commitment();
		let message = c.hash();
		let mut sigs: Vec<Option<[u8; 65]>> =
			keys.iter().map(|k| Some(sign(k, &message))).collect();
		assert_eq!(verify_commitment(&c, &sigs, &set), Ok(4));
		sigs[3] = None;
		assert_eq!(verify_commitment(&c, &sigs, &set), Ok(3));
		sigs[2] = None;
		assert_eq!(
			verify_commitment(&c, &sigs, &set),
			Err(BeefyError::TooFewSignatures { signed: 2, validators: 4, needed: 3 })
		);
		// A signature in the wrong slot, by an outsider, or over another commitment fails.
		let mut swapped: Vec<_> = keys.iter().map(|k| Some(sign(k, &message))).collect();
		swapped.swap(0, 1);
		assert_eq!(
			verify_commitment(&c, &swapped, &set),
			Err(BeefyError::BadSignature { index: 0 })
		);
		let mut outsider: Vec<_> = keys.iter().map(|k| Some(sign(k, &message))).collect();
		outsider[1] = Some(sign(&key(9), &message));
		assert_eq!(
			verify_commitment(&c, &outsider, &set),
			Err(BeefyError::BadSignature { index: 1 })
		);
		let mut other = c.clone();
		other.block_number += 1;
		let all: Vec<_> = keys.iter().map(|k| Some(sign(k, &message))).collect();
		assert!(verify_commitment(&other, &all, &set).is_err(), "signatures bind the block");
		assert!(matches!(
			verify_commitment(&c, &all[..3], &set),
			Err(BeefyError::SignatureCount { signatures: 3, validators: 4 })
		));
	}

	#[test]
	fn malleated_signature_is_refused() {
		let k = key(1);
		let message = commitment().hash();
		let good = sign(&k, &message);
		assert_eq!(recover(&message, &good), Some(address_of(k.verifying_key())));
		// (r, n − s, v ^ 1) is the same signature mirrored: ecrecover accepts it, the contract
		// and this check do not.
		let sig = Signature::from_slice(&good[..64]).expect("valid");
		let (r, s) = sig.split_scalars();
		let high = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).expect("valid scalars");
		let mut bad = [0u8; 65];
		bad[..64].copy_from_slice(&high.to_bytes());
		bad[64] = good[64] ^ 1;
		assert_eq!(recover(&message, &bad), None);
	}

	#[test]
	fn set_root_promotes_an_odd_node() {
		let a = [1u8; 20];
		let b = [2u8; 20];
		let c = [3u8; 20];
		let (ha, hb, hc) = (keccak256(&a), keccak256(&b), keccak256(&c));
		assert_eq!(set_root(&[a]), ha);
		assert_eq!(set_root(&[a, b]), hash_pair(&ha, &hb));
		assert_eq!(set_root(&[a, b, c]), hash_pair(&hash_pair(&ha, &hb), &hc));
	}

	#[test]
	fn mmr_of_three_leaves_bags_right_to_left() {
		// Peaks: (l0, l1) and l2. Root = keccak(l2 ‖ keccak(l0 ‖ l1)).
		let l: Vec<[u8; 32]> = (0..3u8).map(|i| keccak256(&[i])).collect();
		let p0 = hash_pair(&l[0], &l[1]);
		let root = hash_pair(&l[2], &p0);
		assert_eq!(mmr_root(l[0], 0, 3, &[l[1], l[2]]), Ok(root));
		assert_eq!(mmr_root(l[1], 1, 3, &[l[0], l[2]]), Ok(root));
		assert_eq!(mmr_root(l[2], 2, 3, &[p0]), Ok(root));
		assert_ne!(mmr_root(l[1], 0, 3, &[l[0], l[2]]), Ok(root), "the index is bound");
		assert!(mmr_root(l[2], 2, 3, &[p0, p0]).is_err(), "extra items are refused");
		assert!(mmr_root(l[0], 0, 3, &[l[1]]).is_err(), "missing items are refused");
		assert!(mmr_root(l[0], 3, 3, &[]).is_err());
	}
}
