//! Groth16 over BLS12-381 for the batch circuit: setup, proving, verification and checked
//! (de)serialization of keys and proofs.
//!
//! Keys and proofs use arkworks' compressed canonical encoding; reading always validates (points
//! on the curve and in the right subgroup), so a corrupted or malicious file is refused with
//! [`ProverError::Decode`] instead of producing nonsense.

use crate::{
	circuit::{BatchCircuit, BatchWitness},
	msm::{G1Bases, G2Bases, Scalars},
};
use ark_bls12_381::{Bls12_381, G1Affine, G2Affine};
use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use ark_groth16::{
	r1cs_to_qap::{LibsnarkReduction, R1CSToQAP},
	Groth16, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey,
};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::{
	ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, SynthesisError,
	SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_snark::SNARK;
use emr_primitives::{inbox::PublicInputs, F};
use rand_core::{CryptoRng, RngCore};
use std::path::Path;

/// The proof system.
pub type Snark = Groth16<Bls12_381>;
/// A batch proof.
pub type BatchProof = Proof<Bls12_381>;

/// What can go wrong while proving or handling keys.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
	/// Constraint synthesis or proving failed.
	#[error("the proof system failed: {0}")]
	Synthesis(String),
	/// Bytes that are not a valid key or proof.
	#[error("{what} is not valid: {reason}")]
	Decode {
		/// What was being read.
		what: &'static str,
		/// Why it was refused.
		reason: String,
	},
	/// File I/O.
	#[error("{path}: {source}")]
	Io {
		/// The file.
		path: String,
		/// The error.
		#[source]
		source: std::io::Error,
	},
}

/// Result alias.
pub type Result<T, E = ProverError> = std::result::Result<T, E>;

/// Circuit-specific setup for `batch_size` slots.
pub fn setup<R: RngCore + CryptoRng>(
	batch_size: usize,
	rng: &mut R,
) -> Result<(ProvingKey<Bls12_381>, VerifyingKey<Bls12_381>)> {
	let circuit = BatchCircuit::blank(batch_size);
	Snark::circuit_specific_setup(&circuit, rng).map_err(|e| ProverError::Synthesis(e.to_string()))
}

/// Number of constraints of the circuit with `batch_size` slots (synthesized in setup mode).
pub fn constraint_count(batch_size: usize) -> Result<usize> {
	let cs = ConstraintSystem::<F>::new_ref();
	cs.set_mode(SynthesisMode::Setup);
	(&BatchCircuit::blank(batch_size))
		.generate_constraints(cs.clone())
		.map_err(|e| ProverError::Synthesis(e.to_string()))?;
	Ok(cs.num_constraints())
}

/// Proves `witness` against `public` the way `ark-groth16` does by default: the constraint
/// matrices are built again from the witness on every proof. The reference path; the worker and
/// the CLI prove with [`BatchProver`], which builds them once per key.
pub fn prove<R: RngCore + CryptoRng>(
	pk: &ProvingKey<Bls12_381>,
	witness: BatchWitness,
	public: PublicInputs,
	rng: &mut R,
) -> Result<BatchProof> {
	let circuit = BatchCircuit::new(witness, Some(public));
	Snark::prove(pk, &circuit, rng).map_err(|e| ProverError::Synthesis(e.to_string()))
}

/// The full assignment `[1, public inputs…, witness…]` of `circuit`, its slots synthesized one
/// after another in one constraint system (no constraints built).
fn sequential_assignment(circuit: &BatchCircuit) -> Result<Vec<F>> {
	let cs = crate::circuit::assignment_system();
	circuit.generate_constraints(cs.clone()).map_err(synthesis)?;
	let mut full = cs.instance_assignment().map_err(synthesis)?;
	full.extend(cs.witness_assignment().map_err(synthesis)?);
	Ok(full)
}

fn synthesis(e: SynthesisError) -> ProverError {
	ProverError::Synthesis(e.to_string())
}

/// The proving key's query points in `blst`'s form, for the five multi-scalar multiplications
/// of a proof (the first point of `a`, `b_g1` and `b_g2`, the constant one's, is kept apart).
pub struct QueryBases {
	/// `a_query[1..]`.
	pub a: G1Bases,
	/// `b_g1_query[1..]`.
	pub b_g1: G1Bases,
	/// `b_g2_query[1..]`.
	pub b_g2: G2Bases,
	/// `h_query`.
	pub h: G1Bases,
	/// `l_query`.
	pub l: G1Bases,
}

/// A proving key held in memory, ready for proving batch after batch.
///
/// * The batch circuit's shape does not depend on the witness (every slot has the same
///   constraints, the operation kind only switches values), so its constraint matrices are
///   computed once, from the blank circuit, when the key is loaded. Each proof then synthesizes
///   the circuit only for its assignment (no linear combinations kept, no matrices built, no
///   inlining) and goes straight to the QAP witness map (arkworks' FFTs).
/// * The key's query points are converted once into `blst`'s form and the arkworks copies
///   dropped; the five multi-scalar multiplications of each proof run on `blst`'s
///   multi-threaded Pippenger ([`crate::msm`]). The proof is assembled as `ark-groth16` does
///   (`A = α + Σ zᵢ·Aᵢ + r·δ`, `B = β + Σ zᵢ·Bᵢ + s·δ`,
///   `C = s·A + r·B₁ − r·s·δ + Σ wᵢ·Lᵢ + Σ hᵢ·Hᵢ`).
///
/// The tests check that the matrices and assignment equal those of a real batch and that the
/// proofs verify with `ark-groth16` and with the chain's verifier. This path does not know
/// whether the witness satisfies the circuit: [`BatchProver::prove`] therefore verifies each
/// proof before returning it (about 3 ms) and reports an unsatisfied witness as an error.
pub struct BatchProver {
	vk: VerifyingKey<Bls12_381>,
	pvk: PreparedVerifyingKey<Bls12_381>,
	beta_g1: G1Affine,
	delta_g1: G1Affine,
	a0: G1Affine,
	b_g1_0: G1Affine,
	b_g2_0: G2Affine,
	bases: QueryBases,
	matrices: Vec<Matrix<F>>,
	num_instance: usize,
	num_witness: usize,
	num_constraints: usize,
	slots: usize,
	load_seconds: (f64, f64),
}

impl BatchProver {
	/// Loads `pk` for the circuit of `slots` slots; refuses a key made for another circuit
	/// (a different number of public inputs, witness variables or constraints).
	pub fn new(pk: ProvingKey<Bls12_381>, slots: usize) -> Result<Self> {
		let started = std::time::Instant::now();
		let cs = ConstraintSystem::<F>::new_ref();
		cs.set_optimization_goal(OptimizationGoal::Constraints);
		cs.set_mode(SynthesisMode::Setup);
		(&BatchCircuit::blank(slots)).generate_constraints(cs.clone()).map_err(synthesis)?;
		cs.finalize();
		let num_instance = cs.num_instance_variables();
		let num_witness = cs.num_witness_variables();
		let num_constraints = cs.num_constraints();
		let matrices = cs
			.to_matrices()
			.map_err(synthesis)?
			.remove(R1CS_PREDICATE_LABEL)
			.ok_or_else(|| ProverError::Synthesis("the circuit has no R1CS matrices".into()))?;
		drop(cs);
		let variables = num_instance + num_witness;
		let fits = pk.vk.gamma_abc_g1.len() == num_instance
			&& num_instance == PublicInputs::LEN + 1
			&& pk.a_query.len() == variables
			&& pk.b_g1_query.len() == variables
			&& pk.b_g2_query.len() == variables
			&& pk.l_query.len() == num_witness
			&& pk.h_query.len() + 1 >= num_constraints + num_instance;
		if !fits {
			return Err(ProverError::Decode {
				what: "proving key",
				reason: format!(
					"it was made for another circuit: {} public inputs and {} witness variables, \
					 while the circuit of {slots} slots has {} and {num_witness}",
					pk.vk.gamma_abc_g1.len().saturating_sub(1),
					pk.l_query.len(),
					num_instance - 1,
				),
			});
		}
		let matrices_seconds = started.elapsed().as_secs_f64();
		let started = std::time::Instant::now();
		let ProvingKey { vk, beta_g1, delta_g1, a_query, b_g1_query, b_g2_query, h_query, l_query } =
			pk;
		let bases = QueryBases {
			a: G1Bases::new(&a_query[1..]),
			b_g1: G1Bases::new(&b_g1_query[1..]),
			b_g2: G2Bases::new(&b_g2_query[1..]),
			h: G1Bases::new(&h_query),
			l: G1Bases::new(&l_query),
		};
		let pvk = prepare(&vk);
		let load_seconds = (matrices_seconds, started.elapsed().as_secs_f64());
		Ok(Self {
			load_seconds,
			pvk,
			beta_g1,
			delta_g1,
			a0: a_query[0],
			b_g1_0: b_g1_query[0],
			b_g2_0: b_g2_query[0],
			vk,
			bases,
			matrices,
			num_instance,
			num_witness,
			num_constraints,
			slots,
		})
	}

	/// Seconds [`BatchProver::new`] spent on the constraint matrices and on converting the
	/// key's points for `blst`.
	pub fn load_seconds(&self) -> (f64, f64) {
		self.load_seconds
	}

	/// The verifying key of the proving key.
	pub fn verifying_key(&self) -> &VerifyingKey<Bls12_381> {
		&self.vk
	}

	/// The query points (for profiling).
	pub fn bases(&self) -> &QueryBases {
		&self.bases
	}

	/// Slots of the circuit.
	pub fn slots(&self) -> usize {
		self.slots
	}

	/// Constraints of the circuit.
	pub fn num_constraints(&self) -> usize {
		self.num_constraints
	}

	/// The constraint matrices `[A, B, C]` computed at load.
	pub fn matrices(&self) -> &[Matrix<F>] {
		&self.matrices
	}

	/// The full assignment `[1, public inputs…, witness…]` of `witness` against `public`,
	/// synthesized without building constraints.
	pub fn assignment(&self, witness: BatchWitness, public: PublicInputs) -> Result<Vec<F>> {
		if witness.slots.len() != self.slots {
			return Err(ProverError::Synthesis(format!(
				"the witness has {} slots, the circuit {}",
				witness.slots.len(),
				self.slots
			)));
		}
		let circuit = BatchCircuit::new(witness, Some(public));
		let full = match circuit.parallel_assignment().map_err(synthesis)? {
			Some(full) => full,
			None => sequential_assignment(&circuit)?,
		};
		if full.len() != self.num_instance + self.num_witness {
			return Err(ProverError::Synthesis(format!(
				"the assignment has {} variables, the circuit {}",
				full.len(),
				self.num_instance + self.num_witness
			)));
		}
		Ok(full)
	}

	/// The QAP witness map of a full assignment: the coefficients of `h` (FFTs over the
	/// circuit's domain).
	pub fn witness_map(&self, full: &[F]) -> Result<Vec<F>> {
		LibsnarkReduction::witness_map_from_matrices::<F, GeneralEvaluationDomain<F>>(
			&self.matrices,
			self.num_instance,
			self.num_constraints,
			full,
		)
		.map_err(synthesis)
	}

	/// A proof of a full assignment (witness map and multi-scalar multiplications); not checked.
	pub fn prove_assignment<R: RngCore + CryptoRng>(
		&self,
		full: &[F],
		rng: &mut R,
	) -> Result<BatchProof> {
		if full.len() != self.num_instance + self.num_witness {
			return Err(ProverError::Synthesis("an assignment of another circuit".into()));
		}
		let (r, s) = (F::rand(rng), F::rand(rng));
		// The witness map (FFTs, rayon's threads) and the h MSM run beside the four MSMs over
		// the assignment (blst's threads), which share one conversion of their scalars.
		let variables = Scalars::new(&full[1..]);
		let all = variables.skip(0);
		let aux = variables.skip(self.num_instance - 1);
		let b = &self.bases;
		let (h, (mut a, (mut b1, (mut b2, l)))) = rayon::join(
			|| self.witness_map(full).map(|h| b.h.msm(&h)),
			|| {
				rayon::join(
					|| b.a.msm_bytes(all),
					|| {
						rayon::join(
							|| b.b_g1.msm_bytes(all),
							|| rayon::join(|| b.b_g2.msm_bytes(all), || b.l.msm_bytes(aux)),
						)
					},
				)
			},
		);
		a += self.a0;
		a += self.vk.alpha_g1;
		a += self.delta_g1 * r;
		b1 += self.b_g1_0;
		b1 += self.beta_g1;
		b1 += self.delta_g1 * s;
		b2 += self.b_g2_0;
		b2 += self.vk.beta_g2;
		b2 += self.vk.delta_g2 * s;
		let mut c = l;
		c += h?;
		c += a * s;
		c += b1 * r;
		c -= self.delta_g1 * (r * s);
		Ok(Proof { a: a.into_affine(), b: b2.into_affine(), c: c.into_affine() })
	}

	/// Proves `witness` against `public` and checks the proof with the key's verifying key;
	/// a witness that does not satisfy the circuit is an error, not a proof.
	pub fn prove<R: RngCore + CryptoRng>(
		&self,
		witness: BatchWitness,
		public: PublicInputs,
		rng: &mut R,
	) -> Result<BatchProof> {
		let full = self.assignment(witness, public)?;
		let proof = self.prove_assignment(&full, rng)?;
		if !verify(&self.pvk, &public, &proof)? {
			return Err(ProverError::Synthesis(
				"the witness does not satisfy the circuit: the proof does not verify".into(),
			));
		}
		Ok(proof)
	}
}

/// Verifies a proof; `Ok(false)` for a proof that does not verify. A verifying key whose number
/// of input points is not that of [`PublicInputs`] is an error.
pub fn verify(
	vk: &PreparedVerifyingKey<Bls12_381>,
	public: &PublicInputs,
	proof: &BatchProof,
) -> Result<bool> {
	check_input_count(&vk.vk)?;
	Snark::verify_with_processed_vk(vk, &public.to_vec(), proof)
		.map_err(|e| ProverError::Synthesis(e.to_string()))
}

/// Refuses a verifying key made for another number of public inputs than [`PublicInputs::LEN`].
pub fn check_input_count(vk: &VerifyingKey<Bls12_381>) -> Result<()> {
	if vk.gamma_abc_g1.len() != PublicInputs::LEN + 1 {
		return Err(ProverError::Decode {
			what: "verifying key",
			reason: format!(
				"it has {} input points; the batch circuit has {} public inputs and needs {}",
				vk.gamma_abc_g1.len(),
				PublicInputs::LEN,
				PublicInputs::LEN + 1
			),
		});
	}
	Ok(())
}

/// Prepares a verifying key for repeated verification.
pub fn prepare(vk: &VerifyingKey<Bls12_381>) -> PreparedVerifyingKey<Bls12_381> {
	ark_groth16::prepare_verifying_key(vk)
}

/// Compressed canonical bytes of a verifying key or proof.
pub fn to_bytes<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
	encode(value, Compress::Yes)
}

/// Uncompressed canonical bytes: used for the proving key, which is large and read on every
/// proof (decompressing its points would cost a square root each).
pub fn to_bytes_uncompressed<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
	encode(value, Compress::No)
}

fn encode<T: CanonicalSerialize>(value: &T, compress: Compress) -> Vec<u8> {
	let mut out = Vec::with_capacity(value.serialized_size(compress));
	value.serialize_with_mode(&mut out, compress).expect("writing to a Vec cannot fail");
	out
}

/// Reads a compressed verifying key or proof, validating every point (on the curve, in the
/// subgroup); trailing bytes are refused.
pub fn from_bytes<T: CanonicalDeserialize>(what: &'static str, bytes: &[u8]) -> Result<T> {
	decode(what, bytes, Compress::Yes, Validate::Yes)
}

/// Reads an uncompressed proving key whose Blake2b-256 [`fingerprint`] must equal `expected`
/// (from the setup's manifest). The fingerprint, not a point-by-point subgroup check, guards the
/// proving key: it is the prover's own artifact, validating its millions of points took longer
/// than proving, and a wrong proving key can only yield proofs that fail verification.
pub fn read_proving_key<T: CanonicalDeserialize>(bytes: &[u8], expected: &str) -> Result<T> {
	let found = fingerprint(bytes);
	if found != expected {
		return Err(ProverError::Decode {
			what: "proving key",
			reason: format!("fingerprint {found} differs from the manifest's {expected}"),
		});
	}
	decode("proving key", bytes, Compress::No, Validate::No)
}

fn decode<T: CanonicalDeserialize>(
	what: &'static str,
	bytes: &[u8],
	compress: Compress,
	validate: Validate,
) -> Result<T> {
	let mut reader = bytes;
	let value = T::deserialize_with_mode(&mut reader, compress, validate)
		.map_err(|e| ProverError::Decode { what, reason: e.to_string() })?;
	if !reader.is_empty() {
		return Err(ProverError::Decode {
			what,
			reason: format!("{} trailing bytes", reader.len()),
		});
	}
	Ok(value)
}

/// Blake2b-256 of `bytes`, hex: how keys are identified (setup prints it, governance checks it).
/// The same hash as the chain's [`emr_primitives::groth16::vk_hash`], which computes it.
pub fn fingerprint(bytes: &[u8]) -> String {
	hex::encode(emr_primitives::groth16::vk_hash(bytes))
}

/// Writes `bytes` to `path` atomically: to a temporary file of this writer alone (named by
/// process and call), flushed to disk, then renamed over `path`. A reader sees the old file or
/// the new one, never a part, and two processes writing the same path at once never share a
/// temporary file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
	use std::{
		io::Write,
		sync::atomic::{AtomicU64, Ordering},
	};
	static WRITES: AtomicU64 = AtomicU64::new(0);
	let io = |source| ProverError::Io { path: path.display().to_string(), source };
	let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
	let unique = WRITES.fetch_add(1, Ordering::Relaxed);
	let tmp = path.with_file_name(format!(".{name}.{}.{unique}.tmp", std::process::id()));
	let written = std::fs::File::create(&tmp)
		.and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
		.and_then(|()| std::fs::rename(&tmp, path));
	if written.is_err() {
		let _ = std::fs::remove_file(&tmp);
	}
	written.map_err(io)
}

/// Reads a whole file.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
	std::fs::read(path)
		.map_err(|source| ProverError::Io { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
	use super::{read_file, write_file};

	/// Several writers of one path at once (test binaries setting up the same development keys
	/// did): every write succeeds, the file ends as one writer's whole bytes, and no temporary
	/// file is left beside it.
	#[test]
	fn concurrent_writers_of_one_path_never_share_a_temporary_file() {
		let dir = tempfile::tempdir().expect("a temporary directory");
		let path = dir.path().join("proving.key");
		let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 256 * 1024]).collect();
		std::thread::scope(|scope| {
			for bytes in &contents {
				let path = &path;
				scope.spawn(move || {
					for _ in 0..20 {
						write_file(path, bytes).expect("every concurrent write succeeds");
					}
				});
			}
		});
		let written = read_file(&path).expect("the file is there");
		assert!(contents.contains(&written), "the file is one writer's whole bytes");
		let names: Vec<_> = std::fs::read_dir(dir.path())
			.expect("the directory lists")
			.map(|e| e.expect("an entry").file_name())
			.collect();
		assert_eq!(names, vec![std::ffi::OsString::from("proving.key")], "no temporary file left");
	}
}
