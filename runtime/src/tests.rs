//! Runtime-level tests: the genesis presets and the council's majority rule.

use crate::{
	genesis_config_presets::{get_preset, CONSORTIUM_LOCAL, DEVELOPMENT},
	AccountId, Council, CouncilInstance, Runtime, RuntimeCall, RuntimeEvent, RuntimeGenesisConfig,
	RuntimeOrigin, System,
};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok, dispatch::GetDispatchInfo, genesis_builder_helper::build_state,
};
use polkadot_sdk::*;
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve};
use sp_runtime::{
	traits::{BlakeTwo256, Hash},
	DispatchError,
};

/// Applies a JSON merge patch (objects merge key by key, anything else replaces), as the node
/// does when it builds genesis from a preset.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// Externalities holding the genesis state of `preset`, at block 1.
fn genesis_ext(preset: &str) -> sp_io::TestExternalities {
	let patch = get_preset(&preset.to_string()).expect("the preset exists");
	let patch: serde_json::Value = serde_json::from_slice(&patch).expect("presets are JSON");
	let mut config =
		serde_json::to_value(RuntimeGenesisConfig::default()).expect("the default serializes");
	merge(&mut config, patch);
	let config = serde_json::to_vec(&config).expect("a JSON value serializes");
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| {
		build_state::<RuntimeGenesisConfig>(config).expect("the preset builds a genesis state");
		System::set_block_number(1);
	});
	ext
}

fn account(key: Sr25519Keyring) -> AccountId {
	key.to_account_id()
}

fn council_members() -> Vec<AccountId> {
	pallet_collective::Members::<Runtime, CouncilInstance>::get()
}

fn membership_members() -> Vec<AccountId> {
	pallet_membership::Members::<Runtime, pallet_membership::Instance1>::get().into_inner()
}

fn add_member_call(who: Sr25519Keyring) -> RuntimeCall {
	RuntimeCall::CouncilMembership(pallet_membership::Call::add_member { who: account(who).into() })
}

/// The first of `ayes` proposes `call` with `threshold`; all of `ayes` vote for it (proposing
/// is not voting); then the motion is closed. Returns the motion's hash.
fn run_motion(call: RuntimeCall, threshold: u32, ayes: &[Sr25519Keyring]) -> sp_core::H256 {
	let length = call.encoded_size() as u32;
	let weight = call.get_dispatch_info().call_weight;
	let hash = BlakeTwo256::hash_of(&call);
	let proposer = ayes[0];
	assert_ok!(Council::propose(
		RuntimeOrigin::signed(account(proposer)),
		threshold,
		Box::new(call),
		length
	));
	let index = pallet_collective::ProposalCount::<Runtime, CouncilInstance>::get() - 1;
	for voter in ayes {
		assert_ok!(Council::vote(RuntimeOrigin::signed(account(*voter)), hash, index, true));
	}
	assert_ok!(Council::close(
		RuntimeOrigin::signed(account(proposer)),
		hash,
		index,
		weight,
		length
	));
	hash
}

#[test]
fn development_preset_has_one_validator_and_council_member() {
	genesis_ext(DEVELOPMENT).execute_with(|| {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 1);
		assert_eq!(council_members(), vec![account(Alice)]);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(account(Alice)));
	});
}

#[test]
fn consortium_preset_has_four_hospitals_in_validators_and_council() {
	genesis_ext(CONSORTIUM_LOCAL).execute_with(|| {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 4);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 4);
		let mut expected: Vec<AccountId> =
			[Alice, Bob, Charlie, Dave].into_iter().map(account).collect();
		expected.sort();
		assert_eq!(membership_members(), expected);
		assert_eq!(council_members(), expected, "membership initialised the collective");
	});
}

#[test]
fn unknown_preset_is_none() {
	assert!(get_preset(&"mainnet".to_string()).is_none());
}

#[test]
fn council_majority_admits_a_new_member() {
	genesis_ext(CONSORTIUM_LOCAL).execute_with(|| {
		run_motion(add_member_call(Eve), 3, &[Alice, Bob, Charlie]);
		assert!(membership_members().contains(&account(Eve)));
		assert!(council_members().contains(&account(Eve)), "the collective follows membership");
	});
}

#[test]
fn council_half_is_not_a_majority() {
	genesis_ext(CONSORTIUM_LOCAL).execute_with(|| {
		// Two of four hospitals is not more than half: the motion executes, the origin check fails.
		let hash = run_motion(add_member_call(Eve), 2, &[Alice, Bob]);
		System::assert_has_event(RuntimeEvent::Council(pallet_collective::Event::Executed {
			proposal_hash: hash,
			result: Err(DispatchError::BadOrigin),
		}));
		assert!(!membership_members().contains(&account(Eve)));
		assert!(!council_members().contains(&account(Eve)));
	});
}

#[test]
fn a_single_hospital_cannot_change_membership() {
	genesis_ext(CONSORTIUM_LOCAL).execute_with(|| {
		assert_noop!(
			crate::CouncilMembership::add_member(
				RuntimeOrigin::signed(account(Alice)),
				account(Eve).into()
			),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn only_council_members_can_propose() {
	genesis_ext(CONSORTIUM_LOCAL).execute_with(|| {
		let call = add_member_call(Eve);
		let length = call.encoded_size() as u32;
		assert_noop!(
			Council::propose(RuntimeOrigin::signed(account(Eve)), 3, Box::new(call), length),
			pallet_collective::Error::<Runtime, CouncilInstance>::NotMember
		);
	});
}

#[test]
fn dev_beefy_keys_are_the_derived_ones() {
	use crate::genesis_config_presets::{dev_beefy_key, DEV_BEEFY_KEYS};
	use sp_core::{ecdsa, Pair};
	for (name, _) in DEV_BEEFY_KEYS {
		let derived = ecdsa::Pair::from_string(&format!("//{name}"), None).expect("derives");
		let key = dev_beefy_key(name).expect("listed");
		assert_eq!(AsRef::<[u8]>::as_ref(&key), AsRef::<[u8]>::as_ref(&derived.public()), "{name}");
	}
	assert!(dev_beefy_key("Mallory").is_none());
}

#[test]
fn genesis_sessions_give_every_hospital_all_three_authority_keys() {
	genesis_ext(CONSORTIUM_LOCAL).execute_with(|| {
		let hospitals = [Alice, Bob, Charlie, Dave].map(account).to_vec();
		assert_eq!(pallet_session::Validators::<Runtime>::get(), hospitals);
		assert_eq!(pallet_emr_validators::Validators::<Runtime>::get().into_inner(), hospitals);
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 4);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 4);
		let beefy = crate::Beefy::validator_set().expect("BEEFY has a genesis set");
		assert_eq!(beefy.len(), 4);
		assert_eq!(pallet_beefy::GenesisBlock::<Runtime>::get(), Some(1));
	});
}

/// Every pallet of this runtime's own is at its first storage version (none was ever migrated),
/// and a fresh genesis writes that version: a runtime upgrade that changes a layout bumps
/// `STORAGE_VERSION` and adds its migration to `Migrations`.
#[test]
fn a_fresh_genesis_is_at_every_pallets_storage_version() {
	use frame_support::traits::{GetStorageVersion, StorageVersion};
	for preset in [DEVELOPMENT, CONSORTIUM_LOCAL] {
		genesis_ext(preset).execute_with(|| {
			let versions = [
				(
					crate::Registry::on_chain_storage_version(),
					crate::Registry::in_code_storage_version(),
				),
				(
					crate::Consent::on_chain_storage_version(),
					crate::Consent::in_code_storage_version(),
				),
				(
					crate::Rollup::on_chain_storage_version(),
					crate::Rollup::in_code_storage_version(),
				),
				(
					crate::Validators::on_chain_storage_version(),
					crate::Validators::in_code_storage_version(),
				),
				(
					crate::EthBridge::on_chain_storage_version(),
					crate::EthBridge::in_code_storage_version(),
				),
			];
			for (on_chain, in_code) in versions {
				assert_eq!(on_chain, in_code, "{preset}");
				assert_eq!(in_code, StorageVersion::new(0), "{preset}");
			}
		});
	}
}
