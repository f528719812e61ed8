//! A minimal runtime with the consent pallet.

use crate as pallet_consent;
use polkadot_sdk::{
	frame_support::{self, derive_impl},
	frame_system, sp_io,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Consent: pallet_consent,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl pallet_consent::Config for Test {}

/// Empty storage.
pub fn new_test_ext() -> sp_io::TestExternalities {
	frame_system::GenesisConfig::<Test>::default().build_storage().expect("genesis builds").into()
}
