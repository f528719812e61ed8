//! Prover benchmarks (`cargo bench -p emr-prover`): the native pieces every operation pays for
//! (Poseidon, a signature check, applying the rules with Merkle updates, building a witness),
//! and Groth16 proving and verification of a 4-slot batch. Setup, proving and peak memory for
//! 4, 16 and 64 slots are measured by `scripts/bench.sh prover` (one run each: a 64-slot setup
//! takes minutes).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use emr_circuit::{groth16, witness};
use emr_primitives::{
	groth16::{BatchVerifier, Groth16 as ChainVerifier},
	ops::{permission, purpose, scope, Operation, Role},
	poseidon,
	schnorr::SecretKey,
	testing::Actor,
	F,
};
use emr_state_store::Store;
use rand_core::SeedableRng;

fn entries() -> Vec<emr_primitives::inbox::InboxEntry> {
	let mut hospital = Actor::new(1, 1);
	let mut patient = Actor::new(2, 2);
	let mut e = vec![hospital.admit(Role::Hospital, 1), patient.register(1)];
	e.push(patient.sign(
		Operation::GrantConsent {
			grantee: hospital.id,
			permissions: permission::READ,
			purposes: purpose::TREATMENT,
			scope: scope::ALL,
			expires_at: 100,
			slot: 0,
		},
		2,
	));
	e.push(hospital.sign(
		Operation::AccessRecord {
			patient: patient.id,
			grant: 0,
			purpose: purpose::TREATMENT,
			scope: 1,
		},
		2,
	));
	e
}

fn native(c: &mut Criterion) {
	let (a, b) = (F::from(1u64), F::from(2u64));
	c.bench_function("poseidon hash of two inputs (one permutation)", |bench| {
		bench.iter(|| poseidon::hash(poseidon::Domain::Operation, &[a, b]))
	});
	let children = [a; emr_primitives::tree::ARITY];
	c.bench_function("8-ary tree node (one wide permutation)", |bench| {
		bench.iter(|| emr_primitives::tree::node(&children))
	});
	let sk = SecretKey::from_seed(&[3; 32]);
	let pk = sk.public();
	let msg = emr_primitives::schnorr::Message::new(F::from(1u64), F::from(5u64));
	let sig = sk.sign(msg);
	c.bench_function("schnorr verify (native)", |bench| {
		bench.iter(|| pk.verify(msg, &sig).unwrap())
	});
	let all = entries();
	c.bench_function("apply 4 operations to the Merkle store + witness", |bench| {
		bench.iter_batched(
			|| {
				let dir = tempfile::tempdir().unwrap();
				let store =
					Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
						.unwrap();
				(dir, store)
			},
			|(_dir, mut store)| witness::build(&mut store, 1, &all, 4).unwrap(),
			criterion::BatchSize::PerIteration,
		)
	});
}

fn groth(c: &mut Criterion) {
	let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
	let (pk, vk) = groth16::setup(4, &mut rng).unwrap();
	let pvk = groth16::prepare(&vk);
	let dir = tempfile::tempdir().unwrap();
	let mut store =
		Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment()).unwrap();
	let (w, public, _) = witness::build(&mut store, 1, &entries(), 4).unwrap();
	let proof = groth16::prove(&pk, w.clone(), public, &mut rng).unwrap();
	let mut group = c.benchmark_group("groth16");
	group.bench_function("verify (4-slot batch)", |bench| {
		bench.iter(|| assert!(groth16::verify(&pvk, &public, &proof).unwrap()))
	});
	// The chain's verifier, from the bytes a pallet holds (decoding and subgroup checks included).
	let (vk_bytes, proof_bytes) = (groth16::to_bytes(&vk), groth16::to_bytes(&proof));
	group.bench_function("verify from bytes (emr_primitives::groth16)", |bench| {
		bench.iter(|| {
			assert_eq!(
				ChainVerifier::<ark_bls12_381::Bls12_381>::verify(&vk_bytes, &public, &proof_bytes),
				Ok(true)
			)
		})
	});
	group.sample_size(10);
	group.bench_function("prove (4-slot batch)", |bench| {
		bench.iter(|| groth16::prove(&pk, w.clone(), public, &mut rng).unwrap())
	});
	group.finish();
}

criterion_group!(benches, native, groth);
criterion_main!(benches);
