//! How the runtime stores the rules' state: SCALE twins of [`Participant`] and [`Grant`].
//!
//! The pallets keep one [`StoredParticipant`] per participant id and one [`StoredGrant`] per
//! (patient, grant slot); the runtime's state adapter converts them to and from the rules' types
//! on every read and write, and light clients decode the same types from storage proofs.
//!
//! Field elements are stored as 32 canonical little-endian bytes ([`field_bytes`]). A public key
//! is stored *uncompressed* (`x`, `y`): it was validated (on the curve, in the prime-order
//! subgroup) when the rules accepted it, so a read rebuilds the point without the square root a
//! compressed key costs; [`StoredParticipant::compressed_key`] gives the 32-byte form clients use.

use crate::{
	ops::{BlockNumber, OrgIndex, ParticipantId, Role},
	schnorr::PublicKey,
	state::{ClaimStatus, Grant, Participant},
};
use ark_ed_on_bls12_381_bandersnatch::EdwardsAffine;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

pub use crate::field::{field_bytes, field_from_bytes, field_le};

/// A point stored uncompressed (`x`, `y`, little-endian field elements).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct StoredKey {
	/// `x` coordinate.
	pub x: [u8; 32],
	/// `y` coordinate.
	pub y: [u8; 32],
}

impl StoredKey {
	/// The stored form of a key.
	pub fn new(key: &PublicKey) -> Self {
		StoredKey { x: field_bytes(&key.0.x), y: field_bytes(&key.0.y) }
	}

	/// The key. The point was validated when it entered the state; it is rebuilt unchecked.
	pub fn key(&self) -> PublicKey {
		PublicKey(EdwardsAffine::new_unchecked(field_le(&self.x), field_le(&self.y)))
	}
}

/// A participant as the registry stores it (the fields of [`Participant`]).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct StoredParticipant {
	/// Role.
	pub role: Role,
	/// False once governance removed it.
	pub active: bool,
	/// Rollup public key.
	pub key: StoredKey,
	/// Digest of the X25519 encryption key (field bytes).
	pub encryption_key_digest: [u8; 32],
	/// Next nonce.
	pub nonce: u32,
	/// Digest of the index head CID (field bytes; zero before the first record).
	pub index_head_digest: [u8; 32],
	/// Index version (number of appends).
	pub index_version: u32,
	/// For a credentialed doctor: its hospital (0 = none).
	pub affiliation: ParticipantId,
	/// For a credentialed doctor: its hospital's organisation index.
	pub affiliation_org: OrgIndex,
	/// For a hospital: its organisation index.
	pub org: OrgIndex,
	/// For a credentialed doctor: the joint doctor + hospital key.
	pub emergency_key: Option<StoredKey>,
	/// Head of the access-log hash chain (field bytes).
	pub log: [u8; 32],
}

impl StoredParticipant {
	/// The 32-byte compressed rollup key.
	pub fn compressed_key(&self) -> [u8; 32] {
		self.key.key().to_bytes()
	}
}

impl From<&Participant> for StoredParticipant {
	fn from(p: &Participant) -> Self {
		StoredParticipant {
			role: p.role,
			active: p.active,
			key: StoredKey::new(&p.key),
			encryption_key_digest: field_bytes(&p.encryption_key),
			nonce: p.nonce,
			index_head_digest: field_bytes(&p.index_head),
			index_version: p.index_version,
			affiliation: p.affiliation,
			affiliation_org: p.affiliation_org,
			org: p.org,
			emergency_key: p.emergency_key.as_ref().map(StoredKey::new),
			log: field_bytes(&p.log),
		}
	}
}

impl From<&StoredParticipant> for Participant {
	fn from(s: &StoredParticipant) -> Self {
		Participant {
			role: s.role,
			active: s.active,
			key: s.key.key(),
			encryption_key: field_le(&s.encryption_key_digest),
			nonce: s.nonce,
			index_head: field_le(&s.index_head_digest),
			index_version: s.index_version,
			affiliation: s.affiliation,
			affiliation_org: s.affiliation_org,
			org: s.org,
			emergency_key: s.emergency_key.as_ref().map(StoredKey::key),
			log: field_le(&s.log),
		}
	}
}

/// Status of a claim, as stored and shown by RPC.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum StoredClaimStatus {
	/// No claim filed.
	None,
	/// Filed, waiting for a decision.
	Open,
	/// Approved.
	Approved,
	/// Rejected.
	Rejected,
}

impl From<ClaimStatus> for StoredClaimStatus {
	fn from(s: ClaimStatus) -> Self {
		match s {
			ClaimStatus::None => StoredClaimStatus::None,
			ClaimStatus::Open => StoredClaimStatus::Open,
			ClaimStatus::Approved => StoredClaimStatus::Approved,
			ClaimStatus::Rejected => StoredClaimStatus::Rejected,
		}
	}
}

impl From<StoredClaimStatus> for ClaimStatus {
	fn from(s: StoredClaimStatus) -> Self {
		match s {
			StoredClaimStatus::None => ClaimStatus::None,
			StoredClaimStatus::Open => ClaimStatus::Open,
			StoredClaimStatus::Approved => ClaimStatus::Approved,
			StoredClaimStatus::Rejected => ClaimStatus::Rejected,
		}
	}
}

/// A grant slot as the consent pallet stores it (the fields of [`Grant`]).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct StoredGrant {
	/// Who holds the grant.
	pub grantee: ParticipantId,
	/// Permission bits.
	pub permissions: u8,
	/// Purpose bits.
	pub purposes: u8,
	/// Scope bits.
	pub scope: u32,
	/// First block at which the grant no longer holds.
	pub expires_at: BlockNumber,
	/// Opened by emergency access.
	pub emergency: bool,
	/// Claim status.
	pub claim_status: StoredClaimStatus,
	/// Digest of the claimed record (field bytes).
	pub claim_record: [u8; 32],
	/// Amount claimed.
	pub claim_amount: u64,
	/// Amount settled.
	pub settled: u64,
}

impl From<&Grant> for StoredGrant {
	fn from(g: &Grant) -> Self {
		StoredGrant {
			grantee: g.grantee,
			permissions: g.permissions,
			purposes: g.purposes,
			scope: g.scope,
			expires_at: g.expires_at,
			emergency: g.emergency,
			claim_status: g.claim_status.into(),
			claim_record: field_bytes(&g.claim_record),
			claim_amount: g.claim_amount,
			settled: g.settled,
		}
	}
}

impl From<&StoredGrant> for Grant {
	fn from(s: &StoredGrant) -> Self {
		Grant {
			grantee: s.grantee,
			permissions: s.permissions,
			purposes: s.purposes,
			scope: s.scope,
			expires_at: s.expires_at,
			emergency: s.emergency,
			claim_status: s.claim_status.into(),
			claim_record: field_le(&s.claim_record),
			claim_amount: s.claim_amount,
			settled: s.settled,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{schnorr::SecretKey, state::Participant, F};

	#[test]
	fn participant_and_grant_round_trip_through_storage_form() {
		let key = SecretKey::from_seed(&[7; 32]).public();
		let joint = key.joint(&SecretKey::from_seed(&[8; 32]).public());
		let mut p = Participant::new(Role::Doctor, key, F::from(99u64));
		p.nonce = 5;
		p.index_version = 3;
		p.affiliation = 17;
		p.emergency_key = Some(joint);
		p.log = F::from(123456u64);
		let stored = StoredParticipant::from(&p);
		let decoded = StoredParticipant::decode(&mut &stored.encode()[..]).expect("decodes");
		assert_eq!(Participant::from(&decoded), p);
		assert_eq!(decoded.compressed_key(), key.to_bytes());

		let g = Grant {
			grantee: 4,
			permissions: 3,
			purposes: 9,
			scope: 0xffff,
			expires_at: 77,
			emergency: true,
			claim_status: ClaimStatus::Approved,
			claim_record: F::from(5u64),
			claim_amount: 1000,
			settled: 900,
		};
		assert_eq!(Grant::from(&StoredGrant::from(&g)), g);
	}

	#[test]
	fn non_canonical_field_bytes_are_refused() {
		assert_eq!(field_from_bytes(&[0xff; 32]), None);
		let v = F::from(42u64);
		assert_eq!(field_from_bytes(&field_bytes(&v)), Some(v));
	}
}
