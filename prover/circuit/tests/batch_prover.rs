//! The cached-matrix prover ([`BatchProver`]): the matrices it builds once from the blank circuit
//! and the assignments it synthesizes (slots in parallel, or one after another) are exactly those
//! of a real batch (with a padding slot); a witness that lies about where a slot starts is refused;
//! its proofs verify, with this crate's verifier and the chain's; a batch whose public inputs
//! the witness does not satisfy and a key made for another circuit are refused; verifying keys
//! with another number of input points than the public-input layout are refused.

use ark_relations::gr1cs::{
	ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, R1CS_PREDICATE_LABEL,
};
use emr_circuit::{
	circuit::BatchCircuit,
	groth16::{self, BatchProver},
	witness,
};
use emr_primitives::{
	groth16::{BatchVerifier, Groth16 as ChainVerifier},
	inbox::PublicInputs,
	ops::Role,
	testing::Actor,
	F,
};
use emr_state_store::Store;
use rand_core::SeedableRng;

/// Three slots for two entries: the last slot is padding.
const SLOTS: usize = 3;

fn rng() -> rand_chacha::ChaCha20Rng {
	rand_chacha::ChaCha20Rng::from_seed([9; 32])
}

fn entries() -> Vec<emr_primitives::inbox::InboxEntry> {
	let hospital = Actor::new(1, 1);
	let mut patient = Actor::new(2, 2);
	vec![hospital.admit(Role::Hospital, 1), patient.register(1)]
}

#[test]
fn cached_prover_matches_a_real_batch_and_its_proofs_verify() {
	let (pk, vk) = groth16::setup(SLOTS, &mut rng()).expect("setup");
	let prover = BatchProver::new(pk.clone(), SLOTS).expect("prover");
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
		.expect("open");
	let (w, public, _) = witness::build(&mut store, 1, &entries(), SLOTS).expect("witness");
	assert_eq!(w.slots.len(), SLOTS);

	// What ark-groth16's own prover builds from this batch: the same matrices and assignment.
	let cs = ConstraintSystem::<F>::new_ref();
	cs.set_optimization_goal(OptimizationGoal::Constraints);
	(&BatchCircuit::new(w.clone(), Some(public))).generate_constraints(cs.clone()).expect("cs");
	cs.finalize();
	assert!(cs.is_satisfied().expect("check"));
	let real = cs.to_matrices().expect("matrices").remove(R1CS_PREDICATE_LABEL).expect("r1cs");
	assert_eq!(real.len(), 3);
	assert!(real == prover.matrices(), "the cached matrices differ from a real batch's");
	assert_eq!(prover.num_constraints(), cs.num_constraints());
	let mut expected = cs.instance_assignment().expect("instance");
	expected.extend(cs.witness_assignment().expect("witness"));
	// The witness builder records where each slot starts, so the prover synthesized the slots
	// in parallel; one after another (no starts) gives the same assignment.
	assert_eq!(w.starts.len(), SLOTS + 1, "every slot's start and the batch's end");
	let full = prover.assignment(w.clone(), public).expect("assignment");
	assert!(full == expected, "the parallel assignment differs from a real batch's");
	let sequential = emr_circuit::circuit::BatchWitness { starts: vec![], ..w.clone() };
	let full = prover.assignment(sequential, public).expect("assignment");
	assert!(full == expected, "the sequential assignment differs from a real batch's");

	// Proofs verify with this crate's verifier and with the chain's, from bytes.
	let proof = prover.prove(w.clone(), public, &mut rng()).expect("prove");
	assert!(groth16::verify(&groth16::prepare(&vk), &public, &proof).expect("verify"));
	let (vk_bytes, proof_bytes) = (groth16::to_bytes(&vk), groth16::to_bytes(&proof));
	assert_eq!(
		ChainVerifier::<ark_bls12_381::Bls12_381>::verify(&vk_bytes, &public, &proof_bytes),
		Ok(true)
	);
	// And the proof is about these inputs only.
	let other = PublicInputs { batch: 2, ..public };
	assert!(!groth16::verify(&groth16::prepare(&vk), &other, &proof).expect("verify"));
}

#[test]
fn cached_prover_refuses_an_unsatisfied_witness_a_wrong_slot_start_and_a_foreign_key() {
	let (pk, _) = groth16::setup(SLOTS, &mut rng()).expect("setup");
	let prover = BatchProver::new(pk.clone(), SLOTS).expect("prover");
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
		.expect("open");
	let (w, public, _) = witness::build(&mut store, 1, &entries(), SLOTS).expect("witness");
	// A claimed new root the operations do not produce.
	let wrong = PublicInputs { new_root: public.new_root + F::from(1u64), ..public };
	let err = prover.prove(w.clone(), wrong, &mut rng()).expect_err("an unsatisfied witness");
	assert!(err.to_string().contains("does not satisfy"), "{err}");
	// A wrong start is refused, not proved: the padding slot told it begins from another state
	// root (which it carries on), the registration from another inbox chain or block.
	type Lie = fn(&mut emr_circuit::circuit::SlotStart);
	let lies: [(usize, Lie); 3] = [
		(2, |s| s.root += F::from(1u64)),
		(1, |s| s.chain += F::from(1u64)),
		(1, |s| s.block += F::from(1u64)),
	];
	for (slot, lie) in lies {
		let mut lying = w.clone();
		lie(&mut lying.starts[slot]);
		let err = prover.prove(lying, public, &mut rng()).expect_err("a wrong slot start");
		assert!(err.to_string().contains("does not satisfy"), "slot {slot}: {err}");
	}
	// A witness with another number of slots.
	let mut short = w;
	short.slots.pop();
	assert!(prover.assignment(short, public).is_err());
	// The 3-slot key is not a key for 2 or 4 slots.
	for slots in [SLOTS - 1, SLOTS + 1] {
		let err = BatchProver::new(pk.clone(), slots).err().expect("a foreign key");
		assert!(err.to_string().contains("another circuit"), "{err}");
	}
}

#[test]
fn verifying_keys_with_another_input_count_are_refused() {
	let (pk, vk) = groth16::setup(1, &mut rng()).expect("setup");
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
		.expect("open");
	let (w, public, _) = witness::build(&mut store, 1, &entries()[..1], 1).expect("witness");
	let proof = groth16::prove(&pk, w, public, &mut rng()).expect("prove");
	assert!(groth16::verify(&groth16::prepare(&vk), &public, &proof).expect("verify"));
	assert_eq!(vk.gamma_abc_g1.len(), PublicInputs::LEN + 1);
	let mut three = vk.clone();
	three.gamma_abc_g1.pop();
	let mut five = vk.clone();
	five.gamma_abc_g1.push(vk.gamma_abc_g1[1]);
	for bad in [three, five] {
		assert!(groth16::check_input_count(&bad).is_err());
		let err = groth16::verify(&groth16::prepare(&bad), &public, &proof)
			.expect_err("a key with the wrong number of input points");
		assert!(err.to_string().contains("input points"), "{err}");
	}
}
