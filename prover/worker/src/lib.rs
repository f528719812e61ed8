//! # emr-worker
//!
//! The prover worker and its chain adapters. This crate owns:
//!
//! * the worker loop ([`Worker`]) and its port to a chain ([`Chain`]), documented below;
//! * [`runtime`]: this runtime's rollup views as the worker's [`View`] and [`ChainBatch`], and
//!   the key type of the prover account in a node's keystore;
//! * [`extrinsic`]: the `rollup.submit_proof` transaction signed by the prover account (the
//!   node's worker signs it with its keystore, the standalone worker with a key file);
//! * [`rpc`]: the [`Chain`] of the standalone worker (`emr-prover run`) over the node's
//!   JSON-RPC (`state_call` of the `EmrApi` runtime API at finalized and best blocks,
//!   `author_submitExtrinsic`);
//! * [`http`]: the small blocking HTTP client those calls (and the relayer's and the
//!   end-to-end tests') go through;
//! * [`metrics`]: the worker's Prometheus endpoint and `emr-prover status`.
//!
//! What it proves with is `emr_circuit` (witness, circuit, Groth16); what it keeps its state in
//! is `emr_state_store`.
//!
//! The prover worker: follows the chain's *finalized* blocks, replays every sealed batch over its
//! own [`Store`], proves it with a resident [`BatchProver`] and submits the proof.
//!
//! One library, two ways to run it: inside `emr-node --prover` (the node implements [`Chain`]
//! with its own client, pool and keystore) and as `emr-prover run --rpc …` (a [`Chain`] over
//! JSON-RPC). Both drive the same [`Worker`].
//!
//! # Order and persistence
//!
//! * The store's *committed* state is the state after the last batch that the chain's finalized
//!   blocks show **proven** (by this worker or any other). Batches after it are replayed into the
//!   store's uncommitted overlay; nothing about them is on disk except proofs.
//! * A proof is written to `DIR/proofs/<batch>.proof` before it is submitted, and the submission
//!   (its last valid block) to `DIR/proofs/<batch>.sent` right after. A restarted worker reuses
//!   the proof and does not submit again while the first transaction can still be included
//!   (transactions are mortal: [`Chain::submit_proof`] returns the last block that can include
//!   it). So a kill at any moment loses no batch and submits none twice.
//! * When the finalized chain shows batch `n` proven, the worker replays `n` onto the committed
//!   state, checks that its root is the chain's new root, and commits; files up to `n` go.
//! * While batch `n` is proving on the prover thread, the witness of `n + 1` is built; while
//!   the proof of `n` waits to be included and finalized, `n + 1` is proved.
//!
//! # Refusals
//!
//! The worker stops, with a sentence that says what is wrong and what to do, when its proving
//! key is not the chain's current verifying key, when its store is not the state the chain
//! proved, when the chain refuses its account as a prover, and when a replay disagrees with the
//! chain (the chain accepted an entry that the rules refuse, or a proven root differs): that is
//! reported with the batch and the entry, not retried.

pub mod extrinsic;
pub mod http;
pub mod metrics;
pub mod rpc;
pub mod runtime;

use emr_circuit::{
	circuit::BatchWitness,
	files::{self, ProofFile},
	groth16::{self, BatchProver},
	witness,
};
use emr_primitives::{
	inbox::{InboxEntry, PublicInputs},
	ops::DeploymentId,
	rules,
	stored::field_bytes,
	F,
};
use emr_state_store::{Store, StoreError};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Registry};
use rand_core::SeedableRng;
use std::{
	collections::VecDeque,
	path::{Path, PathBuf},
	sync::mpsc,
	time::{Duration, Instant},
};

/// Log target of the worker.
pub const LOG_TARGET: &str = "emr-prover";

/// The rollup as one block shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
	/// Block number.
	pub number: u32,
	/// Block hash.
	pub hash: [u8; 32],
	/// Last sealed batch.
	pub last_sealed: Option<u64>,
	/// Last proven batch.
	pub last_proven: Option<u64>,
	/// The state root after the last proven batch.
	pub proven_root: [u8; 32],
	/// The current verifying key: id, Blake2b-256 of its bytes, batch size.
	pub verifying_key: Option<(u32, [u8; 32], u32)>,
}

impl View {
	/// The batch after the last proven one.
	pub fn next_to_prove(&self) -> u64 {
		self.last_proven.map_or(0, |b| b + 1)
	}

	/// Whether batch `batch` is proven in this view.
	pub fn proven(&self, batch: u64) -> bool {
		self.last_proven.is_some_and(|p| p >= batch)
	}

	/// Whether batch `batch` is sealed in this view.
	pub fn sealed(&self, batch: u64) -> bool {
		self.last_sealed.is_some_and(|s| s >= batch)
	}
}

/// A batch as the chain stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBatch {
	/// The batch number.
	pub batch: u64,
	/// Id of the verifying key that proves it.
	pub vk: u32,
	/// Its entries in inbox order.
	pub entries: Vec<InboxEntry>,
	/// The inbox commitment the chain computed (field bytes).
	pub commitment: [u8; 32],
	/// Whether it is sealed.
	pub sealed: bool,
	/// Its new state root, once proven.
	pub new_root: Option<[u8; 32]>,
	/// Whether the accepted proof came from this worker's account.
	pub proven_by_us: bool,
}

/// The chain could not be reached or answered something unreadable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChainError(pub String);

/// Why the chain's deployment id could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeploymentError {
	/// The chain could not be reached: the worker waits and asks again.
	#[error("{0}")]
	Unreachable(ChainError),
	/// The chain answered, but not with a deployment id (a runtime that predates it, or a
	/// call that fails): asking again would not change the answer, so the worker stops.
	#[error("{0}")]
	Missing(String),
}

/// Why a proof was not submitted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
	/// The batch is not the next to prove any more (another prover was first): cheap refusal.
	#[error("the chain refused the proof: the batch is not the next to prove (already proven)")]
	NotNext,
	/// The worker's account is not in the chain's prover set.
	#[error("the chain refused the proof: account {0} is not in the prover set (Rollup.Provers); ask the council to add it (rollup.add_prover)")]
	NotAProver(String),
	/// Any other refusal by the pool or the runtime.
	#[error("the chain refused the proof: {0}")]
	Refused(String),
	/// The node could not be reached.
	#[error("{0}")]
	Unavailable(ChainError),
}

/// An accepted submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Submission {
	/// Hash of the transaction.
	pub tx_hash: [u8; 32],
	/// The last block that can include it (its mortality).
	pub valid_until: u32,
}

/// What the worker needs from a chain: reads at finalized and best blocks, and submission of
/// `submit_proof` signed by the prover account.
pub trait Chain {
	/// Where the chain is, for log lines (e.g. `node at http://127.0.0.1:9944`).
	fn describe(&self) -> String;
	/// The genesis hash (a state directory belongs to one chain).
	fn genesis(&mut self) -> Result<[u8; 32], ChainError>;
	/// The rollup's deployment id (signatures and inbox commitments cover it).
	fn deployment(&mut self) -> Result<DeploymentId, DeploymentError>;
	/// The rollup at the last finalized block.
	fn finalized(&mut self) -> Result<View, ChainError>;
	/// The rollup at the best block.
	fn best(&mut self) -> Result<View, ChainError>;
	/// Batch `batch` as block `at` shows it.
	fn batch(&mut self, at: &View, batch: u64) -> Result<Option<ChainBatch>, ChainError>;
	/// Signs and submits `submit_proof(batch, new_root, proof)`.
	fn submit_proof(
		&mut self,
		batch: u64,
		new_root: [u8; 32],
		proof: &[u8],
	) -> Result<Submission, SubmitError>;
}

/// Why the worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
	/// The proving key is not the chain's.
	#[error("proving key mismatch: {0}")]
	KeyMismatch(String),
	/// The chain's runtime has no deployment id for the worker to prove under.
	#[error("the chain has no deployment id (a runtime older than this worker?): {0}")]
	NoDeployment(String),
	/// The state directory is not the state the chain proved.
	#[error("state mismatch: {0}")]
	StateMismatch(String),
	/// The replay of a batch disagrees with the chain.
	#[error("batch {batch}: replay disagrees with the chain: {detail}")]
	ReplayDisagrees {
		/// The batch.
		batch: u64,
		/// The first differing entry and how it differs.
		detail: String,
	},
	/// The chain refused the worker's account.
	#[error("{0}")]
	Refused(SubmitError),
	/// The local store failed.
	#[error("state store: {0}")]
	Store(#[from] StoreError),
	/// A file of the state directory could not be read or written.
	#[error("{0}")]
	Io(String),
	/// The prover failed on a witness the rules accepted.
	#[error("batch {batch}: proving failed: {detail}")]
	Prover {
		/// The batch.
		batch: u64,
		/// The prover's error.
		detail: String,
	},
}

/// The worker's Prometheus metrics (`emr_prover_*`).
#[derive(Clone)]
pub struct Metrics {
	/// Proofs this worker produced.
	pub batches_proven: IntCounter,
	/// Proofs this worker submitted and the chain accepted.
	pub batches_accepted: IntCounter,
	/// Batches another prover proved first.
	pub batches_lost: IntCounter,
	/// Seconds per proof.
	pub proving_seconds: Histogram,
	/// Sealed batches not yet proven on the finalized chain.
	pub lag_batches: IntGauge,
	/// The last batch the finalized chain shows proven and the store holds.
	pub last_committed: IntGauge,
	/// Failures: unreachable node, refused submission, replay or prover errors.
	pub failures: IntCounter,
}

impl Metrics {
	/// Creates the metrics and registers them in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
		let m = Metrics {
			batches_proven: IntCounter::new(
				"emr_prover_batches_proven_total",
				"Batch proofs this worker produced",
			)?,
			batches_accepted: IntCounter::new(
				"emr_prover_batches_accepted_total",
				"Batch proofs this worker submitted that the chain accepted",
			)?,
			batches_lost: IntCounter::new(
				"emr_prover_batches_lost_total",
				"Batches that another prover proved first",
			)?,
			proving_seconds: Histogram::with_opts(
				HistogramOpts::new("emr_prover_proving_seconds", "Seconds to prove one batch")
					.buckets(vec![1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0]),
			)?,
			lag_batches: IntGauge::new(
				"emr_prover_lag_batches",
				"Sealed batches not yet proven on the finalized chain",
			)?,
			last_committed: IntGauge::new(
				"emr_prover_last_committed_batch",
				"The last proven batch the worker's state holds (-1: none)",
			)?,
			failures: IntCounter::new(
				"emr_prover_failures_total",
				"Unreachable node, refused submissions, replay and prover errors",
			)?,
		};
		registry.register(Box::new(m.batches_proven.clone()))?;
		registry.register(Box::new(m.batches_accepted.clone()))?;
		registry.register(Box::new(m.batches_lost.clone()))?;
		registry.register(Box::new(m.proving_seconds.clone()))?;
		registry.register(Box::new(m.lag_batches.clone()))?;
		registry.register(Box::new(m.last_committed.clone()))?;
		registry.register(Box::new(m.failures.clone()))?;
		m.last_committed.set(-1);
		Ok(m)
	}

	/// Metrics registered nowhere (for tests and when Prometheus is off).
	pub fn unregistered() -> Self {
		Self::register(&Registry::new()).expect("a fresh registry has no name clashes; qed")
	}
}

/// Settings of a worker.
#[derive(Clone, Debug)]
pub struct Config {
	/// The state directory: `state.redb`, `proofs/`, `genesis`.
	pub dir: PathBuf,
	/// How often the chain is polled.
	pub poll: Duration,
	/// How often progress is logged while proving.
	pub progress_every: Duration,
	/// The longest wait between attempts to reach the node.
	pub max_backoff: Duration,
}

impl Config {
	/// Defaults for a state directory.
	pub fn new(dir: impl Into<PathBuf>) -> Self {
		Config {
			dir: dir.into(),
			poll: Duration::from_secs(2),
			progress_every: Duration::from_secs(10),
			max_backoff: Duration::from_secs(30),
		}
	}
}

/// A batch replayed into the store's overlay, with its witness until the prover takes it.
struct Prepared {
	batch: u64,
	entries: Vec<InboxEntry>,
	public: PublicInputs,
	witness: Option<BatchWitness>,
	proof: Option<Vec<u8>>,
	sent: Option<Submission>,
}

type ProofResult = (u64, Result<Vec<u8>, String>, f64);

/// The prover thread: owns the [`BatchProver`], proves one batch at a time.
struct ProverThread {
	jobs: mpsc::Sender<(u64, BatchWitness, PublicInputs)>,
	results: mpsc::Receiver<ProofResult>,
	slots: usize,
	vk_hash: [u8; 32],
}

impl ProverThread {
	fn start(prover: BatchProver) -> Self {
		let slots = prover.slots();
		let vk_hash = emr_primitives::groth16::vk_hash(&groth16::to_bytes(prover.verifying_key()));
		let (jobs, job_rx) = mpsc::channel::<(u64, BatchWitness, PublicInputs)>();
		let (result_tx, results) = mpsc::channel();
		std::thread::Builder::new()
			.name("emr-prover".into())
			.spawn(move || {
				let mut rng = rand_chacha::ChaCha20Rng::from_entropy();
				while let Ok((batch, w, public)) = job_rx.recv() {
					let t = Instant::now();
					let proof = prover
						.prove(w, public, &mut rng)
						.map(|p| groth16::to_bytes(&p))
						.map_err(|e| e.to_string());
					if result_tx.send((batch, proof, t.elapsed().as_secs_f64())).is_err() {
						return;
					}
				}
			})
			.expect("spawning a thread only fails when the OS is out of resources");
		ProverThread { jobs, results, slots, vk_hash }
	}
}

/// The worker.
pub struct Worker<C: Chain> {
	chain: C,
	store: Store,
	prover: ProverThread,
	config: Config,
	metrics: Metrics,
	/// Batches after the committed one, replayed into the overlay, in order.
	queue: VecDeque<Prepared>,
	/// The batch on the prover thread and when it started.
	proving: Option<(u64, Instant)>,
	vk_id: Option<u32>,
	last_progress: Instant,
	/// A batch that cannot be prepared: reported once the batches before it are done.
	failed: Option<WorkerError>,
}

fn hexs(b: &[u8; 32]) -> String {
	format!("0x{}", hex::encode(b))
}

fn io(path: &Path, e: impl std::fmt::Display) -> WorkerError {
	WorkerError::Io(format!("{}: {e}", path.display()))
}

/// Calls `f` on `chain` until it answers, waiting longer after each failure (up to
/// `max_backoff`) and logging and counting each.
fn retry_on<C: Chain, T>(
	chain: &mut C,
	metrics: &Metrics,
	max_backoff: Duration,
	mut f: impl FnMut(&mut C) -> Result<T, ChainError>,
) -> T {
	let mut wait = Duration::from_secs(1);
	let mut failed = false;
	loop {
		match f(chain) {
			Ok(v) => {
				if failed {
					log::info!(target: LOG_TARGET, "{} reachable again", chain.describe());
				}
				return v;
			},
			Err(e) => {
				metrics.failures.inc();
				log::warn!(
					target: LOG_TARGET,
					"{} unreachable ({e}); retrying in {} s",
					chain.describe(),
					wait.as_secs()
				);
				failed = true;
				std::thread::sleep(wait);
				wait = (wait * 2).min(max_backoff);
			},
		}
	}
}

impl<C: Chain> Worker<C> {
	/// A worker over `chain` with the proving key loaded in `prover`; reads the chain's
	/// deployment id (waiting for the chain if it does not answer) and opens (or creates) the
	/// state directory of that deployment. Everything else is checked against the chain in
	/// [`Worker::run`].
	pub fn new(
		mut chain: C,
		prover: BatchProver,
		config: Config,
		metrics: Metrics,
	) -> Result<Self, WorkerError> {
		std::fs::create_dir_all(config.dir.join("proofs"))
			.map_err(|e| io(&config.dir.join("proofs"), e))?;
		// Only an unreachable chain is asked again; an answer without an id is final.
		let deployment =
			retry_on(&mut chain, &metrics, config.max_backoff, |c: &mut C| match c.deployment() {
				Ok(id) => Ok(Ok(id)),
				Err(DeploymentError::Unreachable(e)) => Err(e),
				Err(DeploymentError::Missing(why)) => Ok(Err(why)),
			})
			.map_err(WorkerError::NoDeployment)?;
		let store = Store::open(config.dir.join("state.redb"), deployment)?;
		Ok(Worker {
			chain,
			store,
			prover: ProverThread::start(prover),
			config,
			metrics,
			queue: VecDeque::new(),
			proving: None,
			vk_id: None,
			last_progress: Instant::now(),
			failed: None,
		})
	}

	/// Calls `f` until the chain answers, waiting longer after each failure (up to
	/// [`Config::max_backoff`]) and logging each.
	fn retry<T>(&mut self, f: impl FnMut(&mut C) -> Result<T, ChainError>) -> T {
		retry_on(&mut self.chain, &self.metrics, self.config.max_backoff, f)
	}

	fn next_committed(&self) -> u64 {
		self.store.committed_batch().map_or(0, |b| b + 1)
	}

	fn proof_path(&self, batch: u64, ext: &str) -> PathBuf {
		self.config.dir.join("proofs").join(format!("{batch}.{ext}"))
	}

	/// Checks the chain (genesis, verifying key) and brings the store to the chain's last
	/// proven batch.
	fn start(&mut self) -> Result<(), WorkerError> {
		let genesis = self.retry(|c| c.genesis());
		let gpath = self.config.dir.join("genesis");
		match std::fs::read_to_string(&gpath) {
			Ok(s) if s.trim() != hexs(&genesis) => {
				return Err(WorkerError::StateMismatch(format!(
					"the state directory {} belongs to the chain with genesis {}, this chain's is {}; \
					 give the worker another directory (or delete this one to rebuild it from the inbox history)",
					self.config.dir.display(),
					s.trim(),
					hexs(&genesis)
				)))
			},
			Ok(_) => {},
			Err(_) => std::fs::write(&gpath, hexs(&genesis)).map_err(|e| io(&gpath, e))?,
		}
		let view = self.retry(|c| c.finalized());
		let Some((id, hash, size)) = view.verifying_key else {
			return Err(WorkerError::KeyMismatch(
				"the chain has no verifying key registered (rollup_status)".into(),
			));
		};
		if hash != self.prover.vk_hash || size as usize != self.prover.slots {
			return Err(WorkerError::KeyMismatch(format!(
				"this worker's keys are for {} slots with verifying key {}, the chain's current key \
				 (id {id}) is for {size} slots with fingerprint {}; run the worker with the keys of \
				 that circuit (scripts/dev-keys.sh makes the development chains' keys)",
				self.prover.slots,
				hexs(&self.prover.vk_hash),
				hexs(&hash)
			)));
		}
		self.vk_id = Some(id);
		if let Some(done) = self.store.committed_batch() {
			if !view.proven(done) {
				return Err(WorkerError::StateMismatch(format!(
					"the state in {} holds batch {done}, but the chain has proven only up to {:?}; \
					 it was built on another chain (a restarted dev chain?): delete the directory to \
					 rebuild it from the inbox history",
					self.config.dir.display(),
					view.last_proven
				)));
			}
			let b = self.fetch(&view, done)?;
			let ours = field_bytes(&self.store.committed_root());
			if b.new_root != Some(ours) {
				return Err(WorkerError::StateMismatch(format!(
					"the state in {} after batch {done} has root {}, the chain's is {}; delete the \
					 directory to rebuild it from the inbox history",
					self.config.dir.display(),
					hexs(&ours),
					b.new_root.map(|r| hexs(&r)).unwrap_or_else(|| "none".into())
				)));
			}
		}
		let behind = view.next_to_prove().saturating_sub(self.next_committed());
		if behind > 0 {
			log::info!(
				target: LOG_TARGET,
				"state at batch {:?}, chain proven up to {:?}: replaying {behind} batches from the inbox history",
				self.store.committed_batch(),
				view.last_proven
			);
		}
		while view.proven(self.next_committed()) {
			let n = self.next_committed();
			self.commit_proven(&view, n)?;
		}
		let ours = field_bytes(&self.store.committed_root());
		if ours != view.proven_root {
			return Err(WorkerError::StateMismatch(format!(
				"the state root after batch {:?} is {}, the chain's proven root is {}; delete {} to \
				 rebuild it from the inbox history",
				self.store.committed_batch(),
				hexs(&ours),
				hexs(&view.proven_root),
				self.config.dir.display()
			)));
		}
		log::info!(
			target: LOG_TARGET,
			"prover ready: {} slots, verifying key {} (id {id}); state at batch {:?}, root {}; following {}",
			self.prover.slots,
			hexs(&self.prover.vk_hash),
			self.store.committed_batch(),
			hexs(&ours),
			self.chain.describe()
		);
		Ok(())
	}

	fn fetch(&mut self, view: &View, batch: u64) -> Result<ChainBatch, WorkerError> {
		let b = self.retry(|c| c.batch(view, batch));
		b.ok_or_else(|| WorkerError::ReplayDisagrees {
			batch,
			detail: format!("block #{} reports the batch but returns no data for it", view.number),
		})
	}

	/// Applies `entries` to the store's overlay; the first entry the rules refuse is a
	/// disagreement with the chain, which accepted it.
	fn replay(&mut self, batch: u64, entries: &[InboxEntry]) -> Result<(), WorkerError> {
		for (i, entry) in entries.iter().enumerate() {
			if let Err(e) = rules::apply_entry(&mut self.store, entry) {
				self.metrics.failures.inc();
				return Err(WorkerError::ReplayDisagrees {
					batch,
					detail: format!(
						"entry {i} (kind {}, block {}) was accepted by the chain but the rules refuse it: {e:?}",
						entry.op.op.kind(),
						entry.block
					),
				});
			}
		}
		Ok(())
	}

	/// Batch `batch` is proven on the finalized chain: replay it onto the committed state, check
	/// the root, commit, and replay the queued batches after it again.
	fn commit_proven(&mut self, view: &View, batch: u64) -> Result<(), WorkerError> {
		let chain_batch = self.fetch(view, batch)?;
		self.store.rollback();
		let front = self.queue.pop_front();
		if let Some(p) = &front {
			if chain_batch.proven_by_us {
				self.metrics.batches_accepted.inc();
				log::info!(target: LOG_TARGET, "batch {batch}: our proof is final");
			} else if p.proof.is_some() || self.proving.is_some_and(|(b, _)| b == batch) {
				self.metrics.batches_lost.inc();
				log::info!(target: LOG_TARGET, "batch {batch}: proven by another prover; moving on");
			}
		}
		self.replay(batch, &chain_batch.entries)?;
		let root = field_bytes(&self.store.root());
		if Some(root) != chain_batch.new_root {
			self.metrics.failures.inc();
			return Err(WorkerError::ReplayDisagrees {
				batch,
				detail: format!(
					"after its {} entries the replayed root is {}, the chain's proven root is {} \
					 (the chain keeps no root per entry, so the differing entry is not known)",
					chain_batch.entries.len(),
					hexs(&root),
					chain_batch.new_root.map(|r| hexs(&r)).unwrap_or_else(|| "none".into())
				),
			});
		}
		self.store.commit(batch)?;
		self.metrics.last_committed.set(batch as i64);
		for ext in ["proof", "sent"] {
			let _ = std::fs::remove_file(self.proof_path(batch, ext));
		}
		let queued: Vec<(u64, Vec<InboxEntry>)> =
			self.queue.iter().map(|p| (p.batch, p.entries.clone())).collect();
		for (b, entries) in queued {
			self.replay(b, &entries)?;
		}
		Ok(())
	}

	/// Fetches sealed batch `batch`, builds its witness on the overlay, and picks up a proof
	/// (and submission) left on disk by an earlier run.
	fn prepare(&mut self, view: &View, batch: u64) -> Result<(), WorkerError> {
		let b = self.fetch(view, batch)?;
		if Some(b.vk) != self.vk_id {
			return Err(WorkerError::KeyMismatch(format!(
				"batch {batch} is proven with verifying key id {}, this worker holds id {:?}; \
				 restart it with the keys of the chain's current circuit",
				b.vk, self.vk_id
			)));
		}
		let (w, public, _) = witness::build(&mut self.store, batch, &b.entries, self.prover.slots)
			.map_err(|e| {
				self.metrics.failures.inc();
				let detail = match e {
					witness::WitnessError::Rejected { index, error } => format!(
						"entry {index} (kind {}, block {}) was accepted by the chain but the rules refuse it: {error:?}",
						b.entries[index].op.op.kind(),
						b.entries[index].block
					),
					other => other.to_string(),
				};
				WorkerError::ReplayDisagrees { batch, detail }
			})?;
		let ours = field_bytes(&public.inbox_commitment);
		if ours != b.commitment {
			self.metrics.failures.inc();
			return Err(WorkerError::ReplayDisagrees {
				batch,
				detail: format!(
					"the inbox commitment of its {} entries is {} here and {} on chain",
					b.entries.len(),
					hexs(&ours),
					hexs(&b.commitment)
				),
			});
		}
		let mut p = Prepared {
			batch,
			entries: b.entries,
			public,
			witness: Some(w),
			proof: None,
			sent: None,
		};
		if let Some(pf) = self.read_proof(batch) {
			if pf.public() == Some(public) {
				log::info!(target: LOG_TARGET, "batch {batch}: reusing the proof of an earlier run");
				p.proof = Some(pf.proof);
				p.witness = None;
				p.sent = self.read_sent(batch);
			}
		}
		log::info!(
			target: LOG_TARGET,
			"batch {batch}: {} entries replayed, witness ready ({} slots)",
			p.entries.len(),
			self.prover.slots
		);
		self.queue.push_back(p);
		Ok(())
	}

	fn read_proof(&self, batch: u64) -> Option<ProofFile> {
		use codec::Decode;
		let bytes = std::fs::read(self.proof_path(batch, "proof")).ok()?;
		ProofFile::decode(&mut &bytes[..]).ok()
	}

	fn read_sent(&self, batch: u64) -> Option<Submission> {
		let s = std::fs::read_to_string(self.proof_path(batch, "sent")).ok()?;
		let (until, hash) = s.trim().split_once(' ')?;
		let mut tx_hash = [0u8; 32];
		hex::decode_to_slice(hash.trim_start_matches("0x"), &mut tx_hash).ok()?;
		Some(Submission { tx_hash, valid_until: until.parse().ok()? })
	}

	fn write_durable(path: &Path, bytes: &[u8]) -> Result<(), WorkerError> {
		groth16::write_file(path, bytes).map_err(|e| io(path, e))
	}

	/// Sends the first queued batch without a proof to the prover thread, if nothing proves.
	/// It may be a batch whose predecessor's proof is still waiting for finality: its witness
	/// only needs the predecessor's new root, which the replay already knows.
	fn start_proving(&mut self) {
		if self.proving.is_some() {
			return;
		}
		let Some(p) = self.queue.iter_mut().find(|p| p.proof.is_none()) else { return };
		let Some(w) = p.witness.take() else { return };
		log::info!(
			target: LOG_TARGET,
			"batch {}: proving ({} entries, {} slots)",
			p.batch,
			p.entries.len(),
			self.prover.slots
		);
		let batch = p.batch;
		let public = p.public;
		if self.prover.jobs.send((batch, w, public)).is_ok() {
			self.proving = Some((batch, Instant::now()));
			self.last_progress = Instant::now();
		}
	}

	/// Takes a finished proof from the prover thread (waiting at most `wait`).
	fn collect_proof(&mut self, wait: Duration) -> Result<(), WorkerError> {
		let Ok((batch, result, seconds)) = self.prover.results.recv_timeout(wait) else {
			if let Some((b, started)) = self.proving {
				if self.last_progress.elapsed() >= self.config.progress_every {
					self.last_progress = Instant::now();
					log::info!(
						target: LOG_TARGET,
						"batch {b}: proving, {} s elapsed",
						started.elapsed().as_secs()
					);
				}
			}
			return Ok(());
		};
		self.proving = None;
		let proof = result.map_err(|detail| {
			self.metrics.failures.inc();
			WorkerError::Prover { batch, detail }
		})?;
		self.metrics.batches_proven.inc();
		self.metrics.proving_seconds.observe(seconds);
		log::info!(target: LOG_TARGET, "batch {batch}: proved in {seconds:.1} s");
		let Some(p) = self.queue.iter_mut().find(|p| p.batch == batch) else {
			// Committed meanwhile: another prover was first.
			return Ok(());
		};
		let file = ProofFile::new(&p.public, proof.clone());
		p.proof = Some(proof);
		let path = self.proof_path(batch, "proof");
		Self::write_durable(&path, &codec::Encode::encode(&file))
	}

	/// Submits the proof of the batch that is the next to prove at the best block, if it has one
	/// and no earlier submission of it can still be included.
	fn submit(&mut self, best: &View) -> Result<(), WorkerError> {
		let next = best.next_to_prove();
		let Some(i) = self.queue.iter().position(|p| p.batch == next) else { return Ok(()) };
		let p = &self.queue[i];
		let (batch, Some(proof)) = (p.batch, p.proof.clone()) else { return Ok(()) };
		if let Some(sent) = p.sent {
			if best.number <= sent.valid_until {
				return Ok(());
			}
			log::warn!(
				target: LOG_TARGET,
				"batch {batch}: the proof sent in transaction {} was not included by block {}; sending it again",
				hexs(&sent.tx_hash),
				sent.valid_until
			);
		}
		let new_root = field_bytes(&p.public.new_root);
		match self.chain.submit_proof(batch, new_root, &proof) {
			Ok(sub) => {
				log::info!(
					target: LOG_TARGET,
					"batch {batch}: proof submitted in transaction {} (valid until block {})",
					hexs(&sub.tx_hash),
					sub.valid_until
				);
				let path = self.proof_path(batch, "sent");
				Self::write_durable(
					&path,
					format!("{} {}\n", sub.valid_until, hexs(&sub.tx_hash)).as_bytes(),
				)?;
				if let Some(p) = self.queue.get_mut(i) {
					p.sent = Some(sub);
				}
				Ok(())
			},
			Err(SubmitError::NotNext) => {
				log::info!(target: LOG_TARGET, "batch {batch}: another prover's proof came first");
				Ok(())
			},
			Err(e @ SubmitError::NotAProver(_)) => {
				self.metrics.failures.inc();
				Err(WorkerError::Refused(e))
			},
			Err(e) => {
				self.metrics.failures.inc();
				log::warn!(target: LOG_TARGET, "batch {batch}: {e}; will try again");
				Ok(())
			},
		}
	}

	/// One round: commit what the finalized chain proved, prepare sealed batches (one ahead of
	/// the one proving), prove, submit; waits up to [`Config::poll`] for the prover.
	pub fn step(&mut self) -> Result<(), WorkerError> {
		let fin = self.retry(|c| c.finalized());
		while fin.proven(self.next_committed()) {
			let n = self.next_committed();
			self.commit_proven(&fin, n)?;
		}
		self.metrics.lag_batches.set(
			fin.last_sealed
				.map_or(0, |s| (s + 1).saturating_sub(fin.next_to_prove()))
				.try_into()
				.unwrap_or(i64::MAX),
		);
		// One batch waiting for finality, one proving, one prepared.
		while self.queue.len() < 3 && self.failed.is_none() {
			let next = self.queue.back().map_or(self.next_committed(), |p| p.batch + 1);
			if !fin.sealed(next) {
				break;
			}
			if let Err(e) = self.prepare(&fin, next) {
				if self.queue.is_empty() {
					return Err(e);
				}
				log::error!(
					target: LOG_TARGET,
					"{e}; the worker stops once the batches before it are proven"
				);
				self.failed = Some(e);
			}
		}
		if self.queue.is_empty() {
			if let Some(e) = self.failed.take() {
				return Err(e);
			}
		}
		self.start_proving();
		if self.queue.iter().any(|p| p.proof.is_some()) {
			let best = self.retry(|c| c.best());
			self.submit(&best)?;
		}
		self.collect_proof(self.config.poll)?;
		self.start_proving();
		Ok(())
	}

	/// Checks the chain and the state, then proves batches until an error stops it.
	pub fn run(&mut self) -> Result<(), WorkerError> {
		self.start()?;
		loop {
			self.step()?;
		}
	}

	/// Runs until `stop` returns true (checked after each round); for tests and benchmarks.
	pub fn run_until(&mut self, mut stop: impl FnMut(&Self) -> bool) -> Result<(), WorkerError> {
		self.start()?;
		while !stop(self) {
			self.step()?;
		}
		Ok(())
	}

	/// The last batch the store holds as proven.
	pub fn committed_batch(&self) -> Option<u64> {
		self.store.committed_batch()
	}

	/// The root the store holds.
	pub fn committed_root(&self) -> F {
		self.store.committed_root()
	}

	/// The chain the worker follows.
	pub fn chain(&mut self) -> &mut C {
		&mut self.chain
	}
}

/// Loads the proving key from a key directory (`emr-prover setup`'s output: `proving.key` and
/// `manifest.txt` with its fingerprint) and builds the [`BatchProver`] (constraint matrices
/// included: seconds to tens of seconds, once per process).
pub fn load_prover(keys: &Path) -> Result<BatchProver, String> {
	let slots = files::batch_size(keys)?;
	let expected = files::manifest_value(keys, "proving_key")?;
	let bytes = groth16::read_file(&keys.join("proving.key")).map_err(|e| e.to_string())?;
	let pk = groth16::read_proving_key(&bytes, &expected).map_err(|e| e.to_string())?;
	BatchProver::new(pk, slots).map_err(|e| e.to_string())
}
