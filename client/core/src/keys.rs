//! A participant's key set and the passphrase-encrypted keystore.
//!
//! A key set holds three 32-byte secrets, each drawn from the operating system's RNG:
//!
//! * the **chain account** seed — an sr25519 key expanded exactly as Substrate's
//!   `sr25519::Pair::from_seed` does (`MiniSecretKey` with `ExpansionMode::Ed25519`), so the
//!   account (SS58 prefix 42) is the one `subkey inspect 0x<seed>` shows; it also signs index
//!   entries;
//! * the **rollup key** seed — the key of `emr-primitives`' rollup signatures (Schnorr on
//!   Bandersnatch, Poseidon challenge): [`schnorr::SecretKey::from_seed`]; its public key (32
//!   bytes, compressed point) is the participant's key on the rollup (the chain assigns the
//!   participant id at registration, in registration order);
//! * the **encryption key** — an X25519 secret for HPKE (RFC 9180); its public key is what other
//!   participants share records with.
//!
//! File format (version 2, `docs/formats.md`): `"EMRK" ‖ 0x02 ‖ SCALE(header) ‖ sealed`, where the
//! header holds the KDF parameters, salt, nonce and the public keys in clear (so `emr keys show`
//! needs no passphrase), and `sealed` is XChaCha20-Poly1305 of the secrets under the key Argon2id
//! derives from the passphrase, with everything before it as associated data (the parameters and
//! public keys cannot be changed without detection). Files are created with mode 0600.

use std::path::{Path, PathBuf};

use chacha20poly1305::{
	aead::{Aead, KeyInit, Payload},
	XChaCha20Poly1305, XNonce,
};
use codec::{Decode, Encode};
use emr_primitives::schnorr;
use rand::{rngs::OsRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::EncryptionSecret;

/// Magic bytes of a keystore file.
pub const KEYSTORE_MAGIC: [u8; 4] = *b"EMRK";
/// Keystore format version (2: the header holds the rollup public key; version 1 did not).
pub const KEYSTORE_VERSION: u8 = 2;
/// SS58 address prefix of emr-chain (the runtime's `SS58Prefix`).
pub const SS58_PREFIX: u8 = 42;
/// Signing context of sr25519 signatures (Substrate's).
pub const SIGNING_CONTEXT: &[u8] = b"substrate";

/// Argon2id parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct KdfParams {
	/// Memory in KiB.
	pub m_cost_kib: u32,
	/// Iterations.
	pub t_cost: u32,
	/// Parallelism (lanes).
	pub p_cost: u32,
}

impl Default for KdfParams {
	/// 64 MiB, 3 passes, 1 lane (RFC 9106 §4, second recommended option, one lane): about
	/// 0.2–0.5 s on the development machine.
	fn default() -> Self {
		Self { m_cost_kib: 64 * 1024, t_cost: 3, p_cost: 1 }
	}
}

/// The public part of a key set.
///
/// SCALE: `name ‖ account ‖ rollup ‖ encryption`, the rollup key as its 32-byte compressed
/// encoding; decoding refuses a rollup key that is not a valid one (off the curve, outside the
/// prime-order subgroup, the identity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeys {
	/// Key set name.
	pub name: String,
	/// sr25519 public key of the chain account.
	pub account: [u8; 32],
	/// Rollup public key (Schnorr on Bandersnatch).
	pub rollup: schnorr::PublicKey,
	/// X25519 public key for HPKE.
	pub encryption: [u8; 32],
}

impl PublicKeys {
	/// SS58 address of the account.
	pub fn account_ss58(&self) -> String {
		ss58(&self.account, SS58_PREFIX)
	}
}

impl Encode for PublicKeys {
	fn size_hint(&self) -> usize {
		self.name.size_hint() + 3 * 32
	}

	fn encode_to<T: codec::Output + ?Sized>(&self, dest: &mut T) {
		self.name.encode_to(dest);
		dest.write(&self.account);
		dest.write(&self.rollup.to_bytes());
		dest.write(&self.encryption);
	}
}

impl Decode for PublicKeys {
	fn decode<I: codec::Input>(input: &mut I) -> Result<Self, codec::Error> {
		let name = String::decode(input)?;
		let account = <[u8; 32]>::decode(input)?;
		let rollup = schnorr::PublicKey::from_bytes(&<[u8; 32]>::decode(input)?)
			.map_err(|_| codec::Error::from("invalid rollup public key"))?;
		let encryption = <[u8; 32]>::decode(input)?;
		Ok(Self { name, account, rollup, encryption })
	}
}

/// Secrets of a key set, wiped from memory when dropped.
#[derive(Clone, Encode, Decode, Zeroize, ZeroizeOnDrop)]
struct Secrets {
	account_seed: [u8; 32],
	rollup_seed: [u8; 32],
	encryption_secret: [u8; 32],
}

/// An opened key set.
pub struct KeySet {
	/// Public keys.
	pub public: PublicKeys,
	secrets: Secrets,
}

impl std::fmt::Debug for KeySet {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("KeySet").field("public", &self.public).finish_non_exhaustive()
	}
}

/// Errors of the keystore.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
	/// No key set of that name.
	#[error("no key set {name:?} in {dir} (create one with `emr keys new`)")]
	NotFound {
		/// Key set name.
		name: String,
		/// Keystore directory.
		dir: PathBuf,
	},
	/// Refusing to overwrite.
	#[error("a key set {name:?} already exists in {dir}; choose another name or remove the file")]
	Exists {
		/// Key set name.
		name: String,
		/// Keystore directory.
		dir: PathBuf,
	},
	/// Wrong passphrase or damaged file (indistinguishable by design).
	#[error("the passphrase is wrong, or the keystore file {0} was altered")]
	WrongPassphrase(PathBuf),
	/// Not a keystore file.
	#[error("{path} is not an emr keystore file: {reason}")]
	BadFile {
		/// The file.
		path: PathBuf,
		/// What is wrong.
		reason: String,
	},
	/// Not one of the published development identities.
	#[error("{0:?} is not a development identity (Alice, Bob, Charlie, Dave, Eve, Ferdie)")]
	UnknownDevIdentity(String),
	/// Bad key set name.
	#[error(
		"invalid key set name {0:?}: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"
	)]
	BadName(String),
	/// Empty passphrase.
	#[error("the passphrase is empty")]
	EmptyPassphrase,
	/// KDF failure.
	#[error("key derivation failed: {0}")]
	Kdf(String),
	/// File system error.
	#[error("keystore: {action} {path}: {source}")]
	Io {
		/// What was being done.
		action: &'static str,
		/// The file.
		path: PathBuf,
		/// The operating system's error.
		source: std::io::Error,
	},
}

#[derive(Encode, Decode)]
struct FileHeader {
	kdf: KdfParams,
	salt: [u8; 16],
	nonce: [u8; 24],
	public: PublicKeys,
}

fn derive_key(
	passphrase: &[u8],
	salt: &[u8; 16],
	p: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
	let params = argon2::Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(32))
		.map_err(|e| KeystoreError::Kdf(e.to_string()))?;
	let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
	let mut key = Zeroizing::new([0u8; 32]);
	argon
		.hash_password_into(passphrase, salt, key.as_mut())
		.map_err(|e| KeystoreError::Kdf(e.to_string()))?;
	Ok(key)
}

fn account_keypair(seed: &[u8; 32]) -> schnorrkel::Keypair {
	// A 32-byte seed is always a valid mini secret key.
	schnorrkel::MiniSecretKey::from_bytes(seed)
		.map(|m| m.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519))
		.unwrap_or_else(|_| schnorrkel::Keypair::generate())
}

/// SS58 encoding of a 32-byte public key with a one-byte prefix.
pub fn ss58(public: &[u8; 32], prefix: u8) -> String {
	use blake2::{Blake2b512, Digest};
	let mut data = vec![prefix];
	data.extend_from_slice(public);
	let hash = Blake2b512::new().chain_update(b"SS58PRE").chain_update(&data).finalize();
	data.extend_from_slice(&hash[..2]);
	bs58::encode(data).into_string()
}

/// Verifies an sr25519 signature made by [`KeySet::sign`].
pub fn verify_signature(account: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
	let (Ok(pk), Ok(sig)) =
		(schnorrkel::PublicKey::from_bytes(account), schnorrkel::Signature::from_bytes(signature))
	else {
		return false;
	};
	pk.verify_simple(SIGNING_CONTEXT, message, &sig).is_ok()
}

impl KeySet {
	fn from_secrets(name: &str, secrets: Secrets) -> Self {
		let account = account_keypair(&secrets.account_seed).public.to_bytes();
		let rollup = schnorr::SecretKey::from_seed(&secrets.rollup_seed).public();
		let encryption = EncryptionSecret(secrets.encryption_secret).public();
		Self { public: PublicKeys { name: name.to_owned(), account, rollup, encryption }, secrets }
	}

	/// A fresh key set from the operating system's RNG.
	pub fn generate(name: &str) -> Self {
		let mut s =
			Secrets { account_seed: [0; 32], rollup_seed: [0; 32], encryption_secret: [0; 32] };
		OsRng.fill_bytes(&mut s.account_seed);
		OsRng.fill_bytes(&mut s.encryption_secret);
		OsRng.fill_bytes(&mut s.rollup_seed);
		Self::from_secrets(name, s)
	}

	/// A key set from fixed seeds (test vectors).
	pub fn from_seeds(
		name: &str,
		account: [u8; 32],
		rollup: [u8; 32],
		encryption: [u8; 32],
	) -> Self {
		Self::from_secrets(
			name,
			Secrets { account_seed: account, rollup_seed: rollup, encryption_secret: encryption },
		)
	}

	/// The INSECURE key set of the development identity `identity` (`Alice`, …), named `name`:
	/// the rollup and encryption secrets everyone knows (`emr_primitives::dev::
	/// dev_rollup_key` and `dev_encryption_secret`), with which the dev chains admit
	/// organisations. Its chain account is derived the same way and is not the identity's
	/// sr25519 dev account. Never on a network others use.
	pub fn dev(name: &str, identity: &str) -> Result<Self, KeystoreError> {
		use blake2::{digest::consts::U32, Blake2b, Digest};
		let Some(_) = emr_primitives::dev::dev_encryption_key(identity) else {
			return Err(KeystoreError::UnknownDevIdentity(identity.to_owned()));
		};
		let seed = |label: &[u8]| -> [u8; 32] {
			let mut h = Blake2b::<U32>::new();
			h.update(label);
			h.update(identity.as_bytes());
			h.finalize().into()
		};
		Ok(Self::from_seeds(
			name,
			seed(b"emr-chain dev account //"),
			seed(b"emr-chain dev rollup key //"),
			emr_primitives::dev::dev_encryption_secret(identity),
		))
	}

	/// The X25519 secret for opening wrapped keys.
	pub fn encryption_secret(&self) -> EncryptionSecret {
		EncryptionSecret(self.secrets.encryption_secret)
	}

	/// The rollup secret key (signs rollup operations; its public key is `public.rollup`).
	pub fn rollup_secret(&self) -> schnorr::SecretKey {
		schnorr::SecretKey::from_seed(&self.secrets.rollup_seed)
	}

	/// Signs `message` with the chain account key (sr25519, context `substrate`).
	pub fn sign(&self, message: &[u8]) -> [u8; 64] {
		account_keypair(&self.secrets.account_seed).sign_simple(SIGNING_CONTEXT, message).to_bytes()
	}
}

/// Checks a key set name (the rules of a patient id: 1–64 of `A–Z a–z 0–9 . _ -`).
pub fn check_name(name: &str) -> Result<(), KeystoreError> {
	crate::ids::PatientId::new(name)
		.map(|_| ())
		.map_err(|_| KeystoreError::BadName(name.to_owned()))
}

/// Encodes and seals a keystore file (deterministic given salt and nonce; used by the test vectors).
pub fn seal_file(
	keys: &KeySet,
	passphrase: &[u8],
	kdf: KdfParams,
	salt: [u8; 16],
	nonce: [u8; 24],
) -> Result<Vec<u8>, KeystoreError> {
	let header = FileHeader { kdf, salt, nonce, public: keys.public.clone() };
	let mut out = KEYSTORE_MAGIC.to_vec();
	out.push(KEYSTORE_VERSION);
	header.encode_to(&mut out);
	let key = derive_key(passphrase, &salt, &kdf)?;
	let plain = Zeroizing::new(keys.secrets.encode());
	let sealed = XChaCha20Poly1305::new(key.as_ref().into())
		.encrypt(XNonce::from_slice(&nonce), Payload { msg: &plain, aad: &out })
		.map_err(|_| KeystoreError::Kdf("encryption failed".into()))?;
	out.extend_from_slice(&sealed);
	Ok(out)
}

fn parse_file(path: &Path, bytes: &[u8]) -> Result<(FileHeader, usize), KeystoreError> {
	let bad =
		|reason: &str| KeystoreError::BadFile { path: path.to_owned(), reason: reason.into() };
	if bytes.len() < 5 || bytes[..4] != KEYSTORE_MAGIC {
		return Err(bad("missing EMRK magic"));
	}
	if bytes[4] != KEYSTORE_VERSION {
		return Err(bad(&format!(
			"format version {} (this client reads {KEYSTORE_VERSION}; create the key set again)",
			bytes[4]
		)));
	}
	let mut rest = &bytes[5..];
	// Also refuses a rollup public key that is not a valid key (see `PublicKeys`' `Decode`).
	let header = FileHeader::decode(&mut rest).map_err(|_| bad("damaged header"))?;
	Ok((header, bytes.len() - rest.len()))
}

/// The public keys in the clear header of a keystore file's bytes (no passphrase needed).
pub fn read_public(path: &Path, bytes: &[u8]) -> Result<PublicKeys, KeystoreError> {
	Ok(parse_file(path, bytes)?.0.public)
}

/// Opens a keystore file's bytes.
pub fn open_file(path: &Path, bytes: &[u8], passphrase: &[u8]) -> Result<KeySet, KeystoreError> {
	let (header, at) = parse_file(path, bytes)?;
	// Refuse absurd parameters from a tampered file before spending memory on them.
	if header.kdf.m_cost_kib > 4 * 1024 * 1024 || header.kdf.t_cost > 100 || header.kdf.p_cost > 64
	{
		return Err(KeystoreError::BadFile {
			path: path.to_owned(),
			reason: "unreasonable key derivation parameters".into(),
		});
	}
	let key = derive_key(passphrase, &header.salt, &header.kdf)?;
	let plain = Zeroizing::new(
		XChaCha20Poly1305::new(key.as_ref().into())
			.decrypt(
				XNonce::from_slice(&header.nonce),
				Payload { msg: &bytes[at..], aad: &bytes[..at] },
			)
			.map_err(|_| KeystoreError::WrongPassphrase(path.to_owned()))?,
	);
	let secrets = Secrets::decode(&mut &plain[..]).map_err(|_| KeystoreError::BadFile {
		path: path.to_owned(),
		reason: "damaged secrets".into(),
	})?;
	let keys = KeySet::from_secrets(&header.public.name, secrets);
	if keys.public != header.public {
		return Err(KeystoreError::BadFile {
			path: path.to_owned(),
			reason: "public keys do not match the secrets".into(),
		});
	}
	Ok(keys)
}

#[cfg(test)]
mod tests {
	use super::*;

	const FAST: KdfParams = KdfParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 };

	#[test]
	fn dev_key_sets_hold_the_keys_the_dev_chains_admit() {
		use emr_primitives::dev::{dev_encryption_key, dev_rollup_key};
		for name in ["Alice", "Bob", "Ferdie"] {
			let keys = KeySet::dev("h", name).unwrap();
			assert_eq!(keys.public.rollup, dev_rollup_key(name).public(), "{name}");
			assert_eq!(Some(keys.public.encryption), dev_encryption_key(name), "{name}");
		}
		assert_ne!(
			KeySet::dev("h", "Alice").unwrap().public,
			KeySet::dev("h", "Bob").unwrap().public
		);
		assert!(matches!(KeySet::dev("h", "Mallory"), Err(KeystoreError::UnknownDevIdentity(_))));
	}

	#[test]
	fn other_versions_are_refused() {
		let keys = KeySet::from_seeds("carol", [1; 32], [7; 32], [2; 32]);
		let mut bytes = seal_file(&keys, b"pass", FAST, [3; 16], [4; 24]).unwrap();
		bytes[4] = 1;
		let err = open_file(Path::new("v1"), &bytes, b"pass").unwrap_err();
		assert!(err.to_string().contains("format version 1 (this client reads 2"), "{err}");
	}

	#[test]
	fn substrate_compatible_account() {
		// `subkey inspect 0x<seed>` of the Alice dev seed shows this public key and address.
		let seed: [u8; 32] =
			hex::decode("e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a")
				.unwrap()
				.try_into()
				.unwrap();
		let keys = KeySet::from_seeds("alice", seed, [0; 32], [0; 32]);
		assert_eq!(
			hex::encode(keys.public.account),
			"d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
		);
		assert_eq!(keys.public.account_ss58(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
	}
}
