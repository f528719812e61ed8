//! # emr-prover-cli
//!
//! The `emr-prover` binary and the parts of the prover worker that know this chain's runtime:
//!
//! * [`extrinsic`] builds the `rollup.submit_proof` transaction signed by the prover account
//!   (the node's worker signs it with its keystore, the standalone worker with a key file);
//! * [`rpc`] is the [`emr_prover::worker::Chain`] of the standalone worker (`emr-prover run`):
//!   the node's JSON-RPC (`state_call` of the `EmrApi` runtime API at finalized and best blocks,
//!   `author_submitExtrinsic`);
//! * [`metrics`] serves the worker's Prometheus metrics and reads them back for
//!   `emr-prover status`;
//! * [`beefy`] reads BEEFY justifications, validator sets and MMR proofs from a node and checks
//!   them the way the Ethereum contracts will (`emr-prover beefy`);
//! * [`relay`] settles proven batches on Ethereum and reports where each settled
//!   (`emr-prover relay`).
//!
//! The worker itself (ordering, persistence, proving) is [`emr_prover::worker`]; the node's
//! `--prover` mode drives the same worker through its own client and pool.

pub mod beefy;
pub mod extrinsic;
pub mod metrics;
pub mod relay;
pub mod rpc;

use emr_prover::worker::{ChainBatch, View};
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
