//! `emr-prover verify`: checks a proof file, and optionally what it proves.

use crate::io::{self, FileError};
use ark_bls12_381::Bls12_381;
use ark_groth16::PreparedVerifyingKey;
use clap::Args;
use emr_circuit::{
	files::ProofFile,
	groth16::{self, read_file, ProverError},
};
use emr_primitives::inbox::PublicInputs;
use std::{
	path::{Path, PathBuf},
	time::Instant,
};

/// Verifies a proof file; with `--batch`, also that it proves exactly that batch file's
/// entries (number and inbox commitment); with `--prev`, that it continues that earlier
/// proof (verified too): the next batch number, starting from its new root.
#[derive(Debug, Args)]
pub struct VerifyCmd {
	/// Key directory written by `setup`.
	#[arg(long)]
	keys: PathBuf,
	/// Proof file.
	#[arg(long)]
	proof: PathBuf,
	/// The batch file the proof must be about.
	#[arg(long)]
	batch: Option<PathBuf>,
	/// The proof of the previous batch.
	#[arg(long)]
	prev: Option<PathBuf>,
}

/// Why a proof is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
	/// A key, batch or proof file.
	#[error(transparent)]
	File(#[from] FileError),
	/// A key or proof does not decode, or verification could not run.
	#[error(transparent)]
	Prover(#[from] ProverError),
	/// A root in the proof file is not a field element.
	#[error("{path}: a root is not a field element")]
	NotField {
		/// The proof file.
		path: String,
	},
	/// The proof does not verify.
	#[error("batch {batch} ({path}): proof INVALID")]
	Invalid {
		/// Its batch.
		batch: u64,
		/// The proof file.
		path: String,
	},
	/// The proof is about another batch than the batch file.
	#[error("the proof is for batch {proven}, {path} holds batch {held}")]
	OtherBatch {
		/// The proof's batch.
		proven: u64,
		/// The batch file.
		path: String,
		/// The batch file's batch.
		held: u64,
	},
	/// The proof is about other entries than the batch file's.
	#[error(
		"batch {batch}: the proof's inbox commitment is not that of the {entries} entries in \
		 {path}: it proves other operations"
	)]
	OtherEntries {
		/// The batch.
		batch: u64,
		/// Entries in the batch file.
		entries: usize,
		/// The batch file.
		path: String,
	},
	/// The proof does not follow the previous one.
	#[error("batch {batch} does not follow batch {prev} of {path}")]
	NotNext {
		/// The proof's batch.
		batch: u64,
		/// The previous proof's batch.
		prev: u64,
		/// The previous proof file.
		path: String,
	},
	/// The proof does not start where the previous one ended.
	#[error("batch {batch} does not start from the root batch {prev} ended with ({old} ≠ {new})")]
	OtherRoot {
		/// The proof's batch.
		batch: u64,
		/// The previous proof's batch.
		prev: u64,
		/// The proof's old root (hex).
		old: String,
		/// The previous proof's new root (hex).
		new: String,
	},
}

/// Reads and verifies one proof file: its contents, public inputs and the verification time.
fn verify_file(
	pvk: &PreparedVerifyingKey<Bls12_381>,
	path: &Path,
) -> Result<(ProofFile, PublicInputs, f64), VerifyError> {
	let pf = io::proof_file(path)?;
	let public =
		pf.public().ok_or_else(|| VerifyError::NotField { path: path.display().to_string() })?;
	let p = groth16::from_bytes("proof", &pf.proof)?;
	let t = Instant::now();
	let ok = groth16::verify(pvk, &public, &p)?;
	let ms = t.elapsed().as_secs_f64() * 1e3;
	if !ok {
		return Err(VerifyError::Invalid { batch: pf.batch, path: path.display().to_string() });
	}
	Ok((pf, public, ms))
}

impl VerifyCmd {
	/// Verifies the proof and the optional checks, and prints what holds.
	pub fn execute(self) -> Result<(), VerifyError> {
		let Self { keys, proof, batch, prev } = self;
		let vk = groth16::from_bytes(
			"verifying key",
			&read_file(&keys.join("verifying.key")).map_err(FileError::from)?,
		)?;
		groth16::check_input_count(&vk)?;
		let pvk = groth16::prepare(&vk);
		let (pf, public, ms) = verify_file(&pvk, &proof)?;
		let mut checked = vec![];
		if let Some(batch) = batch {
			let file = io::batch_file(&batch)?;
			if file.number != pf.batch {
				return Err(VerifyError::OtherBatch {
					proven: pf.batch,
					path: batch.display().to_string(),
					held: file.number,
				});
			}
			if emr_primitives::inbox::commitment(&file.deployment, &file.entries)
				!= public.inbox_commitment
			{
				return Err(VerifyError::OtherEntries {
					batch: pf.batch,
					entries: file.entries.len(),
					path: batch.display().to_string(),
				});
			}
			checked.push(format!(
				"proves the {} entries of {}",
				file.entries.len(),
				batch.display()
			));
		}
		if let Some(prev) = prev {
			let (before, prev_public, _) = verify_file(&pvk, &prev)?;
			if before.batch.checked_add(1) != Some(pf.batch) {
				return Err(VerifyError::NotNext {
					batch: pf.batch,
					prev: before.batch,
					path: prev.display().to_string(),
				});
			}
			if prev_public.new_root != public.old_root {
				return Err(VerifyError::OtherRoot {
					batch: pf.batch,
					prev: before.batch,
					old: hex::encode(pf.roots[0]),
					new: hex::encode(before.roots[1]),
				});
			}
			checked.push(format!("continues batch {} (proof valid)", before.batch));
		}
		println!("batch {}: proof VALID ({ms:.1} ms)", pf.batch);
		for c in checked {
			println!("  and {c}");
		}
		Ok(())
	}
}
