// The rollup's types, constants and pool codes. This file is `include!`d at the crate root, not
// a module: the types keep their metadata paths (`pallet_rollup::BatchParams`, …), which the
// chain's metadata, the client's generated code and its type substitutions name.

/// Batch sealing and rate limits (governance parameters).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchParams {
	/// A batch with entries is sealed this many blocks after its first entry at the latest.
	pub seal_after: BlockNumber,
	/// L2 operations (unsigned and sponsored) included per block at most.
	pub max_ops_per_block: u32,
	/// How far ahead of its next nonce one actor may queue operations in the pool.
	pub max_queued_per_actor: u32,
}

/// A registered verifying key.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct VerifyingKeyInfo {
	/// The key (arkworks compressed canonical encoding).
	pub key: frame_support::BoundedVec<u8, frame_support::traits::ConstU32<MAX_VK_LEN>>,
	/// The key uncompressed, as checked at registration (`BatchVerifier::prepare_vk`): what
	/// `submit_proof` verifies with, without decompressing or checking the key's points again.
	pub prepared:
		frame_support::BoundedVec<u8, frame_support::traits::ConstU32<MAX_PREPARED_VK_LEN>>,
	/// Blake2b-256 of the key (the prover's fingerprint).
	pub hash: [u8; 32],
	/// Slots of the circuit: a batch is sealed when it holds this many entries.
	pub batch_size: u32,
	/// The block in which it was registered.
	pub registered_at: BlockNumber,
}

/// The longest verifying key accepted (bytes).
pub const MAX_VK_LEN: u32 = 4096;
/// The longest prepared (uncompressed) verifying key kept.
pub const MAX_PREPARED_VK_LEN: u32 = 2 * MAX_VK_LEN;
/// The longest proof accepted (bytes; a compressed BLS12-381 Groth16 proof is 192).
pub const MAX_PROOF_LEN: u32 = 512;
/// The largest batch size (circuit slots) a verifying key may declare.
pub const MAX_BATCH_SIZE: u32 = 4096;

/// A batch of the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct BatchInfo<AccountId> {
	/// Entries so far.
	pub len: u32,
	/// Inbox commitment over the entries (field bytes).
	pub commitment: [u8; 32],
	/// The verifying key (id) that proves it: the current one when the batch opened.
	pub vk: u32,
	/// Block of the first entry.
	pub opened_at: BlockNumber,
	/// Block of the last entry.
	pub last_block: BlockNumber,
	/// Block in which it was sealed.
	pub sealed_at: Option<BlockNumber>,
	/// Block in which its proof was accepted.
	pub proven_at: Option<BlockNumber>,
	/// State root before the batch (once proven).
	pub old_root: Option<[u8; 32]>,
	/// State root after the batch (once proven).
	pub new_root: Option<[u8; 32]>,
	/// Who proved it.
	pub prover: Option<AccountId>,
}

/// Where an operation landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct OperationRef {
	/// Batch.
	pub batch: u64,
	/// Index in the batch.
	pub index: u32,
	/// The block that applied it.
	pub block: BlockNumber,
}

/// A rule refusal as a pallet error (one byte: the [`RuleError`] variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct RuleFailure(pub RuleError);

impl frame_support::traits::PalletError for RuleFailure {
	const MAX_ENCODED_SIZE: usize = 1;
}

/// A verifying-key refusal as a pallet error (one byte: the [`VerifierError`] variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct KeyFailure(pub VerifierError);

impl frame_support::traits::PalletError for KeyFailure {
	const MAX_ENCODED_SIZE: usize = 1;
}

/// The transaction pool's custom refusal code for an actor that queued too many operations.
pub const TOO_MANY_QUEUED: u8 = 250;
/// Pool code: the proof is for a batch that is not the next one to prove, or not sealed yet.
pub const PROOF_NOT_NEXT: u8 = 251;
/// Pool code: the sender is not in the prover set.
pub const NOT_A_PROVER: u8 = 252;

/// The pool's custom code of a rule refusal: the [`RuleError`] variant's index.
pub fn rule_code(e: RuleError) -> u8 {
	e.encode()[0]
}

/// The storage version: the layout has never been migrated.
pub const STORAGE_VERSION: frame_support::traits::StorageVersion =
	frame_support::traits::StorageVersion::new(0);

/// A founding member in the genesis config: (role code, rollup key, X25519 key, the rollup key's
/// 64-byte signature of its own admission on the deployment: its proof of possession).
pub type GenesisMember = (u8, [u8; 32], [u8; 32], Vec<u8>);
