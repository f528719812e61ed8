//! The files the `emr-prover` binary reads and writes (SCALE-encoded, versioned).
//!
//! * **Batch file**: [`BatchFile`] — the deployment, a batch number and its inbox entries in
//!   order.
//! * **Proof file**: [`ProofFile`] — the public inputs (4 × 32 bytes little-endian) and the
//!   compressed Groth16 proof (192 bytes).
//! * **Key directory**: `proving.key` (uncompressed) and `verifying.key` (compressed), canonical
//!   arkworks encodings, and `manifest.txt` (`batch_size`, constraint count and Blake2b-256 fingerprints).

use codec::{Decode, Encode};
use emr_primitives::{
	inbox::{InboxEntry, PublicInputs},
	ops::DeploymentId,
	F,
};

/// Format version of both files (2: batch files name their deployment).
pub const VERSION: u8 = 2;

/// A batch to prove.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BatchFile {
	/// Format version ([`VERSION`]).
	pub version: u8,
	/// The deployment the entries were signed for (and the inbox commitment starts from).
	pub deployment: DeploymentId,
	/// Batch number.
	pub number: u64,
	/// Entries in inbox order.
	pub entries: Vec<InboxEntry>,
}

/// A proof and what it proves.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ProofFile {
	/// Format version ([`VERSION`]).
	pub version: u8,
	/// Batch number.
	pub batch: u64,
	/// Old root, new root, inbox commitment (32 bytes LE each).
	pub roots: [[u8; 32]; 3],
	/// Compressed Groth16 proof.
	pub proof: Vec<u8>,
}

fn field(bytes: &[u8; 32]) -> Option<F> {
	use ark_serialize::CanonicalDeserialize;
	F::deserialize_compressed(&bytes[..]).ok()
}

impl ProofFile {
	/// The public inputs, or `None` when a root is not a canonical field element.
	pub fn public(&self) -> Option<PublicInputs> {
		Some(PublicInputs {
			old_root: field(&self.roots[0])?,
			new_root: field(&self.roots[1])?,
			inbox_commitment: field(&self.roots[2])?,
			batch: self.batch,
		})
	}

	/// A proof file for `public` and `proof` bytes.
	pub fn new(public: &PublicInputs, proof: Vec<u8>) -> Self {
		let b = public.to_bytes();
		ProofFile { version: VERSION, batch: public.batch, roots: [b[0], b[1], b[2]], proof }
	}
}

/// The value of `name = value` in a key directory's `manifest.txt`.
pub fn manifest_value(keys: &std::path::Path, name: &str) -> Result<String, String> {
	let path = keys.join("manifest.txt");
	let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
	let prefix = format!("{name} = ");
	text.lines()
		.find_map(|l| l.strip_prefix(prefix.as_str()))
		.map(|v| v.trim().to_string())
		.ok_or_else(|| format!("{}: no {name} line", path.display()))
}

/// The batch size (slots) of a key directory's circuit.
pub fn batch_size(keys: &std::path::Path) -> Result<usize, String> {
	manifest_value(keys, "batch_size")?
		.parse()
		.map_err(|_| format!("{}: batch_size is not a number", keys.join("manifest.txt").display()))
}
