//! The rollup pallet driven with real batch proofs: the pallet's mock runtime
//! (`pallet-rollup`'s `test-utils` feature) with the verifying key of a real two-slot circuit,
//! and proofs made by `emr-prover` from the chain's own inbox, replayed over a fresh state store.
//! The pallet's own tests use simulated proofs and need no prover; these check that what the
//! prover makes from the inbox is what the pallet accepts, and that the benchmark fixture
//! (`pallets/rollup/fixtures/proof.scale`) is fresh (`EMR_WRITE_FIXTURE=1` rewrites it).
// The pool entry point is `ValidateUnsigned` (deprecated upstream, see the pallet).
#![allow(deprecated)]

use codec::Encode;
use emr_circuit::{groth16, witness};
use emr_primitives::{
	groth16::BatchVerifier,
	inbox::{InboxEntry, PublicInputs},
	ops::{purpose, Operation, Role},
	stored::{field_bytes, field_from_bytes},
	testing::Actor,
};
use emr_state_store::Store;
use pallet_rollup::{
	mock::{new_test_ext_with_key, run_to, Rollup, RuntimeOrigin, System, Test, PROVER, SLOTS},
	MAX_PROOF_LEN,
};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, pallet_prelude::ConstU32, BoundedVec},
	sp_runtime::DispatchResult,
};
use std::sync::OnceLock;

type Keys = (
	ark_groth16::ProvingKey<ark_bls12_381::Bls12_381>,
	ark_groth16::VerifyingKey<ark_bls12_381::Bls12_381>,
);

/// Proving and verifying key of a [`SLOTS`]-slot circuit, made once per test binary from a
/// fixed seed (the fixture's key).
fn keys() -> &'static Keys {
	static KEYS: OnceLock<Keys> = OnceLock::new();
	KEYS.get_or_init(|| {
		use rand_core::SeedableRng;
		let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
		groth16::setup(SLOTS, &mut rng).expect("setup")
	})
}

/// Id 1: admitted at genesis.
fn hospital() -> Actor {
	Actor::new(1, 1)
}

/// Id 3: each test registers the patient first.
fn patient() -> Actor {
	Actor::new(2, 3)
}

/// Id 2: admitted at genesis.
fn insurer() -> Actor {
	Actor::new(3, 2)
}

/// Genesis with the real key, the hospital and the insurer admitted (batch 0 holds both
/// admissions, ids 1 and 2).
fn ext() -> polkadot_sdk::sp_io::TestExternalities {
	let (h, i) = (hospital(), insurer());
	new_test_ext_with_key(
		vec![(Role::Hospital, h), (Role::Insurer, i)],
		groth16::to_bytes(&keys().1),
	)
}

fn submit(entry: InboxEntry) -> DispatchResult {
	Rollup::submit(RuntimeOrigin::none(), entry.op)
}

fn check() {
	Rollup::do_try_state().expect("invariants hold");
}

fn access(a: &mut Actor, patient: u32) -> InboxEntry {
	a.sign(Operation::AccessRecord { patient, grant: 0, purpose: purpose::TREATMENT, scope: 1 }, 0)
}

/// Proves `batch` from the chain's inbox with the real prover over `store`.
fn prove(store: &mut Store, batch: u64) -> ([u8; 32], BoundedVec<u8, ConstU32<MAX_PROOF_LEN>>) {
	use rand_core::SeedableRng;
	let info = pallet_rollup::Batches::<Test>::get(batch).expect("batch exists");
	let entries: Vec<InboxEntry> = (0..info.len)
		.map(|i| pallet_rollup::Inbox::<Test>::get(batch, i).expect("entry"))
		.collect();
	let (w, public, _) = witness::build(store, batch, &entries, SLOTS).expect("witness");
	assert_eq!(field_bytes(&public.inbox_commitment), info.commitment, "same commitment");
	let mut rng = rand_chacha::ChaCha20Rng::from_seed([batch as u8; 32]);
	let proof = groth16::prove(&keys().0, w, public, &mut rng).expect("prove");
	store.commit(batch).expect("commit");
	(field_bytes(&public.new_root), groth16::to_bytes(&proof).try_into().expect("fits"))
}

fn temp_store() -> (tempfile::TempDir, Store) {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = Store::open(dir.path().join("state.redb"), emr_primitives::testing::deployment())
		.expect("store");
	(dir, store)
}

#[test]
fn real_proofs_are_accepted_in_order_and_bad_ones_refused() {
	ext().execute_with(|| {
		let (_dir, mut store) = temp_store();
		let (mut p, mut h) = (patient(), hospital());
		assert_ok!(submit(p.register(1)));
		assert_ok!(submit(access(&mut h, p.id)));
		assert_eq!(pallet_rollup::LastSealed::<Test>::get(), Some(1));

		// Batch 1 cannot be proven before batch 0.
		let (root0, proof0) = prove(&mut store, 0);
		let (root1, proof1) = prove(&mut store, 1);
		let prover = RuntimeOrigin::signed(PROVER);
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 1, root1, proof1.clone()),
			pallet_rollup::Error::<Test>::BatchOutOfOrder
		);
		// An unregistered prover.
		assert_noop!(
			Rollup::submit_proof(RuntimeOrigin::signed(99), 0, root0, proof0.clone()),
			pallet_rollup::Error::<Test>::NotAProver
		);
		// A wrong new root.
		let mut wrong = root0;
		wrong[0] ^= 1;
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, wrong, proof0.clone()),
			pallet_rollup::Error::<Test>::ProofRejected
		);
		// The proof of another batch.
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, root0, proof1.clone()),
			pallet_rollup::Error::<Test>::ProofRejected
		);
		// A tampered proof: a flipped bit either no longer decodes or no longer verifies.
		let mut tampered = proof0.clone();
		tampered[100] ^= 0x01;
		let r = Rollup::submit_proof(prover.clone(), 0, root0, tampered);
		assert!(
			r == Err(pallet_rollup::Error::<Test>::ProofRejected.into())
				|| r == Err(pallet_rollup::Error::<Test>::ProofMalformed.into()),
			"{r:?}"
		);
		// Bytes that are no proof.
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, root0, vec![0u8; 10].try_into().expect("fits")),
			pallet_rollup::Error::<Test>::ProofMalformed
		);
		// A root that is not a field element.
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, [0xff; 32], proof0.clone()),
			pallet_rollup::Error::<Test>::RootNotCanonical
		);
		check();
		assert_eq!(
			Rollup::settlement_digest(),
			emr_primitives::settlement::NOTHING_PROVEN,
			"nothing proven, nothing to settle"
		);

		assert_ok!(Rollup::submit_proof(prover.clone(), 0, root0, proof0.clone()));
		let commitment0 =
			pallet_rollup::Batches::<Test>::get(0).expect("batch 0 exists").commitment;
		assert_eq!(
			Rollup::settlement_digest(),
			emr_primitives::settlement::digest(0, &root0, &commitment0),
			"the digest of the MMR leaves follows the last proven batch"
		);
		System::assert_last_event(
			pallet_rollup::Event::BatchProven { batch: 0, new_root: root0, prover: PROVER }.into(),
		);
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, root0, proof0),
			pallet_rollup::Error::<Test>::BatchAlreadyProven
		);
		assert_ok!(Rollup::submit_proof(prover, 1, root1, proof1));
		let commitment1 =
			pallet_rollup::Batches::<Test>::get(1).expect("batch 1 exists").commitment;
		assert_eq!(
			Rollup::settlement_digest(),
			emr_primitives::settlement::digest(1, &root1, &commitment1)
		);
		assert_eq!(pallet_rollup::LastProven::<Test>::get(), Some(1));
		assert_eq!(pallet_rollup::ProvenRoot::<Test>::get(), root1);
		check();
	});
}

#[test]
fn a_proof_over_another_old_root_is_refused() {
	ext().execute_with(|| {
		// Batch 0 is proven; batch 1 is then proven by a prover whose state skipped batch 0
		// (its old root is the empty root): the chain supplies batch 0's root as the old root,
		// so the proof is refused.
		let (_dir, mut store) = temp_store();
		let (root0, proof0) = prove(&mut store, 0);
		assert_ok!(Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 0, root0, proof0));
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		run_to(5);
		let (_dir2, mut fresh) = temp_store();
		// The wrong prover's state: only the registration (it never saw the admissions).
		let (root1, proof1) = prove(&mut fresh, 1);
		assert_noop!(
			Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 1, root1, proof1),
			pallet_rollup::Error::<Test>::ProofRejected
		);
		check();
	});
}

#[test]
fn a_real_proof_over_another_old_root_is_refused() {
	ext().execute_with(|| {
		// Batch 0 is proven; batch 1 is then proven by a prover whose state skipped batch 0
		// (its old root is the empty root): the chain supplies batch 0's root as the old root,
		// so the proof is refused.
		let (_dir, mut store) = temp_store();
		let (root0, proof0) = prove(&mut store, 0);
		assert_ok!(Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 0, root0, proof0));
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		run_to(5);
		let (_dir2, mut fresh) = temp_store();
		// The wrong prover's state: only the registration (it never saw the admissions).
		let (root1, proof1) = prove(&mut fresh, 1);
		assert_noop!(
			Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 1, root1, proof1),
			pallet_rollup::Error::<Test>::ProofRejected
		);
		check();
	});
}

#[test]
fn bench_fixture_is_fresh() {
	use pallet_rollup::fixture::{fixture, Fixture, PATH};
	let made = ext().execute_with(|| {
		let (_dir, mut store) = temp_store();
		let info = pallet_rollup::Batches::<Test>::get(0).expect("batch 0");
		let (new_root, proof) = prove(&mut store, 0);
		Fixture {
			vk: groth16::to_bytes(&keys().1),
			batch_size: SLOTS as u32,
			old_root: pallet_rollup::empty_state_root(),
			new_root,
			commitment: info.commitment,
			batch: 0,
			proof: proof.into_inner(),
		}
	});
	if std::env::var_os("EMR_WRITE_FIXTURE").is_some() {
		std::fs::write(
			std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pallets/rollup").join(PATH),
			made.encode(),
		)
		.expect("write fixture");
	}
	let committed = fixture();
	assert_eq!(committed, made, "the fixture is stale: rerun with EMR_WRITE_FIXTURE=1");
	let public = PublicInputs {
		old_root: field_from_bytes(&committed.old_root).expect("canonical"),
		new_root: field_from_bytes(&committed.new_root).expect("canonical"),
		inbox_commitment: field_from_bytes(&committed.commitment).expect("canonical"),
		batch: committed.batch,
	};
	assert_eq!(
		<Test as pallet_rollup::Config>::Verifier::verify(&committed.vk, &public, &committed.proof),
		Ok(true)
	);
}
