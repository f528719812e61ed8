//! This runtime's rollup views as the worker sees them, and the prover account's key type.

use crate::{ChainBatch, View};
use emr_runtime::AccountId;
use pallet_rollup::runtime_api::{BatchView, RollupStatus};
use polkadot_sdk::sp_core::crypto::KeyTypeId;

/// Key type of the prover account's key in a node's keystore
/// (`emr-node key insert --key-type emrp --scheme sr25519 --suri …`).
pub const PROVER_KEY_TYPE: KeyTypeId = KeyTypeId(*b"emrp");

/// The worker's [`View`] of block `number` (`hash`) from the runtime's `rollup_status`.
pub fn view_of(number: u32, hash: [u8; 32], status: RollupStatus) -> View {
	View {
		number,
		hash,
		last_sealed: status.last_sealed,
		last_proven: status.last_proven,
		proven_root: status.proven_root,
		verifying_key: status.verifying_key,
	}
}

/// The worker's [`ChainBatch`] from the runtime's `rollup_batch`; `us` is the worker's prover
/// account.
pub fn batch_of(view: BatchView<AccountId>, us: &AccountId) -> ChainBatch {
	ChainBatch {
		batch: view.batch,
		vk: view.info.vk,
		commitment: view.info.commitment,
		sealed: view.info.sealed_at.is_some(),
		new_root: view.info.new_root,
		proven_by_us: view.info.prover.as_ref() == Some(us),
		entries: view.entries,
	}
}
