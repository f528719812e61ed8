//! # emr-runtime
//!
//! The FRAME runtime of emr-chain, the consortium app-chain for electronic medical records.
//!
//! It is compiled twice: natively (linked into `emr-node`, used for chain-spec generation and
//! tests) and to wasm (the canonical runtime that every validator executes and that is stored
//! on chain under `:code`).
//!
//! ## Pallets
//!
//! | index | pallet | role |
//! |---|---|---|
//! | 0 | `System` | accounts, events, block bookkeeping |
//! | 1 | `Timestamp` | block time, drives Aura slots |
//! | 2 | `Aura` | round-robin block production by the hospitals' validators |
//! | 3 | `Grandpa` | deterministic finality voted by the same validators |
//! | 4 | `Balances` | the fee token (`EMR`); patients never need it (their operations are unsigned extrinsics carrying their own rollup signature) |
//! | 5 | `TransactionPayment` | weight- and length-based fees |
//! | 6 | `Sudo` | bootstrap only, until the council takes over governance |
//! | 7 | `Council` | the consortium council of hospitals (`pallet-collective`) |
//! | 8 | `CouncilMembership` | who sits on the council (`pallet-membership`) |
//! | 9 | `Validators` | the validator set the council chooses; session manager |
//! | 10 | `Registry` | rollup participants and index heads |
//! | 11 | `Consent` | grants and the access log |
//! | 12 | `Rollup` | L2 operations, batches, proofs |
//! | 13 | `Session` | session keys and rotation (Aura, GRANDPA and BEEFY sets follow it) |
//! | 14 | `Beefy` | BEEFY authorities: ECDSA signatures over the MMR root, for Ethereum |
//! | 15 | `Mmr` | Merkle mountain range (keccak) of all blocks |
//! | 16 | `BeefyMmrLeaf` | the MMR leaf: parent, next BEEFY set, the rollup digest |
//! | 17 | `Utility` | batches of calls (one council motion admits a hospital everywhere) |
//! | 18 | `EthBridge` | the contracts on Ethereum, the relayers, where each batch settled |
//!
//! The council decides by majority: a motion passes when more than half of the hospitals vote
//! aye. Membership changes need the same majority (or root during bootstrap).
//!
//! ## Genesis presets
//!
//! * `development` — one validator (Alice), Alice is sudo and the only council member.
//! * `consortium_local` — four hospitals (Alice, Bob, Charlie, Dave as the well-known dev keys)
//!   as validators and council members; used by `scripts/devnet.sh`.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`/`#[runtime]` and `impl_runtime_apis!` expand to many public items
// (call enums, origin types, the runtime-API glue) that carry no doc comments of their own.
// Everything written by hand in this crate is documented.
#![allow(missing_docs)]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use polkadot_sdk::{
	sp_runtime::{
		generic, impl_opaque_keys,
		traits::{BlakeTwo256, IdentifyAccount, Verify},
		MultiAddress, MultiSignature,
	},
	*,
};
use sp_version::RuntimeVersion;

pub use polkadot_sdk::sp_runtime::{Perbill, Permill};

/// Opaque types: what the node needs to know about blocks without knowing the runtime's calls.
pub mod opaque {
	use super::*;
	use polkadot_sdk::sp_runtime::OpaqueExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, OpaqueExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;

	impl_opaque_keys! {
		/// The session keys of a validator: its Aura (block production), GRANDPA (finality) and
		/// BEEFY (finality Ethereum can check) keys.
		pub struct SessionKeys {
			/// Aura key (sr25519).
			pub aura: Aura,
			/// GRANDPA key (ed25519).
			pub grandpa: Grandpa,
			/// BEEFY key (ecdsa, secp256k1).
			pub beefy: Beefy,
		}
	}
}

/// The runtime version. Bump `spec_version` with every change of runtime logic.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("emr-chain"),
	impl_name: alloc::borrow::Cow::Borrowed("emr-chain"),
	authoring_version: 1,
	spec_version: 106,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Time and block-count constants.
mod block_times {
	/// Target block time. Aura slots last this long.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
	/// Aura slot duration; must equal the block time.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
}
pub use block_times::*;

/// Blocks per minute (at the target block time).
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day.
pub const DAYS: BlockNumber = HOURS * 24;

/// The history depth of block hashes kept in `frame_system::BlockHash` (for mortal extrinsics).
pub const BLOCK_HASH_COUNT: BlockNumber = 2400;

/// Smallest unit of the fee token: 1 `EMR` = 10^12 plancks.
pub const UNIT: Balance = 1_000_000_000_000;
/// A thousandth of [`UNIT`].
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// A millionth of [`UNIT`].
pub const MICRO_UNIT: Balance = 1_000_000;
/// Minimum balance an account must keep to exist.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Signature type used by accounts (sr25519, ed25519 or ecdsa).
pub type Signature = MultiSignature;
/// An account identifier: the 32-byte public key of the signer (or its blake2 hash for ecdsa).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account.
pub type Balance = u128;
/// Per-account transaction counter.
pub type Nonce = u32;
/// Hash of a block or of a trie node.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;
/// Block identifier.
pub type BlockId = generic::BlockId<Block>;

/// The checks applied to every signed transaction, in order.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	pallet_rollup::CheckProofSubmission<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Extrinsic as it arrives from outside (SCALE-encoded, possibly signed).
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on runtime upgrade: none, every pallet of this runtime is at its first
/// `STORAGE_VERSION` (0), which a fresh genesis writes (checked by the runtime tests).
type Migrations = ();

/// Dispatches extrinsics to pallets and runs the block lifecycle hooks.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The runtime: the pallets and their fixed indices (indices are part of the extrinsic encoding
/// and must never change for a live chain).
#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(9)]
	pub type Validators = pallet_emr_validators;

	// Session rotates before the authority pallets read their sets.
	#[runtime::pallet_index(13)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type Council = pallet_collective<Instance1>;

	#[runtime::pallet_index(8)]
	pub type CouncilMembership = pallet_membership<Instance1>;

	#[runtime::pallet_index(10)]
	pub type Registry = pallet_emr_registry;

	#[runtime::pallet_index(11)]
	pub type Consent = pallet_consent;

	#[runtime::pallet_index(12)]
	pub type Rollup = pallet_rollup;

	#[runtime::pallet_index(14)]
	pub type Beefy = pallet_beefy;

	#[runtime::pallet_index(15)]
	pub type Mmr = pallet_mmr;

	#[runtime::pallet_index(16)]
	pub type BeefyMmrLeaf = pallet_beefy_mmr;

	#[runtime::pallet_index(17)]
	pub type Utility = pallet_utility;

	#[runtime::pallet_index(18)]
	pub type EthBridge = pallet_emr_eth_bridge;
}

/// The pallet instance of the consortium council (used by its origins, genesis and tests).
pub type CouncilInstance = pallet_collective::Instance1;

/// The accounts of the well-known development keys, in the order the presets use them.
pub fn dev_accounts() -> Vec<AccountId> {
	use sp_keyring::Sr25519Keyring;
	[
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
		Sr25519Keyring::Ferdie,
	]
	.iter()
	.map(|k| k.to_account_id())
	.collect()
}
