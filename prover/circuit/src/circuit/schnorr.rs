//! Schnorr verification in constraints: the twin of [`emr_primitives::schnorr`].
//!
//! Checks `s·G = R + c·A` with `c = Poseidon(Challenge, [R.x, R.y, A.x, A.y, m, d])` (`d`: the
//! message's context, the deployment id). `s` arrives
//! as a field element and is decomposed into 253 bits constrained to be below the subgroup
//! order (a non-canonical `s` is unsatisfiable); `c` is decomposed canonically into 255 bits.
//! `s·G` uses arkworks' fixed-base multiplication with 2-bit windows; `c·A` is a variable-base
//! multiplication with 2-bit windows ([`mul_windowed`]: 2,812 constraints instead of 3,312 for
//! double-and-add).

use super::{poseidon, Fv, PointVar};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ed_on_bls12_381_bandersnatch::{EdwardsAffine, EdwardsProjective, Fr};
use ark_ff::PrimeField;
use ark_r1cs_std::{groups::CurveVar, prelude::*};
use ark_relations::gr1cs::SynthesisError;
use emr_primitives::{poseidon::Domain, F};

/// Bits of the subgroup order.
pub const SCALAR_BITS: usize = 253;

/// `s` as 253 little-endian bits, enforced to be below the subgroup order `r`.
pub fn scalar_bits(s: &Fv) -> Result<Vec<Boolean<F>>, SynthesisError> {
	let (bits, _) = s.to_bits_le_with_top_bits_zero(SCALAR_BITS)?;
	let mut r_minus_one = Fr::MODULUS;
	r_minus_one.0[0] -= 1;
	Boolean::enforce_smaller_or_equal_than_le(&bits, r_minus_one)?;
	Ok(bits)
}

/// `[2^i]G` for the fixed-base multiplication.
fn generator_powers() -> Vec<EdwardsProjective> {
	let mut out = Vec::with_capacity(SCALAR_BITS);
	let mut p = EdwardsAffine::generator().into_group();
	for _ in 0..SCALAR_BITS {
		out.push(p);
		p = p + p;
	}
	out
}

/// `s·G` from the bits of `s`.
pub fn mul_generator(bits: &[Boolean<F>]) -> Result<PointVar, SynthesisError> {
	let powers = generator_powers();
	let mut acc = PointVar::zero();
	acc.precomputed_base_scalar_mul_le(bits.iter().zip(powers.iter()))?;
	Ok(acc)
}

/// Enforces, when `enable` holds, that `(r, s)` is a signature of `msg` within `context` under
/// `key`.
pub fn verify(
	key: &PointVar,
	msg: &Fv,
	context: &Fv,
	r: &PointVar,
	s: &Fv,
	enable: &Boolean<F>,
) -> Result<(), SynthesisError> {
	let s_bits = scalar_bits(s)?;
	let c = poseidon::hash(
		Domain::Challenge,
		&[r.x.clone(), r.y.clone(), key.x.clone(), key.y.clone(), msg.clone(), context.clone()],
	)?;
	let c_bits = c.to_bits_le()?;
	let lhs = mul_generator(&s_bits)?;
	let rhs = mul_windowed(key, &c_bits)? + r;
	lhs.conditional_enforce_equal(&rhs, enable)
}

/// `c·A` for a variable point `A` and the little-endian bits of `c`, two bits at a time from the
/// top: a table `[0, A, 2A, 3A]`, then per window two doublings, one lookup and one addition.
/// The twisted Edwards formulas are complete, so the identity in the table and an identity
/// accumulator need no special case; the result is the integer multiple `c·A` for any point.
pub fn mul_windowed(a: &PointVar, bits: &[Boolean<F>]) -> Result<PointVar, SynthesisError> {
	let a2 = a.double()?;
	let a3 = &a2 + a;
	let table = [PointVar::zero(), a.clone(), a2, a3];
	let mut padded = bits.to_vec();
	if padded.len() % 2 == 1 {
		padded.push(Boolean::FALSE);
	}
	let mut acc = PointVar::zero();
	for (i, pair) in padded.chunks(2).rev().enumerate() {
		if i > 0 {
			acc = acc.double()?.double()?;
		}
		// The selector bits are given most significant first.
		let pick = PointVar::conditionally_select_power_of_two_vector(
			&[pair[1].clone(), pair[0].clone()],
			&table,
		)?;
		acc += pick;
	}
	Ok(acc)
}

/// Native helper for tests: the projective generator.
pub fn generator() -> EdwardsProjective {
	EdwardsProjective::generator()
}

/// Native helper: affine point of a projective one.
pub fn affine(p: EdwardsProjective) -> EdwardsAffine {
	p.into_affine()
}
