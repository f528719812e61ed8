//! Multi-scalar multiplications on BLS12-381 through `blst`'s multi-threaded Pippenger.
//!
//! The proving key's query points are converted once, when a [`crate::groth16::BatchProver`] is
//! built, into `blst`'s affine form (and the arkworks copies dropped, so the key is held once);
//! each proof then multiplies them by the assignment's scalars. Results come back as arkworks
//! points; `emr-prover profile` and the tests compare every one with arkworks' own MSM.
//!
//! No conversion arithmetic is needed: arkworks and `blst` both keep an element of the base
//! field as six 64-bit limbs in Montgomery form with `R = 2^384`, and both keep curve points in
//! Jacobian coordinates, so a point moves between the two by copying its limbs (the MSM
//! equality tests would fail otherwise).

use ark_bls12_381::{Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField, Zero};
use blst::{blst_fp, blst_fp2, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine, MultiPoint};

/// Bits of a scalar of BLS12-381's scalar field.
const SCALAR_BITS: usize = 255;

fn to_fp(x: &Fq) -> blst_fp {
	blst_fp { l: x.0 .0 }
}

fn from_fp(x: &blst_fp) -> Fq {
	Fq::new_unchecked(BigInt(x.l))
}

fn to_fp2(x: &Fq2) -> blst_fp2 {
	blst_fp2 { fp: [to_fp(&x.c0), to_fp(&x.c1)] }
}

fn from_fp2(x: &blst_fp2) -> Fq2 {
	Fq2::new(from_fp(&x.fp[0]), from_fp(&x.fp[1]))
}

fn g1_to_blst(p: &G1Affine) -> blst_p1_affine {
	match p.xy() {
		// blst's affine point at infinity is all zeros.
		None => blst_p1_affine::default(),
		Some((x, y)) => blst_p1_affine { x: to_fp(&x), y: to_fp(&y) },
	}
}

fn g2_to_blst(p: &G2Affine) -> blst_p2_affine {
	match p.xy() {
		None => blst_p2_affine::default(),
		Some((x, y)) => blst_p2_affine { x: to_fp2(&x), y: to_fp2(&y) },
	}
}

/// A Jacobian point (`Z = 0` is the point at infinity in both libraries).
fn g1_from_blst(p: &blst_p1) -> G1Projective {
	G1Projective::new_unchecked(from_fp(&p.x), from_fp(&p.y), from_fp(&p.z))
}

fn g2_from_blst(p: &blst_p2) -> G2Projective {
	G2Projective::new_unchecked(from_fp2(&p.x), from_fp2(&p.y), from_fp2(&p.z))
}

/// Scalars converted once (in parallel) into the contiguous 32-byte little-endian integers
/// `blst` reads, so that several MSMs over the same scalars share one conversion.
pub struct Scalars(Vec<u8>);

impl Scalars {
	/// Converts `scalars` out of Montgomery form.
	pub fn new(scalars: &[Fr]) -> Self {
		use rayon::prelude::*;
		let mut out = vec![0u8; scalars.len() * 32];
		out.par_chunks_mut(32 * 4096).zip(scalars.par_chunks(4096)).for_each(|(bytes, chunk)| {
			for (b, s) in bytes.chunks_exact_mut(32).zip(chunk) {
				for (dst, limb) in b.chunks_exact_mut(8).zip(s.into_bigint().0) {
					dst.copy_from_slice(&limb.to_le_bytes());
				}
			}
		});
		Self(out)
	}

	/// Number of scalars.
	pub fn len(&self) -> usize {
		self.0.len() / 32
	}

	/// True when there are no scalars.
	pub fn is_empty(&self) -> bool {
		self.0.is_empty()
	}

	/// The scalars from index `from` on.
	pub fn skip(&self, from: usize) -> &[u8] {
		&self.0[(from * 32).min(self.0.len())..]
	}
}

/// G1 points in `blst`'s form.
pub struct G1Bases(Vec<blst_p1_affine>);

/// G2 points in `blst`'s form.
pub struct G2Bases(Vec<blst_p2_affine>);

impl G1Bases {
	/// Converts `points` (points at infinity included).
	pub fn new(points: &[G1Affine]) -> Self {
		Self(points.iter().map(g1_to_blst).collect())
	}

	/// Number of points.
	pub fn len(&self) -> usize {
		self.0.len()
	}

	/// True when there are no points.
	pub fn is_empty(&self) -> bool {
		self.0.is_empty()
	}

	/// `Σ scalars[i]·points[i]` over the shorter of the two lists (as arkworks' MSM does).
	pub fn msm(&self, scalars: &[Fr]) -> G1Projective {
		let n = self.0.len().min(scalars.len());
		self.msm_bytes(Scalars::new(&scalars[..n]).skip(0))
	}

	/// `Σ scalars[i]·points[i]` over the shorter of the two lists, the scalars converted
	/// already ([`Scalars::skip`]).
	pub fn msm_bytes(&self, scalars: &[u8]) -> G1Projective {
		let n = self.0.len().min(scalars.len() / 32);
		if n == 0 {
			return G1Projective::zero();
		}
		g1_from_blst(&self.0[..n].mult(&scalars[..n * 32], SCALAR_BITS))
	}
}

impl G2Bases {
	/// Converts `points` (points at infinity included).
	pub fn new(points: &[G2Affine]) -> Self {
		Self(points.iter().map(g2_to_blst).collect())
	}

	/// Number of points.
	pub fn len(&self) -> usize {
		self.0.len()
	}

	/// True when there are no points.
	pub fn is_empty(&self) -> bool {
		self.0.is_empty()
	}

	/// `Σ scalars[i]·points[i]` over the shorter of the two lists.
	pub fn msm(&self, scalars: &[Fr]) -> G2Projective {
		let n = self.0.len().min(scalars.len());
		self.msm_bytes(Scalars::new(&scalars[..n]).skip(0))
	}

	/// `Σ scalars[i]·points[i]` over the shorter of the two lists, the scalars converted
	/// already ([`Scalars::skip`]).
	pub fn msm_bytes(&self, scalars: &[u8]) -> G2Projective {
		let n = self.0.len().min(scalars.len() / 32);
		if n == 0 {
			return G2Projective::zero();
		}
		g2_from_blst(&self.0[..n].mult(&scalars[..n * 32], SCALAR_BITS))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use ark_ec::{CurveGroup, VariableBaseMSM};
	use ark_ff::UniformRand;
	use rand_core::SeedableRng;

	#[test]
	fn blst_msm_equals_arkworks_msm() {
		let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
		for n in [1usize, 2, 31, 33, 100, 1000] {
			let mut g1: Vec<G1Affine> =
				(0..n).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
			let mut g2: Vec<G2Affine> =
				(0..n).map(|_| G2Projective::rand(&mut rng).into_affine()).collect();
			// Points at infinity and the scalars a witness is made of: zeros, ones, small
			// values, −1 and random ones.
			g1[0] = G1Affine::zero();
			g2[n / 2] = G2Affine::zero();
			let scalars: Vec<Fr> = (0..n)
				.map(|i| match i % 5 {
					0 => Fr::zero(),
					1 => Fr::from(1u64),
					2 => Fr::from(i as u64),
					3 => -Fr::from(1u64),
					_ => Fr::rand(&mut rng),
				})
				.collect();
			assert_eq!(
				G1Bases::new(&g1).msm(&scalars),
				G1Projective::msm(&g1, &scalars).expect("lengths")
			);
			assert_eq!(
				G2Bases::new(&g2).msm(&scalars),
				G2Projective::msm(&g2, &scalars).expect("lengths")
			);
			// Fewer scalars than points: the rest count as zero.
			let short = &scalars[..n / 2];
			assert_eq!(
				G1Bases::new(&g1).msm(short),
				G1Projective::msm(&g1[..n / 2], short).expect("lengths")
			);
		}
		assert_eq!(G1Bases::new(&[]).msm(&[Fr::from(1u64)]), G1Projective::zero());
	}
}
