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
	opaque::SessionKeys, AccountId, BalancesConfig, BlockNumber, CouncilMembershipConfig,
	EthBridgeConfig, RollupConfig, RuntimeGenesisConfig, SessionConfig, SudoConfig,
	ValidatorsConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use emr_primitives::{
	dev,
	ops::{DeploymentId, Operation, Role},
};
use frame_support::build_struct_json_patch;
use polkadot_sdk::*;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_beefy::ecdsa_crypto::AuthorityId as BeefyId;
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

/// Blocks per session on the development chains: one minute, so that a validator the council
/// adds signs within about two minutes of setting its keys. A production network's chain spec
/// sets an hour or more.
pub const DEV_SESSION_LENGTH: BlockNumber = 10;

/// The compressed secp256k1 public keys of `//Alice`, `//Bob`, `//Charlie`, `//Dave`, `//Eve`
/// and `//Ferdie` (`emr-node key inspect --scheme ecdsa //Alice`): sp-keyring has no ECDSA
/// keyring, and presets are built inside the wasm runtime, which cannot derive keys. A runtime
/// test checks them against the derivation.
pub const DEV_BEEFY_KEYS: [(&str, &str); 6] = [
	("Alice", "020a1091341fe5664bfa1782d5e04779689068c916b04cb365ec3153755684d9a1"),
	("Bob", "0390084fdbf27d2b79d26a4f13f0ccd982cb755a661969143c37cbc49ef5b91f27"),
	("Charlie", "0389411795514af1627765eceffcbd002719f031604fadd7d188e2dc585b4e1afb"),
	("Dave", "03bc9d0ca094bd5b8b3225d7651eac5d18c1c04bf8ae8f8b263eebca4e1410ed0c"),
	("Eve", "031d10105e323c4afce225208f71a6441ee327a65b9e646e772500c74d31f669aa"),
	("Ferdie", "0291f1217d5a04cb83312ee3d88a6e6b33284e053e6ccfc3a90339a0299d12967c"),
];

/// The BEEFY key of the development identity `name` (one of [`DEV_BEEFY_KEYS`]).
pub fn dev_beefy_key(name: &str) -> Option<BeefyId> {
	let (_, hex) = DEV_BEEFY_KEYS.iter().find(|(n, _)| *n == name)?;
	let digit = |c: u8| match c {
		b'0'..=b'9' => Some(c - b'0'),
		b'a'..=b'f' => Some(c - b'a' + 10),
		_ => None,
	};
	let mut bytes = [0u8; 33];
	for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
		*bytes.get_mut(i)? = digit(pair[0])? << 4 | digit(*pair.get(1)?)?;
	}
	Some(sp_core::ecdsa::Public::from_raw(bytes).into())
}

/// The relayer of the development chains: `//Ferdie`'s account.
pub fn dev_relayer() -> AccountId {
	Sr25519Keyring::Ferdie.to_account_id()
}

/// Every account the presets fund, with this balance each.
const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// A hospital of a preset: its account (also its council seat) and its consensus keys.
struct Hospital {
	name: &'static str,
	account: AccountId,
	aura: AuraId,
	grandpa: GrandpaId,
	beefy: BeefyId,
}

impl Hospital {
	/// The hospital of a well-known development identity: sr25519 for its account and Aura,
	/// ed25519 (same derivation path) for GRANDPA, ecdsa for BEEFY.
	fn from_keyring((sr, ed): (Sr25519Keyring, Ed25519Keyring)) -> Self {
		let name = keyring_name(sr);
		Hospital {
			name,
			account: sr.to_account_id(),
			aura: sr.public().into(),
			grandpa: ed.public().into(),
			beefy: dev_beefy_key(name).expect("every development identity has a BEEFY key; qed"),
		}
	}

	fn session_keys(&self) -> SessionKeys {
		SessionKeys {
			aura: self.aura.clone(),
			grandpa: self.grandpa.clone(),
			beefy: self.beefy.clone(),
		}
	}
}

/// An organisation admitted at genesis of `deployment` under a development identity: (role
/// code, rollup key, X25519 key, the rollup key's signature of its admission) from
/// `emr_primitives::dev::dev_rollup_key` / `dev_encryption_key`.
fn dev_member(deployment: &DeploymentId, role: Role, name: &str) -> pallet_rollup::GenesisMember {
	let key = dev::dev_rollup_key(name);
	let public_key = key.public().to_bytes();
	let encryption_key =
		dev::dev_encryption_key(name).expect("a well-known development identity; qed");
	let op = Operation::AdmitMember { role, public_key, encryption_key };
	let admission = dev::admission(&key, op, deployment);
	(role.code(), public_key, encryption_key, admission.signature.to_vec())
}

/// Builds the genesis patch shared by all presets: the rollup's deployment id is
/// `DeploymentId::named(preset)`; every hospital is a validator (its session keys set), a
/// council member, a prover and an admitted rollup member; `others` are further admitted
/// organisations; `extra_provers` are prover accounts beside the hospitals'.
fn genesis(
	preset: &str,
	hospitals: Vec<Hospital>,
	others: Vec<(Role, &str)>,
	extra_provers: Vec<AccountId>,
	root: AccountId,
	endowed: Vec<AccountId>,
) -> Value {
	let deployment = DeploymentId::named(preset);
	let rollup_members = hospitals
		.iter()
		.map(|h| dev_member(&deployment, Role::Hospital, h.name))
		.chain(others.into_iter().map(|(role, name)| dev_member(&deployment, role, name)))
		.collect::<Vec<_>>();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.into_iter().map(|account| (account, ENDOWMENT)).collect::<Vec<_>>(),
		},
		// Aura, GRANDPA and BEEFY take their first sets from the session keys.
		session: SessionConfig {
			keys: hospitals
				.iter()
				.map(|h| (h.account.clone(), h.account.clone(), h.session_keys()))
				.collect::<Vec<_>>(),
		},
		validators: ValidatorsConfig {
			validators: hospitals.iter().map(|h| h.account.clone()).collect::<Vec<_>>(),
			session_length: DEV_SESSION_LENGTH,
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
		// Ferdie's account relays to Ethereum (its own account, so that its `confirm`
		// transactions never race a hospital's prover for a nonce); the council sets the
		// contracts once they are deployed (`emr-prover l1 deploy`).
		eth_bridge: EthBridgeConfig { relayers: vec![dev_relayer()] },
		rollup: RollupConfig {
			deployment: deployment.0,
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
		DEVELOPMENT,
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
		CONSORTIUM_LOCAL,
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
