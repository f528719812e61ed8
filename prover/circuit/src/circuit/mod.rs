//! The batch circuit: R1CS constraints proving that a batch of inbox entries, applied under the
//! rules of [`emr_primitives::rules`] to the state with root `old_root`, yields `new_root`.
//!
//! # Public inputs
//!
//! `[old_root, new_root, inbox_commitment, batch]` ([`emr_primitives::inbox::PublicInputs`]).
//!
//! # One slot per operation
//!
//! The circuit has a fixed number of slots (the batch size chosen at setup); unused slots are
//! padding that changes nothing. Every slot has the same shape, mirroring the rules' "subject /
//! other party / grant slot" structure:
//!
//! ```text
//!  root₀ ──(leaf 1: other party; nonce += 1 when it is the actor)──▶ root₁
//!  consent subtree of leaf 2: grant slot g  old ──▶ new   (consent root₀ ──▶ consent root₁)
//!  root₁ ──(leaf 2: subject; every other change)─────────────────────▶ root₂
//!  chain ──▶ Poseidon(InboxChain, [chain, entry hash])      (unchanged for padding)
//! ```
//!
//! The chain starts from the deployment id `d`, a private input that every slot's signature
//! check also uses: the public commitment, computed by the verifier from its own `d`, binds the
//! proof to one deployment without a fifth public input.
//!
//! Each slot also carries the block of its entry to the next: a slot's block is never below the
//! previous slot's (`rules::in_block_order`; padding keeps it), and every part of the operation's
//! encoding its kind does not use is zero (`ops::canonical`).
//!
//! plus one Schnorr verification (actor key, new key for registration, or the pinned
//! doctor + hospital joint key for emergency access) and the rule checks, each enforced only when
//! the slot's operation kind needs it. Each [`emr_primitives::rules::RuleError`] corresponds to
//! one or more of these conditional constraints; the tests check that every rejection is
//! unsatisfiable.

pub mod merkle;
pub mod poseidon;
pub mod schnorr;
mod slot;

pub use slot::{Carry, GrantWitness, LeafWitness, SlotWitness, ORG_CHUNKS};

use ark_ed_on_bls12_381_bandersnatch::{constraints::EdwardsVar, EdwardsAffine};
use ark_r1cs_std::{fields::fp::FpVar, prelude::*};
use ark_relations::gr1cs::{
	ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
	SynthesisMode,
};
use emr_primitives::{
	inbox::PublicInputs,
	poseidon::Domain,
	state::{two_pow, Header},
	F,
};
use std::cell::Cell;

/// A field variable.
pub type Fv = FpVar<F>;
/// A Bandersnatch point variable (twisted Edwards, affine).
pub type PointVar = EdwardsVar;

/// Everything the prover knows about a batch.
#[derive(Clone, Debug)]
pub struct BatchWitness {
	/// Batch number.
	pub batch: u64,
	/// Root before the batch.
	pub old_root: F,
	/// The participant tree root before the batch.
	pub participant_root: F,
	/// The header before the batch.
	pub header: Header,
	/// The deployment id's field element `d` (a private input: the inbox chain starts from it
	/// and every signature's challenge covers it).
	pub deployment: F,
	/// One witness per slot (entries first, then padding), exactly the circuit's batch size.
	pub slots: Vec<SlotWitness>,
	/// Where each slot starts, and after them where the batch ends, as the witness builder
	/// computed it natively (empty when unknown). Only a speed-up: with it,
	/// [`crate::groth16::BatchProver`] synthesizes the slots in parallel. A start is never a constraint: a wrong one either changes no
	/// witness value (a root that the slot's own update replaces) or makes an assignment
	/// that does not satisfy the circuit, whose proof does not verify (and the prover refuses
	/// it).
	pub starts: Vec<SlotStart>,
}

/// The values a slot starts from: what the slots before it leave (for slot 0: the batch's old
/// participant root and header, the deployment id and block 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotStart {
	/// The participant tree root.
	pub root: F,
	/// The inbox chain.
	pub chain: F,
	/// The block of the last entry (0 before the first).
	pub block: F,
	/// The header.
	pub header: Header,
}

impl SlotStart {
	/// The values of a [`Carry`], in its allocation order.
	pub fn values(&self) -> Vec<F> {
		let mut v = vec![
			self.root,
			self.chain,
			self.block,
			F::from(self.header.participants as u64),
			F::from(self.header.next_org as u64),
		];
		v.extend(self.header.orgs.chunks().map(|c| F::from(c as u64)));
		v
	}
}

/// The state root over a participant root and a header carried as variables
/// ([`Header::state_root`]).
fn state_root(carry: &Carry) -> Result<Fv, SynthesisError> {
	let half = |chunks: &[Fv]| {
		chunks.iter().enumerate().fold(Fv::zero(), |acc, (i, c)| acc + c * two_pow(16 * i as u64))
	};
	poseidon::hash(
		Domain::StateRoot,
		&[
			carry.root.clone(),
			&carry.next_org + &carry.participants * two_pow(8),
			half(&carry.orgs[..ORG_CHUNKS / 2]),
			half(&carry.orgs[ORG_CHUNKS / 2..]),
		],
	)
}

/// The batch circuit. `public` fixes the public inputs; with `None` (tests only) the circuit
/// exposes whatever roots and commitment the witness computes, so that a rule violation is the
/// only thing that can make it unsatisfiable.
pub struct BatchCircuit {
	/// The witness.
	pub witness: BatchWitness,
	/// The public inputs to prove against.
	pub public: Option<PublicInputs>,
	/// After synthesis: the new root and commitment the constraints computed.
	pub computed: Cell<Option<(F, F)>>,
}

impl BatchCircuit {
	/// A circuit for proving `witness` against `public`.
	pub fn new(witness: BatchWitness, public: Option<PublicInputs>) -> Self {
		Self { witness, public, computed: Cell::new(None) }
	}

	/// A circuit of `batch_size` padding slots (for setup: only the shape matters).
	pub fn blank(batch_size: usize) -> Self {
		let witness = BatchWitness {
			batch: 0,
			deployment: F::from(0u64),
			old_root: emr_primitives::state::empty_state_root(),
			participant_root: emr_primitives::tree::empty_participant_root(),
			header: Header::default(),
			slots: (0..batch_size).map(|_| SlotWitness::padding_on_empty_state()).collect(),
			starts: vec![],
		};
		Self::new(witness, None)
	}

	/// The variables every batch begins with, in this order: the public input `old_root`, the
	/// private deployment id, then the carry of slot 0 (the participant root and the header
	/// under `old_root`, the chain's start `d`, block 0). The header's chunks are range-checked
	/// here, once per batch; the slots keep them in range.
	fn head(&self, cs: &ConstraintSystemRef<F>) -> Result<(Fv, Carry), SynthesisError> {
		let w = &self.witness;
		let old_root = FpVar::new_input(cs.clone(), || {
			Ok(self.public.map(|p| p.old_root).unwrap_or(w.old_root))
		})?;
		let deployment = FpVar::new_witness(cs.clone(), || Ok(w.deployment))?;
		let root = FpVar::new_witness(cs.clone(), || Ok(w.participant_root))?;
		let participants =
			FpVar::new_witness(cs.clone(), || Ok(F::from(w.header.participants as u64)))?;
		let next_org = FpVar::new_witness(cs.clone(), || Ok(F::from(w.header.next_org as u64)))?;
		let orgs = w
			.header
			.orgs
			.chunks()
			.map(|v| FpVar::new_witness(cs.clone(), || Ok(F::from(v as u64))))
			.into_iter()
			.collect::<Result<Vec<_>, _>>()?;
		let _ =
			participants.to_bits_le_with_top_bits_zero(emr_primitives::ops::PARTICIPANT_DEPTH)?;
		let _ = next_org.to_bits_le_with_top_bits_zero(8)?;
		for chunk in &orgs {
			let _ = chunk.to_bits_le_with_top_bits_zero(16)?;
		}
		let carry = Carry {
			root,
			chain: deployment.clone(),
			block: FpVar::zero(),
			participants,
			next_org,
			orgs,
		};
		state_root(&carry)?.enforce_equal(&old_root)?;
		Ok((deployment, carry))
	}

	/// What follows the slots: the remaining public inputs (`new_root`, the commitment, the
	/// batch number) and their equality with what the slots computed.
	fn tail(&self, cs: &ConstraintSystemRef<F>, end: &Carry) -> Result<(), SynthesisError> {
		let w = &self.witness;
		let root = state_root(end)?;
		let chain = end.chain.clone();
		let computed = root.value().ok().zip(chain.value().ok());
		self.computed.set(computed);
		let new_root = FpVar::new_input(cs.clone(), || {
			self.public
				.map(|p| p.new_root)
				.or(computed.map(|c| c.0))
				.ok_or(SynthesisError::AssignmentMissing)
		})?;
		let commitment = FpVar::new_input(cs.clone(), || {
			self.public
				.map(|p| p.inbox_commitment)
				.or(computed.map(|c| c.1))
				.ok_or(SynthesisError::AssignmentMissing)
		})?;
		let batch = FpVar::new_input(cs.clone(), || {
			Ok(F::from(self.public.map(|p| p.batch).unwrap_or(w.batch)))
		})?;
		root.enforce_equal(&new_root)?;
		chain.enforce_equal(&commitment)?;
		// Bind the batch number into a constraint of its own.
		let _ = batch.square()?;
		Ok(())
	}

	/// The full assignment `[1, public inputs…, witness…]` with the slots synthesized in
	/// parallel, each in a constraint system of its own ([`assignment_system`]) that starts
	/// from `starts[i]`. Slot 0 is synthesized in the batch's own system, as in
	/// [`ConstraintSynthesizer::generate_constraints`], because it starts from the constant
	/// block 0; every later slot starts from variables in both ways, so its witness variables
	/// are the same, in the same order. The tail (the new state root) is synthesized apart too,
	/// from the end the builder recorded (`starts[slots]`). `None` when the witness has no
	/// starts.
	pub fn parallel_assignment(&self) -> Result<Option<Vec<F>>, SynthesisError> {
		use rayon::prelude::*;
		let w = &self.witness;
		if w.slots.is_empty() || w.starts.len() != w.slots.len() + 1 {
			return Ok(None);
		}
		let cs = assignment_system();
		let (deployment, carry) = self.head(&cs)?;
		let first = slot::synthesize(cs.clone(), &w.slots[0], &deployment, &carry)?;
		let split = cs.num_witness_variables();
		// Allocates the deployment id and a carry as the witnesses a separate system starts
		// from.
		let apart = |start: &SlotStart| -> Result<_, SynthesisError> {
			let sub = assignment_system();
			let d = FpVar::new_witness(sub.clone(), || Ok(w.deployment))?;
			let values = start
				.values()
				.into_iter()
				.map(|v| FpVar::new_witness(sub.clone(), || Ok(v)))
				.collect::<Result<Vec<_>, _>>()?;
			Ok((sub, d, Carry::from_values(values)))
		};
		let later: Vec<Vec<F>> = w.slots[1..]
			.par_iter()
			.zip(&w.starts[1..])
			.map(|(slot, start)| {
				let (sub, d, carry) = apart(start)?;
				// Its outputs are the next slot's start, which that slot allocates itself.
				let _end = slot::synthesize(sub.clone(), slot, &d, &carry)?;
				let mut values = sub.witness_assignment()?;
				values.drain(..1 + Carry::LEN);
				Ok(values)
			})
			.collect::<Result<_, SynthesisError>>()?;
		// The tail's witness variables (the new root's hash) depend on where the last slot
		// ended: they come from a system of their own that starts there. The batch's own tail
		// (from slot 0's end) only places the public inputs.
		self.tail(&cs, &first)?;
		let (sub, _, end) = apart(&w.starts[w.slots.len()])?;
		self.tail(&sub, &end)?;
		let mut tail = sub.witness_assignment()?;
		tail.drain(..1 + Carry::LEN);
		let main = cs.witness_assignment()?;
		let mut full = cs.instance_assignment()?;
		full.reserve(main.len() + later.iter().map(Vec::len).sum::<usize>());
		full.extend_from_slice(&main[..split]);
		for values in later {
			full.extend(values);
		}
		debug_assert_eq!(main.len() - split, tail.len());
		full.extend(tail);
		Ok(Some(full))
	}
}

impl ConstraintSynthesizer<F> for &BatchCircuit {
	fn generate_constraints(self, cs: ConstraintSystemRef<F>) -> Result<(), SynthesisError> {
		// The inbox chain starts from the deployment id; the public commitment binds it.
		let (deployment, mut carry) = self.head(&cs)?;
		for s in &self.witness.slots {
			carry = slot::synthesize(cs.clone(), s, &deployment, &carry)?;
		}
		self.tail(&cs, &carry)
	}
}

/// A constraint system that computes an assignment without building constraints (proving
/// mode, no matrices), with the optimization goal the keys were made with.
pub fn assignment_system() -> ConstraintSystemRef<F> {
	let cs = ConstraintSystem::<F>::new_ref();
	cs.set_optimization_goal(OptimizationGoal::Constraints);
	cs.set_mode(SynthesisMode::Prove { construct_matrices: false, generate_lc_assignments: false });
	cs
}

/// Native helper: a point as a variable-free constant.
pub fn point_constant(p: EdwardsAffine) -> PointVar {
	PointVar::constant(p.into())
}
