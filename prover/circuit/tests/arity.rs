//! Step 9a of the rules-v2 plan (`docs/plans/rules-v2.md` §2), measured before anything changes
//! format: what one level of a binary tree (width-3 Poseidon, today), a 4-ary tree (width 5) and
//! an 8-ary tree (width 9) costs in constraints, and what the Schnorr check's `c·A` costs with
//! 2-bit windows instead of double-and-add.
//!
//! The wider permutations use the round numbers the Poseidon paper gives for 128-bit security
//! with a ~255-bit prime and `α = 5` (`R_F = 8`; `R_P = 60` at width 5, `63` at width 9). A
//! permutation's constraint count depends on its shape only (three per S-box), not on the
//! constants, so these gadgets run on stand-in constants; each is checked against a native twin
//! with the same constants, and the k-ary level against a native k-ary path.

use ark_ff::Field;
use ark_r1cs_std::{alloc::AllocVar, boolean::Boolean, fields::FieldVar, GR1CSVar};
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisError};
use emr_circuit::circuit::{merkle, poseidon, Fv};
use emr_primitives::poseidon::Domain;
use emr_primitives::F;

const FULL_ROUNDS: usize = 8;

/// A width-`t` Poseidon permutation's parameters (stand-in constants, see the module docs).
struct Params {
	width: usize,
	partial: usize,
	ark: Vec<Vec<F>>,
	mds: Vec<Vec<F>>,
}

impl Params {
	fn new(width: usize, partial: usize) -> Self {
		// Round constants: a fixed sequence; MDS: a Cauchy matrix 1 / (x_i + y_j), which is MDS.
		let mut c = F::from(0x5eed_u64);
		let ark = (0..FULL_ROUNDS + partial)
			.map(|_| {
				(0..width)
					.map(|_| {
						c = c * c + F::from(7u64);
						c
					})
					.collect()
			})
			.collect();
		let mds = (0..width)
			.map(|i| {
				(0..width)
					.map(|j| {
						(F::from(i as u64) + F::from((width + j) as u64)).inverse().expect("≠ 0")
					})
					.collect()
			})
			.collect();
		Params { width, partial, ark, mds }
	}

	fn full(&self, round: usize) -> bool {
		round < FULL_ROUNDS / 2 || round >= FULL_ROUNDS / 2 + self.partial
	}

	fn permute_native(&self, state: &mut [F]) {
		for (round, ark) in self.ark.iter().enumerate() {
			for (s, c) in state.iter_mut().zip(ark) {
				*s += c;
			}
			let n = if self.full(round) { self.width } else { 1 };
			for s in state.iter_mut().take(n) {
				*s = s.pow([5]);
			}
			let next: Vec<F> = self
				.mds
				.iter()
				.map(|row| row.iter().zip(state.iter()).map(|(m, s)| *m * s).sum())
				.collect();
			state.copy_from_slice(&next);
		}
	}

	fn permute(&self, state: &mut [Fv]) -> Result<(), SynthesisError> {
		for (round, ark) in self.ark.iter().enumerate() {
			for (s, c) in state.iter_mut().zip(ark) {
				*s += *c;
			}
			let n = if self.full(round) { self.width } else { 1 };
			for s in state.iter_mut().take(n) {
				let s2 = s.square()?;
				*s = s2.square()? * &*s;
			}
			let next: Vec<Fv> = self
				.mds
				.iter()
				.map(|row| {
					row.iter().zip(state.iter()).fold(Fv::zero(), |acc, (m, s)| acc + s * *m)
				})
				.collect();
			state.clone_from_slice(&next);
		}
		Ok(())
	}

	/// A node over `width − 1` children: the capacity element holds a constant tag.
	fn node_native(&self, children: &[F]) -> F {
		let mut state = vec![F::from(1u64 + ((children.len() as u64) << 32))];
		state.extend_from_slice(children);
		self.permute_native(&mut state);
		state[1]
	}

	fn node(&self, children: &[Fv]) -> Result<Fv, SynthesisError> {
		let mut state = vec![Fv::constant(F::from(1u64 + ((children.len() as u64) << 32)))];
		state.extend_from_slice(children);
		self.permute(&mut state)?;
		Ok(state[1].clone())
	}
}

fn k_ary_root(
	params: &Params,
	leaf: &Fv,
	digits: &[Vec<Boolean<F>>],
	siblings: &[Vec<Fv>],
) -> Result<Fv, SynthesisError> {
	let mut cur = leaf.clone();
	for (pos, sibs) in digits.iter().zip(siblings) {
		let children = merkle::order_children(&cur, pos, sibs)?;
		cur = params.node(&children)?;
	}
	Ok(cur)
}

fn k_ary_root_native(params: &Params, leaf: F, index: u64, siblings: &[Vec<F>]) -> F {
	let k = (params.width - 1) as u64;
	let mut cur = leaf;
	let mut idx = index;
	for sibs in siblings {
		let pos = (idx % k) as usize;
		let mut children = sibs.clone();
		children.insert(pos, cur);
		cur = params.node_native(&children);
		idx /= k;
	}
	cur
}

fn cs() -> ConstraintSystemRef<F> {
	ConstraintSystem::<F>::new_ref()
}

/// Constraints of one tree level (node hash + child ordering) at arity `k`, checked against
/// the native twin for every position, with a wrong sibling as the negative case.
fn level_cost(k: usize, partial: usize, levels: usize) -> usize {
	let params = Params::new(k + 1, partial);
	let bits = k.trailing_zeros() as usize;
	let mut per_level = 0;
	for index in [0u64, 1, (k as u64).pow(levels as u32) - 1, 0x2d % (k as u64).pow(levels as u32)]
	{
		let cs = cs();
		let leaf = F::from(4242u64);
		let siblings: Vec<Vec<F>> = (0..levels)
			.map(|l| (0..k - 1).map(|i| F::from((l * 100 + i + 1) as u64)).collect())
			.collect();
		let leaf_v = Fv::new_witness(cs.clone(), || Ok(leaf)).expect("alloc");
		let digits: Vec<Vec<Boolean<F>>> = (0..levels)
			.map(|l| {
				(0..bits)
					.map(|b| {
						let bit = index >> (l * bits + b) & 1 == 1;
						Boolean::new_witness(cs.clone(), || Ok(bit)).expect("alloc")
					})
					.collect()
			})
			.collect();
		let sib_v: Vec<Vec<Fv>> = siblings
			.iter()
			.map(|s| {
				s.iter().map(|v| Fv::new_witness(cs.clone(), || Ok(*v)).expect("alloc")).collect()
			})
			.collect();
		let before = cs.num_constraints();
		let root = k_ary_root(&params, &leaf_v, &digits, &sib_v).expect("root");
		per_level = (cs.num_constraints() - before) / levels;
		assert_eq!(
			root.value().expect("value"),
			k_ary_root_native(&params, leaf, index, &siblings),
			"{k}-ary root at index {index}"
		);
		let mut wrong = siblings.clone();
		wrong[levels - 1][0] += F::ONE;
		assert_ne!(root.value().expect("value"), k_ary_root_native(&params, leaf, index, &wrong));
		assert!(cs.is_satisfied().expect("check"));
	}
	per_level
}

/// A binary level as version 1 built it: one width-3 permutation over (left, right) and one
/// selection constraint.
fn binary_level_cost(levels: usize) -> usize {
	let cs = cs();
	let mut cur = Fv::new_witness(cs.clone(), || Ok(F::from(1u64))).expect("alloc");
	let before = cs.num_constraints();
	for i in 0..levels {
		let bit = Boolean::new_witness(cs.clone(), || Ok(i % 3 == 0)).expect("alloc");
		let sib = Fv::new_witness(cs.clone(), || Ok(F::from(i as u64))).expect("alloc");
		let left = bit.select(&sib, &cur).expect("select");
		let right = &cur + &sib - &left;
		cur = poseidon::hash(Domain::MerkleNode, &[left, right]).expect("node");
	}
	(cs.num_constraints() - before) / levels
}

fn permutation_cost(width: usize, partial: usize) -> usize {
	let params = Params::new(width, partial);
	let cs = cs();
	let mut state: Vec<Fv> = (0..width)
		.map(|i| Fv::new_witness(cs.clone(), || Ok(F::from(i as u64 + 1))).expect("alloc"))
		.collect();
	let before = cs.num_constraints();
	params.permute(&mut state).expect("permute");
	cs.num_constraints() - before
}

#[test]
fn tree_arity_costs() {
	let p3 = permutation_cost(3, 57);
	let p5 = permutation_cost(5, 60);
	let p9 = permutation_cost(9, 63);
	assert_eq!((p3, p5, p9), (3 * (3 * 8 + 57), 3 * (5 * 8 + 60), 3 * (9 * 8 + 63)));
	let b2 = binary_level_cost(24);
	let b4 = level_cost(4, 60, 12);
	let b8 = level_cost(8, 63, 8);
	println!("permutation, all inputs variable: width 3 {p3}, width 5 {p5}, width 9 {p9}");
	println!("one level: binary {b2}, 4-ary {b4}, 8-ary {b8}");
	for (ids, d2, d4, d8) in [(24u32, 24, 12, 8), (28, 28, 14, 10), (32, 32, 16, 11)] {
		println!(
			"participant path at 2^{ids}: binary {} ({d2} levels), 4-ary {} ({d4}), 8-ary {} ({d8})",
			b2 * d2,
			b4 * d4,
			b8 * d8
		);
	}
	// The wider trees must be cheaper per participant path at 2^24, or there is no point.
	assert!(b4 * 12 < b2 * 24 && b8 * 8 < b4 * 12, "{b2} {b4} {b8}");
}

/// `c·A` for the Schnorr check with 2-bit windows (the circuit's `schnorr::mul_windowed`:
/// precompute `A, 2A, 3A`; per window two doublings, one lookup of four variable points, one
/// addition) against arkworks' double-and-add (`scalar_mul_le`), on the same 255 challenge
/// bits: both equal the native product; the constraint counts are printed.
#[test]
fn windowed_challenge_multiplication_costs() {
	use ark_ec::{AffineRepr, CurveGroup};
	use ark_ed_on_bls12_381_bandersnatch::{EdwardsAffine, EdwardsProjective, Fr};
	use ark_ff::PrimeField;
	use ark_r1cs_std::{convert::ToBitsGadget, groups::CurveVar};
	use emr_circuit::circuit::PointVar;
	let a = (EdwardsAffine::generator() * Fr::from(0xabcdefu64)).into_affine();
	let c = F::from(3u64).pow([170]) + F::from(12345u64);
	// The native product: c as an integer (below the base field's modulus) times A.
	let native = a.mul_bigint(c.into_bigint()).into_affine();
	let run = |windowed: bool| -> (usize, EdwardsAffine) {
		let cs = cs();
		let a_var = PointVar::new_witness(cs.clone(), || Ok(a)).expect("A");
		let c_var = Fv::new_witness(cs.clone(), || Ok(c)).expect("c");
		let bits = c_var.to_bits_le().expect("bits");
		let before = cs.num_constraints();
		let product = if windowed {
			emr_circuit::circuit::schnorr::mul_windowed(&a_var, &bits).expect("windowed")
		} else {
			a_var.scalar_mul_le(bits.iter()).expect("mul")
		};
		let used = cs.num_constraints() - before;
		assert!(cs.is_satisfied().expect("check"));
		let value: EdwardsProjective = product.value().expect("value");
		(used, value.into_affine())
	};
	let (plain, p1) = run(false);
	let (windowed, p2) = run(true);
	println!("c·A over 255 bits: double-and-add {plain}, 2-bit windows {windowed} constraints");
	assert_eq!(p1, native, "double-and-add");
	assert_eq!(p2, native, "windowed");
}
