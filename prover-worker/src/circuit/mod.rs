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

pub use slot::{GrantWitness, LeafWitness, SlotWitness};

use ark_ed_on_bls12_381_bandersnatch::{constraints::EdwardsVar, EdwardsAffine};
use ark_r1cs_std::{fields::fp::FpVar, prelude::*};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use emr_primitives::{inbox::PublicInputs, F};
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
	/// The deployment id's field element `d` (a private input: the inbox chain starts from it
	/// and every signature's challenge covers it).
	pub deployment: F,
	/// One witness per slot (entries first, then padding), exactly the circuit's batch size.
	pub slots: Vec<SlotWitness>,
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
			old_root: emr_primitives::state::empty_roots(emr_primitives::ops::PARTICIPANT_DEPTH)
				[emr_primitives::ops::PARTICIPANT_DEPTH],
			slots: (0..batch_size).map(|_| SlotWitness::padding_on_empty_state()).collect(),
		};
		Self::new(witness, None)
	}
}

impl ConstraintSynthesizer<F> for &BatchCircuit {
	fn generate_constraints(self, cs: ConstraintSystemRef<F>) -> Result<(), SynthesisError> {
		let w = &self.witness;
		let old_root = FpVar::new_input(cs.clone(), || {
			Ok(self.public.map(|p| p.old_root).unwrap_or(w.old_root))
		})?;
		// The remaining inputs are allocated after the slots when no public inputs are fixed, so
		// allocate placeholders in a fixed order: new_root, commitment, batch.
		let mut root = old_root.clone();
		// The inbox chain starts from the deployment id; the public commitment binds it.
		let deployment = FpVar::new_witness(cs.clone(), || Ok(w.deployment))?;
		let mut chain = deployment.clone();
		let mut block = FpVar::zero();
		let slot_results = (|| -> Result<(), SynthesisError> {
			for s in &w.slots {
				let (r, c, b) =
					slot::synthesize(cs.clone(), s, &deployment, &root, &chain, &block)?;
				root = r;
				chain = c;
				block = b;
			}
			Ok(())
		})();
		slot_results?;
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
}

/// Native helper: a point as a variable-free constant.
pub fn point_constant(p: EdwardsAffine) -> PointVar {
	PointVar::constant(p.into())
}
