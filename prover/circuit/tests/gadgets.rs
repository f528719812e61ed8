//! Each gadget against its native twin, with negative twins; constraint counts are printed.

use ark_ec::{AffineRepr, CurveGroup};
use ark_ed_on_bls12_381_bandersnatch::{EdwardsAffine, Fr};
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::{
	alloc::AllocVar, boolean::Boolean, fields::fp::FpVar, groups::CurveVar, GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
use emr_circuit::circuit::{merkle, poseidon as pgadget, schnorr as sgadget, Fv, PointVar};
use emr_primitives::{
	inbox::scalar_to_field,
	poseidon::{self, Domain},
	schnorr::{Message, SecretKey},
	F,
};

fn cs() -> ConstraintSystemRef<F> {
	ConstraintSystem::<F>::new_ref()
}

fn witness(cs: &ConstraintSystemRef<F>, v: F) -> Fv {
	FpVar::new_witness(cs.clone(), || Ok(v)).expect("alloc")
}

#[test]
fn poseidon_gadget_equals_native() {
	for len in 0..7u64 {
		let cs = cs();
		let inputs: Vec<F> = (0..len).map(|i| F::from(i * 7919 + 3)).collect();
		let vars: Vec<Fv> = inputs.iter().map(|v| witness(&cs, *v)).collect();
		let before = cs.num_constraints();
		let out = pgadget::hash(Domain::Operation, &vars).expect("hash");
		let used = cs.num_constraints() - before;
		assert_eq!(out.value().expect("value"), poseidon::hash(Domain::Operation, &inputs));
		assert_ne!(out.value().expect("value"), poseidon::hash(Domain::InboxEntry, &inputs));
		let perms = len.div_ceil(2).max(1) as usize;
		println!("poseidon hash of {len} inputs: {used} constraints");
		if len > 0 {
			// (No input: a constant, folded away.) At most 3 constraints per S-box and 81 S-boxes
			// per permutation; S-boxes of the constant capacity element in the first round are free.
			assert!(used <= perms * 243 && used + 6 * perms >= perms * 243, "{used}");
		}
		assert!(cs.is_satisfied().expect("check"));
	}
}

#[test]
fn wide_poseidon_gadget_equals_native() {
	for len in [1usize, 7, 8, 9] {
		let cs = cs();
		let inputs: Vec<F> = (0..len as u64).map(|i| F::from(i * 7919 + 3)).collect();
		let vars: Vec<Fv> = inputs.iter().map(|v| witness(&cs, *v)).collect();
		let before = cs.num_constraints();
		let out = pgadget::hash_wide(Domain::MerkleNode, &vars).expect("hash");
		let used = cs.num_constraints() - before;
		assert_eq!(out.value().expect("value"), poseidon::hash_wide(Domain::MerkleNode, &inputs));
		assert_ne!(out.value().expect("value"), poseidon::hash_wide(Domain::Operation, &inputs));
		println!("wide poseidon hash of {len} inputs: {used} constraints");
		// 3 constraints per S-box, 9·8 + 63 S-boxes per permutation, less the first round's
		// S-boxes of elements that are still constants (the capacity and the unused rate).
		let perms = len.div_ceil(8);
		assert!(used <= perms * 405 && used + 3 * 9 >= perms * 405, "{used}");
		assert!(cs.is_satisfied().expect("check"));
	}
}

#[test]
fn merkle_gadget_equals_the_store() {
	use emr_primitives::{state::RollupState, testing::Actor};
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = emr_state_store::Store::open(
		dir.path().join("s.redb"),
		emr_primitives::testing::deployment(),
	)
	.expect("open");
	let mut ids = vec![];
	for seed in 1..6u64 {
		let a = Actor::new(seed, ids.len() as u32 + 1);
		ids.push(a.id);
		let p = emr_primitives::state::Participant::new(
			emr_primitives::ops::Role::Patient,
			a.key.public(),
			F::from(seed),
		);
		store.set_participant(a.id, p);
	}
	for id in [ids[0], ids[3], 12345] {
		let path = store.participant_path(id);
		let leaf = store.participant_leaf(id);
		let cs = cs();
		let bits: Vec<Boolean<F>> = (0..24)
			.map(|i| Boolean::new_witness(cs.clone(), || Ok((id >> i) & 1 == 1)).expect("bit"))
			.collect();
		let sibs: Vec<Fv> = path.siblings.iter().map(|s| witness(&cs, *s)).collect();
		let before = cs.num_constraints();
		let root = merkle::root(&witness(&cs, leaf), &bits, &sibs).expect("root");
		println!(
			"merkle path (8-ary, 8 levels, 2^24 ids): {} constraints",
			cs.num_constraints() - before
		);
		assert_eq!(root.value().expect("value"), store.participant_root());
		// A wrong leaf or sibling reaches another root.
		let wrong = merkle::root(&witness(&cs, leaf + F::from(1u64)), &bits, &sibs).expect("root");
		assert_ne!(wrong.value().expect("value"), store.participant_root());
		let mut bad = sibs.clone();
		bad[5] = witness(&cs, path.siblings[5] + F::from(1u64));
		let wrong = merkle::root(&witness(&cs, leaf), &bits, &bad).expect("root");
		assert_ne!(wrong.value().expect("value"), store.participant_root());
	}
}

/// Synthesizes a verification of `(r, s)` on `msg` under `key`; returns satisfaction.
fn schnorr_ok(key: EdwardsAffine, msg: Message, r: EdwardsAffine, s: F) -> bool {
	let cs = cs();
	let key = PointVar::new_variable_omit_prime_order_check(
		cs.clone(),
		|| Ok(key.into_group()),
		ark_r1cs_std::alloc::AllocationMode::Witness,
	)
	.expect("key");
	let r = PointVar::new_witness(cs.clone(), || Ok(r)).expect("r");
	let before = cs.num_constraints();
	let (body, context) = (witness(&cs, msg.body), witness(&cs, msg.context));
	sgadget::verify(&key, &body, &context, &r, &witness(&cs, s), &Boolean::TRUE).expect("verify");
	println!("schnorr verification: {} constraints", cs.num_constraints() - before);
	cs.is_satisfied().expect("check")
}

#[test]
fn schnorr_gadget_accepts_exactly_what_native_accepts() {
	let sk = SecretKey::from_seed(&[1; 32]);
	let other = SecretKey::from_seed(&[2; 32]);
	let msg = Message::new(F::from(9u64), F::from(777u64));
	let sig = sk.sign(msg);
	let pk = sk.public();
	assert!(pk.verify(msg, &sig).is_ok());
	assert!(schnorr_ok(pk.0, msg, sig.r, scalar_to_field(&sig.s)), "valid signature");
	assert!(!schnorr_ok(other.public().0, msg, sig.r, scalar_to_field(&sig.s)), "wrong key");
	let other_body = Message::new(msg.context, msg.body + F::from(1u64));
	assert!(!schnorr_ok(pk.0, other_body, sig.r, scalar_to_field(&sig.s)), "wrong message");
	let other_deployment = Message::new(msg.context + F::from(1u64), msg.body);
	assert!(
		!schnorr_ok(pk.0, other_deployment, sig.r, scalar_to_field(&sig.s)),
		"the same message on another deployment"
	);
	// s + r: the same residue modulo r, so the curve equation holds, but it is not canonical.
	let mut big = sig.s.into_bigint();
	big.add_with_carry(&Fr::MODULUS);
	let s_plus_r = F::from_le_bytes_mod_order(&big.to_bytes_le());
	assert!(!schnorr_ok(pk.0, msg, sig.r, s_plus_r), "non-canonical s");
	// R with a small-order component ((0, -1) has order 2): natively invalid. The circuit
	// allocates R through the cofactor (4·(R/4)), which lands in the prime-order subgroup, so the
	// R it verifies and hashes into the inbox commitment is not the R of the entry — the batch's
	// public commitment, computed from the entry's R, then differs.
	let t = EdwardsAffine::new_unchecked(F::from(0u64), -F::from(1u64));
	let r_twisted = (sig.r + t).into_affine();
	assert!(pk
		.verify(msg, &emr_primitives::schnorr::Signature { r: r_twisted, s: sig.s })
		.is_err());
	let cs = cs();
	let var = PointVar::new_witness(cs.clone(), || Ok(r_twisted)).expect("alloc");
	let allocated = var.value().expect("value").into_affine();
	assert_ne!(allocated, r_twisted);
	assert_eq!(allocated, sig.r);
	let _ = EdwardsAffine::generator();
}
