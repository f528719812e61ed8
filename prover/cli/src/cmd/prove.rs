//! `emr-prover prove`: proves one batch file over a state directory.

use crate::io::{self, FileError};
use clap::Args;
use codec::Encode;
use emr_circuit::{
	files::{ProofFile, VERSION},
	groth16::{self, write_file, ProverError},
	witness::{self, WitnessError},
};
use emr_state_store::{Store, StoreError};
use rand_core::SeedableRng;
use std::{path::PathBuf, time::Instant};

/// Proves a batch file against the state directory and advances the state.
#[derive(Debug, Args)]
pub struct ProveCmd {
	/// Key directory written by `setup`.
	#[arg(long)]
	keys: PathBuf,
	/// State directory (created if missing).
	#[arg(long)]
	state: PathBuf,
	/// Batch file.
	#[arg(long)]
	batch: PathBuf,
	/// Proof file to write.
	#[arg(long)]
	out: PathBuf,
}

/// Why the batch was not proven.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
	/// A key, batch or proof file.
	#[error(transparent)]
	File(#[from] FileError),
	/// The state directory.
	#[error("state: {0}")]
	State(#[from] StoreError),
	/// The state is already past the batch.
	#[error("batch {batch} is already applied to this state (last batch {done})")]
	AlreadyApplied {
		/// The batch file's number.
		batch: u64,
		/// The state's last batch.
		done: u64,
	},
	/// The proving key could not be loaded.
	#[error("{0}")]
	Key(String),
	/// The batch has no witness.
	#[error(transparent)]
	Witness(#[from] WitnessError),
	/// Proving failed.
	#[error(transparent)]
	Prover(#[from] ProverError),
}

impl ProveCmd {
	/// Proves the batch, writes the proof file and commits the state.
	pub fn execute(self) -> Result<(), ProveError> {
		let Self { keys, state, batch, out } = self;
		let slots = io::batch_size(&keys)?;
		let file = io::batch_file(&batch)?;
		if file.version != VERSION {
			let path = batch.display().to_string();
			return Err(FileError::Version { path, version: file.version }.into());
		}
		io::create_dir(&state)?;
		let mut store = Store::open(state.join("state.redb"), file.deployment)?;
		if let Some(done) = store.committed_batch() {
			if file.number <= done {
				return Err(ProveError::AlreadyApplied { batch: file.number, done });
			}
		}
		eprintln!("reading the proving key …");
		let t = Instant::now();
		let prover = emr_worker::load_prover(&keys).map_err(ProveError::Key)?;
		eprintln!(
			"proving key read and checked, constraint matrices built in {:.1} s",
			t.elapsed().as_secs_f64()
		);
		let t = Instant::now();
		let (w, public, _) = witness::build(&mut store, file.number, &file.entries, slots)?;
		store.check()?;
		eprintln!("witness built in {:.1} s", t.elapsed().as_secs_f64());
		eprintln!(
			"proving batch {} ({} entries, {slots} slots) …",
			file.number,
			file.entries.len()
		);
		let t = Instant::now();
		let proof = prover.prove(w, public, &mut rand_chacha::ChaCha20Rng::from_entropy())?;
		println!("proved in {:.1} s", t.elapsed().as_secs_f64());
		let pf = ProofFile::new(&public, groth16::to_bytes(&proof));
		write_file(&out, &pf.encode()).map_err(FileError::from)?;
		store.commit(file.number)?;
		println!("old root   {}", hex::encode(pf.roots[0]));
		println!("new root   {}", hex::encode(pf.roots[1]));
		println!("commitment {}", hex::encode(pf.roots[2]));
		println!("proof written to {}", out.display());
		Ok(())
	}
}
