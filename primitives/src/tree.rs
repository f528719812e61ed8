//! The rollup's sparse Merkle trees: 8-ary, one wide Poseidon permutation per node.
//!
//! Both trees of the state (participants, and each patient's consent subtree) have arity
//! [`ARITY`] = 8. A node is [`node`]`(children) = poseidon::hash_wide(MerkleNode, children)`:
//! the eight children in one width-9 permutation (405 constraints in the circuit), where a
//! binary tree spends three levels of width-3 permutations (3 × 243) on the same fan-out.
//!
//! ```text
//!   level L (root)                         node(c₀ … c₇)
//!                                     /   /   /   |   \   \   \   \
//!   level L−1                     node  ...                        node
//!   ...
//!   level 0 (leaves)     leaf 0  leaf 1  …  leaf i  …   (0 = empty)
//! ```
//!
//! * A leaf's index is read in base 8, least significant digit first: digit `l`
//!   (`(index >> 3l) & 7`) is the leaf's ancestor's position among its seven siblings at
//!   level `l`. So index bits `3l, 3l+1, 3l+2` select the child at level `l`.
//! * A path holds, for each level from the leaves up, the seven siblings in order with the
//!   node on the path left out: `siblings[7l + j]` is child `j` of the parent when `j` is below
//!   the position, child `j + 1` otherwise.
//! * An empty subtree of height `k` has root `empty_roots(k)[k]`
//!   (`EMPTY[0] = 0`, `EMPTY[k+1] = node([EMPTY[k]; 8])`).
//! * The participant tree has [`PARTICIPANT_LEVELS`] = 8 levels (2^24 ids, as
//!   [`PARTICIPANT_DEPTH`] bits say); a consent subtree [`GRANT_LEVELS`] = 4 (4,096 slots).

use crate::{
	poseidon::{self, Domain},
	F,
};
use alloc::vec::Vec;
use ark_ff::AdditiveGroup;

/// Depth of the participant tree in bits (2^24 participant slots).
pub const PARTICIPANT_DEPTH: usize = 24;
/// Depth of each patient's consent subtree in bits (4096 grant slots over a patient's lifetime).
pub const GRANT_DEPTH: usize = 12;
/// Children per node.
pub const ARITY: usize = 8;
/// Index bits one level consumes.
pub const ARITY_BITS: usize = 3;
/// Siblings per level of a path.
pub const SIBLINGS: usize = ARITY - 1;
/// Levels of the participant tree.
pub const PARTICIPANT_LEVELS: usize = PARTICIPANT_DEPTH / ARITY_BITS;
/// Levels of a consent subtree.
pub const GRANT_LEVELS: usize = GRANT_DEPTH / ARITY_BITS;

const _: () =
	assert!(PARTICIPANT_DEPTH.is_multiple_of(ARITY_BITS) && GRANT_DEPTH.is_multiple_of(ARITY_BITS));

/// An inner node over its eight children.
pub fn node(children: &[F; ARITY]) -> F {
	poseidon::hash_wide(Domain::MerkleNode, children)
}

/// The position of `index`'s ancestor among its siblings at `level`.
pub fn position(index: u32, level: usize) -> usize {
	((index >> (ARITY_BITS * level)) & (ARITY as u32 - 1)) as usize
}

/// The eight children of a node whose child at `position` is `cur` and whose other children
/// are `siblings` in order.
pub fn children(cur: F, position: usize, siblings: &[F]) -> [F; ARITY] {
	core::array::from_fn(|j| match j.cmp(&position) {
		core::cmp::Ordering::Less => siblings[j],
		core::cmp::Ordering::Equal => cur,
		core::cmp::Ordering::Greater => siblings[j - 1],
	})
}

/// The root that `siblings` (seven per level, from the leaves up) give for `leaf` at `index`.
/// Index digits beyond the path's levels are ignored; callers that need the index to fit check
/// it themselves.
pub fn root(leaf: F, index: u32, siblings: &[F]) -> F {
	let mut cur = leaf;
	for (level, sibs) in siblings.chunks(SIBLINGS).enumerate() {
		cur = node(&children(cur, position(index, level), sibs));
	}
	cur
}

/// Roots of empty subtrees of height `0..=levels`.
pub fn empty_roots(levels: usize) -> Vec<F> {
	let mut out = alloc::vec![F::ZERO];
	for k in 0..levels {
		out.push(node(&[out[k]; ARITY]));
	}
	out
}

/// The siblings of an all-empty path of `levels` levels.
pub fn empty_path(levels: usize) -> Vec<F> {
	empty_roots(levels)[..levels].iter().flat_map(|e| [*e; SIBLINGS]).collect()
}

/// The root of an empty participant tree ([`crate::state::empty_state_root`] adds the header).
pub fn empty_participant_root() -> F {
	empty_roots(PARTICIPANT_LEVELS)[PARTICIPANT_LEVELS]
}

/// The root of an empty consent subtree.
pub fn empty_consent_root() -> F {
	empty_roots(GRANT_LEVELS)[GRANT_LEVELS]
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn children_put_the_node_at_its_position() {
		let sibs: Vec<F> = (1..=7u64).map(F::from).collect();
		let cur = F::from(100u64);
		for pos in 0..ARITY {
			let c = children(cur, pos, &sibs);
			assert_eq!(c[pos], cur);
			let rest: Vec<F> =
				c.iter().enumerate().filter(|(j, _)| *j != pos).map(|(_, v)| *v).collect();
			assert_eq!(rest, sibs, "position {pos}");
		}
	}

	#[test]
	fn positions_are_base_8_digits() {
		let index = 0o7_3_5_1u32;
		assert_eq!((0..4).map(|l| position(index, l)).collect::<Vec<_>>(), [1, 5, 3, 7]);
	}

	#[test]
	fn a_path_reaches_the_root_of_a_two_level_tree() {
		// Leaves 0..64 of a height-2 tree, built level by level, against `root` for each leaf.
		let leaves: Vec<F> = (0..64u64).map(|i| F::from(i * i + 3)).collect();
		let level1: Vec<F> =
			leaves.chunks(ARITY).map(|c| node(&c.try_into().expect("8 children"))).collect();
		let top = node(&level1[..].try_into().expect("8 children"));
		for index in [0u32, 1, 9, 35, 63] {
			let i = index as usize;
			let mut sibs: Vec<F> = leaves[i & !7..(i & !7) + 8].to_vec();
			sibs.remove(i & 7);
			let mut upper = level1.clone();
			upper.remove(i >> 3);
			sibs.extend(upper);
			assert_eq!(root(leaves[i], index, &sibs), top, "leaf {index}");
			assert_ne!(root(leaves[i] + F::from(1u64), index, &sibs), top);
			assert_ne!(root(leaves[i], index ^ 8, &sibs), top, "another position");
		}
	}

	#[test]
	fn empty_paths_give_the_empty_roots() {
		assert_eq!(root(F::ZERO, 12345, &empty_path(PARTICIPANT_LEVELS)), empty_participant_root());
		assert_eq!(root(F::ZERO, 4095, &empty_path(GRANT_LEVELS)), empty_consent_root());
		assert_eq!(empty_path(GRANT_LEVELS).len(), GRANT_LEVELS * SIBLINGS);
	}
}
