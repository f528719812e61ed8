//! `emr-node --prover`: the prover worker ([`emr_worker`]) inside the node. It reads
//! blocks through the node's own client, signs `rollup.submit_proof` with the prover key in the
//! node's keystore (key type `emrp`) and submits through the node's own transaction pool. The
//! worker runs on a blocking task; proving uses the CPUs, not the node's async threads. It is
//! generic over the client and pool traits it uses, as the RPC module is, so that it does not
//! depend on the service that builds them.

use codec::{Decode, Encode};
use emr_primitives::ops::DeploymentId;
use emr_runtime::{opaque::Block, AccountId, Nonce};
use emr_worker::{
	extrinsic,
	runtime::{batch_of, view_of, PROVER_KEY_TYPE},
	Chain, ChainBatch, ChainError, Config, DeploymentError, Metrics, Submission, SubmitError, View,
	Worker, LOG_TARGET,
};
use pallet_rollup::runtime_api::EmrApi;
use polkadot_sdk::{
	frame_system_rpc_runtime_api::AccountNonceApi,
	sc_service::TaskManager,
	sc_transaction_pool_api::{error::IntoPoolError, TransactionPool, TransactionSource},
	sp_api::{Core, ProvideRuntimeApi},
	sp_blockchain::HeaderBackend,
	sp_core::{sr25519, H256},
	sp_keystore::KeystorePtr,
	sp_runtime::transaction_validity::TransactionValidityError,
	*,
};
use std::{
	path::PathBuf,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
};

/// Sets its flag when dropped: the task that holds it is dropped when the node shuts down.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
	fn drop(&mut self) {
		self.0.store(true, Ordering::Relaxed);
	}
}

/// Options of `--prover`.
#[derive(Clone, Debug)]
pub struct ProverOptions {
	/// Key directory (`emr-prover setup`'s output for the chain's current circuit).
	pub keys: PathBuf,
	/// The worker's state directory.
	pub state: PathBuf,
}

/// The worker's view of this node: its client `C` and transaction pool `P`.
pub struct NodeChain<C, P> {
	client: Arc<C>,
	pool: Arc<P>,
	keystore: KeystorePtr,
	public: sr25519::Public,
	account: AccountId,
}

fn chain_err(e: impl std::fmt::Display) -> ChainError {
	ChainError(e.to_string())
}

impl<C, P> NodeChain<C, P>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: EmrApi<Block, AccountId>,
{
	fn view_at(&self, hash: H256) -> Result<View, ChainError> {
		let number = self
			.client
			.number(hash)
			.map_err(chain_err)?
			.ok_or_else(|| ChainError(format!("block {hash} is not known")))?;
		let s = self.client.runtime_api().rollup_status(hash).map_err(chain_err)?;
		Ok(view_of(number, hash.0, s))
	}
}

impl<C, P> Chain for NodeChain<C, P>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: Core<Block> + EmrApi<Block, AccountId> + AccountNonceApi<Block, AccountId, Nonce>,
	P: TransactionPool<Block = Block>,
{
	fn describe(&self) -> String {
		"this node".into()
	}

	fn genesis(&mut self) -> Result<[u8; 32], ChainError> {
		Ok(self.client.info().genesis_hash.0)
	}

	fn deployment(&mut self) -> Result<DeploymentId, DeploymentError> {
		// In the node, the runtime is always there: an error is its answer, not a lost link.
		self.client
			.runtime_api()
			.deployment(self.client.info().best_hash)
			.map_err(|e| DeploymentError::Missing(e.to_string()))
	}

	fn finalized(&mut self) -> Result<View, ChainError> {
		self.view_at(self.client.info().finalized_hash)
	}

	fn best(&mut self) -> Result<View, ChainError> {
		self.view_at(self.client.info().best_hash)
	}

	fn batch(&mut self, at: &View, batch: u64) -> Result<Option<ChainBatch>, ChainError> {
		let view =
			self.client.runtime_api().rollup_batch(H256(at.hash), batch).map_err(chain_err)?;
		Ok(view.map(|v| batch_of(v, &self.account)))
	}

	fn submit_proof(
		&mut self,
		batch: u64,
		new_root: [u8; 32],
		proof: &[u8],
	) -> Result<Submission, SubmitError> {
		let unavailable = |e: String| SubmitError::Unavailable(ChainError(e));
		let info = self.client.info();
		let (best, number) = (info.best_hash, info.best_number);
		let api = self.client.runtime_api();
		let version = api.version(best).map_err(|e| unavailable(e.to_string()))?;
		let chain = extrinsic::ChainInfo {
			genesis: info.genesis_hash,
			spec_version: version.spec_version,
			transaction_version: version.transaction_version,
		};
		let nonce = api
			.account_nonce(best, self.account.clone())
			.map_err(|e| unavailable(e.to_string()))?;
		let call = extrinsic::submit_proof_call(batch, new_root, proof).ok_or_else(|| {
			SubmitError::Refused("the proof is longer than the chain accepts".into())
		})?;
		let (xt, valid_until) = extrinsic::signed(
			call,
			&chain,
			(number, best),
			nonce,
			self.account.clone(),
			|payload| {
				self.keystore
					.sr25519_sign(PROVER_KEY_TYPE, &self.public, payload)
					.ok()
					.flatten()
					.map(Into::into)
			},
		)
		.map_err(SubmitError::Refused)?;
		let encoded = xt.encode();
		let opaque = <Block as sp_runtime::traits::Block>::Extrinsic::decode(&mut &encoded[..])
			.map_err(|e| SubmitError::Refused(format!("cannot wrap the transaction: {e}")))?;
		match futures::executor::block_on(self.pool.submit_one(
			best,
			TransactionSource::Local,
			opaque,
		)) {
			Ok(_) => Ok(Submission { tx_hash: extrinsic::tx_hash(&encoded), valid_until }),
			Err(e) => match e.into_pool_error() {
				Ok(sc_transaction_pool_api::error::Error::InvalidTransaction(i)) => {
					Err(extrinsic::classify(&TransactionValidityError::Invalid(i), &self.account))
				},
				Ok(other) => Err(SubmitError::Refused(other.to_string())),
				Err(other) => Err(SubmitError::Refused(other.to_string())),
			},
		}
	}
}

/// The prover account's key: the keystore's `emrp` key, or on a development node without one
/// (`--dev`, `--alice`, …) the key of the development seed, added to the keystore.
fn prover_key(keystore: &KeystorePtr, dev_seed: Option<&str>) -> Result<sr25519::Public, String> {
	if let Some(public) = keystore.sr25519_public_keys(PROVER_KEY_TYPE).first() {
		return Ok(*public);
	}
	match dev_seed {
		Some(seed) => keystore
			.sr25519_generate_new(PROVER_KEY_TYPE, Some(seed))
			.map_err(|e| format!("cannot add the development prover key: {e}")),
		None => Err("the keystore holds no prover key: add one with `emr-node key insert \
			 --key-type emrp --scheme sr25519 --suri <secret>` (its account must be in the chain's \
			 prover set)"
			.into()),
	}
}

/// Starts the worker on a blocking task of `task_manager`. A worker that stops (see
/// [`emr_worker::WorkerError`]) logs why; the node keeps running. When the node shuts down the
/// worker returns within one poll (a proof in progress is abandoned: it is redone on restart).
pub fn start<C, P>(
	options: ProverOptions,
	client: Arc<C>,
	pool: Arc<P>,
	keystore: KeystorePtr,
	dev_seed: Option<String>,
	registry: Option<&substrate_prometheus_endpoint::Registry>,
	task_manager: &TaskManager,
) -> Result<(), String>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: Core<Block> + EmrApi<Block, AccountId> + AccountNonceApi<Block, AccountId, Nonce>,
	P: TransactionPool<Block = Block> + 'static,
{
	let public = prover_key(&keystore, dev_seed.as_deref())?;
	let account = AccountId::from(public);
	let metrics = match registry {
		Some(r) => Metrics::register(r).map_err(|e| format!("prover metrics: {e}"))?,
		None => Metrics::unregistered(),
	};
	let chain = NodeChain { client, pool, keystore, public, account: account.clone() };
	let stop = Arc::new(AtomicBool::new(false));
	let guard = StopOnDrop(stop.clone());
	task_manager.spawn_handle().spawn("emr-prover-shutdown", Some("emr"), async move {
		let _guard = guard;
		futures::future::pending::<()>().await
	});
	task_manager.spawn_handle().spawn_blocking("emr-prover", Some("emr"), async move {
		log::info!(
			target: LOG_TARGET,
			"prover worker: account {account}, loading the proving key from {} …",
			options.keys.display()
		);
		let started = std::time::Instant::now();
		let prover = match emr_worker::load_prover(&options.keys) {
			Ok(p) => p,
			Err(e) => {
				log::error!(target: LOG_TARGET, "prover worker not started: {e}");
				return;
			},
		};
		log::info!(
			target: LOG_TARGET,
			"proving key loaded, constraint matrices built in {:.1} s",
			started.elapsed().as_secs_f64()
		);
		let result = Worker::new(chain, prover, Config::new(options.state), metrics)
			.and_then(|mut w| w.run_until(|_| stop.load(Ordering::Relaxed)));
		match result {
			Ok(()) => log::info!(target: LOG_TARGET, "prover worker stopped with the node"),
			Err(e) => log::error!(target: LOG_TARGET, "prover worker stopped: {e}"),
		}
	});
	Ok(())
}
