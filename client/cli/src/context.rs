//! What every command shares: the error type, the context (key set, keystore, data
//! directory, passphrase, waiting), progress on standard error and the argument parsers.

use std::{
	fs,
	path::{Path, PathBuf},
	time::Duration,
};

use emr_client::{
	audit::AuditError,
	chain::ChainError,
	client::{ClientError, Progress},
	ids::{IdError, Reader},
	keys::{KeySet, KeystoreError},
	keystore::Keystore,
	records_on_chain::{Wait, WorkflowError},
	storage::{Cid, StorageError},
};

/// Everything `emr` can report.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
	/// Client operation failed.
	#[error(transparent)]
	Client(#[from] ClientError),
	/// Storage failed.
	#[error(transparent)]
	Storage(#[from] StorageError),
	/// Keystore failed.
	#[error(transparent)]
	Keystore(#[from] KeystoreError),
	/// Bad identifier.
	#[error(transparent)]
	Id(#[from] IdError),
	/// Bad CID.
	#[error("invalid CID {0:?}")]
	BadCid(String),
	/// No passphrase available.
	#[error("no passphrase: use --passphrase-file FILE, set EMR_PASSPHRASE, or run in a terminal")]
	NoPassphrase,
	/// Passphrases differ.
	#[error("the two passphrases differ")]
	PassphraseMismatch,
	/// Local file error.
	#[error("{action} {path}: {source}")]
	Io {
		/// What was being done.
		action: &'static str,
		/// The file.
		path: PathBuf,
		/// The operating system's error.
		source: std::io::Error,
	},
	/// The async runtime could not start.
	#[error("could not start the I/O runtime: {0}")]
	Runtime(std::io::Error),
	/// Talking to the chain failed, or the chain refused.
	#[error(transparent)]
	Chain(#[from] ChainError),
	/// A request that cannot be carried out as given.
	#[error("{0}")]
	Usage(String),
	/// An audit found a disagreement (or could not gather its evidence).
	#[error(transparent)]
	Audit(#[from] AuditError),
	/// A consent-gated workflow failed.
	#[error(transparent)]
	Workflow(#[from] WorkflowError),
}

/// Prints progress on standard error.
pub struct Stderr;
impl Progress for Stderr {
	fn step(&mut self, message: &str) {
		eprintln!("… {message}");
	}
}

/// The [`CliError::Io`] of `action` on `path`.
pub fn io_err<'a>(
	action: &'static str,
	path: &'a Path,
) -> impl FnOnce(std::io::Error) -> CliError + 'a {
	move |source| CliError::Io { action, path: path.to_owned(), source }
}

/// The default data directory.
pub fn default_data_dir() -> PathBuf {
	if let Some(d) = std::env::var_os("EMR_DATA_DIR").filter(|d| !d.is_empty()) {
		return PathBuf::from(d);
	}
	if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
		return PathBuf::from(d).join("emr");
	}
	let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
	home.join(".local/share/emr")
}

/// What every command may use: the key set named on the command line, the keystore, the data
/// directory, the passphrase source and how long submitting commands wait.
pub struct Context {
	/// The key set (`--key`, `EMR_KEY`, "default").
	pub cli_key: String,
	/// The keystore.
	pub keystore: Keystore,
	/// The data directory.
	pub data_dir: PathBuf,
	/// `--passphrase-file`, when given.
	pub(crate) passphrase_file: Option<PathBuf>,
	/// How long submitting commands wait.
	pub wait: Wait,
	/// `--wait-timeout`, when given.
	pub wait_timeout: Option<Duration>,
}

impl Context {
	/// The passphrase: from `--passphrase-file`, `EMR_PASSPHRASE` or a prompt (twice when
	/// `confirm`).
	pub fn passphrase(&self, confirm: bool) -> Result<Vec<u8>, CliError> {
		if let Some(path) = &self.passphrase_file {
			let text =
				fs::read_to_string(path).map_err(io_err("reading the passphrase file", path))?;
			return Ok(text.lines().next().unwrap_or_default().as_bytes().to_vec());
		}
		if let Some(p) = std::env::var_os("EMR_PASSPHRASE") {
			return Ok(p.to_string_lossy().as_bytes().to_vec());
		}
		let prompt = format!("passphrase for key set {:?}: ", self.cli_key);
		let first = rpassword::prompt_password(prompt).map_err(|_| CliError::NoPassphrase)?;
		if confirm {
			let again = rpassword::prompt_password("repeat the passphrase: ")
				.map_err(|_| CliError::NoPassphrase)?;
			if again != first {
				return Err(CliError::PassphraseMismatch);
			}
		}
		Ok(first.into_bytes())
	}

	/// Opens the key set named on the command line.
	pub fn open_keys(&self) -> Result<KeySet, CliError> {
		self.open_named_keys(&self.cli_key)
	}

	/// Opens the key set `name` (same keystore, same passphrase source).
	pub fn open_named_keys(&self, name: &str) -> Result<KeySet, CliError> {
		// Fail on a missing key set before asking for a passphrase.
		self.keystore.public(name)?;
		let pass = self.passphrase(false)?;
		Ok(self.keystore.open(name, &pass)?)
	}
}

/// A reader from `name=<hex>`, `<hex>` or a key card file.
pub fn parse_reader(s: &str) -> Result<Reader, CliError> {
	let path = Path::new(s);
	if !s.contains('=') && path.is_file() {
		let text = fs::read_to_string(path).map_err(io_err("reading the key card", path))?;
		let v: serde_json::Value =
			serde_json::from_str(&text).map_err(|_| CliError::Id(IdError::Reader(s.to_owned())))?;
		let name = v.get("name").and_then(|n| n.as_str()).unwrap_or_default();
		let key = v.get("encryption_x25519").and_then(|n| n.as_str()).unwrap_or_default();
		return Ok(
			Reader::parse(&format!("{name}={key}")).map_err(|_| IdError::Reader(s.to_owned()))?
		);
	}
	Ok(Reader::parse(s)?)
}

/// A participant id.
pub fn parse_id(s: &str) -> Result<emr_primitives::ops::ParticipantId, CliError> {
	s.trim().parse().map_err(|_| {
		CliError::Usage(format!("{s:?} is not a participant id (a number the chain assigned)"))
	})
}

/// A CID.
pub fn parse_cid(s: &str) -> Result<Cid, CliError> {
	Cid::try_from(s.trim()).map_err(|_| CliError::BadCid(s.to_owned()))
}
