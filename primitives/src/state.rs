//! What the rules read and write: participants and grant slots, behind [`RollupState`].
//!
//! The runtime implements [`RollupState`] over its storage; the prover implements it over a
//! Poseidon sparse Merkle store whose leaves are [`Participant::leaf`] and [`Grant::leaf`]. The
//! leaf encodings are part of the rollup's definition (the circuit recomputes them):
//!
//! ```text
//! state root       = Poseidon(StateRoot, [participant_root, next_org + 2^8·participants, orgs_low, orgs_high])
//! participant leaf = PoseidonWide(Participant, [key.x, key.y, enc, emergency, head, consent_root, log, p])
//!   p = role | active·2^8 | nonce·2^16 | version·2^48 | affiliation·2^80
//!       | affiliation_org·2^104 | org·2^112
//! grant leaf       = PoseidonWide(Grant, [g, claim_record, claim_amount + 2^64·settled])
//!   g = grantee | permissions·2^24 | purposes·2^32 | scope·2^40 | expires_at·2^72
//!       | flags·2^104 | claim_status·2^112          (flags: 1 = present, 2 = emergency)
//! empty slot       = 0
//! ```
//!
//! `PoseidonWide` is [`poseidon::hash_wide`]: each leaf is one width-9 permutation (405
//! constraints in the circuit; the width-3 sponge needed four and two).
//!
//! The state root also commits to the [`Header`]: the number of participant ids assigned (ids
//! are given in registration order: the next participant gets `participants + 1`), the set of
//! active organisations ([`OrgSet`], 255 bits split in two 128-bit halves) and the next
//! organisation index. A hospital admitted by governance gets the next index (its leaf's `org`)
//! and its bit; its removal clears the bit. A doctor's credential records its hospital's index
//! (`affiliation_org`), and the
//! credential counts only while that bit is set ([`Header::live_affiliation`]): removing a
//! hospital ends its doctors' access through it and their emergency co-signing in one step.

use crate::{
	ops::{BlockNumber, DeploymentId, GrantId, OrgIndex, ParticipantId, Role},
	poseidon::{self, Domain},
	schnorr::PublicKey,
	F,
};
use ark_ff::AdditiveGroup;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// How many organisations (hospitals) a deployment can ever admit: indices `0..MAX_ORGS`, one
/// bit each in [`OrgSet`]; an index is never reused (a removed hospital's doctors must not
/// come back to life under a newcomer).
pub const MAX_ORGS: u32 = 255;

/// The active organisations: bit `k` set while the hospital with organisation index `k` is a
/// member. Stored as four little-endian 64-bit words; bits `MAX_ORGS..256` are always zero.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct OrgSet(pub [u64; 4]);

impl OrgSet {
	/// Whether organisation `k` is active.
	pub fn contains(&self, k: OrgIndex) -> bool {
		self.0[k as usize / 64] >> (k % 64) & 1 == 1
	}

	/// Marks organisation `k` active.
	pub fn insert(&mut self, k: OrgIndex) {
		self.0[k as usize / 64] |= 1u64 << (k % 64);
	}

	/// Marks organisation `k` inactive.
	pub fn remove(&mut self, k: OrgIndex) {
		self.0[k as usize / 64] &= !(1u64 << (k % 64));
	}

	/// Bits 0..128 and 128..256 as two field elements (what the state root commits to).
	pub fn halves(&self) -> [F; 2] {
		let half = |lo: u64, hi: u64| F::from(lo) + F::from(hi) * two_pow(64);
		[half(self.0[0], self.0[1]), half(self.0[2], self.0[3])]
	}

	/// The sixteen 16-bit chunks, lowest first (how the circuit carries the set).
	pub fn chunks(&self) -> [u16; 16] {
		core::array::from_fn(|i| (self.0[i / 4] >> (16 * (i % 4))) as u16)
	}
}

/// The part of the state outside the participant tree (module docs).
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Header {
	/// Participant ids assigned so far: the next registration or admission gets
	/// `participants + 1` (id 0 is never assigned; it means "none").
	pub participants: ParticipantId,
	/// The organisation index the next admitted hospital gets (`≤ MAX_ORGS`).
	pub next_org: OrgIndex,
	/// The active organisations.
	pub orgs: OrgSet,
}

impl Header {
	/// The state root over a participant tree root and this header.
	pub fn state_root(&self, participant_root: F) -> F {
		let [low, high] = self.orgs.halves();
		let word = F::from(self.next_org as u64) + F::from(self.participants as u64) * two_pow(8);
		poseidon::hash(Domain::StateRoot, &[participant_root, word, low, high])
	}

	/// The hospital whose credential `p` holds while that hospital is a member: `p`'s
	/// affiliation if its organisation bit is set, else 0 (none).
	pub fn live_affiliation(&self, p: &Participant) -> ParticipantId {
		if p.affiliation != 0 && self.orgs.contains(p.affiliation_org) {
			p.affiliation
		} else {
			0
		}
	}
}

/// The root of the empty state: no participant, no organisation.
pub fn empty_state_root() -> F {
	Header::default().state_root(crate::tree::empty_participant_root())
}

/// A participant as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
	/// Role.
	pub role: Role,
	/// False once governance removed it.
	pub active: bool,
	/// Rollup public key.
	pub key: PublicKey,
	/// Digest of the X25519 encryption key.
	pub encryption_key: F,
	/// Next nonce.
	pub nonce: u32,
	/// Digest of the patient's index head CID (zero before the first record).
	pub index_head: F,
	/// Version of the patient's index (number of appends).
	pub index_version: u32,
	/// For a credentialed doctor: its hospital (0 = none).
	pub affiliation: ParticipantId,
	/// For a credentialed doctor: its hospital's organisation index (the credential holds
	/// while that organisation is active).
	pub affiliation_org: OrgIndex,
	/// For a hospital: its organisation index (0 for other roles).
	pub org: OrgIndex,
	/// For a credentialed doctor: the joint doctor + hospital key for emergency access.
	pub emergency_key: Option<PublicKey>,
	/// Head of the patient's access-log hash chain (zero when empty).
	pub log: F,
}

impl Participant {
	/// A fresh participant with this role and keys.
	pub fn new(role: Role, key: PublicKey, encryption_key: F) -> Self {
		Participant {
			role,
			active: true,
			key,
			encryption_key,
			nonce: 0,
			index_head: F::ZERO,
			index_version: 0,
			affiliation: 0,
			affiliation_org: 0,
			org: 0,
			emergency_key: None,
			log: F::ZERO,
		}
	}

	/// The packed small fields `p`.
	pub fn packed(&self) -> F {
		pack_participant(
			self.role.code(),
			self.active,
			self.nonce,
			self.index_version,
			self.affiliation,
			self.affiliation_org,
			self.org,
		)
	}

	/// `Poseidon(KeyHash, emergency key)` or zero.
	pub fn emergency_field(&self) -> F {
		self.emergency_key.map(|k| k.hash()).unwrap_or(F::ZERO)
	}

	/// The leaf, given the root of the participant's consent subtree.
	pub fn leaf(&self, consent_root: F) -> F {
		poseidon::hash_wide(
			Domain::Participant,
			&[
				self.key.0.x,
				self.key.0.y,
				self.encryption_key,
				self.emergency_field(),
				self.index_head,
				consent_root,
				self.log,
				self.packed(),
			],
		)
	}
}

/// Status of the claim held in a grant slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStatus {
	/// No claim filed yet.
	None,
	/// Filed, waiting for a decision.
	Open,
	/// Approved.
	Approved,
	/// Rejected.
	Rejected,
}

impl ClaimStatus {
	/// Code in the leaf.
	pub fn code(self) -> u8 {
		match self {
			ClaimStatus::None => 0,
			ClaimStatus::Open => 1,
			ClaimStatus::Approved => 2,
			ClaimStatus::Rejected => 3,
		}
	}
}

/// A grant of consent (and the claim filed under it, for CLAIM grants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
	/// Who holds the grant (a participant, or a hospital for its credentialed doctors).
	pub grantee: ParticipantId,
	/// Permission bits.
	pub permissions: u8,
	/// Purpose bits.
	pub purposes: u8,
	/// Scope bits.
	pub scope: u32,
	/// First block at which the grant no longer holds.
	pub expires_at: BlockNumber,
	/// Opened by emergency access (flagged for review).
	pub emergency: bool,
	/// Claim status.
	pub claim_status: ClaimStatus,
	/// Digest of the record the claim refers to.
	pub claim_record: F,
	/// Amount claimed.
	pub claim_amount: u64,
	/// Amount settled.
	pub settled: u64,
}

impl Grant {
	/// The packed small fields `g`.
	pub fn packed(&self) -> F {
		pack_grant(
			self.grantee,
			self.permissions,
			self.purposes,
			self.scope,
			self.expires_at,
			1 + 2 * self.emergency as u8,
			self.claim_status.code(),
		)
	}

	/// The leaf.
	pub fn leaf(&self) -> F {
		poseidon::hash_wide(
			Domain::Grant,
			&[
				self.packed(),
				self.claim_record,
				pack_at(&[
					(self.claim_amount, layout::amounts::CLAIM_AMOUNT),
					(self.settled, layout::amounts::SETTLED),
				]),
			],
		)
	}
}

/// The packed small fields `p` of a participant leaf (role code, active, nonce, index version,
/// affiliation, the affiliation's organisation, the participant's own organisation); the
/// circuit's witness uses the same function.
pub fn pack_participant(
	role: u8,
	active: bool,
	nonce: u32,
	version: u32,
	affiliation: u32,
	affiliation_org: OrgIndex,
	org: OrgIndex,
) -> F {
	use layout::participant as at;
	pack_at(&[
		(role as u64, at::ROLE),
		(active as u64, at::ACTIVE),
		(nonce as u64, at::NONCE),
		(version as u64, at::VERSION),
		(affiliation as u64, at::AFFILIATION),
		(affiliation_org as u64, at::AFFILIATION_ORG),
		(org as u64, at::ORG),
	])
}

/// The packed small fields `g` of a grant leaf (flags: 1 = present, 2 = emergency; 0 = empty).
#[allow(clippy::too_many_arguments)]
pub fn pack_grant(
	grantee: u32,
	permissions: u8,
	purposes: u8,
	scope: u32,
	expires_at: u32,
	flags: u8,
	claim_status: u8,
) -> F {
	use layout::grant as at;
	pack_at(&[
		(grantee as u64, at::GRANTEE),
		(permissions as u64, at::PERMISSIONS),
		(purposes as u64, at::PURPOSES),
		(scope as u64, at::SCOPE),
		(expires_at as u64, at::EXPIRES),
		(flags as u64, at::FLAGS),
		(claim_status as u64, at::CLAIM_STATUS),
	])
}

use crate::field::pack_at;
pub use crate::field::two_pow;

/// The bit layouts of the leaves' packed parts, `(offset, width)` per part, lowest first: the
/// one table that [`pack_participant`], [`pack_grant`], [`Grant::leaf`] and the circuit's leaf
/// gadgets read (the module docs draw the same layout).
pub mod layout {
	use crate::field::{end, Part};

	/// The packed small fields `p` of a participant leaf.
	pub mod participant {
		use super::{end, Part};
		/// Role code (0 = empty slot).
		pub const ROLE: Part = (0, 8);
		/// Active flag (0 or 1; the bits above the first are zero).
		pub const ACTIVE: Part = (8, 8);
		/// Nonce.
		pub const NONCE: Part = (16, 32);
		/// Index version.
		pub const VERSION: Part = (48, 32);
		/// Affiliation (a doctor's hospital id).
		pub const AFFILIATION: Part = (80, 24);
		/// The affiliation's organisation index.
		pub const AFFILIATION_ORG: Part = (104, 8);
		/// The participant's own organisation index.
		pub const ORG: Part = (112, 8);
		/// Every part, lowest first.
		pub const PARTS: [Part; 7] =
			[ROLE, ACTIVE, NONCE, VERSION, AFFILIATION, AFFILIATION_ORG, ORG];
		/// Total bits.
		pub const BITS: usize = end(ORG);
	}

	/// The packed small fields `g` of a grant leaf.
	pub mod grant {
		use super::{end, Part};
		/// Grantee id.
		pub const GRANTEE: Part = (0, 24);
		/// Permission bits.
		pub const PERMISSIONS: Part = (24, 8);
		/// Purpose bits.
		pub const PURPOSES: Part = (32, 8);
		/// Scope bits.
		pub const SCOPE: Part = (40, 32);
		/// Expiry block.
		pub const EXPIRES: Part = (72, 32);
		/// Flags (1 = present, 2 = emergency; 0 = empty slot).
		pub const FLAGS: Part = (104, 8);
		/// Claim status code.
		pub const CLAIM_STATUS: Part = (112, 8);
		/// Every part, lowest first.
		pub const PARTS: [Part; 7] =
			[GRANTEE, PERMISSIONS, PURPOSES, SCOPE, EXPIRES, FLAGS, CLAIM_STATUS];
		/// Total bits.
		pub const BITS: usize = end(CLAIM_STATUS);
	}

	/// The third input of a grant leaf: claimed and settled amounts.
	pub mod amounts {
		use super::{end, Part};
		/// Claimed amount.
		pub const CLAIM_AMOUNT: Part = (0, 64);
		/// Settled amount.
		pub const SETTLED: Part = (64, 64);
		/// Every part, lowest first.
		pub const PARTS: [Part; 2] = [CLAIM_AMOUNT, SETTLED];
		/// Total bits.
		pub const BITS: usize = end(SETTLED);
	}

	#[cfg(test)]
	mod tests {
		use super::*;

		/// Each table's parts follow one another without gap or overlap up to its `BITS`,
		/// which fits a field element with room to spare (the circuit decomposes `BITS` bits).
		#[test]
		fn parts_tile_their_width() {
			for (parts, bits) in [
				(&participant::PARTS[..], participant::BITS),
				(&grant::PARTS[..], grant::BITS),
				(&amounts::PARTS[..], amounts::BITS),
			] {
				let mut next = 0;
				for (offset, width) in parts {
					assert_eq!(*offset, next);
					assert!(*width > 0 && *width <= 64);
					next = offset + width;
				}
				assert_eq!(next, bits);
				assert!(bits < 250);
			}
		}
	}
}
pub use crate::tree::empty_consent_root;

/// The state the rules work on. Reads return `None` for empty slots.
pub trait RollupState {
	/// The deployment this state belongs to: every signature the rules check covers it.
	fn deployment(&self) -> DeploymentId;
	/// The header (organisations).
	fn header(&self) -> Header;
	/// Writes the header.
	fn set_header(&mut self, header: Header);
	/// The participant in slot `id`.
	fn participant(&self, id: ParticipantId) -> Option<Participant>;
	/// Writes slot `id`.
	fn set_participant(&mut self, id: ParticipantId, participant: Participant);
	/// Grant slot `grant` of `patient`.
	fn grant(&self, patient: ParticipantId, grant: GrantId) -> Option<Grant>;
	/// Writes (or, with `None`, empties) a grant slot.
	fn set_grant(&mut self, patient: ParticipantId, grant: GrantId, value: Option<Grant>);
}
