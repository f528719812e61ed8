//! Identifiers: patients, records, readers.
//!
//! * A **patient** is named by a string id of 1–64 characters from `A–Z a–z 0–9 . _ -` (for
//!   instance a hospital's patient number, or the hex of a public key). It names the patient's
//!   index; it is not a key. With `--chain` it is the patient's participant id on the chain.
//! * A **record** id is 16 random bytes, written as 32 hex digits; the full reference the CLI
//!   prints and accepts is `<patient>/<record-hex>`, so `emr record get` knows which index to walk.
//! * A **reader** is an X25519 public key (32 bytes) with a display name: `name=<64 hex>`, a bare
//!   `<64 hex>`, or the path of a public key card written by `emr keys export`.

use std::{fmt, str::FromStr};

use codec::{Decode, Encode};

/// Why an identifier was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
	/// Bad patient id.
	#[error(
		"invalid patient id {0:?}: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"
	)]
	Patient(String),
	/// Bad record reference.
	#[error("invalid record id {0:?}: expected <patient>/<32 hex digits>, as printed by `emr record put`")]
	Record(String),
	/// Bad reader.
	#[error("invalid reader {0:?}: expected name=<64 hex digits>, <64 hex digits> or a key card file from `emr keys export`")]
	Reader(String),
}

/// A patient id (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Encode, Decode)]
pub struct PatientId(String);

impl PatientId {
	/// Validates a patient id.
	pub fn new(s: &str) -> Result<Self, IdError> {
		let ok = !s.is_empty()
			&& s.len() <= 64
			&& s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
			&& s != "."
			&& s != "..";
		if ok {
			Ok(Self(s.to_owned()))
		} else {
			Err(IdError::Patient(s.to_owned()))
		}
	}

	/// The id as a string.
	pub fn as_str(&self) -> &str {
		&self.0
	}
}

impl fmt::Display for PatientId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&self.0)
	}
}

impl FromStr for PatientId {
	type Err = IdError;
	fn from_str(s: &str) -> Result<Self, IdError> {
		Self::new(s)
	}
}

/// A record id: 16 random bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
pub struct RecordId(pub [u8; 16]);

impl RecordId {
	/// A fresh random id.
	pub fn random() -> Self {
		Self(rand::random())
	}
}

impl fmt::Display for RecordId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&hex::encode(self.0))
	}
}

/// A record reference `<patient>/<record-hex>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRef {
	/// Whose index holds the record.
	pub patient: PatientId,
	/// The record.
	pub record: RecordId,
}

impl fmt::Display for RecordRef {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{}/{}", self.patient, self.record)
	}
}

impl FromStr for RecordRef {
	type Err = IdError;
	fn from_str(s: &str) -> Result<Self, IdError> {
		let err = || IdError::Record(s.to_owned());
		let (p, r) = s.rsplit_once('/').ok_or_else(err)?;
		let patient = PatientId::new(p).map_err(|_| err())?;
		let mut id = [0u8; 16];
		hex::decode_to_slice(r, &mut id).map_err(|_| err())?;
		Ok(Self { patient, record: RecordId(id) })
	}
}

/// A reader: a display name and an X25519 public key.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Reader {
	/// Display name (not authenticated; the key is what counts).
	pub name: String,
	/// X25519 public key.
	pub key: [u8; 32],
}

impl Reader {
	/// Parses `name=<hex>` or `<hex>` (a key card file is read by the CLI).
	pub fn parse(s: &str) -> Result<Self, IdError> {
		let err = || IdError::Reader(s.to_owned());
		let (name, hexkey) = match s.split_once('=') {
			Some((n, k)) if !n.is_empty() && n.len() <= 64 => (n.to_owned(), k),
			Some(_) => return Err(err()),
			None => (String::new(), s),
		};
		let mut key = [0u8; 32];
		hex::decode_to_slice(hexkey.trim(), &mut key).map_err(|_| err())?;
		let name = if name.is_empty() { format!("reader-{}", &hexkey.trim()[..8]) } else { name };
		Ok(Self { name, key })
	}
}

impl fmt::Display for Reader {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{}={}", self.name, hex::encode(self.key))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn parse_ids() {
		assert!(PatientId::new("patient-42").is_ok());
		for bad in ["", "a/b", "..", "é", &"x".repeat(65)] {
			assert_eq!(PatientId::new(bad), Err(IdError::Patient(bad.to_owned())));
		}
		let r: RecordRef = "p1/00112233445566778899aabbccddeeff".parse().unwrap();
		assert_eq!(r.patient.as_str(), "p1");
		assert_eq!(r.to_string(), "p1/00112233445566778899aabbccddeeff");
		assert!("p1/0011".parse::<RecordRef>().is_err());
		assert!("00112233445566778899aabbccddeeff".parse::<RecordRef>().is_err());
		let k = "11".repeat(32);
		assert_eq!(Reader::parse(&format!("dr={k}")).unwrap().name, "dr");
		assert_eq!(Reader::parse(&k).unwrap().name, "reader-11111111");
		assert!(Reader::parse("dr=1234").is_err());
	}
}
