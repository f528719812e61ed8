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
	AccountId, BalancesConfig, CouncilMembershipConfig, RollupConfig, RuntimeGenesisConfig,
	SudoConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use emr_primitives::{ops::Role, testing};
use frame_support::build_struct_json_patch;
use polkadot_sdk::*;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// The name of a well-known development identity.
fn keyring_name(k: Sr25519Keyring) -> &'static str {
	match k {
		Sr25519Keyring::Alice => "Alice",
		Sr25519Keyring::Bob => "Bob",
		Sr25519Keyring::Charlie => "Charlie",
		Sr25519Keyring::Dave => "Dave",
		Sr25519Keyring::Eve => "Eve",
		_ => "Ferdie",
	}
}

/// Name of the single-validator development preset.
pub const DEVELOPMENT: &str = sp_genesis_builder::DEV_RUNTIME_PRESET;
/// Name of the four-hospital local consortium preset.
pub const CONSORTIUM_LOCAL: &str = "consortium_local";

/// The verifying key of the development chains: `emr-prover setup --batch-size 4 --seed
/// <DEV_SETUP_SEED>`, an INSECURE, reproducible setup whose toxic waste anyone can recompute
/// (`scripts/dev-keys.sh` regenerates it; a test of `emr-prover` checks that it still matches).
/// A production network registers the key of a real ceremony through the council.
pub const DEV_VERIFYING_KEY: &[u8] = include_bytes!("../../chain-specs/dev-keys/verifying.key");

/// Circuit slots of [`DEV_VERIFYING_KEY`]: small enough to prove on two cores.
pub const DEV_BATCH_SIZE: u32 = 4;

/// Rollup parameters of the development chains: a batch seals after 10 blocks (one minute) at
/// the latest; at most 2,000 L2 operations per block, 16 queued per actor.
pub const DEV_BATCH_PARAMS: pallet_rollup::BatchParams = pallet_rollup::BatchParams {
	seal_after: 10,
	max_ops_per_block: 2_000,
	max_queued_per_actor: 16,
};

/// Every account the presets fund, with this balance each.
const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// A hospital of a preset: its account (also its council seat) and its consensus keys.
struct Hospital {
	name: &'static str,
	account: AccountId,
	aura: AuraId,
	grandpa: GrandpaId,
}

impl Hospital {
	/// The hospital of a well-known development identity: sr25519 for its account and Aura,
	/// ed25519 (same derivation path) for GRANDPA.
	fn from_keyring((sr, ed): (Sr25519Keyring, Ed25519Keyring)) -> Self {
		Hospital {
			name: keyring_name(sr),
			account: sr.to_account_id(),
			aura: sr.public().into(),
			grandpa: ed.public().into(),
		}
	}
}

/// An organisation admitted at genesis under a development identity: (role code, rollup key,
/// X25519 key) from `emr_primitives::testing::dev_rollup_key` / `dev_encryption_key`.
fn dev_member(role: Role, name: &str) -> (u8, [u8; 32], [u8; 32]) {
	(
		role.code(),
		testing::dev_rollup_key(name).public().to_bytes(),
		testing::dev_encryption_key(name).expect("a well-known development identity; qed"),
	)
}

/// Builds the genesis patch shared by all presets: every hospital is a validator, a council
/// member, a prover and an admitted rollup member; `others` are further admitted organisations;
/// `extra_provers` are prover accounts beside the hospitals'.
fn genesis(
	hospitals: Vec<Hospital>,
	others: Vec<(Role, &str)>,
	extra_provers: Vec<AccountId>,
	root: AccountId,
	endowed: Vec<AccountId>,
) -> Value {
	let rollup_members = hospitals
		.iter()
		.map(|h| dev_member(Role::Hospital, h.name))
		.chain(others.into_iter().map(|(role, name)| dev_member(role, name)))
		.collect::<Vec<_>>();
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
		rollup: RollupConfig {
			params: Some(DEV_BATCH_PARAMS),
			verifying_key: Some((DEV_VERIFYING_KEY.to_vec(), DEV_BATCH_SIZE)),
			provers: hospitals
				.iter()
				.map(|h| h.account.clone())
				.chain(extra_provers)
				.collect::<Vec<_>>(),
			members: rollup_members,
		},
	})
}

/// The `development` preset: Alice's hospital alone validates, governs, proves and holds sudo;
/// Bob's account proves too (so that two prover workers can run against one dev node); Eve's
/// insurer and Ferdie's research institute are admitted.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![Hospital::from_keyring((Sr25519Keyring::Alice, Ed25519Keyring::Alice))],
		vec![(Role::Insurer, "Eve"), (Role::Researcher, "Ferdie")],
		vec![Sr25519Keyring::Bob.to_account_id()],
		Sr25519Keyring::Alice.to_account_id(),
		crate::dev_accounts(),
	)
}

/// The `consortium_local` preset: Alice, Bob, Charlie and Dave run one hospital each; Eve's
/// insurer and Ferdie's research institute are admitted.
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
		vec![(Role::Insurer, "Eve"), (Role::Researcher, "Ferdie")],
		vec![],
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
