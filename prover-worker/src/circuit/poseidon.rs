//! Poseidon in constraints: the twin of [`emr_primitives::poseidon`].
//!
//! Each S-box costs three constraints (`x²`, `x⁴`, `x⁵`); round constants and the MDS matrix are
//! linear and free. A permutation costs `3·(3·8 + 57) = 243` constraints; the wide one (8-ary
//! tree nodes) `3·(9·8 + 63) = 405`.

use super::Fv;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;
use emr_primitives::{
	poseidon::{
		Domain, ARK, FULL_ROUNDS, MDS, PARTIAL_ROUNDS, WIDE, WIDE_ARK, WIDE_MDS,
		WIDE_PARTIAL_ROUNDS, WIDTH,
	},
	F,
};

fn sbox(x: &Fv) -> Result<Fv, SynthesisError> {
	let x2 = x.square()?;
	let x4 = x2.square()?;
	Ok(x4 * x)
}

/// The permutation, in place.
pub fn permute(state: &mut [Fv; WIDTH]) -> Result<(), SynthesisError> {
	rounds(state, &ARK, &MDS, PARTIAL_ROUNDS)
}

/// The wide permutation, in place.
pub fn permute_wide(state: &mut [Fv; WIDE]) -> Result<(), SynthesisError> {
	rounds(state, &WIDE_ARK, &WIDE_MDS, WIDE_PARTIAL_ROUNDS)
}

fn rounds<const W: usize>(
	state: &mut [Fv; W],
	ark: &[[F; W]],
	mds: &[[F; W]; W],
	partial: usize,
) -> Result<(), SynthesisError> {
	let half = FULL_ROUNDS / 2;
	for (round, ark) in ark.iter().enumerate() {
		for (s, c) in state.iter_mut().zip(ark.iter()) {
			*s += *c;
		}
		if round < half || round >= half + partial {
			for s in state.iter_mut() {
				*s = sbox(s)?;
			}
		} else {
			state[0] = sbox(&state[0])?;
		}
		let next: [Fv; W] = core::array::from_fn(|i| {
			mds[i].iter().zip(state.iter()).fold(Fv::zero(), |acc, (m, s)| acc + s * *m)
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

/// The sponge of [`emr_primitives::poseidon::hash_wide`].
pub fn hash_wide(domain: Domain, inputs: &[Fv]) -> Result<Fv, SynthesisError> {
	let mut state: [Fv; WIDE] = core::array::from_fn(|_| Fv::zero());
	state[0] = Fv::constant(domain.tag(inputs.len()));
	if inputs.is_empty() {
		permute_wide(&mut state)?;
	}
	for chunk in inputs.chunks(WIDE - 1) {
		for (s, x) in state[1..].iter_mut().zip(chunk) {
			*s += x;
		}
		permute_wide(&mut state)?;
	}
	Ok(state[1].clone())
}

/// An 8-ary Merkle node ([`emr_primitives::tree::node`]).
pub fn tree_node(children: &[Fv]) -> Result<Fv, SynthesisError> {
	hash_wide(Domain::MerkleNode, children)
}

/// A constant of the field as a variable-free [`Fv`].
pub fn constant(v: F) -> Fv {
	Fv::constant(v)
}
