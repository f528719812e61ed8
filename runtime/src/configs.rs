//! Configuration of every pallet in the runtime.
//!
//! Governance: the consortium council (`Council`, fed by `CouncilMembership`) decides by a
//! strict majority of the hospitals. `Sudo` exists only to bootstrap a new network; a later
//! governance motion removes its key.

use super::{
	opaque::SessionKeys, AccountId, Aura, Balance, Balances, Block, BlockNumber, Consent, Council,
	CouncilInstance, Hash, Nonce, OriginCaller, PalletInfo, Registry, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, System,
	Validators, BLOCK_HASH_COUNT, DAYS, EXISTENTIAL_DEPOSIT, MICRO_UNIT, SLOT_DURATION, VERSION,
};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, EitherOfDiverse, VariantCountOf},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::{limits::BlockLength, EnsureRoot};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use polkadot_sdk::*;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_beefy::{ecdsa_crypto::AuthorityId as BeefyId, mmr::MmrLeafVersion};
use sp_runtime::{
	traits::{ConvertInto, Keccak256, One, OpaqueKeys},
	Perbill,
};
use sp_version::RuntimeVersion;

/// We allow `Normal` extrinsics to fill up the block up to 75%, the rest can be used by
/// `Operational` extrinsics.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// A strict majority of the council: more than half of the hospitals.
pub type CouncilMajority =
	pallet_collective::EnsureProportionMoreThan<AccountId, CouncilInstance, 1, 2>;

/// Root (during bootstrap) or a council majority.
pub type RootOrCouncilMajority = EitherOfDiverse<EnsureRoot<AccountId>, CouncilMajority>;

parameter_types! {
	/// The runtime version, exposed to `frame_system`.
	pub const Version: RuntimeVersion = VERSION;

	/// Two seconds of compute per 6-second block, 75% of it for normal extrinsics.
	pub RuntimeBlockWeights: frame_system::limits::BlockWeights =
		frame_system::limits::BlockWeights::with_sensible_defaults(
			Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
			NORMAL_DISPATCH_RATIO,
		);
	/// At most 5 MiB per block.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(
			frame_support::dispatch::DispatchClass::Normal,
			|m| *m = NORMAL_DISPATCH_RATIO * *m,
		)
		.build();
	/// Generic SS58 prefix (42) until the consortium registers its own.
	pub const SS58Prefix: u8 = 42;
}

/// The default types are taken from the solochain preset; the rest is emr-chain specific.
#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = ConstU32<BLOCK_HASH_COUNT>;
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

/// Most validators (hospitals) a session can have; the authority pallets share the bound.
pub const MAX_VALIDATORS: u32 = 32;

impl pallet_emr_validators::Config for Runtime {
	type GovernanceOrigin = RootOrCouncilMajority;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	/// The council can remove hospitals down to one validator.
	type MinValidators = ConstU32<1>;
	type WeightInfo = pallet_emr_validators::weights::SubstrateWeight<Runtime>;
}

/// Sessions start at block 0 and last `Validators::SessionLength` blocks.
type Sessions =
	pallet_session::PeriodicSessions<pallet_emr_validators::SessionPeriod<Runtime>, ConstU32<0>>;

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// A validator is identified by its hospital's account.
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Sessions;
	type NextSessionRotation = Sessions;
	/// The council's set (`pallet-emr-validators`).
	type SessionManager = Validators;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	/// No slashing in a consortium: misbehaviour is handled by the council.
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	/// Setting keys costs the transaction fee only: only chosen hospitals' keys ever matter.
	type KeyDeposit = ();
}

impl pallet_beefy::Config for Runtime {
	type BeefyId = BeefyId;
	type MaxAuthorities = ConstU32<MAX_VALIDATORS>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type OnNewValidatorSet = pallet_beefy_mmr::Pallet<Runtime>;
	type AncestryHelper = pallet_beefy_mmr::Pallet<Runtime>;
	type WeightInfo = ();
	/// Equivocations are not reported on chain (no staking to slash); see GRANDPA.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_mmr::Config for Runtime {
	const INDEXING_PREFIX: &'static [u8] = sp_mmr_primitives::INDEXING_PREFIX;
	/// Keccak-256, what Ethereum hashes with.
	type Hashing = Keccak256;
	type LeafData = pallet_beefy_mmr::Pallet<Runtime>;
	type OnNewRoot = pallet_beefy_mmr::DepositBeefyDigest<Runtime>;
	type BlockHashProvider = pallet_mmr::DefaultBlockHashProvider<Runtime>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

parameter_types! {
	/// Version 0.0 of the MMR leaf (`sp_consensus_beefy::mmr::MmrLeaf`).
	pub LeafVersion: MmrLeafVersion = MmrLeafVersion::new(0, 0);
}

/// The MMR leaf's extra data: the rollup digest of the last proven batch
/// (`emr_primitives::settlement`).
pub struct RollupDigest;

impl sp_consensus_beefy::mmr::BeefyDataProvider<sp_core::H256> for RollupDigest {
	fn extra_data() -> sp_core::H256 {
		sp_core::H256(pallet_rollup::Pallet::<Runtime>::settlement_digest())
	}
}

impl pallet_beefy_mmr::Config for Runtime {
	type LeafVersion = LeafVersion;
	/// Validators appear in the leaf as Ethereum addresses (keccak of the uncompressed key).
	type BeefyAuthorityToMerkleLeaf = pallet_beefy_mmr::BeefyEcdsaToEthereum;
	type LeafExtra = sp_core::H256;
	type BeefyDataProvider = RollupDigest;
	type WeightInfo = ();
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	/// One validator per hospital; 32 leaves ample room for a growing consortium.
	type MaxAuthorities = ConstU32<MAX_VALIDATORS>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_VALIDATORS>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Fees do not float with congestion yet: the chain is permissioned and rate-limited.
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = frame_support::weights::ConstantMultiplier<Balance, ConstU128<MICRO_UNIT>>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A council motion stays open for three days.
	pub const CouncilMotionDuration: BlockNumber = 3 * DAYS;
	/// A motion may use at most half of a block's weight when executed.
	pub MaxCouncilProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
}

/// Maximum number of hospitals on the council (also the benchmark bound).
pub const COUNCIL_MAX_MEMBERS: u32 = 100;

impl pallet_collective::Config<CouncilInstance> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = CouncilMotionDuration;
	type MaxProposals = ConstU32<100>;
	type MaxMembers = ConstU32<COUNCIL_MAX_MEMBERS>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	/// Members are managed by `CouncilMembership`, never set directly except by root.
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxCouncilProposalWeight;
	type DisapproveOrigin = RootOrCouncilMajority;
	type KillOrigin = RootOrCouncilMajority;
	/// Proposing is limited to council members; no deposit is taken.
	type Consideration = ();
}

impl pallet_membership::Config<pallet_membership::Instance1> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddOrigin = RootOrCouncilMajority;
	type RemoveOrigin = RootOrCouncilMajority;
	type SwapOrigin = RootOrCouncilMajority;
	type ResetOrigin = RootOrCouncilMajority;
	type PrimeOrigin = RootOrCouncilMajority;
	type MembershipInitialized = Council;
	type MembershipChanged = Council;
	type MaxMembers = ConstU32<COUNCIL_MAX_MEMBERS>;
	type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

impl pallet_emr_registry::Config for Runtime {}

impl pallet_consent::Config for Runtime {}

parameter_types! {
	/// L2 operations rank above ordinary signed transactions of the same fee.
	pub const L2OperationPriority: u64 = u64::MAX / 4;
}

/// The rollup's last proven batch, for the bridge.
pub struct LastProvenBatch;

impl frame_support::traits::Get<Option<u64>> for LastProvenBatch {
	fn get() -> Option<u64> {
		pallet_rollup::LastProven::<Runtime>::get()
	}
}

/// The benchmarks' proven batch: the rollup's last proven batch, written directly.
#[cfg(feature = "runtime-benchmarks")]
pub struct ProvenForBenchmarks;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_emr_eth_bridge::BenchmarkHelper for ProvenForBenchmarks {
	fn set_last_proven(batch: u64) {
		pallet_rollup::LastProven::<Runtime>::put(batch);
	}
}

impl pallet_emr_eth_bridge::Config for Runtime {
	type GovernanceOrigin = RootOrCouncilMajority;
	type LastProven = LastProvenBatch;
	type MaxRelayers = ConstU32<16>;
	type WeightInfo = pallet_emr_eth_bridge::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ProvenForBenchmarks;
}

impl pallet_rollup::Config for Runtime {
	type Registry = Registry;
	type Consent = Consent;
	type GovernanceOrigin = RootOrCouncilMajority;
	/// Groth16 over BLS12-381 with the node's host functions for the pairing and the MSM.
	type Verifier = emr_primitives::groth16::Groth16<sp_crypto_ec_utils::bls12_381::Bls12_381>;
	type MaxProvers = ConstU32<32>;
	type OperationPriority = L2OperationPriority;
	type WeightInfo = pallet_rollup::weights::SubstrateWeight<Runtime>;
}
