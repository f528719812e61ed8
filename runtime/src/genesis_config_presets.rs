//! Genesis presets: the initial state of a new network, selected by name.
//!
//! * [`DEVELOPMENT`] (`development`): a single validator, for `emr-node --dev` and quick demos.
//! * [`CONSORTIUM_LOCAL`] (`consortium_local`): four hospitals as validators and council
//!   members, for the local four-node network of `scripts/devnet.sh` and the tests.
//!
//! Both use the well-known development keys (`//Alice`, `//Bob`, ...): they are for machines
//! under the operator's control only. A production network generates its own keys and writes
//! its own chain spec.

use crate::{
	AccountId, BalancesConfig, CouncilMembershipConfig, RuntimeGenesisConfig, SudoConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use polkadot_sdk::*;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Name of the single-validator development preset.
pub const DEVELOPMENT: &str = sp_genesis_builder::DEV_RUNTIME_PRESET;
/// Name of the four-hospital local consortium preset.
pub const CONSORTIUM_LOCAL: &str = "consortium_local";

/// Every account the presets fund, with this balance each.
const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// A hospital of a preset: its account (also its council seat) and its consensus keys.
struct Hospital {
	account: AccountId,
	aura: AuraId,
	grandpa: GrandpaId,
}

impl Hospital {
	/// The hospital of a well-known development identity: sr25519 for its account and Aura,
	/// ed25519 (same derivation path) for GRANDPA.
	fn from_keyring((sr, ed): (Sr25519Keyring, Ed25519Keyring)) -> Self {
		Hospital {
			account: sr.to_account_id(),
			aura: sr.public().into(),
			grandpa: ed.public().into(),
		}
	}
}

/// Builds the genesis patch shared by all presets.
fn genesis(hospitals: Vec<Hospital>, root: AccountId, endowed: Vec<AccountId>) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.into_iter().map(|account| (account, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: hospitals.iter().map(|h| h.aura.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: hospitals.iter().map(|h| (h.grandpa.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		council_membership: CouncilMembershipConfig {
			members: hospitals
				.iter()
				.map(|h| h.account.clone())
				.collect::<Vec<_>>()
				.try_into()
				.expect("a preset has fewer hospitals than the council's maximum; qed"),
		},
	})
}

/// The `development` preset: Alice alone validates, governs and holds sudo.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![Hospital::from_keyring((Sr25519Keyring::Alice, Ed25519Keyring::Alice))],
		Sr25519Keyring::Alice.to_account_id(),
		crate::dev_accounts(),
	)
}

/// The `consortium_local` preset: Alice, Bob, Charlie and Dave run one hospital each.
pub fn consortium_local_config_genesis() -> Value {
	genesis(
		[
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		]
		.into_iter()
		.map(Hospital::from_keyring)
		.collect(),
		Sr25519Keyring::Alice.to_account_id(),
		crate::dev_accounts(),
	)
}

/// Returns the JSON patch of the preset `id`, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_str() {
		DEVELOPMENT => development_config_genesis(),
		CONSORTIUM_LOCAL => consortium_local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work; qed")
			.into_bytes(),
	)
}

/// The names of all presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEVELOPMENT), PresetId::from(CONSORTIUM_LOCAL)]
}
