//! The council's calls and the relayers' confirmations.

use super::*;
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok, derive_impl,
		dispatch::{GetDispatchInfo, Pays},
		parameter_types,
		traits::ConstU32,
	},
	frame_system::EnsureRoot,
	sp_io,
	sp_runtime::{BuildStorage, DispatchError},
};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Bridge: crate,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	/// The rollup's last proven batch, set by each test.
	pub static Proven: Option<u64> = None;
}

impl Config for Test {
	type GovernanceOrigin = EnsureRoot<u64>;
	type LastProven = Proven;
	type MaxRelayers = ConstU32<2>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ProvenForBenchmarks;
}

/// Sets [`Proven`] for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct ProvenForBenchmarks;

#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper for ProvenForBenchmarks {
	fn set_last_proven(batch: u64) {
		Proven::set(Some(batch));
	}
}

const RELAYER: u64 = 7;
const OUTSIDER: u64 = 9;
const TX: [u8; 32] = [0xab; 32];

fn contracts(first_batch: u64) -> Contracts {
	Contracts { chain_id: 31337, light_client: [1; 20], rollup: [2; 20], first_batch }
}

/// A chain with relayer 7, contracts from batch 0, and batches 0..=`proven` proven.
pub(crate) fn ext(proven: Option<u64>) -> sp_io::TestExternalities {
	Proven::set(proven);
	let storage = RuntimeGenesisConfig {
		system: Default::default(),
		bridge: GenesisConfig { relayers: vec![RELAYER], contracts: Some(contracts(0)) },
	}
	.build_storage()
	.expect("genesis builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn confirm(who: u64, batch: u64) -> DispatchResultWithPostInfo {
	Bridge::confirm(RuntimeOrigin::signed(who), batch, 100 + batch, TX)
}

#[test]
fn a_relayer_confirms_a_proven_batch_for_free() {
	ext(Some(1)).execute_with(|| {
		let post = confirm(RELAYER, 0).expect("accepted");
		assert_eq!(post.pays_fee, Pays::No);
		assert_eq!(
			Anchors::<Test>::get(0),
			Some(Anchor { l1_block: 100, l1_tx: TX, relayer: RELAYER, confirmed_at: 1 })
		);
		assert_eq!(NextToSettle::<Test>::get(), 1);
		assert_eq!(Bridge::status().last_settled, Some(0));
		System::assert_last_event(
			Event::BatchSettled { batch: 0, l1_block: 100, l1_tx: TX, relayer: RELAYER }.into(),
		);
		// The call's declared fee class is "pays", so a refused confirmation costs its sender.
		let call = Call::<Test>::confirm { batch: 1, l1_block: 1, l1_tx: TX };
		assert_eq!(call.get_dispatch_info().pays_fee, Pays::Yes);
	});
}

#[test]
fn rejects_a_replayed_confirmation() {
	ext(Some(1)).execute_with(|| {
		assert_ok!(confirm(RELAYER, 0));
		let anchor = Anchors::<Test>::get(0);
		assert_noop!(
			Bridge::confirm(RuntimeOrigin::signed(RELAYER), 0, 555, [0xcd; 32]),
			Error::<Test>::AlreadyConfirmed
		);
		assert_eq!(Anchors::<Test>::get(0), anchor);
		assert_eq!(NextToSettle::<Test>::get(), 1);
	});
}

#[test]
fn rejects_a_confirmation_from_outside_the_relayer_set() {
	ext(Some(0)).execute_with(|| {
		assert_noop!(confirm(OUTSIDER, 0), Error::<Test>::NotARelayer);
		assert_eq!(Anchors::<Test>::get(0), None);
	});
}

#[test]
fn rejects_a_batch_the_chain_has_not_proven() {
	ext(None).execute_with(|| {
		assert_noop!(confirm(RELAYER, 0), Error::<Test>::NotProven);
	});
	ext(Some(0)).execute_with(|| {
		assert_ok!(confirm(RELAYER, 0));
		assert_noop!(confirm(RELAYER, 1), Error::<Test>::NotProven);
	});
}

#[test]
fn rejects_a_skipped_batch() {
	ext(Some(5)).execute_with(|| {
		assert_noop!(confirm(RELAYER, 1), Error::<Test>::OutOfOrder);
		assert_ok!(confirm(RELAYER, 0));
		assert_noop!(confirm(RELAYER, 2), Error::<Test>::OutOfOrder);
		assert_ok!(confirm(RELAYER, 1));
	});
}

#[test]
fn a_halted_bridge_takes_no_confirmation_until_resumed() {
	ext(Some(0)).execute_with(|| {
		assert_ok!(Bridge::set_halted(RuntimeOrigin::root(), true));
		assert_noop!(confirm(RELAYER, 0), Error::<Test>::BridgeHalted);
		assert!(Bridge::status().halted);
		assert_ok!(Bridge::set_halted(RuntimeOrigin::root(), false));
		assert_ok!(confirm(RELAYER, 0));
	});
}

#[test]
fn rejects_confirmations_before_the_contracts_are_set() {
	Proven::set(Some(0));
	let storage = RuntimeGenesisConfig {
		system: Default::default(),
		bridge: GenesisConfig { relayers: vec![RELAYER], contracts: None },
	}
	.build_storage()
	.expect("genesis builds");
	sp_io::TestExternalities::new(storage).execute_with(|| {
		System::set_block_number(1);
		assert_noop!(confirm(RELAYER, 0), Error::<Test>::NoContracts);
		assert_ok!(Bridge::set_contracts(RuntimeOrigin::root(), contracts(0)));
		assert_ok!(confirm(RELAYER, 0));
	});
}

#[test]
fn new_contracts_continue_and_never_settle_a_batch_twice() {
	ext(Some(9)).execute_with(|| {
		assert_ok!(confirm(RELAYER, 0));
		assert_ok!(confirm(RELAYER, 1));
		assert_noop!(
			Bridge::set_contracts(RuntimeOrigin::root(), contracts(1)),
			Error::<Test>::FirstBatchAlreadySettled
		);
		assert_ok!(Bridge::set_contracts(RuntimeOrigin::root(), contracts(5)));
		assert_eq!(NextToSettle::<Test>::get(), 5);
		assert_noop!(confirm(RELAYER, 2), Error::<Test>::OutOfOrder);
		assert_ok!(confirm(RELAYER, 5));
	});
}

#[test]
fn only_governance_changes_contracts_relayers_and_the_switch() {
	ext(Some(0)).execute_with(|| {
		let signed = RuntimeOrigin::signed(RELAYER);
		assert_noop!(Bridge::set_contracts(signed.clone(), contracts(3)), DispatchError::BadOrigin);
		assert_noop!(Bridge::add_relayer(signed.clone(), OUTSIDER), DispatchError::BadOrigin);
		assert_noop!(Bridge::remove_relayer(signed.clone(), RELAYER), DispatchError::BadOrigin);
		assert_noop!(Bridge::set_halted(signed, true), DispatchError::BadOrigin);
	});
}

#[test]
fn the_council_changes_the_relayer_set() {
	ext(Some(1)).execute_with(|| {
		assert_ok!(Bridge::add_relayer(RuntimeOrigin::root(), OUTSIDER));
		assert_noop!(
			Bridge::add_relayer(RuntimeOrigin::root(), OUTSIDER),
			Error::<Test>::AlreadyARelayer
		);
		assert_noop!(Bridge::add_relayer(RuntimeOrigin::root(), 3), Error::<Test>::TooManyRelayers);
		assert_ok!(confirm(OUTSIDER, 0));
		assert_ok!(Bridge::remove_relayer(RuntimeOrigin::root(), OUTSIDER));
		assert_noop!(
			Bridge::remove_relayer(RuntimeOrigin::root(), OUTSIDER),
			Error::<Test>::NotARelayer
		);
		assert_noop!(confirm(OUTSIDER, 1), Error::<Test>::NotARelayer);
		assert_eq!(Bridge::status().relayers, vec![RELAYER]);
	});
}
