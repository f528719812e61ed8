//! A minimal runtime with the registry, consent and rollup pallets and the real Groth16 verifier
//! (arkworks' BLS12-381, no host calls). Its genesis registers the simulated verifying key of
//! `emr_primitives::groth16::simulated`, for which a valid proof of any public inputs is made
//! without a prover; [`new_test_ext_with_key`] registers another (the prover's tests use a real
//! circuit key). Compiled for this crate's tests and with the `test-utils` feature.

use crate as pallet_rollup;
use crate::BatchParams;
use alloc::{vec, vec::Vec};
use emr_primitives::{
	groth16::{simulated, Groth16},
	ops::Role,
	testing::Actor,
};
use polkadot_sdk::{
	frame_support::{self, derive_impl, traits::ConstU32},
	frame_system::{self, EnsureRoot},
	sp_io,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Registry: pallet_emr_registry,
		Consent: pallet_consent,
		Rollup: pallet_rollup,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl pallet_emr_registry::Config for Test {}
impl pallet_consent::Config for Test {}

frame_support::parameter_types! {
	pub const Priority: u64 = 1_000;
}

impl pallet_rollup::Config for Test {
	type Registry = Registry;
	type Consent = Consent;
	type GovernanceOrigin = EnsureRoot<u64>;
	type Verifier = Groth16<ark_bls12_381::Bls12_381>;
	type MaxProvers = ConstU32<2>;
	type OperationPriority = Priority;
	type WeightInfo = ();
}

/// Circuit slots of the test keys (a batch seals at two entries).
pub const SLOTS: usize = 2;
/// The prover account of genesis.
pub const PROVER: u64 = 7;

/// The default parameters of the tests.
pub fn params() -> BatchParams {
	BatchParams { seal_after: 3, max_ops_per_block: 8, max_queued_per_actor: 3 }
}

/// Genesis with the simulated key ([`simulated::key_bytes`]), [`PROVER`] and the given founding
/// members (each signs its own admission); block 1.
pub fn new_test_ext(members: Vec<(Role, Actor)>) -> sp_io::TestExternalities {
	new_test_ext_with_key(members, simulated::key_bytes())
}

/// [`new_test_ext`] with the verifying key `key` (compressed) for [`SLOTS`]-entry batches.
pub fn new_test_ext_with_key(
	members: Vec<(Role, Actor)>,
	key: Vec<u8>,
) -> sp_io::TestExternalities {
	let mut storage =
		frame_system::GenesisConfig::<Test>::default().build_storage().expect("system genesis");
	pallet_rollup::GenesisConfig::<Test> {
		deployment: emr_primitives::testing::deployment().0,
		params: Some(params()),
		verifying_key: Some((key, SLOTS as u32)),
		provers: vec![PROVER],
		members: members
			.into_iter()
			.map(|(r, a)| (r.code(), a.public(), a.enc, a.admit(r, 0).op.signature.to_vec()))
			.collect(),
	}
	.assimilate_storage(&mut storage)
	.expect("rollup genesis");
	let mut ext: sp_io::TestExternalities = storage.into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Moves to block `n`, running the rollup's `on_initialize`.
pub fn run_to(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Rollup::on_initialize(next);
	}
}
