//! Groth16 verification of batch proofs, generic over the pairing.
//!
//! The prover writes its verifying key and proofs with arkworks' compressed canonical encoding
//! of `ark_groth16::VerifyingKey` and `ark_groth16::Proof`; [`VerifyingKey`] and [`Proof`] have
//! the same fields in the same order, so they read those bytes as they are. The code is generic
//! over [`Pairing`] so that the runtime can run it with a pairing whose Miller loop, final
//! exponentiation and multi-scalar multiplication are host calls (`sp_crypto_ec_utils`), and
//! tests with `ark_bls12_381::Bls12_381`; it does not depend on `ark-groth16`.
//!
//! A proof `(A, B, C)` of the public inputs `x₁ … x₄` ([`PublicInputs::to_vec`]) verifies when
//!
//! ```text
//! e(A, B) = e(α, β) · e(L, γ) · e(C, δ),   L = IC₀ + Σ xᵢ·ICᵢ
//! ```
//!
//! checked as one multi-pairing of four pairs (one final exponentiation):
//! `e(A, B) · e(−α, β) · e(−L, γ) · e(−C, δ) = 1`, with `L` from one multi-scalar
//! multiplication.
//!
//! Decoding is strict ([`decode_vk`], [`decode_proof`]): a length cap before anything is read,
//! every point on its curve and in its prime-order subgroup, no trailing bytes; a verifying key
//! must in addition have no identity point and exactly [`PublicInputs::LEN`]` + 1` input
//! points. Each refusal is its own [`VerifierError`]. The pallet sees all of it through
//! [`BatchVerifier`], implemented by [`Groth16`].

use crate::inbox::PublicInputs;
use alloc::vec::Vec;
use ark_ec::{pairing::Pairing, AffineRepr, VariableBaseMSM};
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_std::Zero;
use blake2::{digest::consts::U32, Blake2b, Digest};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::marker::PhantomData;
use scale_info::TypeInfo;

/// Longest verifying-key encoding [`decode_vk`] reads (the batch key is under 1 KiB).
pub const MAX_VK_LEN: usize = 4096;

/// Longest proof encoding [`decode_proof`] reads (a BLS12-381 proof is 192 bytes).
pub const MAX_PROOF_LEN: usize = 1024;

/// Longest prepared key ([`prepare_vk`]): the uncompressed form of a key of at most
/// [`MAX_VK_LEN`] bytes.
pub const MAX_PREPARED_VK_LEN: usize = 2 * MAX_VK_LEN;

/// A Groth16 verifying key; same fields, same order and same encoding as
/// `ark_groth16::VerifyingKey`. Read untrusted bytes with [`decode_vk`], which checks what the
/// derived [`CanonicalDeserialize`] does not (length cap, input count, identity points).
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct VerifyingKey<E: Pairing> {
	/// `α·G₁`.
	pub alpha_g1: E::G1Affine,
	/// `β·G₂`.
	pub beta_g2: E::G2Affine,
	/// `γ·G₂`.
	pub gamma_g2: E::G2Affine,
	/// `δ·G₂`.
	pub delta_g2: E::G2Affine,
	/// `ICᵢ = γ⁻¹·(β·aᵢ + α·bᵢ + cᵢ)·G₁`: the constant term first, then one point per public
	/// input.
	pub gamma_abc_g1: Vec<E::G1Affine>,
}

/// A Groth16 proof; same fields, same order and same encoding as `ark_groth16::Proof`. Read
/// untrusted bytes with [`decode_proof`].
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Proof<E: Pairing> {
	/// `A` in G₁.
	pub a: E::G1Affine,
	/// `B` in G₂.
	pub b: E::G2Affine,
	/// `C` in G₁.
	pub c: E::G1Affine,
}

/// Why a verifying key or a proof was refused.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum VerifierError {
	/// The verifying key is longer than [`MAX_VK_LEN`]; nothing was decoded.
	VkTooLong,
	/// The verifying key is not a compressed encoding of curve points: truncated, an
	/// x-coordinate with no point on its curve, bad flags, or trailing bytes.
	VkMalformed,
	/// The verifying key contains the identity point.
	VkIdentityPoint,
	/// The verifying key has not exactly [`PublicInputs::LEN`]` + 1` input points.
	VkWrongInputCount,
	/// A point of the verifying key is on its curve but outside the prime-order subgroup.
	VkPointNotInSubgroup,
	/// The proof is longer than [`MAX_PROOF_LEN`]; nothing was decoded.
	ProofTooLong,
	/// The proof is not a compressed encoding of valid points: truncated, a point not on its
	/// curve or outside its prime-order subgroup, bad flags, or trailing bytes.
	ProofMalformed,
}

/// Reads one value, compressed and validated.
fn read<T: CanonicalDeserialize>(reader: &mut &[u8]) -> Option<T> {
	T::deserialize_with_mode(reader, Compress::Yes, Validate::Yes).ok()
}

/// Reads one point of a verifying key: [`VerifierError::VkMalformed`] when the bytes are no
/// point of the curve (decompression finds none), [`VerifierError::VkPointNotInSubgroup`] when
/// they are one outside the prime-order subgroup. Decoding twice costs a second square root,
/// once per key registration.
fn read_key_point<T: CanonicalDeserialize>(reader: &mut &[u8]) -> Result<T, VerifierError> {
	let mut probe = *reader;
	T::deserialize_with_mode(&mut probe, Compress::Yes, Validate::No)
		.map_err(|_| VerifierError::VkMalformed)?;
	T::deserialize_with_mode(reader, Compress::Yes, Validate::Yes)
		.map_err(|_| VerifierError::VkPointNotInSubgroup)
}

/// Decodes a verifying key written by `ark_groth16` (compressed) and checks it: at most
/// [`MAX_VK_LEN`] bytes, every point valid, exactly [`PublicInputs::LEN`]` + 1` input points
/// (checked on the length prefix, before those points are read), no identity point, no
/// trailing bytes.
pub fn decode_vk<E: Pairing>(bytes: &[u8]) -> Result<VerifyingKey<E>, VerifierError> {
	use VerifierError::*;
	if bytes.len() > MAX_VK_LEN {
		return Err(VkTooLong);
	}
	let mut reader = bytes;
	let alpha_g1: E::G1Affine = read_key_point(&mut reader)?;
	let beta_g2: E::G2Affine = read_key_point(&mut reader)?;
	let gamma_g2: E::G2Affine = read_key_point(&mut reader)?;
	let delta_g2: E::G2Affine = read_key_point(&mut reader)?;
	let count: u64 = read(&mut reader).ok_or(VkMalformed)?;
	if count != PublicInputs::LEN as u64 + 1 {
		return Err(VkWrongInputCount);
	}
	let gamma_abc_g1 = (0..count)
		.map(|_| read_key_point::<E::G1Affine>(&mut reader))
		.collect::<Result<Vec<_>, _>>()?;
	if !reader.is_empty() {
		return Err(VkMalformed);
	}
	let identity = alpha_g1.is_zero()
		|| beta_g2.is_zero()
		|| gamma_g2.is_zero()
		|| delta_g2.is_zero()
		|| gamma_abc_g1.iter().any(AffineRepr::is_zero);
	if identity {
		return Err(VkIdentityPoint);
	}
	Ok(VerifyingKey { alpha_g1, beta_g2, gamma_g2, delta_g2, gamma_abc_g1 })
}

/// Checks a verifying key as [`decode_vk`] does and returns it uncompressed: the form a chain
/// keeps once it has checked the key, which [`verify_prepared`] reads back without square roots
/// or subgroup checks. Only bytes this function returned may be passed there.
pub fn prepare_vk<E: Pairing>(bytes: &[u8]) -> Result<Vec<u8>, VerifierError> {
	let vk = decode_vk::<E>(bytes)?;
	let mut out = Vec::with_capacity(vk.uncompressed_size());
	vk.serialize_uncompressed(&mut out).map_err(|_| VerifierError::VkMalformed)?;
	Ok(out)
}

/// Decodes a proof written by `ark_groth16` (compressed): at most [`MAX_PROOF_LEN`] bytes,
/// every point valid, no trailing bytes. Identity points are accepted (such a proof simply
/// does not verify).
pub fn decode_proof<E: Pairing>(bytes: &[u8]) -> Result<Proof<E>, VerifierError> {
	if bytes.len() > MAX_PROOF_LEN {
		return Err(VerifierError::ProofTooLong);
	}
	let mut reader = bytes;
	let proof: Proof<E> = read(&mut reader).ok_or(VerifierError::ProofMalformed)?;
	if !reader.is_empty() {
		return Err(VerifierError::ProofMalformed);
	}
	Ok(proof)
}

/// The public inputs as scalars of `E`, through their canonical little-endian bytes; `None`
/// if one of them is not canonical in `E::ScalarField` (an `E` whose scalar field is not
/// BLS12-381's).
fn input_scalars<E: Pairing>(public: &PublicInputs) -> Option<Vec<E::ScalarField>> {
	public
		.to_bytes()
		.iter()
		.map(|bytes| {
			let scalar = E::ScalarField::from_le_bytes_mod_order(bytes);
			let back = scalar.into_bigint().to_bytes_le();
			let canonical = back.len() >= bytes.len()
				&& back[..bytes.len()] == bytes[..]
				&& back[bytes.len()..].iter().all(|&b| b == 0);
			canonical.then_some(scalar)
		})
		.collect()
}

/// Whether `proof` proves `public` under `vk` (module docs for the equation). `false` also for
/// a key whose input count does not match [`PublicInputs::LEN`] and for an `E` whose scalar
/// field cannot hold the inputs.
pub fn verify<E: Pairing>(vk: &VerifyingKey<E>, public: &PublicInputs, proof: &Proof<E>) -> bool {
	let Some(inputs) = input_scalars::<E>(public) else {
		return false;
	};
	let Some((ic0, ics)) = vk.gamma_abc_g1.split_first() else {
		return false;
	};
	if ics.len() != inputs.len() {
		return false;
	}
	let Ok(sum) = E::G1::msm(ics, &inputs) else {
		return false;
	};
	let l = sum + ic0;
	let g1: [E::G1Prepared; 4] =
		[proof.a.into(), (-vk.alpha_g1).into(), E::G1Prepared::from(-l), (-proof.c).into()];
	let g2: [E::G2Prepared; 4] =
		[proof.b.into(), vk.beta_g2.into(), vk.gamma_g2.into(), vk.delta_g2.into()];
	E::final_exponentiation(E::multi_miller_loop(g1, g2)).is_some_and(|out| out.is_zero())
}

/// Blake2b-256 of a verifying key's bytes: how keys are identified (the prover's fingerprint
/// is its hex).
pub fn vk_hash(bytes: &[u8]) -> [u8; 32] {
	Blake2b::<U32>::digest(bytes).into()
}

/// Verification of batch proofs as the pallet sees it: keys and proofs as bytes.
pub trait BatchVerifier {
	/// Checks a verifying key when governance registers it.
	fn validate_vk(vk: &[u8]) -> Result<(), VerifierError>;
	/// Verifies a proof of `public` under `vk` (both as bytes); Ok(false) when the proof does
	/// not verify.
	fn verify(vk: &[u8], public: &PublicInputs, proof: &[u8]) -> Result<bool, VerifierError>;
	/// Checks a verifying key and returns the form to keep for [`Self::verify_prepared`].
	fn prepare_vk(vk: &[u8]) -> Result<Vec<u8>, VerifierError>;
	/// [`Self::verify`] under a key that [`Self::prepare_vk`] returned (trusted: not checked
	/// again). The proof is checked in full.
	fn verify_prepared(
		prepared: &[u8],
		public: &PublicInputs,
		proof: &[u8],
	) -> Result<bool, VerifierError>;
}

/// Groth16 over the pairing `E`: [`decode_vk`], [`decode_proof`] and [`verify`].
pub struct Groth16<E>(PhantomData<E>);

impl<E: Pairing> BatchVerifier for Groth16<E> {
	fn validate_vk(vk: &[u8]) -> Result<(), VerifierError> {
		decode_vk::<E>(vk).map(|_| ())
	}

	fn verify(vk: &[u8], public: &PublicInputs, proof: &[u8]) -> Result<bool, VerifierError> {
		let vk = decode_vk::<E>(vk)?;
		let proof = decode_proof::<E>(proof)?;
		Ok(verify(&vk, public, &proof))
	}

	fn prepare_vk(vk: &[u8]) -> Result<Vec<u8>, VerifierError> {
		prepare_vk::<E>(vk)
	}

	fn verify_prepared(
		prepared: &[u8],
		public: &PublicInputs,
		proof: &[u8],
	) -> Result<bool, VerifierError> {
		if prepared.len() > MAX_PREPARED_VK_LEN {
			return Err(VerifierError::VkTooLong);
		}
		let vk = VerifyingKey::<E>::deserialize_with_mode(prepared, Compress::No, Validate::No)
			.map_err(|_| VerifierError::VkMalformed)?;
		let proof = decode_proof::<E>(proof)?;
		Ok(verify(&vk, public, &proof))
	}
}

/// Simulated Groth16 instances for tests (zkVerify's synthetic-instance approach): a setup whose
/// trapdoor is known, so that a valid proof exists and is made for any public inputs, without
/// a circuit or a prover. Compiled for this crate's tests and with the `test-utils` feature.
#[cfg(any(test, feature = "test-utils"))]
pub mod simulated {
	use super::{Proof, VerifyingKey};
	use crate::inbox::PublicInputs;
	use alloc::vec::Vec;
	use ark_bls12_381::{Bls12_381, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
	use ark_ec::{CurveGroup, PrimeGroup};
	use ark_ff::Field;
	use ark_serialize::{CanonicalSerialize, Compress};

	type E = Bls12_381;

	/// The discrete logarithms of a simulated setup: `α, β, γ, δ` and the `ICᵢ`.
	pub struct Trapdoor {
		/// α.
		pub alpha: Fr,
		/// β.
		pub beta: Fr,
		/// γ.
		pub gamma: Fr,
		/// δ.
		pub delta: Fr,
		/// The logarithms of `IC₀ … ICₙ`.
		pub ic: Vec<Fr>,
	}

	/// A fixed trapdoor for a key of `inputs` public inputs.
	pub fn trapdoor(inputs: usize) -> Trapdoor {
		Trapdoor {
			alpha: Fr::from(0x1234_5678_u64),
			beta: Fr::from(0x9abc_def0_u64),
			gamma: Fr::from(0x0fed_cba9_u64),
			delta: Fr::from(0x8765_4321_u64),
			ic: (0..=inputs as u64).map(|i| Fr::from(1_000_003 * (i + 1))).collect(),
		}
	}

	/// `x·G₁`.
	pub fn g1(x: Fr) -> G1Affine {
		(G1Projective::generator() * x).into_affine()
	}

	/// `x·G₂`.
	pub fn g2(x: Fr) -> G2Affine {
		(G2Projective::generator() * x).into_affine()
	}

	/// The verifying key of the trapdoor.
	pub fn key(t: &Trapdoor) -> VerifyingKey<E> {
		VerifyingKey {
			alpha_g1: g1(t.alpha),
			beta_g2: g2(t.beta),
			gamma_g2: g2(t.gamma),
			delta_g2: g2(t.delta),
			gamma_abc_g1: t.ic.iter().map(|&x| g1(x)).collect(),
		}
	}

	/// A proof made with the trapdoor: `A = a·G₁`, `B = b·G₂` and the `C` that balances the
	/// equation, `c = (a·b − α·β − l·γ) / δ`.
	pub fn simulate(t: &Trapdoor, public: &PublicInputs, a: Fr, b: Fr) -> Proof<E> {
		let l = public.to_vec().iter().zip(&t.ic[1..]).fold(t.ic[0], |l, (x, ic)| l + x * ic);
		let c =
			(a * b - t.alpha * t.beta - l * t.gamma) * t.delta.inverse().expect("δ is not zero");
		Proof { a: g1(a), b: g2(b), c: g1(c) }
	}

	/// The compressed canonical encoding of `value` (what the prover writes).
	pub fn encode<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
		let mut out = Vec::new();
		value.serialize_with_mode(&mut out, Compress::Yes).expect("writing to a Vec");
		out
	}

	/// The compressed verifying key of the fixed trapdoor ([`trapdoor`] of
	/// [`PublicInputs::LEN`] inputs), as a pallet registers it.
	pub fn key_bytes() -> Vec<u8> {
		encode(&key(&trapdoor(PublicInputs::LEN)))
	}

	/// A compressed proof of `public` under [`key_bytes`]: valid for any public inputs.
	pub fn proof_bytes(public: &PublicInputs) -> Vec<u8> {
		encode(&simulate(&trapdoor(PublicInputs::LEN), public, Fr::from(5u64), Fr::from(9u64)))
	}
}

#[cfg(test)]
mod tests {
	use super::{simulated::*, *};
	use crate::F;
	use ark_bls12_381::{Bls12_381, Fq, Fq2, Fr, G1Affine, G2Affine};
	use ark_ff::Field;

	type E = Bls12_381;

	fn public() -> PublicInputs {
		PublicInputs {
			old_root: F::from(11u64),
			new_root: -F::from(12u64),
			inbox_commitment: F::from(u64::MAX) * F::from(u64::MAX),
			batch: 7,
		}
	}

	/// A point of G₁ (on `y² = x³ + 4`) outside the prime-order subgroup.
	fn g1_outside_subgroup() -> G1Affine {
		(0u64..)
			.filter_map(|x| G1Affine::get_point_from_x_unchecked(Fq::from(x), true))
			.find(|p| !p.is_in_correct_subgroup_assuming_on_curve())
			.expect("most points of the curve are outside the subgroup")
	}

	/// A point of G₂'s curve outside the prime-order subgroup.
	fn g2_outside_subgroup() -> G2Affine {
		(0u64..)
			.filter_map(|x| {
				G2Affine::get_point_from_x_unchecked(Fq2::new(Fq::from(x), Fq::from(1u64)), true)
			})
			.find(|p| !p.is_in_correct_subgroup_assuming_on_curve())
			.expect("most points of the curve are outside the subgroup")
	}

	/// `bytes` with the G₁ point at `offset` replaced by an x-coordinate that is not on the
	/// curve (found by flipping low bits of x until decompression has no y).
	fn off_curve_g1(bytes: &[u8], offset: usize) -> Vec<u8> {
		for bit in 0..16 {
			let mut bad = bytes.to_vec();
			bad[offset + 47 - bit / 8] ^= 1 << (bit % 8);
			let mut x_bytes = bad[offset..offset + 48].to_vec();
			x_bytes[0] &= 0x1f; // Compression, infinity and sign flags.
			let x = Fq::from_be_bytes_mod_order(&x_bytes);
			if G1Affine::get_point_from_x_unchecked(x, true).is_none() {
				return bad;
			}
		}
		panic!("16 neighbours of x are all on the curve");
	}

	#[test]
	fn simulated_proof_verifies_and_every_input_matters() {
		let t = trapdoor(PublicInputs::LEN);
		let vk = key(&t);
		let p = public();
		let proof = simulate(&t, &p, Fr::from(5u64), Fr::from(9u64));
		assert!(verify(&vk, &p, &proof));

		let bump = |f: F| f + F::from(1u64);
		for wrong in [
			PublicInputs { old_root: bump(p.old_root), ..p },
			PublicInputs { new_root: bump(p.new_root), ..p },
			PublicInputs { inbox_commitment: bump(p.inbox_commitment), ..p },
			PublicInputs { batch: p.batch + 1, ..p },
		] {
			assert!(!verify(&vk, &wrong, &proof), "{wrong:?}");
		}
		// Each proof element matters.
		let other = simulate(&t, &p, Fr::from(6u64), Fr::from(9u64));
		assert!(verify(&vk, &p, &other));
		assert!(!verify(&vk, &p, &Proof { a: other.a, ..proof.clone() }));
		assert!(!verify(&vk, &p, &Proof { b: g2(Fr::from(10u64)), ..proof.clone() }));
		assert!(!verify(&vk, &p, &Proof { c: other.c, ..proof.clone() }));
		assert!(!verify(&vk, &p, &Proof { a: G1Affine::zero(), ..proof.clone() }));
		// A key with the wrong input count never verifies.
		let mut short = vk.clone();
		short.gamma_abc_g1.pop();
		assert!(!verify(&short, &p, &proof));
		assert!(!verify(&VerifyingKey { gamma_abc_g1: Vec::new(), ..vk.clone() }, &p, &proof));

		// Through the trait, from bytes.
		let (vk_bytes, proof_bytes) = (encode(&vk), encode(&proof));
		assert_eq!(decode_vk::<E>(&vk_bytes), Ok(vk.clone()));
		assert_eq!(decode_proof::<E>(&proof_bytes), Ok(proof.clone()));
		assert_eq!(Groth16::<E>::validate_vk(&vk_bytes), Ok(()));
		assert_eq!(Groth16::<E>::verify(&vk_bytes, &p, &proof_bytes), Ok(true));
		let wrong = PublicInputs { batch: 8, ..p };
		assert_eq!(Groth16::<E>::verify(&vk_bytes, &wrong, &proof_bytes), Ok(false));
		assert_eq!(
			Groth16::<E>::verify(&vk_bytes[1..], &p, &proof_bytes),
			Err(VerifierError::VkMalformed)
		);
		assert_eq!(
			Groth16::<E>::verify(&vk_bytes, &p, &proof_bytes[1..]),
			Err(VerifierError::ProofMalformed)
		);
	}

	#[test]
	fn sizes_of_the_encodings() {
		let vk = key(&trapdoor(PublicInputs::LEN));
		// α (48) + β, γ, δ (3 × 96) + length (8) + 5 × 48.
		assert_eq!(encode(&vk).len(), 584);
		assert!(encode(&vk).len() < MAX_VK_LEN);
		let proof = Proof::<E> { a: g1(Fr::from(2u64)), b: g2(Fr::from(3u64)), c: g1(Fr::ONE) };
		assert_eq!(encode(&proof).len(), 192);
	}

	#[test]
	fn key_decoding_refuses_each_defect_with_its_reason() {
		use VerifierError::*;
		let t = trapdoor(PublicInputs::LEN);
		let vk = key(&t);
		let bytes = encode(&vk);
		assert_eq!(decode_vk::<E>(&bytes), Ok(vk.clone()));

		// Truncated, anywhere.
		for len in [0, 1, 47, 48, 200, bytes.len() - 48, bytes.len() - 1] {
			assert_eq!(decode_vk::<E>(&bytes[..len]), Err(VkMalformed), "{len} bytes");
		}
		// A trailing byte.
		let mut long = bytes.clone();
		long.push(0);
		assert_eq!(decode_vk::<E>(&long), Err(VkMalformed));
		// Too long: refused before decoding, whatever the content.
		long.resize(MAX_VK_LEN, 0);
		assert_eq!(decode_vk::<E>(&long), Err(VkMalformed));
		long.push(0);
		assert_eq!(decode_vk::<E>(&long), Err(VkTooLong));
		assert_eq!(decode_vk::<E>(&[0xff; MAX_VK_LEN + 1]), Err(VkTooLong));

		// One input point too few or too many (otherwise valid keys).
		for inputs in [PublicInputs::LEN - 1, PublicInputs::LEN + 1, 0] {
			let other = encode(&key(&trapdoor(inputs)));
			assert_eq!(decode_vk::<E>(&other), Err(VkWrongInputCount), "{inputs} inputs");
		}
		// A length prefix that promises more points than the key holds, or absurdly many.
		let prefix = 48 + 3 * 96;
		for count in [6u64, u64::MAX] {
			let mut bad = bytes.clone();
			bad[prefix..prefix + 8].copy_from_slice(&count.to_le_bytes());
			assert_eq!(decode_vk::<E>(&bad), Err(VkWrongInputCount), "count {count}");
		}

		// The identity in each position.
		let zero1 = G1Affine::zero();
		let zero2 = G2Affine::zero();
		let mut with_identity = [
			VerifyingKey { alpha_g1: zero1, ..vk.clone() },
			VerifyingKey { beta_g2: zero2, ..vk.clone() },
			VerifyingKey { gamma_g2: zero2, ..vk.clone() },
			VerifyingKey { delta_g2: zero2, ..vk.clone() },
			vk.clone(),
			vk.clone(),
		];
		with_identity[4].gamma_abc_g1[0] = zero1;
		with_identity[5].gamma_abc_g1[PublicInputs::LEN] = zero1;
		for (i, bad) in with_identity.iter().enumerate() {
			assert_eq!(decode_vk::<E>(&encode(bad)), Err(VkIdentityPoint), "position {i}");
		}

		// Points on the curve but outside the prime-order subgroup.
		let outside1 = g1_outside_subgroup();
		assert!(outside1.is_on_curve() && !outside1.is_in_correct_subgroup_assuming_on_curve());
		let outside2 = g2_outside_subgroup();
		assert!(outside2.is_on_curve() && !outside2.is_in_correct_subgroup_assuming_on_curve());
		let mut outside = [
			VerifyingKey { alpha_g1: outside1, ..vk.clone() },
			VerifyingKey { beta_g2: outside2, ..vk.clone() },
			VerifyingKey { delta_g2: outside2, ..vk.clone() },
			vk.clone(),
		];
		outside[3].gamma_abc_g1[2] = outside1;
		for (i, bad) in outside.iter().enumerate() {
			assert_eq!(decode_vk::<E>(&encode(bad)), Err(VkPointNotInSubgroup), "case {i}");
		}

		// An x-coordinate with no point on the curve: α, and the last input point.
		for offset in [0, bytes.len() - 48] {
			let bad = off_curve_g1(&bytes, offset);
			assert_eq!(decode_vk::<E>(&bad), Err(VkMalformed), "offset {offset}");
		}
		// Bad flags: α's compression flag cleared.
		let mut bad = bytes.clone();
		bad[0] &= 0x7f;
		assert_eq!(decode_vk::<E>(&bad), Err(VkMalformed));
	}

	#[test]
	fn proof_decoding_refuses_each_defect_with_its_reason() {
		use VerifierError::*;
		let t = trapdoor(PublicInputs::LEN);
		let proof = simulate(&t, &public(), Fr::from(5u64), Fr::from(9u64));
		let bytes = encode(&proof);
		assert_eq!(decode_proof::<E>(&bytes), Ok(proof.clone()));

		for len in [0, 1, 48, 144, 191] {
			assert_eq!(decode_proof::<E>(&bytes[..len]), Err(ProofMalformed), "{len} bytes");
		}
		let mut long = bytes.clone();
		long.push(0);
		assert_eq!(decode_proof::<E>(&long), Err(ProofMalformed));
		long.resize(MAX_PROOF_LEN + 1, 0);
		assert_eq!(decode_proof::<E>(&long), Err(ProofTooLong));

		let outside1 = g1_outside_subgroup();
		let outside2 = g2_outside_subgroup();
		for (i, bad) in [
			Proof { a: outside1, ..proof.clone() },
			Proof { b: outside2, ..proof.clone() },
			Proof { c: outside1, ..proof.clone() },
		]
		.iter()
		.enumerate()
		{
			assert_eq!(decode_proof::<E>(&encode(bad)), Err(ProofMalformed), "case {i}");
		}
		for offset in [0, 144] {
			let bad = off_curve_g1(&bytes, offset);
			assert_eq!(decode_proof::<E>(&bad), Err(ProofMalformed), "offset {offset}");
		}

		// Identity points decode (the proof is well-formed) but do not verify.
		let zero = Proof::<E> { a: G1Affine::zero(), b: G2Affine::zero(), c: G1Affine::zero() };
		assert_eq!(decode_proof::<E>(&encode(&zero)), Ok(zero.clone()));
		assert!(!verify(&key(&t), &public(), &zero));
	}

	#[test]
	fn vk_hash_is_blake2b_256() {
		assert_eq!(
			vk_hash(b""),
			[
				0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e, 0xb0, 0x60, 0x99,
				0xda, 0xa1, 0xd1, 0xe5, 0xdf, 0x47, 0x77, 0x8f, 0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd,
				0xf1, 0x2f, 0xe3, 0xa8,
			]
		);
		assert_ne!(vk_hash(b"a"), vk_hash(b"b"));
	}

	#[test]
	fn errors_encode_in_one_byte() {
		assert_eq!(VerifierError::max_encoded_len(), 1);
		for (i, e) in [
			VerifierError::VkTooLong,
			VerifierError::VkMalformed,
			VerifierError::VkIdentityPoint,
			VerifierError::VkWrongInputCount,
			VerifierError::VkPointNotInSubgroup,
			VerifierError::ProofTooLong,
			VerifierError::ProofMalformed,
		]
		.into_iter()
		.enumerate()
		{
			assert_eq!(e.encode(), [i as u8]);
			assert_eq!(VerifierError::decode(&mut &e.encode()[..]), Ok(e));
		}
	}
}
