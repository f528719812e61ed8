//! The record codec: participant and grant records and the meta entries.
//!
//! A record is [`RECORD_VERSION`] followed by the SCALE encoding of the runtime's storage form
//! of the value ([`StoredParticipant`], [`StoredGrant`]); the rules' types are converted to and
//! from it by the conversions of [`emr_primitives::stored`]. Decoding refuses what the store never
//! writes: another version byte, bytes that do not decode, trailing bytes, non-canonical field
//! bytes and key coordinates that are not a point of the curve.

use crate::StoreError;
use ::codec::{DecodeAll, Encode};
use emr_primitives::{
	state::{Grant, Header, Participant, MAX_ORGS},
	stored::{field_from_bytes, StoredGrant, StoredKey, StoredParticipant},
	F,
};

/// Version byte that starts every participant and grant record (1: the store's own binary
/// layout, up to store format 4; 2: SCALE of the storage form).
pub(crate) const RECORD_VERSION: u8 = 2;

/// Why a participant or grant record does not decode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
	/// The record is empty.
	#[error("empty record")]
	Empty,
	/// The record starts with another version byte.
	#[error("unknown record version {0} (this build reads version {RECORD_VERSION})")]
	Version(u8),
	/// The bytes after the version byte are not the SCALE encoding of the record (truncated,
	/// trailing bytes, an unknown enum or boolean byte).
	#[error("not a SCALE record: {0}")]
	Scale(#[from] ::codec::Error),
	/// A field element's bytes are not canonical (`≥ r`).
	#[error("{0}: not a canonical field element")]
	NonCanonical(&'static str),
	/// A key's coordinates are not a point of the curve.
	#[error("{0}: not a point of the curve")]
	NotOnCurve(&'static str),
}

/// A field element from a meta entry or a node.
pub(crate) fn decode_f(bytes: &[u8], what: &str) -> Result<F, StoreError> {
	let arr: &[u8; 32] = bytes
		.try_into()
		.map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 32", bytes.len())))?;
	field_from_bytes(arr)
		.ok_or_else(|| StoreError::Corrupt(format!("{what}: not a canonical field element")))
}

pub(crate) fn decode_u32(bytes: &[u8], what: &str) -> Result<u32, StoreError> {
	let arr: [u8; 4] = bytes
		.try_into()
		.map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 4", bytes.len())))?;
	Ok(u32::from_le_bytes(arr))
}

pub(crate) fn decode_u64(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
	let arr: [u8; 8] = bytes
		.try_into()
		.map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 8", bytes.len())))?;
	Ok(u64::from_le_bytes(arr))
}

/// The `header` meta entry: the SCALE encoding of [`Header`] (participants u32 LE, next
/// organisation u8, organisations 4 × u64 LE).
pub(crate) fn encode_header(h: &Header) -> Vec<u8> {
	h.encode()
}

pub(crate) fn decode_header(bytes: &[u8]) -> Result<Header, StoreError> {
	let header = Header::decode_all(&mut &bytes[..])
		.map_err(|e| StoreError::Corrupt(format!("header: {e}")))?;
	// Indices are given in order: none at or beyond the next one is set (the last, 255, is
	// never given: `MAX_ORGS`).
	let beyond = (header.next_org as u32..=MAX_ORGS).any(|k| header.orgs.contains(k as u8));
	if beyond {
		return Err(StoreError::Corrupt(
			"header: an organisation at or beyond the next index".into(),
		));
	}
	Ok(header)
}

/// A version byte and `value`'s SCALE encoding.
fn encode_record(value: &impl Encode) -> Vec<u8> {
	let mut out = Vec::with_capacity(1 + value.size_hint());
	out.push(RECORD_VERSION);
	value.encode_to(&mut out);
	out
}

/// The value after the version byte; all bytes must be consumed.
fn decode_record<T: DecodeAll>(bytes: &[u8]) -> Result<T, RecordError> {
	let (version, mut rest) = bytes.split_first().ok_or(RecordError::Empty)?;
	if *version != RECORD_VERSION {
		return Err(RecordError::Version(*version));
	}
	Ok(T::decode_all(&mut rest)?)
}

fn canonical(bytes: &[u8; 32], what: &'static str) -> Result<(), RecordError> {
	field_from_bytes(bytes).map(|_| ()).ok_or(RecordError::NonCanonical(what))
}

/// A key as stored: canonical coordinates of a point of the curve. The subgroup is not checked:
/// the store returns what the rules wrote (an emergency key is a sum of two keys and may fall
/// outside what [`emr_primitives::schnorr::PublicKey::from_bytes`] accepts, e.g. the identity).
fn check_key(key: &StoredKey, what: &'static str) -> Result<(), RecordError> {
	canonical(&key.x, what)?;
	canonical(&key.y, what)?;
	if key.key().0.is_on_curve() {
		Ok(())
	} else {
		Err(RecordError::NotOnCurve(what))
	}
}

pub(crate) fn encode_participant(p: &Participant) -> Vec<u8> {
	encode_record(&StoredParticipant::from(p))
}

pub(crate) fn decode_participant(bytes: &[u8]) -> Result<Participant, RecordError> {
	let s: StoredParticipant = decode_record(bytes)?;
	check_key(&s.key, "key")?;
	canonical(&s.encryption_key_digest, "encryption key")?;
	canonical(&s.index_head_digest, "index head")?;
	if let Some(k) = &s.emergency_key {
		check_key(k, "emergency key")?;
	}
	canonical(&s.log, "log")?;
	Ok(Participant::from(&s))
}

pub(crate) fn encode_grant(g: &Grant) -> Vec<u8> {
	encode_record(&StoredGrant::from(g))
}

pub(crate) fn decode_grant(bytes: &[u8]) -> Result<Grant, RecordError> {
	let s: StoredGrant = decode_record(bytes)?;
	canonical(&s.claim_record, "claim record")?;
	Ok(Grant::from(&s))
}
