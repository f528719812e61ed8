//! The council's calls and the session manager, in a runtime with pallet-session.

use super::*;
use codec::Encode;
use polkadot_sdk::{
	frame_support::{self, assert_noop, assert_ok, derive_impl, traits::ConstU32},
	frame_system::EnsureRoot,
	pallet_balances, sp_io,
	sp_runtime::{
		impl_opaque_keys,
		testing::UintAuthorityId,
		traits::{ConvertInto, OpaqueKeys},
		BuildStorage, DispatchError, KeyTypeId, RuntimeAppPublic,
	},
};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ValidatorSet: crate,
		Session: pallet_session,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
}

impl_opaque_keys! {
	pub struct Keys {
		pub dummy: UintAuthorityId,
	}
}

/// Accepts every key; the tests look at the sets pallet-session keeps.
pub struct Handler;
impl pallet_session::SessionHandler<u64> for Handler {
	const KEY_TYPE_IDS: &'static [KeyTypeId] = &[UintAuthorityId::ID];
	fn on_genesis_session<K: OpaqueKeys>(_: &[(u64, K)]) {}
	fn on_new_session<K: OpaqueKeys>(_: bool, _: &[(u64, K)], _: &[(u64, K)]) {}
	fn on_disabled(_: u32) {}
}

impl pallet_session::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = u64;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<SessionPeriod<Test>, ConstU64<0>>;
	type NextSessionRotation = pallet_session::PeriodicSessions<SessionPeriod<Test>, ConstU64<0>>;
	type SessionManager = ValidatorSet;
	type SessionHandler = Handler;
	type Keys = Keys;
	type DisablingStrategy = ();
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = ();
}

impl Config for Test {
	type GovernanceOrigin = EnsureRoot<u64>;
	type MaxValidators = ConstU32<5>;
	type MinValidators = ConstU32<2>;
	type WeightInfo = ();
}

use polkadot_sdk::frame_support::traits::{ConstU64, Hooks};

const LENGTH: u64 = 5;

fn keys(who: u64) -> Keys {
	Keys { dummy: UintAuthorityId(who) }
}

/// Validators 1, 2, 3 with keys; 4 and 5 are funded accounts without keys.
pub(crate) fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.expect("system genesis builds");
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=6).map(|a| (a, 1_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.expect("genesis builds");
	GenesisConfig::<Test> { validators: vec![1, 2, 3], session_length: LENGTH }
		.assimilate_storage(&mut t)
		.expect("genesis builds");
	pallet_session::GenesisConfig::<Test> {
		keys: (1..=3).map(|a| (a, a, keys(a))).collect(),
		non_authority_keys: vec![],
	}
	.assimilate_storage(&mut t)
	.expect("genesis builds");
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs blocks until the next session starts.
fn next_session() {
	let start = pallet_session::CurrentIndex::<Test>::get();
	while pallet_session::CurrentIndex::<Test>::get() == start {
		let n = System::block_number() + 1;
		System::set_block_number(n);
		Session::on_initialize(n);
	}
}

fn active() -> Vec<u64> {
	pallet_session::Validators::<Test>::get()
}

#[test]
fn plan_keeps_keyed_validators_in_order_and_skips_no_change() {
	let keyed = |v: &u32| *v != 2;
	assert_eq!(plan(&[1, 2, 3], keyed, &[1]), Some(vec![1, 3]));
	assert_eq!(plan(&[1, 2, 3], keyed, &[1, 3]), None, "the queued set already is the plan");
	assert_eq!(plan(&[2], keyed, &[1]), None, "never an empty set");
	assert_eq!(plan(&[3, 1], |_| true, &[1, 3]), Some(vec![3, 1]), "order is the council's");
}

#[test]
fn added_validator_validates_two_rotations_after_setting_keys() {
	new_test_ext().execute_with(|| {
		assert_eq!(active(), vec![1, 2, 3]);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 4));
		// Without keys the new validator is never planned.
		next_session();
		next_session();
		assert_eq!(active(), vec![1, 2, 3]);
		let mut new_keys = keys(4);
		let proof = new_keys.create_ownership_proof(&4u64.encode()).expect("test keys sign");
		assert_ok!(Session::set_keys(RuntimeOrigin::signed(4), new_keys, proof.encode()));
		next_session();
		assert_eq!(active(), vec![1, 2, 3], "planned at this rotation, active at the next");
		next_session();
		assert_eq!(active(), vec![1, 2, 3, 4]);
	});
}

#[test]
fn removed_validator_leaves_and_the_set_never_shrinks_below_the_minimum() {
	new_test_ext().execute_with(|| {
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 3));
		next_session();
		next_session();
		assert_eq!(active(), vec![1, 2]);
		let before = Validators::<Test>::get();
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::TooFewValidators
		);
		assert_eq!(Validators::<Test>::get(), before);
	});
}

#[test]
fn only_governance_changes_the_set_and_bad_changes_are_refused() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(1), 4),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::signed(1), 3),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::AlreadyAValidator
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 6),
			Error::<Test>::NotAValidator
		);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 4));
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 5));
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 6),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn sessions_last_the_genesis_length() {
	new_test_ext().execute_with(|| {
		next_session();
		let first = System::block_number();
		next_session();
		assert_eq!(System::block_number() - first, LENGTH);
	});
}
