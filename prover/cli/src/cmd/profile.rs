//! `emr-prover profile`: the time and peak memory of every phase of proving one batch.

use crate::io::{self, FileError};
use ark_bls12_381::Bls12_381;
use ark_groth16::ProvingKey;
use clap::Args;
use emr_circuit::{
	circuit::BatchWitness,
	files,
	groth16::{self, read_file, BatchProver, ProverError},
	witness::{self, WitnessError},
};
use emr_primitives::inbox::PublicInputs;
use emr_state_store::{Store, StoreError};
use rand_core::SeedableRng;
use std::{path::PathBuf, time::Instant};

/// Times each phase of proving one batch (fresh state) and reports the peak memory of
/// each: key loading, constraint matrices, witness, synthesis, QAP witness map and every
/// multi-scalar multiplication, and the reference `ark-groth16` path beside the cached one.
#[derive(Debug, Args)]
pub struct ProfileCmd {
	/// Key directory written by `setup`.
	#[arg(long)]
	keys: PathBuf,
	/// Batch file (applied to an empty state).
	#[arg(long)]
	batch: PathBuf,
	/// Only the cached-key prover: skips the reference `ark-groth16` path and the arkworks
	/// MSMs (for core-scaling runs, where only the prover the worker uses matters).
	#[arg(long)]
	cached_only: bool,
}

/// Why profiling stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
	/// A key or batch file.
	#[error(transparent)]
	File(#[from] FileError),
	/// The scratch state.
	#[error(transparent)]
	Store(#[from] StoreError),
	/// The batch has no witness.
	#[error(transparent)]
	Witness(#[from] WitnessError),
	/// Proving failed.
	#[error(transparent)]
	Prover(#[from] ProverError),
	/// An MSM's points and scalars differ in length.
	#[error("MSM length mismatch ({0})")]
	MsmLength(usize),
	/// Two ways of computing the same thing disagree.
	#[error("{0} differ")]
	Differ(&'static str),
	/// A proof does not verify.
	#[error("the {0} proof does not verify")]
	NotVerified(&'static str),
}

/// Peak resident memory of this process since the last [`reset_peak`], in MiB (Linux).
fn peak_mib() -> String {
	std::fs::read_to_string("/proc/self/status")
		.ok()
		.and_then(|s| {
			s.lines()
				.find_map(|l| l.strip_prefix("VmHWM:"))
				.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
		})
		.map(|kb| (kb / 1024).to_string())
		.unwrap_or_else(|| "?".into())
}

/// Resets the peak resident memory (`VmHWM`) to the current one (Linux `clear_refs` 5).
fn reset_peak() {
	let _ = std::fs::write("/proc/self/clear_refs", "5");
}

impl ProfileCmd {
	/// Proves the batch over a fresh state, timing every phase.
	pub fn execute(self) -> Result<(), ProfileError> {
		let Self { keys, batch, cached_only } = self;
		let (keys, batch) = (keys.as_path(), batch.as_path());

		use ark_ec::VariableBaseMSM;
		type G1 = ark_bls12_381::G1Projective;
		type G2 = ark_bls12_381::G2Projective;

		let slots = io::batch_size(keys)?;
		let file = io::batch_file(batch)?;
		println!(
			"profile: batch {} ({} entries, {slots} slots), {} rayon threads, {} CPUs",
			file.number,
			file.entries.len(),
			rayon_threads(),
			std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
		);
		println!("{:<50} {:>9} {:>10}", "phase", "seconds", "peak MiB");
		let row = |what: &str, t: Instant| {
			println!("{what:<50} {:>9.3} {:>10}", t.elapsed().as_secs_f64(), peak_mib());
			reset_peak();
		};
		reset_peak();
		let t = Instant::now();
		let bytes = read_file(&keys.join("proving.key")).map_err(FileError::from)?;
		let expected = files::manifest_value(keys, "proving_key").map_err(FileError::Keys)?;
		let pk: ProvingKey<Bls12_381> = groth16::read_proving_key(&bytes, &expected)?;
		drop(bytes);
		row("read proving key (fingerprint, decode)", t);
		let t = Instant::now();
		let copy = pk.clone();
		row("copy of the key (profiling only)", t);
		// Without the reference path, the arkworks key is needed only for the copy.
		let pk = if cached_only { None } else { Some(pk) };
		let t = Instant::now();
		let prover = BatchProver::new(copy, slots)?;
		let (matrices_s, conversion_s) = prover.load_seconds();
		row(
			&format!("load: matrices {matrices_s:.1} s + blst points {conversion_s:.1} s (once)"),
			t,
		);
		let dir = io::tempdir()?;
		let mut store = Store::open(dir.join("state.redb"), file.deployment)?;
		let t = Instant::now();
		let (w, public, _) = witness::build(&mut store, file.number, &file.entries, slots)?;
		row("witness (replay over the Merkle store)", t);
		drop(store);
		let _ = std::fs::remove_dir_all(&dir);
		let mut rng = rand_chacha::ChaCha20Rng::from_entropy();

		let reference = match &pk {
			Some(pk) => {
				let t = Instant::now();
				let proof = groth16::prove(pk, w.clone(), public, &mut rng)?;
				row("REFERENCE: ark-groth16 prove (all phases)", t);
				Some(proof)
			},
			None => None,
		};

		// The phases one after another (the prover before slots were synthesized in parallel and
		// MSMs run concurrently), each timed; then the prover the worker uses, on the same batch.
		let mut sequential = 0.0;
		let t = Instant::now();
		let one_by_one = BatchWitness { starts: vec![], ..w.clone() };
		let full = prover.assignment(one_by_one, public)?;
		sequential += t.elapsed().as_secs_f64();
		row("synthesis, assignment only, slots one by one", t);
		let t = Instant::now();
		let parallel = prover.assignment(w.clone(), public)?;
		row("synthesis, assignment only, slots in parallel", t);
		if parallel != full {
			return Err(ProfileError::Differ("the parallel and sequential assignments"));
		}
		drop(parallel);
		let t = Instant::now();
		let h = prover.witness_map(&full)?;
		sequential += t.elapsed().as_secs_f64();
		row("QAP witness map (FFTs)", t);
		let num_inputs = PublicInputs::LEN + 1;
		let (all, aux) = (&full[1..], &full[num_inputs..]);
		let b = prover.bases();
		let mut same = true;
		macro_rules! msm_pair {
			($name:expr, $group:ty, $field:ident[$from:literal..], $bases:expr, $scalars:expr) => {{
				let ark = match &pk {
					Some(pk) => {
						let points = &pk.$field[$from..];
						let t = Instant::now();
						let ark =
							<$group>::msm(points, &$scalars[..points.len().min($scalars.len())])
								.map_err(ProfileError::MsmLength)?;
						row(&format!("MSM {} arkworks ({} points)", $name, points.len()), t);
						Some(ark)
					},
					None => None,
				};
				let t = Instant::now();
				let fast = $bases.msm($scalars);
				sequential += t.elapsed().as_secs_f64();
				row(&format!("MSM {} blst", $name), t);
				same &= ark.map_or(true, |ark| ark == fast);
			}};
		}
		msm_pair!("G1 h", G1, h_query[0..], b.h, &h);
		msm_pair!("G1 l", G1, l_query[0..], b.l, aux);
		msm_pair!("G1 a", G1, a_query[1..], b.a, all);
		msm_pair!("G1 b", G1, b_g1_query[1..], b.b_g1, all);
		msm_pair!("G2 b", G2, b_g2_query[1..], b.b_g2, all);
		if !same {
			return Err(ProfileError::Differ("blst and arkworks MSMs"));
		}
		drop((h, full, pk));

		println!("{:<50} {sequential:>9.3}", "sum of the phases one after another (above)");
		reset_peak();
		let t = Instant::now();
		let proof = prover.prove(w, public, &mut rng)?;
		row("CACHED: BatchProver::prove (parallel, checked)", t);
		let pvk = groth16::prepare(prover.verifying_key());
		for (name, p) in [("reference", reference.as_ref()), ("cached", Some(&proof))] {
			if !p.map_or(Ok(true), |p| groth16::verify(&pvk, &public, p))? {
				return Err(ProfileError::NotVerified(name));
			}
		}
		if cached_only {
			println!("the proof verifies; {} constraints", prover.num_constraints());
		} else {
			println!(
				"blst and arkworks MSMs agree; both proofs verify; {} constraints",
				prover.num_constraints()
			);
		}
		Ok(())
	}
}

fn rayon_threads() -> usize {
	std::env::var("RAYON_NUM_THREADS")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}
