//! Poseidon in constraints: the twin of [`emr_primitives::poseidon`].
//!
//! Each S-box costs three constraints (`x²`, `x⁴`, `x⁵`); round constants and the MDS matrix are
//! linear and free. A permutation costs `3·(3·8 + 57) = 243` constraints; the wide one (8-ary
//! tree nodes) `3·(9·8 + 63) = 405`.

use super::Fv;
use ark_ff::AdditiveGroup;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::{LinearCombination, SynthesisError, Variable};
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
		let full = round < half || round >= half + partial;
		// Round constants of the elements that skip the S-box join the linear layer.
		let mut pending = [F::ZERO; W];
		for (i, (s, c)) in state.iter_mut().zip(ark.iter()).enumerate() {
			if full || i == 0 {
				*s += *c;
				*s = sbox(s)?;
			} else {
				pending[i] = *c;
			}
		}
		let next =
			mds.iter().map(|row| mix(row, state, &pending)).collect::<Result<Vec<_>, _>>()?;
		*state = core::array::from_fn(|i| next[i].clone());
	}
	Ok(())
}

/// `Σ_j row[j]·(state[j] + pending[j])` as one linear combination. The same circuit as a chain
/// of additions, but setup, which expands every intermediate linear combination into its
/// variables (the partial rounds' grow with each round), sees one per element and round
/// instead of ten.
fn mix<const W: usize>(
	row: &[F; W],
	state: &[Fv; W],
	pending: &[F; W],
) -> Result<Fv, SynthesisError> {
	let mut constant = F::ZERO;
	let mut lc = LinearCombination::<F>::zero();
	let mut value = Some(F::ZERO);
	let mut cs = None;
	for ((m, s), p) in row.iter().zip(state).zip(pending) {
		constant += *m * p;
		match s {
			FpVar::Constant(c) => constant += *m * c,
			FpVar::Var(v) => {
				lc.0.push((*m, v.variable));
				value = value.zip(v.value().ok()).map(|(acc, x)| acc + *m * x);
				cs = Some(v.cs.clone());
			},
		}
	}
	let Some(cs) = cs else { return Ok(Fv::constant(constant)) };
	if constant != F::ZERO {
		lc.0.push((constant, Variable::One));
	}
	let variable = cs.new_lc(|| lc)?;
	Ok(FpVar::Var(AllocatedFp::new(value.map(|v| v + constant), variable, cs)))
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
