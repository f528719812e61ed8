//! `emr-prover`: set up, prove and verify emr-chain batch proofs by hand; `run` is the
//! standalone prover worker (follows a node over JSON-RPC, proves every sealed batch, submits the
//! proofs) and `status` reads a worker's metrics.

use clap::{Parser, Subcommand};
use codec::{Decode, Encode};
use emr_primitives::{
	inbox::PublicInputs,
	ops::{permission, purpose, scope, Cid, Operation, Role},
	testing::{self, emergency, Actor},
};
use emr_prover::{
	files::{BatchFile, ProofFile, VERSION},
	groth16::{self, read_file, write_file},
	store::Store,
	witness,
};
use rand_core::SeedableRng;
use std::{
	path::{Path, PathBuf},
	process::ExitCode,
	time::Instant,
};

#[derive(Parser)]
#[command(name = "emr-prover", version, about = "emr-chain batch prover (Groth16, BLS12-381)")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Circuit-specific setup: writes proving and verifying keys and prints their fingerprints.
	Setup {
		/// Operations per batch (slots of the circuit).
		#[arg(long)]
		batch_size: usize,
		/// Output directory.
		#[arg(long)]
		out: PathBuf,
		/// 32-byte hex seed for a reproducible (insecure!) setup; default: OS randomness.
		#[arg(long)]
		seed: Option<String>,
	},
	/// Writes an example batch of the test deployment (`DeploymentId::named("test")`; the
	/// emr-chain story: admissions, a patient, consent, records,
	/// access, emergency, a claim).
	ExampleBatch {
		/// Output file.
		#[arg(long)]
		out: PathBuf,
		/// Batch number.
		#[arg(long, default_value_t = 1)]
		number: u64,
		/// Exactly this many entries: the story cut short, or filled up with more patients
		/// registering, granting consent and being read; default: the story alone.
		#[arg(long)]
		entries: Option<usize>,
		/// Leave out the story's first entries (those of earlier batches): the batch then holds
		/// entries `skip + 1 ..= skip + entries` of the (filled) story.
		#[arg(long, default_value_t = 0)]
		skip: usize,
	},
	/// Prints the constraints of one slot for each operation kind of the example story.
	Constraints,
	/// Proves a batch file against the state directory and advances the state.
	Prove {
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
	},
	/// Times each phase of proving one batch (fresh state) and reports the peak memory of
	/// each: key loading, constraint matrices, witness, synthesis, QAP witness map and every
	/// multi-scalar multiplication, and the reference `ark-groth16` path beside the cached one.
	Profile {
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
	},
	/// Verifies a proof file; with `--batch`, also that it proves exactly that batch file's
	/// entries (number and inbox commitment); with `--prev`, that it continues that earlier
	/// proof (verified too): the next batch number, starting from its new root.
	Verify {
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
	},
	/// The standalone prover worker: follows the node's finalized blocks over JSON-RPC, proves
	/// every sealed batch in order and submits `rollup.submit_proof` signed by the prover
	/// account. Runs until stopped (any moment is safe: see `emr_prover::worker`).
	Run {
		/// The node's JSON-RPC endpoint (`ws://host:port` or `http://host:port`; the node
		/// serves both on one port).
		#[arg(long, default_value = "ws://127.0.0.1:9944")]
		rpc: String,
		/// Key directory written by `setup` (the circuit of the chain's current verifying key).
		#[arg(long)]
		keys: PathBuf,
		/// State directory (the worker's Merkle state and pending proofs; created if missing).
		#[arg(long, default_value = "emr-prover-state")]
		state: PathBuf,
		/// A file holding the prover account's secret URI (a mnemonic, a `0x` seed, or
		/// `//Alice` for development accounts); the account must be in the chain's prover set.
		#[arg(long)]
		account_key: PathBuf,
		/// Where to serve Prometheus metrics (`host:port`; `none` to serve none).
		#[arg(long, default_value = "127.0.0.1:9616")]
		prometheus: String,
		/// Seconds between polls of the node.
		#[arg(long, default_value_t = 2)]
		poll: u64,
	},
	/// Prints a running worker's progress from its Prometheus metrics (standalone worker:
	/// port 9616; a node with `--prover`: its Prometheus port, 9615 by default).
	Status {
		/// The metrics endpoint.
		#[arg(long, default_value = "http://127.0.0.1:9616/metrics")]
		metrics: String,
	},
	/// Checks, the way the Ethereum contracts will, the node's latest BEEFY justification
	/// (signatures of more than two thirds of the validator set, the set's keyset commitment)
	/// and that a proven batch's rollup digest is in the MMR root it signed. Exits non-zero,
	/// with the reason, when anything disagrees.
	Beefy {
		/// The node's JSON-RPC endpoint.
		#[arg(long, default_value = "http://127.0.0.1:9944")]
		rpc: String,
		/// The batch to show under the signed root (default: the last proven batch).
		#[arg(long)]
		batch: Option<u64>,
	},
	/// Deploys the settlement contracts on Ethereum (a BEEFY light client trusting the chain's
	/// current and next validator sets, and `EmrRollup` with the chain's verifying key,
	/// continuing from its last proven batch), all read at the chain's finalized head; with
	/// `--sudo`, also records them on the chain (`ethBridge.setContracts`, development chains).
	/// Without it, prints the call for a council motion.
	L1Deploy {
		/// The node's JSON-RPC endpoint.
		#[arg(long, default_value = "http://127.0.0.1:9944")]
		rpc: String,
		/// The Ethereum node's JSON-RPC endpoint.
		#[arg(long, default_value = "http://127.0.0.1:8545")]
		l1: String,
		/// A file with the deployer's Ethereum private key (hex).
		#[arg(long)]
		l1_key: PathBuf,
		/// Who may replace the verifying key on Ethereum (default: the deployer).
		#[arg(long)]
		governor: Option<String>,
		/// A file with the sudo key's secret URI (`//Alice` on the development chains).
		#[arg(long)]
		sudo: Option<PathBuf>,
	},
	/// The relayer: settles every proven batch on Ethereum in order and reports where each
	/// settled (`ethBridge.confirm`). Reads the contracts' addresses from the chain; safe to
	/// stop and restart at any point.
	Relay {
		/// The node's JSON-RPC endpoint.
		#[arg(long, default_value = "http://127.0.0.1:9944")]
		rpc: String,
		/// The Ethereum node's JSON-RPC endpoint.
		#[arg(long, default_value = "http://127.0.0.1:8545")]
		l1: String,
		/// A file with the relayer's Ethereum private key (hex; it pays the gas).
		#[arg(long)]
		l1_key: PathBuf,
		/// A file with the relayer account's secret URI on the chain (one of the relayers the
		/// council chose; `//Ferdie` on the development chains).
		#[arg(long)]
		account_key: PathBuf,
		/// L1 blocks on top of a settling transaction before it is reported.
		#[arg(long, default_value_t = 2)]
		confirmations: u64,
		/// The L1 block the contracts were deployed in (where to look for past settlements).
		#[arg(long, default_value_t = 0)]
		from_block: u64,
		/// Seconds between looks when there is nothing to do.
		#[arg(long, default_value_t = 2)]
		poll: u64,
	},
}

type Res<T> = Result<T, String>;

fn batch_size(keys: &Path) -> Res<usize> {
	emr_prover::files::batch_size(keys)
}

fn run(cli: Cli) -> Res<()> {
	match cli.command {
		Command::Setup { batch_size, out, seed } => {
			if batch_size == 0 {
				return Err("--batch-size must be at least 1".into());
			}
			std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
			let mut rng = match seed {
				Some(hex_seed) => {
					let bytes = hex::decode(hex_seed.trim_start_matches("0x"))
						.map_err(|e| format!("--seed is not hex: {e}"))?;
					let seed: [u8; 32] =
						bytes.try_into().map_err(|_| "--seed must be 32 bytes".to_string())?;
					eprintln!("warning: a seeded setup is reproducible and therefore insecure");
					rand_chacha::ChaCha20Rng::from_seed(seed)
				},
				None => rand_chacha::ChaCha20Rng::from_entropy(),
			};
			eprintln!("setting up a circuit of {batch_size} slots …");
			let t = Instant::now();
			let (pk, vk) = groth16::setup(batch_size, &mut rng).map_err(|e| e.to_string())?;
			let pk_bytes = groth16::to_bytes_uncompressed(&pk);
			let vk_bytes = groth16::to_bytes(&vk);
			write_file(&out.join("proving.key"), &pk_bytes).map_err(|e| e.to_string())?;
			write_file(&out.join("verifying.key"), &vk_bytes).map_err(|e| e.to_string())?;
			let manifest = format!(
				"batch_size = {batch_size}\nproving_key = {}\nverifying_key = {}\n",
				groth16::fingerprint(&pk_bytes),
				groth16::fingerprint(&vk_bytes)
			);
			write_file(&out.join("manifest.txt"), manifest.as_bytes())
				.map_err(|e| e.to_string())?;
			println!("setup done in {:.1} s", t.elapsed().as_secs_f64());
			let constraints = groth16::constraint_count(batch_size).map_err(|e| e.to_string())?;
			println!("constraints = {constraints} ({} per slot)", constraints / batch_size);
			print!("{manifest}");
			println!(
				"proving key {} bytes, verifying key {} bytes",
				pk_bytes.len(),
				vk_bytes.len()
			);
			Ok(())
		},
		Command::ExampleBatch { out, number, entries, skip } => {
			let mut all = example_entries();
			if let Some(n) = entries {
				let end = skip.checked_add(n).ok_or("--skip + --entries is too large")?;
				all.truncate(end);
				fill(&mut all, end);
			}
			if skip >= all.len() {
				return Err(format!("--skip {skip} leaves no entry (the story has {})", all.len()));
			}
			all.drain(..skip);
			let file = BatchFile {
				version: VERSION,
				deployment: testing::deployment(),
				number,
				entries: all,
			};
			write_file(&out, &file.encode()).map_err(|e| e.to_string())?;
			println!("{} entries written to {}", file.entries.len(), out.display());
			Ok(())
		},
		Command::Prove { keys, state, batch, out } => {
			let slots = batch_size(&keys)?;
			let file = BatchFile::decode(&mut &read_file(&batch).map_err(|e| e.to_string())?[..])
				.map_err(|e| format!("{}: not a batch file: {e}", batch.display()))?;
			if file.version != VERSION {
				return Err(format!("{}: batch file version {}", batch.display(), file.version));
			}
			std::fs::create_dir_all(&state).map_err(|e| format!("{}: {e}", state.display()))?;
			let mut store = Store::open(state.join("state.redb"), file.deployment)
				.map_err(|e| format!("state: {e}"))?;
			if let Some(done) = store.committed_batch() {
				if file.number <= done {
					return Err(format!(
						"batch {} is already applied to this state (last batch {done})",
						file.number
					));
				}
			}
			eprintln!("reading the proving key …");
			let t = Instant::now();
			let prover = load_prover(&keys, slots)?;
			eprintln!(
				"proving key read and checked, constraint matrices built in {:.1} s",
				t.elapsed().as_secs_f64()
			);
			let t = Instant::now();
			let (w, public, _) = witness::build(&mut store, file.number, &file.entries, slots)
				.map_err(|e| e.to_string())?;
			store.check().map_err(|e| format!("state: {e}"))?;
			eprintln!("witness built in {:.1} s", t.elapsed().as_secs_f64());
			eprintln!(
				"proving batch {} ({} entries, {slots} slots) …",
				file.number,
				file.entries.len()
			);
			let t = Instant::now();
			let proof = prover
				.prove(w, public, &mut rand_chacha::ChaCha20Rng::from_entropy())
				.map_err(|e| e.to_string())?;
			println!("proved in {:.1} s", t.elapsed().as_secs_f64());
			let pf = ProofFile::new(&public, groth16::to_bytes(&proof));
			write_file(&out, &pf.encode()).map_err(|e| e.to_string())?;
			store.commit(file.number).map_err(|e| format!("state: {e}"))?;
			println!("old root   {}", hex::encode(pf.roots[0]));
			println!("new root   {}", hex::encode(pf.roots[1]));
			println!("commitment {}", hex::encode(pf.roots[2]));
			println!("proof written to {}", out.display());
			Ok(())
		},
		Command::Run { rpc, keys, state, account_key, prometheus, poll } => {
			run_worker(&rpc, &keys, &state, &account_key, &prometheus, poll)
		},
		Command::Status { metrics } => {
			print!("{}", emr_prover_cli::metrics::status(&metrics)?);
			Ok(())
		},
		Command::Beefy { rpc, batch } => check_beefy(&rpc, batch),
		Command::L1Deploy { rpc, l1, l1_key, governor, sudo } => {
			l1_deploy(&rpc, &l1, &l1_key, governor.as_deref(), sudo.as_deref())
		},
		Command::Relay { rpc, l1, l1_key, account_key, confirmations, from_block, poll } => {
			relay(&rpc, &l1, &l1_key, &account_key, confirmations, from_block, poll)
		},
		Command::Constraints => {
			use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
			let dir = tempdir()?;
			let mut store = Store::open(dir.join("state.redb"), testing::deployment())
				.map_err(|e| e.to_string())?;
			let count = |w: emr_prover::circuit::BatchWitness| -> Result<usize, String> {
				let circuit = emr_prover::circuit::BatchCircuit::new(w, None);
				let cs = ConstraintSystem::<emr_primitives::F>::new_ref();
				(&circuit).generate_constraints(cs.clone()).map_err(|e| e.to_string())?;
				Ok(cs.num_constraints())
			};
			// What every batch costs once (the old and new state roots over the header, the
			// public inputs), whatever its slots.
			let batch = count(witness::BatchStart::of(&store).witness(1, vec![]))?;
			println!("{:<22} {batch} constraints", "per batch");
			for entry in example_entries() {
				let start = witness::BatchStart::of(&store);
				let slot = witness::slot_witness(&mut store, &entry, false)
					.map_err(|e| format!("example entry: {e:?}"))?;
				let total = count(start.witness(1, vec![slot]))?;
				println!(
					"{:<22} {} constraints per slot",
					kind_name(entry.op.op.kind()),
					total - batch
				);
				emr_primitives::rules::apply_entry(&mut store, &entry)
					.map_err(|e| format!("example entry refused: {e:?}"))?;
			}
			let _ = std::fs::remove_dir_all(&dir);
			Ok(())
		},
		Command::Profile { keys, batch, cached_only } => profile(&keys, &batch, cached_only),
		Command::Verify { keys, proof, batch, prev } => {
			let vk = groth16::from_bytes(
				"verifying key",
				&read_file(&keys.join("verifying.key")).map_err(|e| e.to_string())?,
			)
			.map_err(|e| e.to_string())?;
			groth16::check_input_count(&vk).map_err(|e| e.to_string())?;
			let pvk = groth16::prepare(&vk);
			let (pf, public, ms) = verify_file(&pvk, &proof)?;
			let mut checked = vec![];
			if let Some(batch) = batch {
				let file =
					BatchFile::decode(&mut &read_file(&batch).map_err(|e| e.to_string())?[..])
						.map_err(|e| format!("{}: not a batch file: {e}", batch.display()))?;
				if file.number != pf.batch {
					return Err(format!(
						"the proof is for batch {}, {} holds batch {}",
						pf.batch,
						batch.display(),
						file.number
					));
				}
				if emr_primitives::inbox::commitment(&file.deployment, &file.entries)
					!= public.inbox_commitment
				{
					return Err(format!(
						"batch {}: the proof's inbox commitment is not that of the {} entries in {}: \
						 it proves other operations",
						pf.batch,
						file.entries.len(),
						batch.display()
					));
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
					return Err(format!(
						"batch {} does not follow batch {} of {}",
						pf.batch,
						before.batch,
						prev.display()
					));
				}
				if prev_public.new_root != public.old_root {
					return Err(format!(
						"batch {} does not start from the root batch {} ended with ({} ≠ {})",
						pf.batch,
						before.batch,
						hex::encode(pf.roots[0]),
						hex::encode(before.roots[1])
					));
				}
				checked.push(format!("continues batch {} (proof valid)", before.batch));
			}
			println!("batch {}: proof VALID ({ms:.1} ms)", pf.batch);
			for c in checked {
				println!("  and {c}");
			}
			Ok(())
		},
	}
}

/// Reads and verifies one proof file: its contents, public inputs and the verification time.
fn verify_file(
	pvk: &ark_groth16::PreparedVerifyingKey<ark_bls12_381::Bls12_381>,
	path: &Path,
) -> Res<(ProofFile, PublicInputs, f64)> {
	let pf = ProofFile::decode(&mut &read_file(path).map_err(|e| e.to_string())?[..])
		.map_err(|e| format!("{}: not a proof file: {e}", path.display()))?;
	let public =
		pf.public().ok_or_else(|| format!("{}: a root is not a field element", path.display()))?;
	let p = groth16::from_bytes("proof", &pf.proof).map_err(|e| e.to_string())?;
	let t = Instant::now();
	let ok = groth16::verify(pvk, &public, &p).map_err(|e| e.to_string())?;
	let ms = t.elapsed().as_secs_f64() * 1e3;
	if !ok {
		return Err(format!("batch {} ({}): proof INVALID", pf.batch, path.display()));
	}
	Ok((pf, public, ms))
}

/// Reads the proving key (checked against the manifest's fingerprint) and builds its prover.
fn load_prover(keys: &Path, _slots: usize) -> Res<groth16::BatchProver> {
	emr_prover::worker::load_prover(keys)
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

fn profile(keys: &Path, batch: &Path, cached_only: bool) -> Res<()> {
	use ark_ec::VariableBaseMSM;
	type G1 = ark_bls12_381::G1Projective;
	type G2 = ark_bls12_381::G2Projective;

	let slots = batch_size(keys)?;
	let file = BatchFile::decode(&mut &read_file(batch).map_err(|e| e.to_string())?[..])
		.map_err(|e| format!("{}: not a batch file: {e}", batch.display()))?;
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
	let bytes = read_file(&keys.join("proving.key")).map_err(|e| e.to_string())?;
	let expected = emr_prover::files::manifest_value(keys, "proving_key")?;
	let pk: ark_groth16::ProvingKey<ark_bls12_381::Bls12_381> =
		groth16::read_proving_key(&bytes, &expected).map_err(|e| e.to_string())?;
	drop(bytes);
	row("read proving key (fingerprint, decode)", t);
	let t = Instant::now();
	let copy = pk.clone();
	row("copy of the key (profiling only)", t);
	// Without the reference path, the arkworks key is needed only for the copy.
	let pk = if cached_only { None } else { Some(pk) };
	let t = Instant::now();
	let prover = groth16::BatchProver::new(copy, slots).map_err(|e| e.to_string())?;
	let (matrices_s, conversion_s) = prover.load_seconds();
	row(&format!("load: matrices {matrices_s:.1} s + blst points {conversion_s:.1} s (once)"), t);
	let dir = tempdir()?;
	let mut store =
		Store::open(dir.join("state.redb"), file.deployment).map_err(|e| e.to_string())?;
	let t = Instant::now();
	let (w, public, _) =
		witness::build(&mut store, file.number, &file.entries, slots).map_err(|e| e.to_string())?;
	row("witness (replay over the Merkle store)", t);
	drop(store);
	let _ = std::fs::remove_dir_all(&dir);
	let mut rng = rand_chacha::ChaCha20Rng::from_entropy();

	let reference = match &pk {
		Some(pk) => {
			let t = Instant::now();
			let proof =
				groth16::prove(pk, w.clone(), public, &mut rng).map_err(|e| e.to_string())?;
			row("REFERENCE: ark-groth16 prove (all phases)", t);
			Some(proof)
		},
		None => None,
	};

	// The phases one after another (the prover before slots were synthesized in parallel and
	// MSMs run concurrently), each timed; then the prover the worker uses, on the same batch.
	let mut sequential = 0.0;
	let t = Instant::now();
	let one_by_one = emr_prover::circuit::BatchWitness { starts: vec![], ..w.clone() };
	let full = prover.assignment(one_by_one, public).map_err(|e| e.to_string())?;
	sequential += t.elapsed().as_secs_f64();
	row("synthesis, assignment only, slots one by one", t);
	let t = Instant::now();
	let parallel = prover.assignment(w.clone(), public).map_err(|e| e.to_string())?;
	row("synthesis, assignment only, slots in parallel", t);
	if parallel != full {
		return Err("the parallel and sequential assignments differ".into());
	}
	drop(parallel);
	let t = Instant::now();
	let h = prover.witness_map(&full).map_err(|e| e.to_string())?;
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
					let ark = <$group>::msm(points, &$scalars[..points.len().min($scalars.len())])
						.map_err(|n| format!("MSM length mismatch ({n})"))?;
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
		return Err("blst and arkworks MSMs differ".into());
	}
	drop((h, full, pk));

	println!("{:<50} {sequential:>9.3}", "sum of the phases one after another (above)");
	reset_peak();
	let t = Instant::now();
	let proof = prover.prove(w, public, &mut rng).map_err(|e| e.to_string())?;
	row("CACHED: BatchProver::prove (parallel, checked)", t);
	let pvk = groth16::prepare(prover.verifying_key());
	for (name, p) in [("reference", reference.as_ref()), ("cached", Some(&proof))] {
		if !p.map_or(Ok(true), |p| groth16::verify(&pvk, &public, p)).map_err(|e| e.to_string())? {
			return Err(format!("the {name} proof does not verify"));
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

fn rayon_threads() -> usize {
	std::env::var("RAYON_NUM_THREADS")
		.ok()
		.and_then(|v| v.parse().ok())
		.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

fn example_entries() -> Vec<emr_primitives::inbox::InboxEntry> {
	let mut taken = vec![];
	let mut next = |seed| {
		let a = Actor::new(seed, taken.len() as u32 + 1);
		taken.push(a.id);
		a
	};
	let mut hospital = next(1);
	let mut insurer = next(2);
	let mut patient = next(3);
	let mut doctor = next(4);
	let p = patient.id;
	let mut e = vec![
		hospital.admit(Role::Hospital, 1),
		insurer.admit(Role::Insurer, 1),
		patient.register(2),
		doctor.register_as(Role::Doctor, 2),
		hospital.sign(Operation::CredentialDoctor { doctor: doctor.id }, 2),
	];
	e.push(patient.sign(
		Operation::GrantConsent {
			grantee: hospital.id,
			permissions: permission::READ | permission::WRITE,
			purposes: purpose::TREATMENT,
			scope: scope::ALL,
			expires_at: 100_000,
			slot: 0,
		},
		3,
	));
	e.push(doctor.sign(
		Operation::AppendRecord {
			patient: p,
			grant: 0,
			expected_version: 0,
			index_head: Cid(b"bafkreiexampleindexhead".to_vec()),
		},
		4,
	));
	e.push(doctor.sign(
		Operation::AccessRecord { patient: p, grant: 0, purpose: purpose::TREATMENT, scope: 1 },
		4,
	));
	e.push(emergency(&mut doctor, &hospital, p, 1, 1, 5));
	e.push(patient.sign(
		Operation::GrantConsent {
			grantee: insurer.id,
			permissions: permission::CLAIM,
			purposes: purpose::INSURANCE,
			scope: scope::ALL,
			expires_at: 100_000,
			slot: 2,
		},
		6,
	));
	e.push(
		insurer.sign(
			Operation::SubmitClaim { patient: p, grant: 2, record: [7; 32], amount: 1200 },
			6,
		),
	);
	e.push(
		insurer
			.sign(Operation::DecideClaim { patient: p, grant: 2, approve: true, settled: 1000 }, 7),
	);
	e.push(patient.sign(Operation::RevokeConsent { grant: 1 }, 7));
	e.push(hospital.sign(Operation::RevokeCredential { doctor: doctor.id }, 8));
	e.push(emr_primitives::inbox::InboxEntry {
		op: emr_primitives::ops::SignedOp {
			actor: doctor.id,
			nonce: 0,
			op: Operation::RemoveMember,
			signature: [0; 64],
		},
		origin: emr_primitives::ops::Origin::Governance,
		block: 8,
	});
	e
}

/// Appends patients who register, grant the example hospital consent and are read by it, until
/// `n` entries.
fn fill(entries: &mut Vec<emr_primitives::inbox::InboxEntry>, n: usize) {
	let mut hospital = Actor::new(1, 1);
	// The hospital's next nonce after the story.
	hospital.nonce = entries
		.iter()
		.filter(|e| e.op.actor == hospital.id && e.origin == emr_primitives::ops::Origin::User)
		.count() as u32;
	// Ids are assigned in order: one per registration or admission so far.
	let mut next = entries
		.iter()
		.filter(|e| {
			matches!(
				e.op.op.kind(),
				emr_primitives::ops::kind::REGISTER | emr_primitives::ops::kind::ADMIT_MEMBER
			)
		})
		.count() as u32
		+ 1;
	let mut seed = 1000;
	while entries.len() < n {
		let mut patient = Actor::new(seed, next);
		seed += 1;
		next += 1;
		let block = 10 + entries.len() as u32;
		let mut batch = vec![
			patient.register(block),
			patient.sign(
				Operation::GrantConsent {
					grantee: hospital.id,
					permissions: permission::READ,
					purposes: purpose::TREATMENT,
					scope: scope::ALL,
					expires_at: 100_000,
					slot: 0,
				},
				block,
			),
			hospital.sign(
				Operation::AccessRecord {
					patient: patient.id,
					grant: 0,
					purpose: purpose::TREATMENT,
					scope: 1,
				},
				block,
			),
		];
		batch.truncate(n - entries.len());
		entries.extend(batch);
	}
}

fn kind_name(k: u8) -> &'static str {
	use emr_primitives::ops::kind::*;
	match k {
		ADMIT_MEMBER => "admit member",
		REMOVE_MEMBER => "remove member",
		REGISTER => "register (patient or doctor)",
		CREDENTIAL_DOCTOR => "credential doctor",
		REVOKE_CREDENTIAL => "revoke credential",
		APPEND_RECORD => "append record",
		GRANT_CONSENT => "grant consent",
		REVOKE_CONSENT => "revoke consent",
		ACCESS_RECORD => "access record",
		EMERGENCY_ACCESS => "emergency access",
		SUBMIT_CLAIM => "submit claim",
		DECIDE_CLAIM => "decide claim",
		_ => "padding",
	}
}

fn tempdir() -> Res<PathBuf> {
	let dir = std::env::temp_dir().join(format!("emr-prover-{}", std::process::id()));
	std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
	Ok(dir)
}

/// Log lines on stderr: `2026-12-03 18:00:00 INFO  emr-prover: …` (targets `emr*` only).
struct Logger;

impl log::Log for Logger {
	/// Only the worker's own records: the circuit gadgets emit a record per constraint (their
	/// `tracing` spans reach `log` when no subscriber is set), whose formatting alone would
	/// dominate proving.
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::Level::Info && metadata.target().starts_with("emr")
	}

	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			eprintln!("{} {:<5} {}: {}", utc_now(), record.level(), record.target(), record.args());
		}
	}

	fn flush(&self) {}
}

/// The current UTC time as `YYYY-MM-DD HH:MM:SS` (civil calendar from days since 1970).
fn utc_now() -> String {
	let secs = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs() as i64)
		.unwrap_or_default();
	let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
	let z = days + 719_468;
	let era = z.div_euclid(146_097);
	let doe = z - era * 146_097;
	let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
	let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	let mp = (5 * doy + 2) / 153;
	let day = doy - (153 * mp + 2) / 5 + 1;
	let month = if mp < 10 { mp + 3 } else { mp - 9 };
	let year = yoe + era * 400 + i64::from(month <= 2);
	format!(
		"{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
		rem / 3_600,
		rem % 3_600 / 60,
		rem % 60
	)
}

/// `emr-prover run`.
fn run_worker(
	rpc: &str,
	keys: &Path,
	state: &Path,
	account_key: &Path,
	prometheus: &str,
	poll: u64,
) -> Res<()> {
	use emr_prover::worker::{Config, Metrics, Worker};
	let _ = log::set_logger(&Logger).map(|()| log::set_max_level(log::LevelFilter::Info));
	let suri = std::fs::read_to_string(account_key)
		.map_err(|e| format!("{}: {e}", account_key.display()))?;
	let chain = emr_prover_cli::rpc::RpcChain::new(rpc, &suri)?;
	log::info!(target: "emr-prover", "prover account {}", chain.account());
	let registry = prometheus::Registry::new();
	let metrics = Metrics::register(&registry).map_err(|e| e.to_string())?;
	if prometheus != "none" {
		let addr = emr_prover_cli::metrics::serve(registry, prometheus)?;
		log::info!(target: "emr-prover", "Prometheus metrics on http://{addr}/metrics");
	}
	log::info!(target: "emr-prover", "loading the proving key from {} …", keys.display());
	let t = Instant::now();
	let prover = emr_prover::worker::load_prover(keys)?;
	log::info!(
		target: "emr-prover",
		"proving key loaded, constraint matrices built in {:.1} s",
		t.elapsed().as_secs_f64()
	);
	let mut config = Config::new(state);
	config.poll = std::time::Duration::from_secs(poll.max(1));
	let mut worker = Worker::new(chain, prover, config, metrics).map_err(|e| e.to_string())?;
	worker.run().map_err(|e| e.to_string())
}

/// `emr-prover beefy`: the latest justification and, when a batch is proven, the batch under
/// its root.
fn read_suri(path: &Path) -> Res<String> {
	Ok(std::fs::read_to_string(path)
		.map_err(|e| format!("{}: {e}", path.display()))?
		.trim()
		.to_string())
}

fn l1_deploy(
	rpc_url: &str,
	l1_url: &str,
	l1_key: &Path,
	governor: Option<&str>,
	sudo: Option<&Path>,
) -> Res<()> {
	use emr_prover::l1::{self, L1};
	use emr_prover_cli::relay;
	let addr = emr_prover::http::authority(rpc_url)?;
	let rpc = |method: &str, params: serde_json::Value| {
		emr_prover::http::rpc_call(&addr, method, params).map_err(|e| e.to_string())
	};
	let d = relay::deployment(&rpc).map_err(|e| e.to_string())?;
	let eth = L1::connect(l1_url, l1_key).map_err(|e| e.to_string())?;
	let chain_id = eth.chain_id().map_err(|e| e.to_string())?;
	let governor = match governor {
		Some(g) => g.parse::<l1::Address>().map_err(|e| format!("--governor: {e}"))?,
		None => eth.sender(),
	};
	println!(
		"chain at finalized block {}: BEEFY set {} ({} validators), next set {}; next batch to \
		 settle {}",
		d.at_block, d.current.id, d.current.len, d.next.id, d.first_batch
	);
	let set = |s: relay::SetInfo| l1::ValidatorSet { id: s.id, len: s.len, root: s.root };
	let lc = eth.deploy_beefy_client(set(d.current), set(d.next)).map_err(|e| e.to_string())?;
	println!("BeefyClient deployed at {} (L1 block {})", lc.address, lc.tx.block);
	let rollup = eth
		.deploy_rollup(&l1::RollupConfig {
			light_client: lc.address,
			vk: d.verifying_key.clone(),
			governor,
			first_batch: d.first_batch,
			initial_root: d.initial_root,
		})
		.map_err(|e| e.to_string())?;
	println!(
		"EmrRollup deployed at {} (L1 block {}, {} gas), governor {governor}",
		rollup.address, rollup.tx.block, rollup.tx.gas_used
	);
	let contracts = pallet_emr_eth_bridge::Contracts {
		chain_id,
		light_client: lc.address.into_array(),
		rollup: rollup.address.into_array(),
		first_batch: d.first_batch,
	};
	let call = emr_runtime::RuntimeCall::EthBridge(pallet_emr_eth_bridge::Call::set_contracts {
		contracts,
	});
	let Some(sudo) = sudo else {
		println!(
			"the council records them with this call (a motion of a majority):\n0x{}",
			hex::encode(call.encode())
		);
		return Ok(());
	};
	let chain = emr_prover_cli::rpc::RpcChain::new(rpc_url, &read_suri(sudo)?)?;
	let sudo_call = emr_runtime::RuntimeCall::Sudo(polkadot_sdk::pallet_sudo::Call::sudo {
		call: Box::new(call),
	});
	chain.submit_call(sudo_call).map_err(|e| e.to_string())?;
	let deadline = Instant::now() + std::time::Duration::from_secs(120);
	loop {
		let status = relay::bridge_status(&rpc).map_err(|e| e.to_string())?;
		if status.contracts == Some(contracts) {
			println!("recorded on the chain (ethBridge.setContracts, by sudo)");
			return Ok(());
		}
		if Instant::now() > deadline {
			return Err("ethBridge.setContracts was not included within 2 minutes".into());
		}
		std::thread::sleep(std::time::Duration::from_secs(1));
	}
}

fn relay(
	rpc_url: &str,
	l1_url: &str,
	l1_key: &Path,
	account_key: &Path,
	confirmations: u64,
	from_block: u64,
	poll: u64,
) -> Res<()> {
	use emr_prover::l1::L1;
	use emr_prover_cli::relay::{self, Contracts, Progress, RelayError, Relayer};
	let chain = emr_prover_cli::rpc::RpcChain::new(rpc_url, &read_suri(account_key)?)?;
	let call = chain.rpc_fn();
	let account = chain.account().clone();
	let mut backoff = 1u64;
	// The contracts come from the chain; wait until the council has set them.
	let contracts = loop {
		match relay::bridge_status(&call) {
			Ok(s) => match s.contracts {
				Some(c) => break c,
				None => eprintln!("relay: the council has not set the contracts yet; waiting"),
			},
			Err(e) => eprintln!("relay: {e}; retrying"),
		}
		std::thread::sleep(std::time::Duration::from_secs(poll.max(1)));
	};
	let eth = loop {
		match L1::connect(l1_url, l1_key).and_then(|l1| l1.chain_id().map(|id| (l1, id))) {
			Ok((l1, id)) if id == contracts.chain_id => break l1,
			Ok((_, id)) => {
				return Err(format!(
					"{l1_url} is Ethereum chain {id}, but the contracts are on chain {}",
					contracts.chain_id
				))
			},
			Err(e) => {
				eprintln!("relay: {e}; retrying in {backoff} s");
				std::thread::sleep(std::time::Duration::from_secs(backoff));
				backoff = (backoff * 2).min(60);
			},
		}
	};
	eprintln!(
		"relay: relaying as {account} (chain) and {} (L1) to light client 0x{} and rollup 0x{}, \
		 {confirmations} confirmations",
		eth.sender(),
		hex::encode(contracts.light_client),
		hex::encode(contracts.rollup)
	);
	let eth =
		Contracts::new(eth, contracts.light_client.into(), contracts.rollup.into(), from_block);
	let mut relayer = Relayer::new(chain, eth, confirmations);
	let mut last_idle = String::new();
	backoff = 1;
	loop {
		match relayer.step() {
			Ok(Progress::Idle(why)) => {
				if why != last_idle {
					eprintln!("relay: {why}");
					last_idle = why;
				}
				backoff = 1;
				std::thread::sleep(std::time::Duration::from_secs(poll.max(1)));
			},
			Ok(p) => {
				last_idle.clear();
				backoff = 1;
				match p {
					Progress::LightClient { block, set_id, tx } => eprintln!(
						"relay: light client accepted the commitment of block {block} (set \
						 {set_id}) in L1 block {} ({} gas)",
						tx.block, tx.gas_used
					),
					Progress::Settled { batch, tx } => eprintln!(
						"relay: batch {batch} settled in L1 block {} tx {} ({} gas); confirmed on \
						 the chain",
						tx.block, tx.tx_hash, tx.gas_used
					),
					Progress::Confirmed { batch, tx } => eprintln!(
						"relay: batch {batch} had settled in L1 block {} tx {}; confirmed on the \
						 chain",
						tx.block, tx.tx_hash
					),
					Progress::Idle(_) => {},
				}
			},
			Err(RelayError::Unreachable(e)) => {
				eprintln!("relay: {e}; retrying in {backoff} s");
				std::thread::sleep(std::time::Duration::from_secs(backoff));
				backoff = (backoff * 2).min(30);
			},
			Err(e @ (RelayError::Refused(_) | RelayError::Stuck(_))) => {
				eprintln!("relay: error: {e}");
				std::thread::sleep(std::time::Duration::from_secs(poll.max(1) * 5));
			},
		}
	}
}

fn check_beefy(url: &str, batch: Option<u64>) -> Res<()> {
	use emr_prover_cli::beefy;
	let addr = emr_prover::http::authority(url)?;
	let rpc = |method: &str, params: serde_json::Value| {
		emr_prover::http::rpc_call(&addr, method, params).map_err(|e| e.to_string())
	};
	let j = beefy::latest_justification(&rpc)?.ok_or(
		"the node has no BEEFY justification yet (BEEFY starts after GRANDPA's first finality)",
	)?;
	let checked = beefy::check_justification(&rpc, &j)?;
	let root = j.commitment.mmr_root().ok_or("the commitment has no MMR root")?;
	println!(
		"BEEFY commitment of block {} (validator set {}): {} of {} validators signed; every \
		 signature recovers (ecrecover) to its validator's address; the set's keyset commitment \
		 is the Merkle root of those addresses",
		j.commitment.block_number,
		checked.set_id,
		checked.signed,
		checked.set.len()
	);
	println!("  signed MMR root 0x{}; justification {} bytes", hex::encode(root), j.encoded_len);
	let batch = match batch {
		Some(b) => b,
		None => {
			let status = rpc("rollup_status", serde_json::json!([]))?;
			match status["lastProven"].as_u64() {
				Some(b) => b,
				None => {
					println!("  no batch is proven yet");
					return Ok(());
				},
			}
		},
	};
	let covered = beefy::check_batch(&rpc, &j, batch)?;
	println!(
		"batch {batch}, proven in block {}: its rollup digest 0x{} is the extra data of that \
		 block's MMR leaf, and the leaf's proof ({} items, {} bytes) leads to the signed root",
		covered.proven_at,
		hex::encode(covered.digest),
		covered.proof.items.len(),
		covered.proof.encode().len()
	);
	Ok(())
}

fn main() -> ExitCode {
	match run(Cli::parse()) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e}");
			ExitCode::FAILURE
		},
	}
}
