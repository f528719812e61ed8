//! A minimal runtime with the registry pallet.

use crate as pallet_emr_registry;
use polkadot_sdk::{
	frame_support::{self, derive_impl},
	frame_system, sp_io,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Registry: pallet_emr_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl pallet_emr_registry::Config for Test {}

/// Empty storage.
pub fn new_test_ext() -> sp_io::TestExternalities {
	frame_system::GenesisConfig::<Test>::default().build_storage().expect("genesis builds").into()
}
