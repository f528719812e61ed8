//! Merkle paths in constraints: the twin of the store's `MerklePath::root`.

use super::{poseidon, Fv};
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::SynthesisError;
use emr_primitives::F;

/// The root reached from `leaf` at the position given by `index_bits` (little-endian: bit `i`
/// says whether the node at level `i` is a right child) with `siblings` from the leaf upward.
/// Costs one Poseidon permutation and one constraint per level.
pub fn root(leaf: &Fv, index_bits: &[Boolean<F>], siblings: &[Fv]) -> Result<Fv, SynthesisError> {
	assert_eq!(index_bits.len(), siblings.len(), "one sibling per level");
	let mut cur = leaf.clone();
	for (bit, sib) in index_bits.iter().zip(siblings) {
		// left = bit ? sib : cur, right = cur + sib - left (one constraint).
		let left = bit.select(sib, &cur)?;
		let right = &cur + sib - &left;
		cur = poseidon::hash_node(&left, &right)?;
	}
	Ok(cur)
}
