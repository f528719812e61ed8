//! Inbox entries, the inbox commitment and the public inputs of a batch proof.
//!
//! The runtime appends every applied operation to the open batch as an [`InboxEntry`]: the
//! operation, who put it there ([`Origin`]) and the block number at which it was applied (the
//! "now" of every expiry check). A batch's **inbox commitment** is a Poseidon hash chain over
//! its entries in inbox order, starting from the deployment id `d`
//! ([`crate::ops::DeploymentId::field`]):
//!
//! ```text
//! c₀ = d,   cᵢ = Poseidon(InboxChain, [cᵢ₋₁, entry_hash(eᵢ)])
//! entry_hash(e) = Poseidon(InboxEntry, [message, R.x, R.y, s, block + 2^32·origin])
//! ```
//!
//! where `message` is [`SignedOp::message`] and `(R, s)` the signature (zeros for a removal,
//! the one entry without a signature, [`InboxEntry::is_signed`]; `s < r` is embedded as the integer it is). Padding slots of the circuit leave the
//! chain unchanged.
//!
//! Starting from `d` binds the deployment into the public inputs without a fifth one: the circuit
//! takes `d` as a private input, uses it as the chain's start and in every signature's challenge;
//! the chain compares the result with the commitment it computed from its own `d`, the Ethereum
//! contract with the commitment this chain's validators signed (BEEFY), which is the chain's.
//!
//! The **public inputs** of a batch proof, in this order ([`PublicInputs::to_vec`]): old state
//! root, new state root, inbox commitment, batch number.

use crate::{
	ops::{BlockNumber, DeploymentId, Origin, SignedOp},
	poseidon::{self, Domain},
	schnorr::Signature,
	F,
};
use alloc::vec::Vec;
use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// One applied operation as the rollup sees it.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct InboxEntry {
	/// The operation.
	pub op: SignedOp,
	/// Who appended it.
	pub origin: Origin,
	/// The block in which the runtime applied it.
	pub block: BlockNumber,
}

/// `s` (a Bandersnatch scalar, smaller than the base field) as a base-field element.
pub fn scalar_to_field(s: &ark_ed_on_bls12_381_bandersnatch::Fr) -> F {
	F::from_le_bytes_mod_order(&s.into_bigint().to_bytes_le())
}

impl InboxEntry {
	/// Whether the entry carries a signature: every user operation, and a governance
	/// admission (the admitted key's proof of possession); a removal does not.
	pub fn is_signed(&self) -> bool {
		self.origin == Origin::User || self.op.op.kind() == crate::ops::kind::ADMIT_MEMBER
	}

	/// `R.x, R.y, s` of the signature as field elements (zeros if unsigned or undecodable).
	pub fn signature_fields(&self) -> [F; 3] {
		match (self.is_signed(), Signature::from_bytes(&self.op.signature)) {
			(true, Ok(sig)) => [sig.r.x, sig.r.y, scalar_to_field(&sig.s)],
			_ => [F::ZERO; 3],
		}
	}

	/// `block + 2^32·origin` (origin 0 = user, 1 = governance).
	pub fn block_field(&self) -> F {
		F::from(self.block as u64)
			+ F::from(1u64 << 32) * F::from(matches!(self.origin, Origin::Governance) as u64)
	}

	/// The entry's hash (module docs).
	pub fn hash(&self) -> F {
		self.hash_with_message(self.op.message())
	}

	/// The entry's hash given its operation's [`SignedOp::message`], for a caller that already
	/// computed it (the runtime hashes each operation once).
	pub fn hash_with_message(&self, message: F) -> F {
		let [rx, ry, s] = self.signature_fields();
		poseidon::hash(Domain::InboxEntry, &[message, rx, ry, s, self.block_field()])
	}
}

/// Extends an inbox commitment by one entry.
pub fn chain(commitment: F, entry: &InboxEntry) -> F {
	chain_hash(commitment, entry.hash())
}

/// One link of the chain from an entry hash.
pub fn chain_hash(commitment: F, entry_hash: F) -> F {
	poseidon::hash(Domain::InboxChain, &[commitment, entry_hash])
}

/// The commitment of a batch before its first entry: the deployment id `d`.
pub fn start(deployment: &DeploymentId) -> F {
	deployment.field()
}

/// The commitment over a whole batch of `deployment`.
pub fn commitment(deployment: &DeploymentId, entries: &[InboxEntry]) -> F {
	entries.iter().fold(start(deployment), chain)
}

/// The public inputs of a batch proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicInputs {
	/// State root before the batch.
	pub old_root: F,
	/// State root after the batch.
	pub new_root: F,
	/// Inbox commitment of the batch.
	pub inbox_commitment: F,
	/// Batch number.
	pub batch: u64,
}

impl PublicInputs {
	/// Number of public inputs.
	pub const LEN: usize = 4;

	/// The inputs in circuit order.
	pub fn to_vec(&self) -> Vec<F> {
		alloc::vec![self.old_root, self.new_root, self.inbox_commitment, F::from(self.batch)]
	}

	/// 32-byte little-endian encodings, as they travel to the chain and to Ethereum.
	pub fn to_bytes(&self) -> [[u8; 32]; 4] {
		let mut out = [[0u8; 32]; 4];
		for (o, v) in out.iter_mut().zip(self.to_vec()) {
			o.copy_from_slice(&v.into_bigint().to_bytes_le());
		}
		out
	}
}
