//! Poseidon in constraints: the twin of [`emr_primitives::poseidon`].
//!
//! Each S-box costs three constraints (`x²`, `x⁴`, `x⁵`); round constants and the MDS matrix are
//! linear and free. A permutation costs `3·(3·8 + 57) = 243` constraints.

use super::Fv;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;
use emr_primitives::{
	poseidon::{Domain, ARK, FULL_ROUNDS, MDS, PARTIAL_ROUNDS, WIDTH},
	F,
};

fn sbox(x: &Fv) -> Result<Fv, SynthesisError> {
	let x2 = x.square()?;
	let x4 = x2.square()?;
	Ok(x4 * x)
}

/// The permutation, in place.
pub fn permute(state: &mut [Fv; WIDTH]) -> Result<(), SynthesisError> {
	let half = FULL_ROUNDS / 2;
	for (round, ark) in ARK.iter().enumerate() {
		for (s, c) in state.iter_mut().zip(ark.iter()) {
			*s += *c;
		}
		if round < half || round >= half + PARTIAL_ROUNDS {
			for s in state.iter_mut() {
				*s = sbox(s)?;
			}
		} else {
			state[0] = sbox(&state[0])?;
		}
		let next: [Fv; WIDTH] = core::array::from_fn(|i| {
			MDS[i].iter().zip(state.iter()).fold(Fv::zero(), |acc, (m, s)| acc + s * *m)
		});
		*state = next;
	}
	Ok(())
}

/// The sponge of [`emr_primitives::poseidon::hash`].
pub fn hash(domain: Domain, inputs: &[Fv]) -> Result<Fv, SynthesisError> {
	let mut state = [Fv::constant(domain.tag(inputs.len())), Fv::zero(), Fv::zero()];
	if inputs.is_empty() {
		permute(&mut state)?;
	}
	for chunk in inputs.chunks(2) {
		state[1] += &chunk[0];
		if let Some(second) = chunk.get(1) {
			state[2] += second;
		}
		permute(&mut state)?;
	}
	Ok(state[1].clone())
}

/// The sponge state before absorbing `len` inputs in `domain`.
pub fn sponge_start(domain: Domain, len: usize) -> [Fv; WIDTH] {
	[Fv::constant(domain.tag(len)), Fv::zero(), Fv::zero()]
}

/// Absorbs two inputs (one permutation). Lets hashes that share a prefix of inputs share the
/// permutations of that prefix; the result equals [`hash`] when the same inputs are absorbed.
pub fn sponge_absorb(state: &[Fv; WIDTH], a: &Fv, b: &Fv) -> Result<[Fv; WIDTH], SynthesisError> {
	let mut next = state.clone();
	next[1] += a;
	next[2] += b;
	permute(&mut next)?;
	Ok(next)
}

/// A Merkle node.
pub fn hash_node(left: &Fv, right: &Fv) -> Result<Fv, SynthesisError> {
	hash(Domain::MerkleNode, &[left.clone(), right.clone()])
}

/// A constant of the field as a variable-free [`Fv`].
pub fn constant(v: F) -> Fv {
	Fv::constant(v)
}
