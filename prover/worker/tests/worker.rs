//! The prover worker over an in-memory chain (real 2-slot Groth16 proofs, checked by the mock
//! chain with the verifying key as the pallet would): batches are proven in order and each is
//! submitted once; a restarted worker over the same directory picks up where the chain is; a
//! store behind the chain is rebuilt from the inbox history; an entry the chain accepted but
//! the rules refuse stops the worker with the batch and entry and nothing submitted; a node
//! that does not answer is retried; keys of another circuit and a directory of another chain
//! are refused with a sentence that says what to do.

use emr_circuit::groth16::{self, BatchProver};
use emr_primitives::{
	groth16::vk_hash,
	inbox::{InboxEntry, PublicInputs},
	ops::{DeploymentId, Operation, Role},
	stored::{field_bytes, field_from_bytes},
	testing::Actor,
	F,
};
use emr_worker::{
	Chain, ChainBatch, ChainError, Config, DeploymentError, Metrics, Submission, SubmitError, View,
	Worker, WorkerError,
};
use rand_core::SeedableRng;
use std::{cell::RefCell, rc::Rc, sync::OnceLock, time::Duration};

const SLOTS: usize = 2;

type Keys = (
	ark_groth16::ProvingKey<ark_bls12_381::Bls12_381>,
	ark_groth16::VerifyingKey<ark_bls12_381::Bls12_381>,
);

fn keys() -> &'static Keys {
	static KEYS: OnceLock<Keys> = OnceLock::new();
	KEYS.get_or_init(|| {
		groth16::setup(SLOTS, &mut rand_chacha::ChaCha20Rng::from_seed([5; 32])).expect("setup")
	})
}

fn prover() -> BatchProver {
	BatchProver::new(keys().0.clone(), SLOTS).expect("prover")
}

/// Shared state of the in-memory chain.
#[derive(Default)]
struct State {
	batches: Vec<ChainBatch>,
	last_proven: Option<u64>,
	proven_root: [u8; 32],
	vk_hash: [u8; 32],
	submissions: Vec<u64>,
	refuse_calls: u32,
	genesis: [u8; 32],
	/// `None`: the test deployment.
	deployment: Option<DeploymentId>,
	/// A runtime without the deployment id (it answers, with an error).
	no_deployment: bool,
	/// That answer was given once.
	deployment_refused: bool,
}

#[derive(Clone)]
struct Mock(Rc<RefCell<State>>);

impl Mock {
	fn new(batches: Vec<Vec<InboxEntry>>) -> Self {
		let batches = batches
			.into_iter()
			.enumerate()
			.map(|(i, entries)| ChainBatch {
				batch: i as u64,
				vk: 0,
				commitment: field_bytes(&emr_primitives::inbox::commitment(
					&emr_primitives::testing::deployment(),
					&entries,
				)),
				entries,
				sealed: true,
				new_root: None,
				proven_by_us: false,
			})
			.collect();
		let empty = emr_state_store::Store::open(
			tempfile::tempdir().expect("tempdir").path().join("e.redb"),
			emr_primitives::testing::deployment(),
		)
		.expect("store")
		.root();
		Mock(Rc::new(RefCell::new(State {
			batches,
			proven_root: field_bytes(&empty),
			vk_hash: vk_hash(&groth16::to_bytes(&keys().1)),
			genesis: [7; 32],
			..State::default()
		})))
	}

	fn view(&self) -> View {
		let s = self.0.borrow();
		View {
			number: 100,
			hash: [1; 32],
			last_sealed: s.batches.len().checked_sub(1).map(|b| b as u64),
			last_proven: s.last_proven,
			proven_root: s.proven_root,
			verifying_key: Some((0, s.vk_hash, SLOTS as u32)),
		}
	}

	fn unreachable(&self) -> Result<(), ChainError> {
		let mut s = self.0.borrow_mut();
		if s.refuse_calls > 0 {
			s.refuse_calls -= 1;
			return Err(ChainError("connection refused".into()));
		}
		Ok(())
	}
}

impl Chain for Mock {
	fn describe(&self) -> String {
		"mock chain".into()
	}

	fn genesis(&mut self) -> Result<[u8; 32], ChainError> {
		self.unreachable()?;
		Ok(self.0.borrow().genesis)
	}

	fn deployment(&mut self) -> Result<DeploymentId, DeploymentError> {
		self.unreachable().map_err(DeploymentError::Unreachable)?;
		let mut s = self.0.borrow_mut();
		if s.no_deployment {
			// Asked again after this answer: the worker would retry forever on a real chain.
			assert!(
				!s.deployment_refused,
				"the worker asked again for a deployment id it was told is missing"
			);
			s.deployment_refused = true;
			return Err(DeploymentError::Missing("no EmrApi_deployment in this runtime".into()));
		}
		Ok(s.deployment.unwrap_or_else(emr_primitives::testing::deployment))
	}

	fn finalized(&mut self) -> Result<View, ChainError> {
		self.unreachable()?;
		Ok(self.view())
	}

	fn best(&mut self) -> Result<View, ChainError> {
		self.finalized()
	}

	fn batch(&mut self, _at: &View, batch: u64) -> Result<Option<ChainBatch>, ChainError> {
		self.unreachable()?;
		Ok(self.0.borrow().batches.get(batch as usize).cloned())
	}

	fn submit_proof(
		&mut self,
		batch: u64,
		new_root: [u8; 32],
		proof: &[u8],
	) -> Result<Submission, SubmitError> {
		let mut s = self.0.borrow_mut();
		s.submissions.push(batch);
		let next = s.last_proven.map_or(0, |b| b + 1);
		if batch != next {
			return Err(SubmitError::NotNext);
		}
		let b = s.batches[batch as usize].clone();
		let public = PublicInputs {
			old_root: field_from_bytes(&s.proven_root).expect("canonical"),
			new_root: field_from_bytes(&new_root).expect("canonical"),
			inbox_commitment: field_from_bytes(&b.commitment).expect("canonical"),
			batch,
		};
		let proof = groth16::from_bytes("proof", proof).expect("proof decodes");
		let ok = groth16::verify(&groth16::prepare(&keys().1), &public, &proof).expect("verify");
		if !ok {
			return Err(SubmitError::Refused("proof rejected".into()));
		}
		s.batches[batch as usize].new_root = Some(new_root);
		s.batches[batch as usize].proven_by_us = true;
		s.last_proven = Some(batch);
		s.proven_root = new_root;
		Ok(Submission { tx_hash: [batch as u8; 32], valid_until: 200 })
	}
}

fn story() -> Vec<Vec<InboxEntry>> {
	let hospital = Actor::new(1, 1);
	let mut p1 = Actor::new(2, 2);
	let mut p2 = Actor::new(3, 3);
	let mut p3 = Actor::new(4, 4);
	vec![
		vec![hospital.admit(Role::Hospital, 1), p1.register(1)],
		vec![p2.register(2)],
		vec![p3.register(3)],
	]
}

fn config(dir: &std::path::Path) -> Config {
	let mut c = Config::new(dir);
	c.poll = Duration::from_millis(50);
	c.max_backoff = Duration::from_millis(100);
	c
}

fn run_to(mock: &Mock, dir: &std::path::Path, batch: u64) -> Result<Worker<Mock>, WorkerError> {
	let mut w = Worker::new(mock.clone(), prover(), config(dir), Metrics::unregistered())?;
	w.run_until(|w| w.committed_batch() == Some(batch))?;
	Ok(w)
}

#[test]
fn batches_are_proven_in_order_and_each_submitted_once() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mock = Mock::new(story());
	let w = run_to(&mock, dir.path(), 2).expect("worker");
	let s = mock.0.borrow();
	assert_eq!(s.submissions, vec![0, 1, 2]);
	assert_eq!(s.last_proven, Some(2));
	assert_eq!(field_bytes(&w.committed_root()), s.proven_root);
	assert!(std::fs::read_dir(dir.path().join("proofs")).expect("dir").next().is_none());
}

#[test]
fn a_restarted_worker_resumes_and_a_store_behind_is_rebuilt_from_history() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut batches = story();
	let third = batches.pop().expect("three batches");
	let mock = Mock::new(batches);
	drop(run_to(&mock, dir.path(), 1).expect("first run"));
	// The chain seals one more batch; the worker comes back over the same directory.
	{
		let mut s = mock.0.borrow_mut();
		let commitment = field_bytes(&emr_primitives::inbox::commitment(
			&emr_primitives::testing::deployment(),
			&third,
		));
		s.batches.push(ChainBatch {
			batch: 2,
			vk: 0,
			commitment,
			entries: third,
			sealed: true,
			new_root: None,
			proven_by_us: false,
		});
	}
	drop(run_to(&mock, dir.path(), 2).expect("second run"));
	assert_eq!(mock.0.borrow().submissions, vec![0, 1, 2]);
	// A fresh directory (store missing) replays batches 0..=2 from the chain without proving.
	let fresh = tempfile::tempdir().expect("tempdir");
	let mut w = Worker::new(mock.clone(), prover(), config(fresh.path()), Metrics::unregistered())
		.expect("worker");
	w.run_until(|_| true).expect("start");
	assert_eq!(w.committed_batch(), Some(2));
	assert_eq!(field_bytes(&w.committed_root()), mock.0.borrow().proven_root);
	assert_eq!(mock.0.borrow().submissions, vec![0, 1, 2], "nothing submitted again");
}

#[test]
fn an_entry_the_rules_refuse_stops_the_worker_with_batch_and_entry() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut batches = story();
	// An operation of the first patient with its used nonce 0: the chain "accepted" it, the
	// rules refuse it (BadNonce).
	let mut replay = Actor::new(2, 2);
	batches[1].push(replay.sign(Operation::RevokeConsent { grant: 0 }, 2));
	let mock = Mock::new(batches);
	let mut w = Worker::new(mock.clone(), prover(), config(dir.path()), Metrics::unregistered())
		.expect("worker");
	let e = w.run_until(|_| false).expect_err("must stop");
	match &e {
		WorkerError::ReplayDisagrees { batch, detail } => {
			assert_eq!(*batch, 1);
			assert!(detail.contains("entry 1"), "{detail}");
		},
		other => panic!("unexpected error {other}"),
	}
	assert_eq!(mock.0.borrow().submissions, vec![0], "batch 0 proven first, batch 1 never");
}

#[test]
fn an_unreachable_node_is_retried() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mock = Mock::new(story());
	mock.0.borrow_mut().refuse_calls = 3;
	let registry = prometheus::Registry::new();
	let metrics = Metrics::register(&registry).expect("metrics");
	let mut w =
		Worker::new(mock.clone(), prover(), config(dir.path()), metrics.clone()).expect("worker");
	w.run_until(|w| w.committed_batch() == Some(0)).expect("worker");
	assert_eq!(metrics.failures.get(), 3);
	assert_eq!(metrics.batches_accepted.get(), 1);
}

#[test]
fn keys_of_another_circuit_and_a_directory_of_another_chain_are_refused() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mock = Mock::new(story());
	mock.0.borrow_mut().vk_hash = [9; 32];
	let mut w = Worker::new(mock.clone(), prover(), config(dir.path()), Metrics::unregistered())
		.expect("worker");
	let e = w.run_until(|_| false).expect_err("wrong key").to_string();
	assert!(e.contains("proving key mismatch") && e.contains(&hex::encode([9u8; 32])), "{e}");
	drop(w);

	let mock = Mock::new(story());
	drop(run_to(&mock, dir.path(), 0).expect("worker"));
	let other = Mock::new(story());
	other.0.borrow_mut().genesis = [8; 32];
	let mut w = Worker::new(other.clone(), prover(), config(dir.path()), Metrics::unregistered())
		.expect("worker");
	let e = w.run_until(|_| false).expect_err("other chain").to_string();
	assert!(e.contains("belongs to the chain with genesis"), "{e}");
	assert!(other.0.borrow().submissions.is_empty());
	drop(w);

	// A chain of another deployment: the state directory is refused before anything runs.
	let elsewhere = Mock::new(story());
	elsewhere.0.borrow_mut().deployment = Some(DeploymentId::named("elsewhere"));
	let e = Worker::new(elsewhere.clone(), prover(), config(dir.path()), Metrics::unregistered())
		.err()
		.expect("a directory of another deployment is refused")
		.to_string();
	assert!(
		e.contains("deployment") && e.contains(&hex::encode(DeploymentId::named("elsewhere").0)),
		"{e}"
	);
	assert!(elsewhere.0.borrow().submissions.is_empty());
}

#[test]
fn a_runtime_without_a_deployment_id_is_refused_not_retried() {
	// A chain whose runtime answers without a deployment id: refused at once, not asked again
	// (the mock fails the test if it is), and nothing opened or submitted.
	let old_runtime = Mock::new(story());
	old_runtime.0.borrow_mut().no_deployment = true;
	let fresh = tempfile::tempdir().expect("tempdir");
	let e =
		Worker::new(old_runtime.clone(), prover(), config(fresh.path()), Metrics::unregistered())
			.err()
			.expect("a chain without a deployment id is refused");
	assert!(matches!(e, WorkerError::NoDeployment(_)), "{e}");
	assert!(e.to_string().contains("no EmrApi_deployment"), "{e}");
	assert!(!fresh.path().join("state.redb").exists(), "no state directory is opened");
	assert!(old_runtime.0.borrow().submissions.is_empty());
}

#[test]
fn a_chain_whose_proven_root_is_not_the_replayed_one_is_refused() {
	// The empty-state root the mock starts from is the store's: a worker refuses a chain whose
	// proven root differs from its replay.
	let dir = tempfile::tempdir().expect("tempdir");
	let mock = Mock::new(story());
	mock.0.borrow_mut().proven_root = field_bytes(&F::from(42u64));
	let mut w = Worker::new(mock.clone(), prover(), config(dir.path()), Metrics::unregistered())
		.expect("worker");
	let e = w.run_until(|_| false).expect_err("root differs").to_string();
	assert!(e.contains("state mismatch"), "{e}");
}
