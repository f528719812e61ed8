//! Client-side encryption of records and key wrapping.
//!
//! **Records** (format version 1, see `docs/formats.md`): XChaCha20-Poly1305 with a fresh random
//! 256-bit key per file, in the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár): the
//! plaintext is cut into chunks of [`DEFAULT_CHUNK_SIZE`] bytes, chunk `i` is sealed with nonce
//! `prefix(19) ‖ BE32(i) ‖ last(1)` so chunks cannot be reordered, dropped or the file cut at a
//! chunk boundary without detection. Every chunk's associated data is the record context
//! (patient, record id, version) followed by the 100-byte header, so a ciphertext only opens for
//! the record version it was made for. The header also carries
//!
//! * a digest of the context, so a file opened for the wrong patient/record/version is reported as
//!   such ([`RecordError::WrongAssociatedData`]) instead of as generic damage, and
//! * a commitment to the key (SHA-256 of a label, the key and the nonce prefix): it makes the
//!   ciphertext key-committing (a writer cannot hand different readers different keys that open
//!   the same bytes to different contents) and reports a wrong key as such
//!   ([`RecordError::WrongKey`]).
//!
//! Memory use is one chunk plus the output buffer; a 50 MiB file needs about 50 MiB.
//!
//! **Key wrapping**: HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20-Poly1305; `info` = [`WRAP_INFO`]. A wrapped key is `enc (32) ‖ ciphertext (32 + 16)`
//! plus an 8-byte hint `SHA-256("emr-reader-hint-v1" ‖ reader public key ‖ enc)[..8]` that lets a
//! reader find its wrap without trial decryption while telling others nothing (each `enc` is
//! fresh, so hints of one reader are unlinkable).

use std::io::{Read, Write};

use chacha20poly1305::{
	aead::{AeadInPlace, KeyInit},
	XChaCha20Poly1305, XNonce,
};
use codec::{Decode, Encode};
use hpke::{
	aead::ChaCha20Poly1305, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, Kem as _,
	OpModeR, OpModeS, Serializable,
};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::ids::{PatientId, RecordId};

/// Magic bytes at the start of an encrypted record.
pub const RECORD_MAGIC: [u8; 4] = *b"EMRF";
/// Current record format version.
pub const RECORD_FORMAT_VERSION: u8 = 1;
/// Plaintext bytes per chunk.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Smallest and largest accepted chunk sizes.
pub const CHUNK_SIZE_RANGE: std::ops::RangeInclusive<u32> = 1024..=(16 << 20);
/// Header length in bytes.
pub const HEADER_LEN: usize = 4 + 1 + 4 + 8 + 19 + 32 + 32;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// HPKE `info` for key wraps.
pub const WRAP_INFO: &[u8] = b"emr-chain key wrap v1";

/// A 256-bit symmetric key, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey(pub [u8; 32]);

impl SymmetricKey {
	/// A fresh random key.
	pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> Self {
		let mut k = [0u8; 32];
		rng.fill_bytes(&mut k);
		Self(k)
	}
}

impl std::fmt::Debug for SymmetricKey {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("SymmetricKey(…)")
	}
}

/// What a record ciphertext is bound to (its associated data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordContext {
	/// Whose record.
	pub patient: PatientId,
	/// Which record.
	pub record: RecordId,
	/// Which version of it.
	pub version: u32,
}

impl RecordContext {
	/// The associated-data prefix: `"emr-record-v1"` ‖ SCALE(patient) ‖ record id ‖ LE32(version).
	pub fn associated_data(&self) -> Vec<u8> {
		let mut out = b"emr-record-v1".to_vec();
		self.patient.encode_to(&mut out);
		out.extend_from_slice(&self.record.0);
		out.extend_from_slice(&self.version.to_le_bytes());
		out
	}

	fn binding(&self) -> [u8; 32] {
		Sha256::new()
			.chain_update(b"emr-record-binding-v1")
			.chain_update(self.associated_data())
			.finalize()
			.into()
	}
}

/// Why a record could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
	/// Not an encrypted record at all.
	#[error("this is not an emr encrypted record (bad magic bytes)")]
	NotARecord,
	/// Written by a newer client.
	#[error(
		"encrypted record format version {0} is not supported by this client (it reads version 1)"
	)]
	UnsupportedVersion(u8),
	/// The header is inconsistent.
	#[error("the encrypted record header is invalid: {0}")]
	BadHeader(&'static str),
	/// The file is shorter than its header says.
	#[error("the encrypted record is truncated: {actual} of {expected} bytes present (incomplete upload or download)")]
	Truncated {
		/// Length the header implies.
		expected: u64,
		/// Length present.
		actual: u64,
	},
	/// The file is longer than its header says.
	#[error(
		"the encrypted record has {actual} bytes, {expected} expected: extra data was appended"
	)]
	TrailingData {
		/// Length the header implies.
		expected: u64,
		/// Length present.
		actual: u64,
	},
	/// Opened for another patient, record or version.
	#[error("the encrypted file belongs to a different patient, record or version than requested (associated data mismatch)")]
	WrongAssociatedData,
	/// The key does not belong to this ciphertext.
	#[error("the key does not open this record (wrong key)")]
	WrongKey,
	/// Authentication of a chunk failed.
	#[error("the encrypted record was altered: chunk {chunk} failed authentication")]
	Tampered {
		/// Index of the first chunk that failed.
		chunk: u64,
	},
	/// The input changed length while being read.
	#[error("the input changed while it was being encrypted (expected {expected} bytes)")]
	InputChanged {
		/// The announced length.
		expected: u64,
	},
	/// Reading the input or writing the output failed.
	#[error("I/O error: {0}")]
	Io(#[from] std::io::Error),
}

/// The parsed header of a record ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordHeader {
	/// Plaintext bytes per chunk.
	pub chunk_size: u32,
	/// Plaintext length.
	pub plaintext_len: u64,
	/// Nonce prefix.
	pub nonce_prefix: [u8; 19],
	/// Digest of the context.
	pub binding: [u8; 32],
	/// Key commitment.
	pub key_commitment: [u8; 32],
}

impl RecordHeader {
	fn to_bytes(&self) -> [u8; HEADER_LEN] {
		let mut h = [0u8; HEADER_LEN];
		h[0..4].copy_from_slice(&RECORD_MAGIC);
		h[4] = RECORD_FORMAT_VERSION;
		h[5..9].copy_from_slice(&self.chunk_size.to_le_bytes());
		h[9..17].copy_from_slice(&self.plaintext_len.to_le_bytes());
		h[17..36].copy_from_slice(&self.nonce_prefix);
		h[36..68].copy_from_slice(&self.binding);
		h[68..100].copy_from_slice(&self.key_commitment);
		h
	}

	/// Parses a header (checks magic, version and chunk size).
	pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
		if bytes.len() >= 4 && bytes[0..4] != RECORD_MAGIC {
			return Err(RecordError::NotARecord);
		}
		if bytes.len() >= 5 && bytes[4] != RECORD_FORMAT_VERSION {
			return Err(RecordError::UnsupportedVersion(bytes[4]));
		}
		if bytes.len() < HEADER_LEN {
			return Err(RecordError::Truncated {
				expected: HEADER_LEN as u64,
				actual: bytes.len() as u64,
			});
		}
		let arr = |r: std::ops::Range<usize>| bytes[r].to_vec();
		let chunk_size = u32::from_le_bytes(arr(5..9).try_into().unwrap_or_default());
		if !CHUNK_SIZE_RANGE.contains(&chunk_size) {
			return Err(RecordError::BadHeader("chunk size out of range"));
		}
		let plaintext_len = u64::from_le_bytes(arr(9..17).try_into().unwrap_or_default());
		let h = Self {
			chunk_size,
			plaintext_len,
			nonce_prefix: arr(17..36).try_into().unwrap_or_default(),
			binding: arr(36..68).try_into().unwrap_or_default(),
			key_commitment: arr(68..100).try_into().unwrap_or_default(),
		};
		h.chunks().ok_or(RecordError::BadHeader("too many chunks"))?;
		Ok(h)
	}

	/// Number of chunks (at least one; `None` if more than 2³² would be needed).
	pub fn chunks(&self) -> Option<u64> {
		let n = self.plaintext_len.div_ceil(u64::from(self.chunk_size)).max(1);
		(n <= u64::from(u32::MAX)).then_some(n)
	}

	/// Total ciphertext length implied by the header.
	pub fn ciphertext_len(&self) -> Option<u64> {
		let n = self.chunks()?;
		(HEADER_LEN as u64).checked_add(self.plaintext_len)?.checked_add(n * TAG_LEN as u64)
	}
}

fn key_commitment(key: &SymmetricKey, prefix: &[u8; 19]) -> [u8; 32] {
	Sha256::new()
		.chain_update(b"emr-record-key-commitment-v1")
		.chain_update(key.0)
		.chain_update(prefix)
		.finalize()
		.into()
}

fn chunk_nonce(prefix: &[u8; 19], index: u64, last: bool) -> XNonce {
	let mut n = [0u8; 24];
	n[..19].copy_from_slice(prefix);
	// Callers guarantee index < 2^32 (checked via `RecordHeader::chunks`).
	n[19..23].copy_from_slice(&(index as u32).to_be_bytes());
	n[23] = u8::from(last);
	XNonce::from(n)
}

/// Encrypts `len` bytes read from `input` for `ctx` under `key` (the nonce prefix comes from
/// `rng`). Returns the ciphertext and the SHA-256 of the plaintext.
pub fn encrypt_record(
	key: &SymmetricKey,
	ctx: &RecordContext,
	input: &mut impl Read,
	len: u64,
	chunk_size: u32,
	rng: &mut (impl RngCore + CryptoRng),
) -> Result<(Vec<u8>, [u8; 32]), RecordError> {
	let mut nonce_prefix = [0u8; 19];
	rng.fill_bytes(&mut nonce_prefix);
	encrypt_record_with_nonce_prefix(key, ctx, input, len, chunk_size, nonce_prefix)
}

/// [`encrypt_record`] with a given nonce prefix (for test vectors; a prefix must never be reused
/// with the same key).
pub fn encrypt_record_with_nonce_prefix(
	key: &SymmetricKey,
	ctx: &RecordContext,
	input: &mut impl Read,
	len: u64,
	chunk_size: u32,
	nonce_prefix: [u8; 19],
) -> Result<(Vec<u8>, [u8; 32]), RecordError> {
	if !CHUNK_SIZE_RANGE.contains(&chunk_size) {
		return Err(RecordError::BadHeader("chunk size out of range"));
	}
	let header = RecordHeader {
		chunk_size,
		plaintext_len: len,
		nonce_prefix,
		binding: ctx.binding(),
		key_commitment: key_commitment(key, &nonce_prefix),
	};
	let chunks = header.chunks().ok_or(RecordError::BadHeader("too many chunks"))?;
	let total = header.ciphertext_len().ok_or(RecordError::BadHeader("too long"))?;
	let header_bytes = header.to_bytes();
	let mut aad = ctx.associated_data();
	aad.extend_from_slice(&header_bytes);

	let cipher = XChaCha20Poly1305::new((&key.0).into());
	let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
	out.extend_from_slice(&header_bytes);
	let mut hasher = Sha256::new();
	let mut remaining = len;
	for i in 0..chunks {
		let this = remaining.min(u64::from(chunk_size)) as usize;
		let start = out.len();
		out.resize(start + this, 0);
		input.read_exact(&mut out[start..]).map_err(|e| match e.kind() {
			std::io::ErrorKind::UnexpectedEof => RecordError::InputChanged { expected: len },
			_ => RecordError::Io(e),
		})?;
		hasher.update(&out[start..]);
		let tag = cipher
			.encrypt_in_place_detached(
				&chunk_nonce(&nonce_prefix, i, i + 1 == chunks),
				&aad,
				&mut out[start..],
			)
			.map_err(|_| RecordError::BadHeader("chunk too large for the cipher"))?;
		out.extend_from_slice(&tag);
		remaining -= this as u64;
	}
	// The input must end exactly at `len`.
	if input.read(&mut [0u8; 1])? != 0 {
		return Err(RecordError::InputChanged { expected: len });
	}
	Ok((out, hasher.finalize().into()))
}

/// Encrypts an in-memory plaintext (see [`encrypt_record`]).
pub fn encrypt_bytes(
	key: &SymmetricKey,
	ctx: &RecordContext,
	plaintext: &[u8],
	rng: &mut (impl RngCore + CryptoRng),
) -> Result<(Vec<u8>, [u8; 32]), RecordError> {
	encrypt_record(key, ctx, &mut &plaintext[..], plaintext.len() as u64, DEFAULT_CHUNK_SIZE, rng)
}

/// Decrypts `ciphertext` for `ctx` under `key`, writing the plaintext to `out` chunk by chunk.
/// Returns the SHA-256 of the plaintext. On error, `out` may hold a prefix of the plaintext:
/// write to a temporary file and keep it only on success.
pub fn decrypt_record(
	key: &SymmetricKey,
	ctx: &RecordContext,
	ciphertext: &[u8],
	out: &mut impl Write,
) -> Result<[u8; 32], RecordError> {
	let header = RecordHeader::parse(ciphertext)?;
	if header.binding != ctx.binding() {
		return Err(RecordError::WrongAssociatedData);
	}
	if header.key_commitment != key_commitment(key, &header.nonce_prefix) {
		return Err(RecordError::WrongKey);
	}
	let expected = header.ciphertext_len().ok_or(RecordError::BadHeader("too long"))?;
	let actual = ciphertext.len() as u64;
	if actual < expected {
		return Err(RecordError::Truncated { expected, actual });
	}
	if actual > expected {
		return Err(RecordError::TrailingData { expected, actual });
	}
	let chunks = header.chunks().ok_or(RecordError::BadHeader("too many chunks"))?;
	let mut aad = ctx.associated_data();
	aad.extend_from_slice(&ciphertext[..HEADER_LEN]);
	let cipher = XChaCha20Poly1305::new((&key.0).into());
	let mut hasher = Sha256::new();
	let mut rest = &ciphertext[HEADER_LEN..];
	let mut remaining = header.plaintext_len;
	let mut buf = Vec::with_capacity(header.chunk_size as usize);
	for i in 0..chunks {
		let this = remaining.min(u64::from(header.chunk_size)) as usize;
		let (body, after) = rest.split_at(this);
		let (tag, after) = after.split_at(TAG_LEN);
		rest = after;
		buf.clear();
		buf.extend_from_slice(body);
		cipher
			.decrypt_in_place_detached(
				&chunk_nonce(&header.nonce_prefix, i, i + 1 == chunks),
				&aad,
				&mut buf,
				tag.into(),
			)
			.map_err(|_| RecordError::Tampered { chunk: i })?;
		hasher.update(&buf);
		out.write_all(&buf)?;
		remaining -= this as u64;
	}
	buf.zeroize();
	Ok(hasher.finalize().into())
}

/// An X25519 secret key (for HPKE), wiped when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EncryptionSecret(pub [u8; 32]);

impl EncryptionSecret {
	/// The matching public key.
	pub fn public(&self) -> [u8; 32] {
		match <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(&self.0) {
			Ok(sk) => {
				let pk = X25519HkdfSha256::sk_to_pk(&sk);
				let mut out = [0u8; 32];
				out.copy_from_slice(&pk.to_bytes());
				out
			},
			// X25519 accepts every 32-byte string as a secret key.
			Err(_) => [0u8; 32],
		}
	}
}

/// A symmetric key wrapped for one reader with HPKE.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct WrappedKey {
	/// Lets the reader find its wrap (see the module documentation).
	pub hint: [u8; 8],
	/// HPKE encapsulated key.
	pub enc: [u8; 32],
	/// HPKE ciphertext of the 32-byte key (plus tag).
	pub ciphertext: [u8; 48],
}

/// Why a key could not be wrapped or unwrapped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WrapError {
	/// The reader's public key is not a valid X25519 key.
	#[error("the reader's public key is not a valid X25519 key")]
	BadPublicKey,
	/// HPKE failed (the wrap is damaged or bound to other data).
	#[error("the wrapped key is damaged or belongs to another entry")]
	Damaged,
}

fn hint(reader: &[u8; 32], enc: &[u8; 32]) -> [u8; 8] {
	let d = Sha256::new()
		.chain_update(b"emr-reader-hint-v1")
		.chain_update(reader)
		.chain_update(enc)
		.finalize();
	let mut h = [0u8; 8];
	h.copy_from_slice(&d[..8]);
	h
}

/// Wraps `key` for the reader `reader_pk`, bound to `aad`.
pub fn wrap_key(
	reader_pk: &[u8; 32],
	key: &SymmetricKey,
	aad: &[u8],
	rng: &mut (impl RngCore + CryptoRng),
) -> Result<WrappedKey, WrapError> {
	let pk = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(reader_pk)
		.map_err(|_| WrapError::BadPublicKey)?;
	let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
		&OpModeS::Base,
		&pk,
		WRAP_INFO,
		&key.0,
		aad,
		rng,
	)
	.map_err(|_| WrapError::BadPublicKey)?;
	let mut enc_bytes = [0u8; 32];
	enc_bytes.copy_from_slice(&enc.to_bytes());
	let ciphertext: [u8; 48] = ct.as_slice().try_into().map_err(|_| WrapError::Damaged)?;
	Ok(WrappedKey { hint: hint(reader_pk, &enc_bytes), enc: enc_bytes, ciphertext })
}

/// Finds the wrap for `secret` among `wraps` and opens it: `Ok(None)` if none is addressed to this
/// key, an error if one is but does not open.
pub fn unwrap_key(
	secret: &EncryptionSecret,
	wraps: &[WrappedKey],
	aad: &[u8],
) -> Result<Option<SymmetricKey>, WrapError> {
	let public = secret.public();
	let Some(w) = wraps.iter().find(|w| w.hint == hint(&public, &w.enc)) else {
		return Ok(None);
	};
	let sk = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(&secret.0)
		.map_err(|_| WrapError::Damaged)?;
	let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(&w.enc)
		.map_err(|_| WrapError::Damaged)?;
	let mut pt = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
		&OpModeR::Base,
		&sk,
		&enc,
		WRAP_INFO,
		&w.ciphertext,
		aad,
	)
	.map_err(|_| WrapError::Damaged)?;
	let key: [u8; 32] = pt.as_slice().try_into().map_err(|_| WrapError::Damaged)?;
	pt.zeroize();
	Ok(Some(SymmetricKey(key)))
}

#[cfg(test)]
mod tests {
	use super::*;
	use rand::rngs::OsRng;

	fn ctx(version: u32) -> RecordContext {
		RecordContext {
			patient: PatientId::new("patient-1").unwrap(),
			record: RecordId([9; 16]),
			version,
		}
	}

	fn roundtrip(len: usize) {
		let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
		let key = SymmetricKey::random(&mut OsRng);
		let (ct, hash) = encrypt_bytes(&key, &ctx(1), &data, &mut OsRng).unwrap();
		assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(&data)));
		let mut out = Vec::new();
		assert_eq!(decrypt_record(&key, &ctx(1), &ct, &mut out).unwrap(), hash);
		assert_eq!(out, data);
	}

	#[test]
	fn roundtrips() {
		const MIB: usize = 1 << 20;
		for len in [0, 1, MIB - 1, MIB, MIB + 1, 50 * MIB] {
			roundtrip(len);
		}
	}

	fn sample() -> (SymmetricKey, Vec<u8>) {
		let key = SymmetricKey::random(&mut OsRng);
		let data = vec![42u8; 3 * DEFAULT_CHUNK_SIZE as usize + 5];
		let (ct, _) = encrypt_bytes(&key, &ctx(1), &data, &mut OsRng).unwrap();
		(key, ct)
	}

	#[test]
	fn tampered_ciphertext() {
		let (key, mut ct) = sample();
		let at = HEADER_LEN + DEFAULT_CHUNK_SIZE as usize + TAG_LEN + 7;
		ct[at] ^= 1;
		let err = decrypt_record(&key, &ctx(1), &ct, &mut Vec::new()).unwrap_err();
		assert!(matches!(err, RecordError::Tampered { chunk: 1 }), "{err:?}");
		// Swapping two chunks is caught too (the index is in the nonce).
		let (key, mut ct) = sample();
		let n = DEFAULT_CHUNK_SIZE as usize + TAG_LEN;
		let (a, b) = (HEADER_LEN, HEADER_LEN + n);
		let first = ct[a..a + n].to_vec();
		ct.copy_within(b..b + n, a);
		ct[b..b + n].copy_from_slice(&first);
		let err = decrypt_record(&key, &ctx(1), &ct, &mut Vec::new()).unwrap_err();
		assert!(matches!(err, RecordError::Tampered { chunk: 0 }), "{err:?}");
		// So is a changed length in the header (it is part of every chunk's associated data).
		let (key, mut ct) = sample();
		ct[9] ^= 1;
		ct.truncate(ct.len() - 1);
		let err = decrypt_record(&key, &ctx(1), &ct, &mut Vec::new()).unwrap_err();
		assert!(matches!(err, RecordError::Tampered { .. }), "{err:?}");
	}

	#[test]
	fn wrong_associated_data() {
		let (key, ct) = sample();
		for other in [
			ctx(2),
			RecordContext { record: RecordId([8; 16]), ..ctx(1) },
			RecordContext { patient: PatientId::new("patient-2").unwrap(), ..ctx(1) },
		] {
			let err = decrypt_record(&key, &other, &ct, &mut Vec::new()).unwrap_err();
			assert!(matches!(err, RecordError::WrongAssociatedData), "{err:?}");
		}
		// Forging the header's context digest does not help: the AEAD still refuses.
		let mut forged = ct.clone();
		forged[36..68].copy_from_slice(&ctx(2).binding());
		let err = decrypt_record(&key, &ctx(2), &forged, &mut Vec::new()).unwrap_err();
		assert!(matches!(err, RecordError::Tampered { chunk: 0 }), "{err:?}");
	}

	#[test]
	fn wrong_key() {
		let (_, ct) = sample();
		let other = SymmetricKey::random(&mut OsRng);
		let err = decrypt_record(&other, &ctx(1), &ct, &mut Vec::new()).unwrap_err();
		assert!(matches!(err, RecordError::WrongKey), "{err:?}");
	}

	#[test]
	fn truncated() {
		let (key, ct) = sample();
		let total = ct.len() as u64;
		// Cut at a chunk boundary, inside a chunk, inside the header, and to nothing.
		for cut in [HEADER_LEN + DEFAULT_CHUNK_SIZE as usize + TAG_LEN, ct.len() - 1, 50, 0] {
			let err = decrypt_record(&key, &ctx(1), &ct[..cut], &mut Vec::new()).unwrap_err();
			let expected = if cut < HEADER_LEN { HEADER_LEN as u64 } else { total };
			assert!(
				matches!(err, RecordError::Truncated { expected: e, actual } if e == expected && actual == cut as u64),
				"{cut}: {err:?}"
			);
		}
		let mut longer = ct.clone();
		longer.push(0);
		let err = decrypt_record(&key, &ctx(1), &longer, &mut Vec::new()).unwrap_err();
		assert!(matches!(err, RecordError::TrailingData { .. }), "{err:?}");
	}

	#[test]
	fn input_must_match_length() {
		let key = SymmetricKey::random(&mut OsRng);
		let data = [1u8; 10];
		let err = encrypt_record(&key, &ctx(1), &mut &data[..], 11, DEFAULT_CHUNK_SIZE, &mut OsRng)
			.unwrap_err();
		assert!(matches!(err, RecordError::InputChanged { expected: 11 }));
		let err = encrypt_record(&key, &ctx(1), &mut &data[..], 9, DEFAULT_CHUNK_SIZE, &mut OsRng)
			.unwrap_err();
		assert!(matches!(err, RecordError::InputChanged { expected: 9 }));
	}

	#[test]
	fn wraps() {
		let alice = EncryptionSecret([1; 32]);
		let bob = EncryptionSecret([2; 32]);
		let carol = EncryptionSecret([3; 32]);
		let key = SymmetricKey::random(&mut OsRng);
		let wraps = vec![
			wrap_key(&alice.public(), &key, b"aad", &mut OsRng).unwrap(),
			wrap_key(&bob.public(), &key, b"aad", &mut OsRng).unwrap(),
		];
		assert_eq!(unwrap_key(&alice, &wraps, b"aad").unwrap(), Some(key.clone()));
		assert_eq!(unwrap_key(&bob, &wraps, b"aad").unwrap(), Some(key.clone()));
		assert_eq!(unwrap_key(&carol, &wraps, b"aad").unwrap(), None);
		assert_eq!(unwrap_key(&bob, &wraps, b"other"), Err(WrapError::Damaged));
		let mut bad = wraps.clone();
		bad[1].ciphertext[0] ^= 1;
		assert_eq!(unwrap_key(&bob, &bad, b"aad"), Err(WrapError::Damaged));
	}
}
