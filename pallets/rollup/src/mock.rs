//! A minimal runtime with the registry, consent and rollup pallets, the real Groth16 verifier
//! (arkworks' BLS12-381, no host calls) and keys from a deterministic test setup.

use crate as pallet_rollup;
use crate::BatchParams;
use emr_primitives::{groth16::Groth16, ops::Role, testing::Actor};
use polkadot_sdk::{
	frame_support::{self, derive_impl, traits::ConstU32},
	frame_system::{self, EnsureRoot},
	sp_io,
	sp_runtime::BuildStorage,
};
use std::sync::OnceLock;

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

/// Proving and verifying key of a [`SLOTS`]-slot circuit, made once per test binary.
pub fn keys() -> &'static (
	ark_groth16::ProvingKey<ark_bls12_381::Bls12_381>,
	ark_groth16::VerifyingKey<ark_bls12_381::Bls12_381>,
) {
	static KEYS: OnceLock<(
		ark_groth16::ProvingKey<ark_bls12_381::Bls12_381>,
		ark_groth16::VerifyingKey<ark_bls12_381::Bls12_381>,
	)> = OnceLock::new();
	KEYS.get_or_init(|| {
		use rand_core::SeedableRng;
		let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
		emr_circuit::groth16::setup(SLOTS, &mut rng).expect("setup")
	})
}

/// The default parameters of the tests.
pub fn params() -> BatchParams {
	BatchParams { seal_after: 3, max_ops_per_block: 8, max_queued_per_actor: 3 }
}

/// Genesis with the test key, [`PROVER`] and the given founding members (each signs its own
/// admission); block 1.
pub fn new_test_ext(members: Vec<(Role, Actor)>) -> sp_io::TestExternalities {
	let mut storage =
		frame_system::GenesisConfig::<Test>::default().build_storage().expect("system genesis");
	pallet_rollup::GenesisConfig::<Test> {
		deployment: emr_primitives::testing::deployment().0,
		params: Some(params()),
		verifying_key: Some((emr_circuit::groth16::to_bytes(&keys().1), SLOTS as u32)),
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
