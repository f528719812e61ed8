//! Merkle paths in constraints: the twin of [`emr_primitives::tree::root`].

use super::{poseidon, Fv};
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::SynthesisError;
use emr_primitives::{
	tree::{ARITY_BITS, SIBLINGS},
	F,
};

/// The root reached from `leaf` at the position given by `index_bits` (little-endian, three
/// per level: bits `3l..3l+3` are the position among the eight children at level `l`) with
/// `siblings` from the leaf upward, seven per level in the order of
/// [`emr_primitives::tree::children`]. Costs one wide permutation (405 constraints) and 18
/// constraints of child ordering per level.
pub fn root(leaf: &Fv, index_bits: &[Boolean<F>], siblings: &[Fv]) -> Result<Fv, SynthesisError> {
	assert_eq!(
		index_bits.len() * SIBLINGS,
		siblings.len() * ARITY_BITS,
		"seven siblings per level"
	);
	let mut cur = leaf.clone();
	for (pos, sibs) in index_bits.chunks(ARITY_BITS).zip(siblings.chunks(SIBLINGS)) {
		let children = order_children(&cur, pos, sibs)?;
		cur = poseidon::tree_node(&children)?;
	}
	Ok(cur)
}

/// The `k` children of a level with `cur` at position `pos` (little-endian bits) and the
/// `k − 1` siblings in order around it: child `j` is `siblings[j]` left of `pos`, `cur` at
/// `pos`, `siblings[j − 1]` right of it. Costs `2^b − 1 − b` constraints for the position
/// indicators (`b` bits; the last indicator of each bit follows linearly from the others) and
/// `2k − 2` for the children.
pub fn order_children(
	cur: &Fv,
	pos: &[Boolean<F>],
	siblings: &[Fv],
) -> Result<Vec<Fv>, SynthesisError> {
	let k = siblings.len() + 1;
	assert_eq!(k, 1 << pos.len(), "one child per position");
	// eq[j] = [pos == j], built bit by bit: each indicator p splits into p·(1 − bit), p·bit.
	let mut eq = vec![Fv::one()];
	for bit in pos {
		let bit = Fv::from(bit.clone());
		let mut ones: Vec<Fv> = Vec::with_capacity(eq.len());
		for (i, p) in eq.iter().enumerate() {
			ones.push(if i == 0 && eq.len() == 1 {
				bit.clone()
			} else if i + 1 == eq.len() {
				// Σ p = 1, so Σ p·bit = bit.
				ones.iter().fold(bit.clone(), |acc: Fv, q| acc - q)
			} else {
				p * &bit
			});
		}
		let zeros: Vec<Fv> = eq.iter().zip(&ones).map(|(p, q)| p - q).collect();
		eq = zeros.into_iter().chain(ones).collect();
	}
	let mut out = Vec::with_capacity(k);
	let mut right = Fv::zero(); // [pos < j] = Σ eq[i] for i < j
	for j in 0..k {
		// What child j is when it is not `cur`.
		let other = if j == 0 {
			siblings[0].clone()
		} else if j == k - 1 {
			siblings[k - 2].clone()
		} else {
			&siblings[j] + &right * (&siblings[j - 1] - &siblings[j])
		};
		out.push(&other + &eq[j] * (cur - &other));
		right += &eq[j];
	}
	Ok(out)
}
