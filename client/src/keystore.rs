//! The keystore: a directory of key-set files, `<name>.key`, in the format of
//! [`emr_client_core::keys`] (created with mode 0600, never overwritten).

use std::{
	fs,
	io::Write,
	path::{Path, PathBuf},
};

use emr_client_core::keys::{
	check_name, open_file, read_public, seal_file, KdfParams, KeySet, KeystoreError, PublicKeys,
};
use rand::{rngs::OsRng, RngCore};

/// A directory of key set files, `<name>.key`.
#[derive(Clone, Debug)]
pub struct Keystore {
	dir: PathBuf,
	kdf: KdfParams,
}

impl Keystore {
	/// A keystore in `dir` using the default Argon2id parameters for new files.
	pub fn new(dir: impl Into<PathBuf>) -> Self {
		Self { dir: dir.into(), kdf: KdfParams::default() }
	}

	/// Uses `kdf` for files created from now on (files keep the parameters they were made with).
	pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
		self.kdf = kdf;
		self
	}

	/// The directory.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	/// Path of the key set `name`.
	pub fn path(&self, name: &str) -> PathBuf {
		self.dir.join(format!("{name}.key"))
	}

	/// Encrypts `keys` under `passphrase` into a new file (mode 0600); never overwrites.
	pub fn create(&self, keys: &KeySet, passphrase: &[u8]) -> Result<PathBuf, KeystoreError> {
		check_name(&keys.public.name)?;
		if passphrase.is_empty() {
			return Err(KeystoreError::EmptyPassphrase);
		}
		let path = self.path(&keys.public.name);
		let io = |action, source| KeystoreError::Io { action, path: path.clone(), source };
		fs::create_dir_all(&self.dir).map_err(|e| io("creating the directory of", e))?;
		let mut salt = [0u8; 16];
		let mut nonce = [0u8; 24];
		OsRng.fill_bytes(&mut salt);
		OsRng.fill_bytes(&mut nonce);
		let bytes = seal_file(keys, passphrase, self.kdf, salt, nonce)?;

		let mut opts = fs::OpenOptions::new();
		opts.write(true).create_new(true);
		#[cfg(unix)]
		std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
		let tmp = self.dir.join(format!(".{}.tmp{}", keys.public.name, std::process::id()));
		let mut f = opts.open(&tmp).map_err(|e| io("creating", e))?;
		let written = f.write_all(&bytes).and_then(|_| f.sync_all());
		// Hard-linking never replaces an existing file: two concurrent `keys new` cannot clobber.
		let linked = written.and_then(|_| fs::hard_link(&tmp, &path));
		let _ = fs::remove_file(&tmp);
		match linked {
			Ok(()) => Ok(path),
			Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
				Err(KeystoreError::Exists { name: keys.public.name.clone(), dir: self.dir.clone() })
			},
			Err(e) => Err(io("writing", e)),
		}
	}

	fn read(&self, name: &str) -> Result<(PathBuf, Vec<u8>), KeystoreError> {
		check_name(name)?;
		let path = self.path(name);
		match fs::read(&path) {
			Ok(b) => Ok((path, b)),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
				Err(KeystoreError::NotFound { name: name.to_owned(), dir: self.dir.clone() })
			},
			Err(source) => Err(KeystoreError::Io { action: "reading", path, source }),
		}
	}

	/// The public keys of `name` (no passphrase needed).
	pub fn public(&self, name: &str) -> Result<PublicKeys, KeystoreError> {
		let (path, bytes) = self.read(name)?;
		read_public(&path, &bytes)
	}

	/// Opens `name` with `passphrase`.
	pub fn open(&self, name: &str, passphrase: &[u8]) -> Result<KeySet, KeystoreError> {
		let (path, bytes) = self.read(name)?;
		open_file(&path, &bytes, passphrase)
	}

	/// Names of the key sets in the directory.
	pub fn list(&self) -> Result<Vec<String>, KeystoreError> {
		let rd = match fs::read_dir(&self.dir) {
			Ok(rd) => rd,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
			Err(source) => {
				return Err(KeystoreError::Io { action: "listing", path: self.dir.clone(), source })
			},
		};
		let mut names: Vec<String> = rd
			.filter_map(|e| e.ok())
			.filter_map(|e| {
				e.file_name().to_str().and_then(|n| n.strip_suffix(".key")).map(str::to_owned)
			})
			.filter(|n| check_name(n).is_ok())
			.collect();
		names.sort();
		Ok(names)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use emr_client_core::keys::verify_signature;
	use emr_primitives::schnorr;

	const FAST: KdfParams = KdfParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 };

	#[test]
	fn create_open_and_refuse() {
		let dir = tempfile::tempdir().unwrap();
		let ks = Keystore::new(dir.path().join("ks")).with_kdf(FAST);
		let keys = KeySet::generate("alice");
		let path = ks.create(&keys, b"correct horse").unwrap();
		#[cfg(unix)]
		{
			use std::os::unix::fs::PermissionsExt;
			assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
		}
		assert!(matches!(ks.create(&keys, b"x"), Err(KeystoreError::Exists { .. })));
		assert_eq!(ks.public("alice").unwrap(), keys.public);
		let opened = ks.open("alice", b"correct horse").unwrap();
		assert_eq!(opened.public, keys.public);
		assert_eq!(opened.encryption_secret().0, keys.encryption_secret().0);
		assert!(matches!(ks.open("alice", b"wrong"), Err(KeystoreError::WrongPassphrase(_))));
		assert!(matches!(ks.open("bob", b"x"), Err(KeystoreError::NotFound { .. })));
		assert_eq!(ks.list().unwrap(), vec!["alice".to_owned()]);
		// Changing the public keys in the clear header is detected.
		let mut bytes = fs::read(&path).unwrap();
		// The last byte of the clear X25519 public key (before 96 + 16 sealed bytes).
		let at = bytes.len() - 112 - 1;
		bytes[at] ^= 1;
		assert!(open_file(&path, &bytes, b"correct horse").is_err());
		let sig = opened.sign(b"msg");
		assert!(verify_signature(&keys.public.account, b"msg", &sig));
		assert!(!verify_signature(&keys.public.account, b"other", &sig));
		assert_eq!(opened.rollup_secret().public(), keys.public.rollup);
	}

	/// Offset of the clear rollup public key in a file of `bytes` (the encryption key and the
	/// 96 + 16 sealed bytes follow it).
	fn rollup_at(bytes: &[u8]) -> usize {
		bytes.len() - 112 - 32 - 32
	}

	#[test]
	fn rollup_key_from_the_sealed_seed() {
		let seed = [7u8; 32];
		let keys = KeySet::from_seeds("carol", [1; 32], seed, [2; 32]);
		let expected = schnorr::SecretKey::from_seed(&seed).public();
		assert_eq!(keys.public.rollup, expected);
		assert_eq!(keys.rollup_secret().public(), expected);

		let dir = tempfile::tempdir().unwrap();
		let ks = Keystore::new(dir.path()).with_kdf(FAST);
		let path = ks.create(&keys, b"pass").unwrap();
		let bytes = fs::read(&path).unwrap();
		let at = rollup_at(&bytes);
		assert_eq!(bytes[at..at + 32], expected.to_bytes());
		assert_eq!(ks.public("carol").unwrap().rollup, expected);

		// Another valid key in the clear header: the associated data no longer matches.
		let mut other = bytes.clone();
		other[at..at + 32]
			.copy_from_slice(&schnorr::SecretKey::from_seed(&[8; 32]).public().to_bytes());
		assert!(matches!(
			open_file(&path, &other, b"pass"),
			Err(KeystoreError::WrongPassphrase(_))
		));
		// Not a valid key (the identity point): refused even without the passphrase.
		let mut identity = bytes.clone();
		identity[at..at + 32].fill(0);
		identity[at] = 1;
		fs::write(&path, &identity).unwrap();
		assert!(matches!(ks.public("carol"), Err(KeystoreError::BadFile { .. })));
		assert!(matches!(ks.open("carol", b"pass"), Err(KeystoreError::BadFile { .. })));

		// An authenticated header whose rollup key is not the sealed seed's: refused on opening.
		let mut forged = KeySet::from_seeds("carol", [1; 32], seed, [2; 32]);
		forged.public.rollup = schnorr::SecretKey::from_seed(&[8; 32]).public();
		let sealed = seal_file(&forged, b"pass", FAST, [3; 16], [4; 24]).unwrap();
		let err = open_file(&path, &sealed, b"pass").unwrap_err();
		assert!(err.to_string().contains("public keys do not match"), "{err}");
	}
}
