//! `emr-prover setup`: the circuit-specific Groth16 setup.

use crate::io::{self, FileError};
use clap::Args;
use emr_circuit::groth16::{self, write_file, ProverError};
use rand_core::SeedableRng;
use std::{path::PathBuf, time::Instant};

/// Circuit-specific setup: writes proving and verifying keys and prints their fingerprints.
#[derive(Debug, Args)]
pub struct SetupCmd {
	/// Operations per batch (slots of the circuit).
	#[arg(long)]
	batch_size: usize,
	/// Output directory.
	#[arg(long)]
	out: PathBuf,
	/// 32-byte hex seed for a reproducible (insecure!) setup; default: OS randomness.
	#[arg(long)]
	seed: Option<String>,
}

/// Why the setup failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
	/// `--batch-size 0`.
	#[error("--batch-size must be at least 1")]
	NoSlots,
	/// The seed is not hex.
	#[error("--seed is not hex: {0}")]
	SeedNotHex(hex::FromHexError),
	/// The seed is not 32 bytes.
	#[error("--seed must be 32 bytes")]
	SeedLength,
	/// Writing the keys failed.
	#[error(transparent)]
	File(#[from] FileError),
	/// The setup itself failed.
	#[error(transparent)]
	Prover(#[from] ProverError),
}

impl SetupCmd {
	/// Runs the setup and writes `proving.key`, `verifying.key` and `manifest.txt`.
	pub fn execute(self) -> Result<(), SetupError> {
		let Self { batch_size, out, seed } = self;
		if batch_size == 0 {
			return Err(SetupError::NoSlots);
		}
		io::create_dir(&out)?;
		let mut rng = match seed {
			Some(hex_seed) => {
				let bytes = hex::decode(hex_seed.trim_start_matches("0x"))
					.map_err(SetupError::SeedNotHex)?;
				let seed: [u8; 32] = bytes.try_into().map_err(|_| SetupError::SeedLength)?;
				eprintln!("warning: a seeded setup is reproducible and therefore insecure");
				rand_chacha::ChaCha20Rng::from_seed(seed)
			},
			None => rand_chacha::ChaCha20Rng::from_entropy(),
		};
		eprintln!("setting up a circuit of {batch_size} slots …");
		let t = Instant::now();
		let (pk, vk) = groth16::setup(batch_size, &mut rng)?;
		let pk_bytes = groth16::to_bytes_uncompressed(&pk);
		let vk_bytes = groth16::to_bytes(&vk);
		write_file(&out.join("proving.key"), &pk_bytes)?;
		write_file(&out.join("verifying.key"), &vk_bytes)?;
		let manifest = format!(
			"batch_size = {batch_size}\nproving_key = {}\nverifying_key = {}\n",
			groth16::fingerprint(&pk_bytes),
			groth16::fingerprint(&vk_bytes)
		);
		write_file(&out.join("manifest.txt"), manifest.as_bytes())?;
		println!("setup done in {:.1} s", t.elapsed().as_secs_f64());
		let constraints = groth16::constraint_count(batch_size)?;
		println!("constraints = {constraints} ({} per slot)", constraints / batch_size);
		print!("{manifest}");
		println!("proving key {} bytes, verifying key {} bytes", pk_bytes.len(), vk_bytes.len());
		Ok(())
	}
}
