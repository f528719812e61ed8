//! What several commands read and write: key directories, batch and proof files, secret files
//! and a scratch directory.

use codec::Decode;
use emr_circuit::{
	files::{self, BatchFile, ProofFile},
	groth16::{read_file, ProverError},
};
use std::path::{Path, PathBuf};

/// Why a file could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
	/// Reading or writing a key, batch or proof file failed.
	#[error(transparent)]
	Prover(#[from] ProverError),
	/// A directory or a secret file could not be made or read.
	#[error("{path}: {source}")]
	Io {
		/// The path.
		path: String,
		/// What the system said.
		source: std::io::Error,
	},
	/// A file is not the kind of file it should be.
	#[error("{path}: not a {what} file: {source}")]
	Decode {
		/// The path.
		path: String,
		/// `batch` or `proof`.
		what: &'static str,
		/// What the decoder said.
		source: codec::Error,
	},
	/// The batch file is of another version.
	#[error("{path}: batch file version {version}")]
	Version {
		/// The path.
		path: String,
		/// Its version.
		version: u8,
	},
	/// The key directory's manifest is missing or wrong.
	#[error("{0}")]
	Keys(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
	move |source| FileError::Io { path: path.display().to_string(), source }
}

/// Creates `dir` and its parents.
pub fn create_dir(dir: &Path) -> Result<(), FileError> {
	std::fs::create_dir_all(dir).map_err(io(dir))
}

/// The batch size of the circuit whose keys are in `keys` (its manifest).
pub fn batch_size(keys: &Path) -> Result<usize, FileError> {
	files::batch_size(keys).map_err(FileError::Keys)
}

/// The batch file at `path`, whatever its version.
pub fn batch_file(path: &Path) -> Result<BatchFile, FileError> {
	BatchFile::decode(&mut &read_file(path)?[..]).map_err(|source| FileError::Decode {
		path: path.display().to_string(),
		what: "batch",
		source,
	})
}

/// The proof file at `path`.
pub fn proof_file(path: &Path) -> Result<ProofFile, FileError> {
	ProofFile::decode(&mut &read_file(path)?[..]).map_err(|source| FileError::Decode {
		path: path.display().to_string(),
		what: "proof",
		source,
	})
}

/// The contents of a secret file (a secret URI), trimmed.
pub fn read_suri(path: &Path) -> Result<String, FileError> {
	Ok(std::fs::read_to_string(path).map_err(io(path))?.trim().to_string())
}

/// A scratch directory of this process (the caller removes it).
pub fn tempdir() -> Result<PathBuf, FileError> {
	let dir = std::env::temp_dir().join(format!("emr-prover-{}", std::process::id()));
	create_dir(&dir)?;
	Ok(dir)
}
