//! Merkle paths: [`MerklePath`] and the reads and writes along a leaf's path.

use crate::{consent_node, in_range, participant_node, NodeKey, Snapshot, Store, StoreError};
use ark_ff::AdditiveGroup;
use emr_primitives::{
	ops::{GrantId, ParticipantId, GRANT_DEPTH, PARTICIPANT_DEPTH},
	tree::{self, ARITY, ARITY_BITS, SIBLINGS},
	F,
};

/// A Merkle path: the leaf's index and its siblings from the leaf level upward, seven per
/// level in the order of [`tree::children`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
	/// Index of the leaf (base-8 digit `l` = position at level `l`).
	pub index: u32,
	/// Siblings, `siblings[7l..7l + 7]` at level `l` (the leaves are level 0).
	pub siblings: Vec<F>,
}

impl MerklePath {
	/// Levels of the tree this path belongs to.
	pub fn levels(&self) -> usize {
		self.siblings.len() / SIBLINGS
	}

	/// The root this path gives for `leaf`.
	pub fn root(&self, leaf: F) -> F {
		tree::root(leaf, self.index, &self.siblings)
	}

	/// Membership: `leaf` sits at `index` under `root` (the index must fit the levels).
	pub fn verify(&self, root: F, leaf: F) -> bool {
		self.siblings.len().is_multiple_of(SIBLINGS)
			&& (self.index as u64) >> (ARITY_BITS * self.levels()).min(63) == 0
			&& self.root(leaf) == root
	}

	/// Non-membership: slot `index` under `root` is empty (its leaf is 0).
	pub fn verify_absent(&self, root: F) -> bool {
		self.verify(root, F::ZERO)
	}
}

impl Store {
	/// Path of participant slot `id` to [`Store::root`]; with [`Store::participant_leaf`] a
	/// membership proof, and for an empty slot a non-membership proof
	/// ([`MerklePath::verify_absent`]).
	pub fn participant_path(&self, id: ParticipantId) -> MerklePath {
		self.path(id, PARTICIPANT_DEPTH, "participant", participant_node)
	}

	/// Path of grant slot `slot` to [`Store::consent_root`] of `patient`; with
	/// [`Store::grant_leaf`] a membership proof, for an empty slot a non-membership proof.
	pub fn grant_path(&self, patient: ParticipantId, slot: GrantId) -> MerklePath {
		if !in_range(patient, PARTICIPANT_DEPTH) {
			self.poison(StoreError::OutOfRange {
				what: "participant",
				value: patient,
				depth: PARTICIPANT_DEPTH,
			});
		}
		self.path(slot, GRANT_DEPTH, "grant slot", |level, index| {
			consent_node(patient, level, index)
		})
	}

	/// A path for slot `index` (siblings read through `key`), or an all-empty path with the
	/// store poisoned when the index does not fit.
	fn path(
		&self,
		index: u32,
		depth: usize,
		what: &'static str,
		key: impl Fn(usize, u32) -> NodeKey,
	) -> MerklePath {
		if !in_range(index, depth) {
			self.poison(StoreError::OutOfRange { what, value: index, depth });
			return MerklePath { index: 0, siblings: self.empty_path(depth) };
		}
		let snap = match self.snapshot() {
			Ok(snap) => snap,
			Err(e) => {
				self.poison(e);
				return MerklePath { index, siblings: self.empty_path(depth) };
			},
		};
		let mut siblings = Vec::with_capacity(depth / ARITY_BITS * SIBLINGS);
		for level in 0..depth / ARITY_BITS {
			let i = index >> (ARITY_BITS * level);
			for j in (0..ARITY as u32).filter(|j| *j != i % ARITY as u32) {
				let k = key(level, i - i % ARITY as u32 + j);
				siblings.push(self.node(&snap, k).unwrap_or_else(|e| {
					self.poison(e);
					self.empty[level]
				}));
			}
		}
		MerklePath { index, siblings }
	}

	/// The siblings of an all-empty path in a tree of `depth` index bits.
	fn empty_path(&self, depth: usize) -> Vec<F> {
		self.empty[..depth / ARITY_BITS].iter().flat_map(|e| [*e; SIBLINGS]).collect()
	}

	/// Sets leaf `index` of a tree to `leaf` and recomputes the `levels` nodes above it (into
	/// the overlay); returns the tree's new root.
	pub(crate) fn update_path(
		&mut self,
		snap: &Snapshot,
		index: u32,
		levels: usize,
		leaf: F,
		key: impl Fn(usize, u32) -> NodeKey,
	) -> Result<F, StoreError> {
		let mut nodes = Vec::with_capacity(levels + 1);
		let mut cur = leaf;
		nodes.push((key(0, index), cur));
		for level in 0..levels {
			let i = index >> (ARITY_BITS * level);
			let first = i - i % ARITY as u32;
			let mut children = [F::ZERO; ARITY];
			for (j, child) in children.iter_mut().enumerate() {
				let at = first + j as u32;
				*child = if at == i { cur } else { self.node(snap, key(level, at))? };
			}
			cur = tree::node(&children);
			nodes.push((key(level + 1, i >> ARITY_BITS), cur));
		}
		self.overlay.nodes.extend(nodes);
		Ok(cur)
	}
}
