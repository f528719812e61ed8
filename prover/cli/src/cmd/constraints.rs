//! `emr-prover constraints`: the constraints of one slot for each kind of operation.

use super::example_batch::example_entries;
use crate::io::{self, FileError};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, SynthesisError};
use clap::Args;
use emr_circuit::{
	circuit::{BatchCircuit, BatchWitness},
	witness,
};
use emr_primitives::{names::kind_name, rules::RuleError, testing, F};
use emr_state_store::{Store, StoreError};

/// Prints the constraints of one slot for each operation kind of the example story.
#[derive(Debug, Args)]
pub struct ConstraintsCmd {}

/// Why the constraints could not be counted.
#[derive(Debug, thiserror::Error)]
pub enum ConstraintsError {
	/// The scratch directory.
	#[error(transparent)]
	File(#[from] FileError),
	/// The scratch state.
	#[error(transparent)]
	Store(#[from] StoreError),
	/// The circuit could not be synthesized.
	#[error(transparent)]
	Synthesis(#[from] SynthesisError),
	/// An example entry has no witness.
	#[error("example entry: {0:?}")]
	Witness(RuleError),
	/// The rules refuse an example entry.
	#[error("example entry refused: {0:?}")]
	Refused(RuleError),
}

fn count(w: BatchWitness) -> Result<usize, SynthesisError> {
	let circuit = BatchCircuit::new(w, None);
	let cs = ConstraintSystem::<F>::new_ref();
	(&circuit).generate_constraints(cs.clone())?;
	Ok(cs.num_constraints())
}

impl ConstraintsCmd {
	/// Walks the example story over a scratch state and prints each slot's constraints.
	pub fn execute(self) -> Result<(), ConstraintsError> {
		let dir = io::tempdir()?;
		let mut store = Store::open(dir.join("state.redb"), testing::deployment())?;
		// What every batch costs once (the old and new state roots over the header, the
		// public inputs), whatever its slots.
		let batch = count(witness::BatchStart::of(&store).witness(1, vec![]))?;
		println!("{:<22} {batch} constraints", "per batch");
		for entry in example_entries() {
			let start = witness::BatchStart::of(&store);
			let slot = witness::slot_witness(&mut store, &entry, false)
				.map_err(ConstraintsError::Witness)?;
			let total = count(start.witness(1, vec![slot]))?;
			println!(
				"{:<22} {} constraints per slot",
				kind_name(entry.op.op.kind()),
				total - batch
			);
			emr_primitives::rules::apply_entry(&mut store, &entry)
				.map_err(ConstraintsError::Refused)?;
		}
		let _ = std::fs::remove_dir_all(&dir);
		Ok(())
	}
}
