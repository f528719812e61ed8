//! Real Groth16 proofs of small batches: valid proofs verify; tampered public inputs, a swapped
//! operation order, a forged signature and a wrong old root do not.

use emr_circuit::{
	circuit::BatchCircuit,
	groth16::{self, BatchProof},
	witness,
};
use emr_primitives::{
	inbox::{self, InboxEntry, PublicInputs},
	ops::{permission, purpose, scope, Operation, Role},
	testing::Actor,
	F,
};
use emr_state_store::Store;
use rand_core::SeedableRng;

const SLOTS: usize = 2;

fn rng() -> rand_chacha::ChaCha20Rng {
	rand_chacha::ChaCha20Rng::from_seed([42; 32])
}

/// The two batches of the test: (hospital admitted, patient registered), then (grant, access).
fn batches() -> (Vec<InboxEntry>, Vec<InboxEntry>) {
	let hospital = Actor::new(1, 1);
	let mut patient = Actor::new(2, 2);
	let b1 = vec![hospital.admit(Role::Hospital, 1), patient.register(1)];
	let mut hospital = hospital;
	let b2 = vec![
		patient.sign(
			Operation::GrantConsent {
				grantee: hospital.id,
				permissions: permission::READ,
				purposes: purpose::TREATMENT,
				scope: scope::ALL,
				expires_at: 50,
				slot: 0,
			},
			2,
		),
		hospital.sign(
			Operation::AccessRecord {
				patient: patient.id,
				grant: 0,
				purpose: purpose::TREATMENT,
				scope: 1,
			},
			2,
		),
	];
	(b1, b2)
}

#[test]
fn proofs_verify_and_tampering_fails() {
	let (pk, vk) = groth16::setup(SLOTS, &mut rng()).expect("setup");
	let pvk = groth16::prepare(&vk);
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
		.expect("open");
	let (b1, b2) = batches();

	// Batch 1.
	let (w1, p1, _) = witness::build(&mut store, 1, &b1, SLOTS).expect("witness 1");
	let proof1 = groth16::prove(&pk, w1, p1, &mut rng()).expect("prove 1");
	assert!(groth16::verify(&pvk, &p1, &proof1).expect("verify"));
	store.commit(1).expect("commit");

	// Batch 2 against the state after batch 1.
	let start_b2 = witness::BatchStart::of(&store);
	let before_b2 = store.root();
	let (w2, p2, _) = witness::build(&mut store, 2, &b2, SLOTS).expect("witness 2");
	let proof2 = groth16::prove(&pk, w2.clone(), p2, &mut rng()).expect("prove 2");
	assert!(groth16::verify(&pvk, &p2, &proof2).expect("verify"));
	assert_eq!(p2.old_root, p1.new_root);
	assert_eq!(p2.old_root, before_b2);

	// Tampered public inputs: each of the four.
	let bump = |f: F| f + F::from(1u64);
	for tampered in [
		PublicInputs { old_root: bump(p2.old_root), ..p2 },
		PublicInputs { new_root: bump(p2.new_root), ..p2 },
		PublicInputs { inbox_commitment: bump(p2.inbox_commitment), ..p2 },
		PublicInputs { batch: p2.batch + 1, ..p2 },
	] {
		assert!(!groth16::verify(&pvk, &tampered, &proof2).expect("verify"), "{tampered:?}");
	}
	// The wrong old root: batch 2's proof against the empty state's root.
	let wrong_old = PublicInputs { old_root: p1.old_root, ..p2 };
	assert!(!groth16::verify(&pvk, &wrong_old, &proof2).expect("verify"));
	// Swapped order: the commitment of the swapped entries does not match the proof.
	let swapped = vec![b2[1].clone(), b2[0].clone()];
	let swapped_public = PublicInputs {
		inbox_commitment: inbox::commitment(&emr_primitives::testing::deployment(), &swapped),
		..p2
	};
	assert_ne!(swapped_public.inbox_commitment, p2.inbox_commitment);
	assert!(!groth16::verify(&pvk, &swapped_public, &proof2).expect("verify"));
	// Batch 1's proof is not batch 2's.
	assert!(!groth16::verify(&pvk, &p2, &proof1).expect("verify"));

	// A forged signature: the access signed by the patient's key instead of the hospital's.
	// The circuit is unsatisfiable, so the prover's best effort does not verify.
	let mut forged = b2.clone();
	forged[1].op =
		forged[1].op.clone().sign(&Actor::new(2, 1).key, &emr_primitives::testing::deployment());
	let forged_witness = start_b2.witness(2, {
		let dir2 = tempfile::tempdir().expect("tempdir");
		let mut s2 = Store::open(dir2.path().join("s.redb"), emr_primitives::testing::deployment())
			.expect("open");
		witness::build(&mut s2, 1, &b1, SLOTS).expect("replay");
		let first = witness::slot_witness(&mut s2, &forged[0], false).expect("well formed");
		emr_primitives::rules::apply_entry(&mut s2, &forged[0]).expect("grant applies");
		let second = witness::slot_witness(&mut s2, &forged[1], true).expect("well formed");
		vec![first, second]
	});
	let probe = BatchCircuit::new(forged_witness.clone(), None);
	let cs = ark_relations::gr1cs::ConstraintSystem::<F>::new_ref();
	ark_relations::gr1cs::ConstraintSynthesizer::generate_constraints(&probe, cs.clone())
		.expect("synthesis");
	assert!(!cs.is_satisfied().expect("check"), "a forged signature must not satisfy");
	let (new_root, commitment) = probe.computed.get().expect("computed");
	let forged_public =
		PublicInputs { old_root: before_b2, new_root, inbox_commitment: commitment, batch: 2 };
	let forged_proof =
		groth16::prove(&pk, forged_witness, forged_public, &mut rng()).expect("prove");
	assert!(!groth16::verify(&pvk, &forged_public, &forged_proof).expect("verify"));

	// Serialization: round trips, and corrupted bytes are refused or do not verify.
	let vk_bytes = groth16::to_bytes(&vk);
	let vk2: ark_groth16::VerifyingKey<ark_bls12_381::Bls12_381> =
		groth16::from_bytes("verifying key", &vk_bytes).expect("vk");
	assert_eq!(vk2, vk);
	let proof_bytes = groth16::to_bytes(&proof2);
	assert_eq!(proof_bytes.len(), 192);
	let back: BatchProof = groth16::from_bytes("proof", &proof_bytes).expect("proof");
	assert_eq!(back, proof2);
	assert!(groth16::from_bytes::<BatchProof>("proof", &proof_bytes[..191]).is_err());
	let mut long = proof_bytes.clone();
	long.push(0);
	assert!(groth16::from_bytes::<BatchProof>("proof", &long).is_err());
	for i in [0usize, 50, 100, 150] {
		let mut bad = proof_bytes.clone();
		bad[i] ^= 0x40;
		if let Ok(p) = groth16::from_bytes::<BatchProof>("proof", &bad) {
			assert!(!groth16::verify(&pvk, &p2, &p).expect("verify"), "flipped byte {i}");
		}
	}
	let pk_bytes = groth16::to_bytes_uncompressed(&pk);
	let fp = groth16::fingerprint(&pk_bytes);
	let pk2: ark_groth16::ProvingKey<ark_bls12_381::Bls12_381> =
		groth16::read_proving_key(&pk_bytes, &fp).expect("pk");
	assert_eq!(pk2.vk, vk);
	let mut bad_pk = pk_bytes.clone();
	bad_pk[1000] ^= 1;
	assert!(groth16::read_proving_key::<ark_groth16::ProvingKey<ark_bls12_381::Bls12_381>>(
		&bad_pk, &fp
	)
	.is_err());
}
