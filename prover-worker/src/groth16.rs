//! Groth16 over BLS12-381 for the batch circuit: setup, proving, verification and checked
//! (de)serialization of keys and proofs.
//!
//! Keys and proofs use arkworks' compressed canonical encoding; reading always validates (points
//! on the curve and in the right subgroup), so a corrupted or malicious file is refused with
//! [`ProverError::Decode`] instead of producing nonsense.

use crate::circuit::{BatchCircuit, BatchWitness};
use ark_bls12_381::Bls12_381;
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use ark_snark::SNARK;
use emr_primitives::inbox::PublicInputs;
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
	use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem, SynthesisMode};
	let cs = ConstraintSystem::<emr_primitives::F>::new_ref();
	cs.set_mode(SynthesisMode::Setup);
	(&BatchCircuit::blank(batch_size))
		.generate_constraints(cs.clone())
		.map_err(|e| ProverError::Synthesis(e.to_string()))?;
	Ok(cs.num_constraints())
}

/// Proves `witness` against `public`.
pub fn prove<R: RngCore + CryptoRng>(
	pk: &ProvingKey<Bls12_381>,
	witness: BatchWitness,
	public: PublicInputs,
	rng: &mut R,
) -> Result<BatchProof> {
	let circuit = BatchCircuit::new(witness, Some(public));
	Snark::prove(pk, &circuit, rng).map_err(|e| ProverError::Synthesis(e.to_string()))
}

/// Verifies a proof; `Ok(false)` for a proof that does not verify.
pub fn verify(
	vk: &PreparedVerifyingKey<Bls12_381>,
	public: &PublicInputs,
	proof: &BatchProof,
) -> Result<bool> {
	Snark::verify_with_processed_vk(vk, &public.to_vec(), proof)
		.map_err(|e| ProverError::Synthesis(e.to_string()))
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

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
	let io = |source| ProverError::Io { path: path.display().to_string(), source };
	let tmp = path.with_extension("tmp");
	std::fs::write(&tmp, bytes).map_err(io)?;
	std::fs::rename(&tmp, path).map_err(io)
}

/// Reads a whole file.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
	std::fs::read(path)
		.map_err(|source| ProverError::Io { path: path.display().to_string(), source })
}
