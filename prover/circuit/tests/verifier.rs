//! The chain's verifier (`emr_primitives::groth16`) against real proofs of the prover: it reads
//! the prover's bytes as they are, accepts a valid proof, and refuses tampered bytes and every
//! wrong public input, agreeing with arkworks' own verifier.
//!
//! One setup and one proof for the whole binary (a `OnceLock`): proving is slow.

use ark_bls12_381::Bls12_381;
use emr_circuit::{
	groth16::{self, BatchProof},
	witness,
};
use emr_primitives::{
	groth16::{self as verifier, BatchVerifier, VerifierError},
	inbox::{self, InboxEntry, PublicInputs},
	ops::{permission, purpose, scope, Operation, Role},
	testing::Actor,
	F,
};
use emr_state_store::Store;
use rand_core::SeedableRng;
use std::sync::OnceLock;

const SLOTS: usize = 2;

type Verifier = verifier::Groth16<Bls12_381>;

/// A proof of batch 2 (after batch 1 changed the state) and what it was made from.
struct Fixture {
	vk: ark_groth16::VerifyingKey<Bls12_381>,
	proof: BatchProof,
	vk_bytes: Vec<u8>,
	proof_bytes: Vec<u8>,
	/// Batch 2's public inputs.
	public: PublicInputs,
	/// Batch 1's public inputs (its old root is the empty state's).
	first: PublicInputs,
	/// Batch 2's entries.
	entries: Vec<InboxEntry>,
}

fn fixture() -> &'static Fixture {
	static FIXTURE: OnceLock<Fixture> = OnceLock::new();
	FIXTURE.get_or_init(|| {
		let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
		let (pk, vk) = groth16::setup(SLOTS, &mut rng).expect("setup");
		let dir = tempfile::tempdir().expect("tempdir");
		let mut store =
			Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
				.expect("open");

		let hospital = Actor::new(1, 1);
		let mut patient = Actor::new(2, 2);
		let b1 = vec![hospital.admit(Role::Hospital, 1), patient.register(1)];
		let (_, first, _) = witness::build(&mut store, 1, &b1, SLOTS).expect("witness 1");
		store.commit(1).expect("commit");

		let mut hospital = hospital;
		let entries = vec![
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
		let (w, public, _) = witness::build(&mut store, 2, &entries, SLOTS).expect("witness 2");
		let proof = groth16::prove(&pk, w, public, &mut rng).expect("prove");
		Fixture {
			vk_bytes: groth16::to_bytes(&vk),
			proof_bytes: groth16::to_bytes(&proof),
			vk,
			proof,
			public,
			first,
			entries,
		}
	})
}

/// arkworks' verdict on a proof given as bytes: `None` if ark-groth16 refuses the bytes.
fn arkworks_verdict(f: &Fixture, public: &PublicInputs, proof: &[u8]) -> Option<bool> {
	let proof: BatchProof = groth16::from_bytes("proof", proof).ok()?;
	Some(groth16::verify(&groth16::prepare(&f.vk), public, &proof).expect("verify"))
}

#[test]
fn a_real_proof_verifies_from_the_provers_bytes() {
	let f = fixture();
	assert_eq!(f.public.batch, 2);
	assert_eq!(f.public.old_root, f.first.new_root);
	assert_eq!(Verifier::validate_vk(&f.vk_bytes), Ok(()));
	assert_eq!(Verifier::verify(&f.vk_bytes, &f.public, &f.proof_bytes), Ok(true));
	assert_eq!(arkworks_verdict(f, &f.public, &f.proof_bytes), Some(true));

	// The same fields, and the same bytes back.
	let vk = verifier::decode_vk::<Bls12_381>(&f.vk_bytes).expect("vk");
	assert_eq!(vk.alpha_g1, f.vk.alpha_g1);
	assert_eq!(vk.beta_g2, f.vk.beta_g2);
	assert_eq!(vk.gamma_g2, f.vk.gamma_g2);
	assert_eq!(vk.delta_g2, f.vk.delta_g2);
	assert_eq!(vk.gamma_abc_g1, f.vk.gamma_abc_g1);
	assert_eq!(groth16::to_bytes(&vk), f.vk_bytes);
	let proof = verifier::decode_proof::<Bls12_381>(&f.proof_bytes).expect("proof");
	assert_eq!((proof.a, proof.b, proof.c), (f.proof.a, f.proof.b, f.proof.c));
	assert_eq!(groth16::to_bytes(&proof), f.proof_bytes);
	assert!(verifier::verify(&vk, &f.public, &proof));

	// The prepared (uncompressed, checked once) key verifies the same proof, and refuses
	// what the key refuses.
	let prepared = Verifier::prepare_vk(&f.vk_bytes).expect("prepare");
	assert_eq!(prepared.len(), 1160, "uncompressed: 96 + 3 * 192 + 8 + 5 * 96");
	assert_eq!(Verifier::verify_prepared(&prepared, &f.public, &f.proof_bytes), Ok(true));
	assert_eq!(Verifier::prepare_vk(&f.vk_bytes[..100]), Err(VerifierError::VkMalformed));

	// Sizes, and the fingerprint is the chain's key hash.
	assert_eq!(f.vk_bytes.len(), 584);
	assert_eq!(f.proof_bytes.len(), 192);
	assert_eq!(groth16::fingerprint(&f.vk_bytes), hex::encode(verifier::vk_hash(&f.vk_bytes)));

	// One native verification from bytes (decoding included), for the record.
	let runs = 10;
	let start = std::time::Instant::now();
	for _ in 0..runs {
		assert_eq!(Verifier::verify(&f.vk_bytes, &f.public, &f.proof_bytes), Ok(true));
	}
	let decoded = std::time::Instant::now();
	for _ in 0..runs {
		assert!(verifier::verify(&vk, &f.public, &proof));
	}
	eprintln!(
		"native verify: {:?} from bytes, {:?} from decoded values",
		(decoded - start) / runs,
		decoded.elapsed() / runs
	);
}

#[test]
fn wrong_public_inputs_do_not_verify() {
	let f = fixture();
	let prepared = Verifier::prepare_vk(&f.vk_bytes).expect("prepare");
	let p = f.public;
	let bump = |x: F| x + F::from(1u64);
	let swapped = vec![f.entries[1].clone(), f.entries[0].clone()];
	let cases = [
		("old root + 1", PublicInputs { old_root: bump(p.old_root), ..p }),
		("old root of batch 1", PublicInputs { old_root: f.first.old_root, ..p }),
		("new root + 1", PublicInputs { new_root: bump(p.new_root), ..p }),
		("new root = old root", PublicInputs { new_root: p.old_root, ..p }),
		("commitment + 1", PublicInputs { inbox_commitment: bump(p.inbox_commitment), ..p }),
		(
			"swapped entries",
			PublicInputs {
				inbox_commitment: inbox::commitment(
					&emr_primitives::testing::deployment(),
					&swapped,
				),
				..p
			},
		),
		(
			"the same entries on another deployment",
			PublicInputs {
				inbox_commitment: inbox::commitment(
					&emr_primitives::ops::DeploymentId::named("elsewhere"),
					&f.entries,
				),
				..p
			},
		),
		("batch + 1", PublicInputs { batch: p.batch + 1, ..p }),
		("batch 1", PublicInputs { batch: 1, ..p }),
		("batch 1's inputs", f.first),
	];
	for (what, wrong) in cases {
		assert_ne!(wrong, p, "{what}");
		assert_eq!(Verifier::verify(&f.vk_bytes, &wrong, &f.proof_bytes), Ok(false), "{what}");
		assert_eq!(
			Verifier::verify_prepared(&prepared, &wrong, &f.proof_bytes),
			Ok(false),
			"{what} (prepared key)"
		);
		assert_eq!(arkworks_verdict(f, &wrong, &f.proof_bytes), Some(false), "{what}");
	}
}

#[test]
fn tampered_proof_bytes_are_refused_or_do_not_verify() {
	let f = fixture();
	let prepared = Verifier::prepare_vk(&f.vk_bytes).expect("prepare");
	let check = |bad: &[u8], what: &str| {
		let ours = Verifier::verify(&f.vk_bytes, &f.public, bad);
		assert_eq!(
			Verifier::verify_prepared(&prepared, &f.public, bad),
			ours,
			"{what}: the prepared key decides as the key"
		);
		// Whatever ours says, arkworks says the same.
		match arkworks_verdict(f, &f.public, bad) {
			None => assert_eq!(ours, Err(VerifierError::ProofMalformed), "{what}"),
			Some(verdict) => {
				assert!(!verdict, "{what}: arkworks accepts a tampered proof");
				assert_eq!(ours, Ok(false), "{what}");
			},
		}
		ours
	};

	// The lowest bit of every byte. A changed coordinate lands off the curve or (with
	// overwhelming probability, the cofactors being huge) outside the prime-order subgroup, so
	// every such proof is refused when decoded.
	for i in 0..f.proof_bytes.len() {
		let mut bad = f.proof_bytes.clone();
		bad[i] ^= 1;
		assert_eq!(check(&bad, &format!("byte {i}")), Err(VerifierError::ProofMalformed));
	}
	// The sign flag of A, B or C flipped: −A, −B or −C, valid points, and a wrong proof.
	for offset in [0, 48, 144] {
		let mut bad = f.proof_bytes.clone();
		bad[offset] ^= 0x20;
		assert_eq!(check(&bad, &format!("sign flag at {offset}")), Ok(false));
	}
	// The compression flag of A, B and C cleared; the infinity flag set: never decodes.
	for offset in [0, 48, 144] {
		for flip in [0x80u8, 0x40] {
			let mut bad = f.proof_bytes.clone();
			bad[offset] ^= flip;
			let what = format!("flag {flip:#x} at {offset}");
			assert_eq!(check(&bad, &what), Err(VerifierError::ProofMalformed), "{what}");
		}
	}
	// Truncated, a trailing byte, too long.
	let malformed = Err(VerifierError::ProofMalformed);
	assert_eq!(Verifier::verify(&f.vk_bytes, &f.public, &f.proof_bytes[..191]), malformed);
	let mut long = f.proof_bytes.clone();
	long.push(0);
	assert_eq!(Verifier::verify(&f.vk_bytes, &f.public, &long), malformed);
	long.resize(verifier::MAX_PROOF_LEN + 1, 0);
	assert_eq!(Verifier::verify(&f.vk_bytes, &f.public, &long), Err(VerifierError::ProofTooLong));
	// A proof of G1/G2 identities is well-formed but does not verify.
	let zero = verifier::Proof::<Bls12_381> {
		a: Default::default(),
		b: Default::default(),
		c: Default::default(),
	};
	assert_eq!(Verifier::verify(&f.vk_bytes, &f.public, &groth16::to_bytes(&zero)), Ok(false));
}

#[test]
fn tampered_key_bytes_are_refused_or_do_not_verify() {
	let f = fixture();
	// Where each point starts: α, β, γ, δ, then IC₀ … IC₄ after the length prefix.
	let ic = 48 + 3 * 96 + 8;
	let starts = [0, 48, 144, 240, ic, ic + 48, ic + 96, ic + 144, ic + 192];
	let arkworks_accepts = |bytes: &[u8]| {
		groth16::from_bytes::<ark_groth16::VerifyingKey<Bls12_381>>("verifying key", bytes).is_ok()
	};
	for start in starts {
		// A low bit of the coordinate: off the curve or outside the subgroup, refused.
		let mut bad = f.vk_bytes.clone();
		bad[start + 20] ^= 1;
		assert!(!arkworks_accepts(&bad), "byte {}", start + 20);
		// No point of the curve has that x, or the point is outside the subgroup: each with
		// its own error, and the same from both entry points.
		let refused = Verifier::validate_vk(&bad);
		assert!(
			matches!(
				refused,
				Err(VerifierError::VkMalformed) | Err(VerifierError::VkPointNotInSubgroup)
			),
			"byte {}: {refused:?}",
			start + 20
		);
		assert_eq!(Verifier::verify(&bad, &f.public, &f.proof_bytes).map(|_| ()), refused);
		// The sign flag: the negated point, a valid key that does not verify the proof.
		let mut bad = f.vk_bytes.clone();
		bad[start] ^= 0x20;
		assert!(arkworks_accepts(&bad), "sign flag at {start}");
		assert_eq!(Verifier::validate_vk(&bad), Ok(()), "sign flag at {start}");
		assert_eq!(
			Verifier::verify(&bad, &f.public, &f.proof_bytes),
			Ok(false),
			"sign flag at {start}"
		);
	}
	// A key with an input point too many or too few.
	for count in [PublicInputs::LEN, PublicInputs::LEN + 2] {
		let mut vk = f.vk.clone();
		vk.gamma_abc_g1.resize(count, f.vk.gamma_abc_g1[1]);
		let bytes = groth16::to_bytes(&vk);
		assert_eq!(Verifier::validate_vk(&bytes), Err(VerifierError::VkWrongInputCount));
		assert_eq!(
			Verifier::verify(&bytes, &f.public, &f.proof_bytes),
			Err(VerifierError::VkWrongInputCount)
		);
	}
}
