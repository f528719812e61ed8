//! The L2 operations of DESIGN.md §4 as SCALE types, and their encoding into field elements.
//!
//! Every operation is carried in a [`SignedOp`]: the actor's participant id, the actor's next
//! nonce, the [`Operation`] and a Schnorr signature (see [`crate::schnorr`]) over
//! [`SignedOp::message`] within the [`DeploymentId`] ([`SignedOp::signed_message`]). Governance
//! operations ([`Operation::AdmitMember`], [`Operation::RemoveMember`]) come from a council vote
//! and the runtime appends them to the inbox with [`Origin::Governance`]; an admission still
//! carries the admitted key's own signature (proof of possession: no key is pinned that nobody
//! proved to hold), a removal none. A registration ([`Operation::Register`]) is signed by the new
//! key for the same reason.
//!
//! # Field encoding
//!
//! The circuit sees an operation as six field elements ([`SignedOp::fields`]):
//!
//! | element | content |
//! |---|---|
//! | `f0` | `kind` (bits 0–7) · `actor` (bits 8–31) · `nonce` (bits 32–63) |
//! | `f1` | `target` (0–23) · `grant` (24–39) · `version` (40–71) · `permissions` (72–79) · `purposes` (80–87) · `scope` (88–119) · `expires_at` (120–151) · `code` (152–167) |
//! | `f2` | public key x (registration, admission), index head digest (append), record digest (claim) |
//! | `f3` | public key y (registration, admission), amount (claim), settled amount (decision) |
//! | `f4` | encryption key digest (registration, admission) |
//! | `f5` | role (registration, admission) |
//!
//! Every part a kind does not use is zero ([`layout::used`] is the table; [`canonical`] the
//! check the rules and the circuit make), so two operations never share an encoding. Byte strings (CIDs, record references, X25519 keys) enter the
//! field as [`digest_to_field`]: Blake2b-256 truncated to 248 bits.

use crate::{poseidon, schnorr, F};
use alloc::vec::Vec;
use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField, Zero};
use blake2::{digest::consts::U32, Blake2b, Digest};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

pub use crate::tree::{GRANT_DEPTH, PARTICIPANT_DEPTH};
/// Blocks an emergency grant lasts (24 hours of 6-second blocks).
pub const EMERGENCY_WINDOW: u32 = 14_400;
/// Longest CID accepted in an operation, in bytes.
pub const MAX_CID_LEN: usize = 96;

/// A participant's slot in the participant tree, `1 ≤ id < 2^24` (0 means "none").
pub type ParticipantId = u32;
/// A slot of a patient's consent subtree, `< 2^12`.
pub type GrantId = u32;
/// An organisation (hospital) index: bit of [`crate::state::OrgSet`].
pub type OrgIndex = u8;
/// A block number of the app-chain.
pub type BlockNumber = u32;

/// The id of one deployment of the rollup (a chain and its contracts): every signature covers it
/// ([`crate::schnorr::Message`]), and every batch's inbox commitment starts from it
/// ([`crate::inbox`]), so an operation signed for one deployment is refused by every other and a
/// batch proof of one deployment verifies on no other. It is chosen when the chain is specified
/// (the rollup pallet's genesis), not derived from the genesis hash, which the genesis build
/// cannot know. The all-zero id is the default genesis's, which no network should use.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct DeploymentId(pub [u8; 32]);

impl DeploymentId {
	/// The id named `name`: `Blake2b-256("emr-chain/deployment/v1" ‖ name)` (how the chain
	/// specifications name theirs: `dev`, `consortium-local`, …).
	pub fn named(name: &str) -> Self {
		let mut h = Blake2b::<U32>::new();
		h.update(b"emr-chain/deployment/v1");
		h.update(name.as_bytes());
		Self(h.finalize().into())
	}

	/// The id as the field element `d` that signatures and the inbox chain use
	/// ([`digest_to_field`] of its bytes).
	pub fn field(&self) -> F {
		digest_to_field(&self.0)
	}
}

pub use crate::field::digest_to_field;

/// The roles of DESIGN.md §1.
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
pub enum Role {
	/// A patient (self-registered).
	Patient,
	/// A doctor (credentialed by a hospital).
	Doctor,
	/// A hospital (admitted by governance).
	Hospital,
	/// An insurer (admitted by governance).
	Insurer,
	/// A researcher (admitted by governance).
	Researcher,
	/// An auditor (admitted by governance).
	Auditor,
}

impl Role {
	/// The role's code in a state leaf (1–6; 0 is an empty slot).
	pub fn code(self) -> u8 {
		match self {
			Role::Patient => 1,
			Role::Doctor => 2,
			Role::Hospital => 3,
			Role::Insurer => 4,
			Role::Researcher => 5,
			Role::Auditor => 6,
		}
	}

	/// The role with this code.
	pub fn from_code(code: u8) -> Option<Self> {
		Some(match code {
			1 => Role::Patient,
			2 => Role::Doctor,
			3 => Role::Hospital,
			4 => Role::Insurer,
			5 => Role::Researcher,
			6 => Role::Auditor,
			_ => return None,
		})
	}
}

/// Permission bits of a grant.
pub mod permission {
	/// Read records.
	pub const READ: u8 = 1;
	/// Append records.
	pub const WRITE: u8 = 2;
	/// File insurance claims.
	pub const CLAIM: u8 = 4;
	/// Every defined bit.
	pub const ALL: u8 = READ | WRITE | CLAIM;
}

/// Purpose bits of a grant (a grant may allow several; a request names exactly one).
pub mod purpose {
	/// Treatment.
	pub const TREATMENT: u8 = 1;
	/// Research.
	pub const RESEARCH: u8 = 2;
	/// Insurance.
	pub const INSURANCE: u8 = 4;
	/// Emergency care.
	pub const EMERGENCY: u8 = 8;
	/// Audit.
	pub const AUDIT: u8 = 16;
	/// Every defined bit.
	pub const ALL: u8 = 31;
}

/// Scope bits: categories of records (a request's scope must be a subset of the grant's).
pub mod scope {
	/// Every category.
	pub const ALL: u32 = u32::MAX;
}

/// Who put an entry into the inbox.
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
pub enum Origin {
	/// A participant, with a rollup signature.
	User,
	/// Consortium governance (a council motion); no rollup signature.
	Governance,
}

/// A content identifier (bytes of a CIDv1), at most [`MAX_CID_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Encode, TypeInfo)]
pub struct Cid(pub Vec<u8>);

impl Decode for Cid {
	fn decode<I: codec::Input>(input: &mut I) -> Result<Self, codec::Error> {
		let len = codec::Compact::<u32>::decode(input)?.0 as usize;
		if len > MAX_CID_LEN {
			return Err("CID longer than 96 bytes".into());
		}
		let mut bytes = alloc::vec![0u8; len];
		input.read(&mut bytes)?;
		Ok(Cid(bytes))
	}
}

/// Decoding a CID allocates at most [`MAX_CID_LEN`] bytes.
impl DecodeWithMemTracking for Cid {}

impl MaxEncodedLen for Cid {
	fn max_encoded_len() -> usize {
		2 + MAX_CID_LEN
	}
}

/// An L2 operation (DESIGN.md §4) plus the two governance operations.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Operation {
	/// Governance admits an organisation (hospital, insurer, researcher, auditor).
	AdmitMember {
		/// Its role.
		role: Role,
		/// Its rollup public key (compressed).
		public_key: [u8; 32],
		/// Its X25519 encryption key.
		encryption_key: [u8; 32],
	},
	/// Governance removes a participant (it can no longer act).
	RemoveMember,
	/// A patient or a doctor registers itself (signed by the new key: proof of possession).
	Register {
		/// [`Role::Patient`] or [`Role::Doctor`] (a doctor acts for a hospital only once the
		/// hospital credentials it).
		role: Role,
		/// The new participant's rollup public key.
		public_key: [u8; 32],
		/// The new participant's X25519 encryption key.
		encryption_key: [u8; 32],
	},
	/// A hospital credentials a registered, uncredentialed doctor: the doctor's key is the one
	/// it proved to hold when it registered, and the emergency co-signing key
	/// `doctor + hospital` is pinned from the two leaves.
	CredentialDoctor {
		/// The doctor.
		doctor: ParticipantId,
	},
	/// A hospital revokes a doctor's credential.
	RevokeCredential {
		/// The doctor.
		doctor: ParticipantId,
	},
	/// A new head of a patient's encrypted record index.
	AppendRecord {
		/// The patient.
		patient: ParticipantId,
		/// The grant that allows the write (ignored when the patient writes).
		grant: GrantId,
		/// The index version the writer saw (no lost update).
		expected_version: u32,
		/// The CID of the new index head.
		index_head: Cid,
	},
	/// A patient grants consent.
	GrantConsent {
		/// Who receives the grant.
		grantee: ParticipantId,
		/// [`permission`] bits.
		permissions: u8,
		/// [`purpose`] bits.
		purposes: u8,
		/// [`scope`] bits.
		scope: u32,
		/// First block at which the grant no longer holds.
		expires_at: BlockNumber,
		/// The slot of the patient's consent subtree it takes: empty, or holding a grant that
		/// expired with no open claim ([`crate::rules::slot_free`]; clients pick one with
		/// [`crate::rules::free_slot`]).
		slot: GrantId,
	},
	/// A patient revokes a grant.
	RevokeConsent {
		/// The grant's slot.
		grant: GrantId,
	},
	/// A grantee reads a patient's records (logged GRANTED or DENIED).
	AccessRecord {
		/// The patient.
		patient: ParticipantId,
		/// The grant the reader relies on.
		grant: GrantId,
		/// The one [`purpose`] bit of the request.
		purpose: u8,
		/// The [`scope`] bits requested.
		scope: u32,
	},
	/// A credentialed doctor and its hospital (joint signature) open emergency access.
	EmergencyAccess {
		/// The patient.
		patient: ParticipantId,
		/// Why (non-zero code from the hospital's catalogue).
		reason: u16,
		/// The slot of the patient's consent subtree the emergency grant takes (as for
		/// [`Operation::GrantConsent`]).
		slot: GrantId,
	},
	/// An insurer files a claim under a CLAIM grant.
	SubmitClaim {
		/// The patient.
		patient: ParticipantId,
		/// The CLAIM grant (the claim lives in its slot).
		grant: GrantId,
		/// Digest of the record the claim refers to.
		record: [u8; 32],
		/// Amount claimed (smallest currency unit).
		amount: u64,
	},
	/// The insurer decides an open claim.
	DecideClaim {
		/// The patient.
		patient: ParticipantId,
		/// The grant slot holding the claim.
		grant: GrantId,
		/// Approve (true) or reject.
		approve: bool,
		/// Amount settled (0 when rejected).
		settled: u64,
	},
}

/// Operation kinds (the `kind` byte of the field encoding).
pub mod kind {
	/// A padding slot of the circuit (never in the inbox).
	pub const NOOP: u8 = 0;
	/// [`super::Operation::AdmitMember`].
	pub const ADMIT_MEMBER: u8 = 1;
	/// [`super::Operation::RemoveMember`].
	pub const REMOVE_MEMBER: u8 = 2;
	/// [`super::Operation::Register`].
	pub const REGISTER: u8 = 3;
	/// [`super::Operation::CredentialDoctor`].
	pub const CREDENTIAL_DOCTOR: u8 = 4;
	/// [`super::Operation::RevokeCredential`].
	pub const REVOKE_CREDENTIAL: u8 = 5;
	/// [`super::Operation::AppendRecord`].
	pub const APPEND_RECORD: u8 = 6;
	/// [`super::Operation::GrantConsent`].
	pub const GRANT_CONSENT: u8 = 7;
	/// [`super::Operation::RevokeConsent`].
	pub const REVOKE_CONSENT: u8 = 8;
	/// [`super::Operation::AccessRecord`].
	pub const ACCESS_RECORD: u8 = 9;
	/// [`super::Operation::EmergencyAccess`].
	pub const EMERGENCY_ACCESS: u8 = 10;
	/// [`super::Operation::SubmitClaim`].
	pub const SUBMIT_CLAIM: u8 = 11;
	/// [`super::Operation::DecideClaim`].
	pub const DECIDE_CLAIM: u8 = 12;
	/// Number of kinds including NOOP.
	pub const COUNT: usize = 13;
}

/// The unpacked fields of `f1` (see the module docs); zero where an operation has none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packed {
	/// Target participant (patient or doctor).
	pub target: u32,
	/// Grant slot.
	pub grant: u32,
	/// Expected index version.
	pub version: u32,
	/// Permission bits.
	pub permissions: u8,
	/// Purpose bits.
	pub purposes: u8,
	/// Scope bits.
	pub scope: u32,
	/// Expiry block.
	pub expires_at: u32,
	/// Reason code, or 1 for an approving decision.
	pub code: u16,
}

/// Bit offsets and widths of the parts of `f0` ([`F0_KIND`](layout::F0_KIND) …) and of
/// [`Packed`] inside `f1` (the rest): the one table the encoder, the rules and the circuit read.
pub mod layout {
	/// (offset, width) of the kind in `f0`.
	pub const F0_KIND: (usize, usize) = (0, 8);
	/// (offset, width) of the actor in `f0`.
	pub const F0_ACTOR: (usize, usize) = (8, 24);
	/// (offset, width) of the nonce in `f0`.
	pub const F0_NONCE: (usize, usize) = (32, 32);
	/// Total bits of `f0`.
	pub const F0_BITS: usize = crate::field::end(F0_NONCE);

	/// (offset, width) of `target`.
	pub const TARGET: (usize, usize) = (0, 24);
	/// (offset, width) of `grant`.
	pub const GRANT: (usize, usize) = (24, 16);
	/// (offset, width) of `version`.
	pub const VERSION: (usize, usize) = (40, 32);
	/// (offset, width) of `permissions`.
	pub const PERMISSIONS: (usize, usize) = (72, 8);
	/// (offset, width) of `purposes`.
	pub const PURPOSES: (usize, usize) = (80, 8);
	/// (offset, width) of `scope`.
	pub const SCOPE: (usize, usize) = (88, 32);
	/// (offset, width) of `expires_at`.
	pub const EXPIRES: (usize, usize) = (120, 32);
	/// (offset, width) of `code`.
	pub const CODE: (usize, usize) = (152, 16);
	/// Total bits of `f1`.
	pub const BITS: usize = 168;

	/// The parts of the encoding, as bits of the mask [`used`] returns.
	pub mod part {
		/// `target` of `f1`.
		pub const TARGET: u16 = 1 << 0;
		/// `grant` of `f1`.
		pub const GRANT: u16 = 1 << 1;
		/// `version` of `f1`.
		pub const VERSION: u16 = 1 << 2;
		/// `permissions` of `f1`.
		pub const PERMISSIONS: u16 = 1 << 3;
		/// `purposes` of `f1`.
		pub const PURPOSES: u16 = 1 << 4;
		/// `scope` of `f1`.
		pub const SCOPE: u16 = 1 << 5;
		/// `expires_at` of `f1`.
		pub const EXPIRES: u16 = 1 << 6;
		/// `code` of `f1`.
		pub const CODE: u16 = 1 << 7;
		/// `f2`.
		pub const F2: u16 = 1 << 8;
		/// `f3`.
		pub const F3: u16 = 1 << 9;
		/// `f4`.
		pub const F4: u16 = 1 << 10;
		/// `f5`.
		pub const F5: u16 = 1 << 11;
	}

	/// The sub-fields of `f1` with their [`part`] bit, in bit order.
	pub const F1_PARTS: [(u16, (usize, usize)); 8] = [
		(part::TARGET, TARGET),
		(part::GRANT, GRANT),
		(part::VERSION, VERSION),
		(part::PERMISSIONS, PERMISSIONS),
		(part::PURPOSES, PURPOSES),
		(part::SCOPE, SCOPE),
		(part::EXPIRES, EXPIRES),
		(part::CODE, CODE),
	];

	/// `f2..f5` with their [`part`] bit.
	pub const WIDE_PARTS: [(u16, usize); 4] =
		[(part::F2, 2), (part::F3, 3), (part::F4, 4), (part::F5, 5)];

	/// The parts of the encoding operations of kind `kind` may set (a mask of [`part`] bits);
	/// every other part is zero. The one table the rules ([`super::canonical`]) and the
	/// circuit read. `f0` (kind, actor, nonce) is used by every kind but padding; the actor is
	/// zero in a registration and an admission (the id is assigned when it is applied).
	pub const fn used(kind: u8) -> u16 {
		use super::kind as k;
		use part::*;
		match kind {
			k::ADMIT_MEMBER => F2 | F3 | F4 | F5,
			k::REGISTER => F2 | F3 | F4 | F5,
			k::CREDENTIAL_DOCTOR => TARGET,
			k::REVOKE_CREDENTIAL => TARGET,
			k::APPEND_RECORD => TARGET | GRANT | VERSION | F2,
			k::GRANT_CONSENT => TARGET | GRANT | PERMISSIONS | PURPOSES | SCOPE | EXPIRES,
			k::REVOKE_CONSENT => GRANT,
			k::ACCESS_RECORD => TARGET | GRANT | PURPOSES | SCOPE,
			k::EMERGENCY_ACCESS => TARGET | GRANT | CODE,
			k::SUBMIT_CLAIM => TARGET | GRANT | F2 | F3,
			k::DECIDE_CLAIM => TARGET | GRANT | CODE | F3,
			// Padding, removal and undefined kinds set nothing.
			_ => 0,
		}
	}
}

/// `width` bits of `x` from bit `offset` (`width ≤ 64`).
fn bits_of(x: &<F as PrimeField>::BigInt, offset: usize, width: usize) -> u64 {
	(0..width).fold(0u64, |acc, i| acc | ((x.get_bit(offset + i) as u64) << i))
}

/// Whether six field elements are a canonical operation encoding: `f0` holds a defined kind
/// and nothing above bit 63; `f1` nothing above [`layout::BITS`] and a grant slot below
/// 2^[`GRANT_DEPTH`]; every part the kind does not use ([`layout::used`]) is zero; padding is all
/// zero. [`SignedOp::fields`] always gives a canonical encoding; the circuit enforces the same
/// (so no two operations share a message, and no field the rules ignore can carry data).
pub fn canonical(fields: &[F; 6]) -> bool {
	let f0 = fields[0].into_bigint();
	let f1 = fields[1].into_bigint();
	let kind = bits_of(&f0, layout::F0_KIND.0, layout::F0_KIND.1);
	if f0.num_bits() as usize > layout::F0_BITS
		|| f1.num_bits() as usize > layout::BITS
		|| kind >= kind::COUNT as u64
	{
		return false;
	}
	// Grant slots are below 2^GRANT_DEPTH although the sub-field is wider.
	let (goff, gwidth) = layout::GRANT;
	if bits_of(&f1, goff + GRANT_DEPTH, gwidth - GRANT_DEPTH) != 0 {
		return false;
	}
	if kind == kind::NOOP as u64 {
		return fields.iter().all(|f| f.is_zero());
	}
	// A registration or admission names no actor: its id is assigned when it is applied.
	let creating = kind == kind::REGISTER as u64 || kind == kind::ADMIT_MEMBER as u64;
	if creating && bits_of(&f0, layout::F0_ACTOR.0, layout::F0_ACTOR.1) != 0 {
		return false;
	}
	let used = layout::used(kind as u8);
	let f1_ok = layout::F1_PARTS
		.iter()
		.all(|(bit, (off, width))| used & bit != 0 || bits_of(&f1, *off, *width) == 0);
	let wide_ok = layout::WIDE_PARTS.iter().all(|(bit, i)| used & bit != 0 || fields[*i].is_zero());
	f1_ok && wide_ok
}

impl Packed {
	/// The field element `f1`.
	pub fn to_field(&self) -> F {
		let mut v = F::from(self.code as u64);
		let mut push = |x: u64, width: usize| {
			v = v * F::from(2u64).pow([width as u64]) + F::from(x);
		};
		// Most significant first: code, expires, scope, purposes, permissions, version, grant, target.
		push(self.expires_at as u64, 32);
		push(self.scope as u64, 32);
		push(self.purposes as u64, 8);
		push(self.permissions as u64, 8);
		push(self.version as u64, 32);
		push(self.grant as u64, 16);
		push(self.target as u64, 24);
		v
	}
}

/// An operation with its actor, nonce and signature.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SignedOp {
	/// The acting participant (0 for registration and admission: the new participant's id is
	/// assigned when the operation is applied).
	pub actor: ParticipantId,
	/// The actor's next nonce (0 for registration and governance operations).
	pub nonce: u32,
	/// The operation.
	pub op: Operation,
	/// Schnorr signature over [`SignedOp::signed_message`]: by the actor (the new key for a
	/// registration or an admission; the pinned joint key for emergency access); all zero for a
	/// removal.
	pub signature: [u8; 64],
}

impl Operation {
	/// The operation's kind byte.
	pub fn kind(&self) -> u8 {
		match self {
			Operation::AdmitMember { .. } => kind::ADMIT_MEMBER,
			Operation::RemoveMember => kind::REMOVE_MEMBER,
			Operation::Register { .. } => kind::REGISTER,
			Operation::CredentialDoctor { .. } => kind::CREDENTIAL_DOCTOR,
			Operation::RevokeCredential { .. } => kind::REVOKE_CREDENTIAL,
			Operation::AppendRecord { .. } => kind::APPEND_RECORD,
			Operation::GrantConsent { .. } => kind::GRANT_CONSENT,
			Operation::RevokeConsent { .. } => kind::REVOKE_CONSENT,
			Operation::AccessRecord { .. } => kind::ACCESS_RECORD,
			Operation::EmergencyAccess { .. } => kind::EMERGENCY_ACCESS,
			Operation::SubmitClaim { .. } => kind::SUBMIT_CLAIM,
			Operation::DecideClaim { .. } => kind::DECIDE_CLAIM,
		}
	}

	/// True for operations only governance may put into the inbox.
	pub fn is_governance(&self) -> bool {
		matches!(self, Operation::AdmitMember { .. } | Operation::RemoveMember)
	}

	/// The packed small fields (`f1`).
	pub fn packed(&self) -> Packed {
		let mut p = Packed::default();
		match self {
			Operation::AdmitMember { .. }
			| Operation::RemoveMember
			| Operation::Register { .. } => {},
			Operation::CredentialDoctor { doctor } | Operation::RevokeCredential { doctor } => {
				p.target = *doctor
			},
			Operation::AppendRecord { patient, grant, expected_version, .. } => {
				p.target = *patient;
				p.grant = *grant;
				p.version = *expected_version;
			},
			Operation::GrantConsent { grantee, permissions, purposes, scope, expires_at, slot } => {
				p.target = *grantee;
				p.grant = *slot;
				p.permissions = *permissions;
				p.purposes = *purposes;
				p.scope = *scope;
				p.expires_at = *expires_at;
			},
			Operation::RevokeConsent { grant } => p.grant = *grant,
			Operation::AccessRecord { patient, grant, purpose, scope } => {
				p.target = *patient;
				p.grant = *grant;
				p.purposes = *purpose;
				p.scope = *scope;
			},
			Operation::EmergencyAccess { patient, reason, slot } => {
				p.target = *patient;
				p.grant = *slot;
				p.code = *reason;
			},
			Operation::SubmitClaim { patient, grant, .. } => {
				p.target = *patient;
				p.grant = *grant;
			},
			Operation::DecideClaim { patient, grant, approve, .. } => {
				p.target = *patient;
				p.grant = *grant;
				p.code = *approve as u16;
			},
		}
		p
	}
}

/// A point's coordinates from its compressed bytes, or zeros when the bytes are no point (the
/// rules refuse such an operation; the encoding stays total).
fn key_coordinates(bytes: &[u8; 32]) -> (F, F) {
	use ark_serialize::{CanonicalDeserialize, Compress, Validate};
	match ark_ed_on_bls12_381_bandersnatch::EdwardsAffine::deserialize_with_mode(
		&bytes[..],
		Compress::Yes,
		Validate::No,
	) {
		Ok(p) => (p.x, p.y),
		Err(_) => (F::ZERO, F::ZERO),
	}
}

/// The message of an operation with these [`SignedOp::fields`]: `Poseidon(Operation, fields)`.
pub fn message_of(fields: &[F; 6]) -> F {
	poseidon::hash(poseidon::Domain::Operation, fields)
}

impl SignedOp {
	/// The six field elements of the operation (module docs).
	pub fn fields(&self) -> [F; 6] {
		let f0 = crate::field::pack_at(&[
			(self.op.kind() as u64, layout::F0_KIND),
			(self.actor as u64, layout::F0_ACTOR),
			(self.nonce as u64, layout::F0_NONCE),
		]);
		let f1 = self.op.packed().to_field();
		let (mut f2, mut f3, mut f4, mut f5) = (F::ZERO, F::ZERO, F::ZERO, F::ZERO);
		match &self.op {
			Operation::AdmitMember { role, public_key, encryption_key }
			| Operation::Register { role, public_key, encryption_key } => {
				(f2, f3) = key_coordinates(public_key);
				f4 = digest_to_field(encryption_key);
				f5 = F::from(role.code() as u64);
			},
			Operation::AppendRecord { index_head, .. } => f2 = digest_to_field(&index_head.0),
			Operation::SubmitClaim { record, amount, .. } => {
				f2 = digest_to_field(record);
				f3 = F::from(*amount);
			},
			Operation::DecideClaim { settled, .. } => f3 = F::from(*settled),
			_ => {},
		}
		[f0, f1, f2, f3, f4, f5]
	}

	/// The message the signature covers: `Poseidon(Operation, fields)`.
	pub fn message(&self) -> F {
		message_of(&self.fields())
	}

	/// What the signature covers on `deployment`: [`SignedOp::message`] within the deployment id.
	pub fn signed_message(&self, deployment: &DeploymentId) -> schnorr::Message {
		schnorr::Message::new(deployment.field(), self.message())
	}

	/// Signs this operation with `key` for `deployment` (sets [`SignedOp::signature`]).
	pub fn sign(mut self, key: &schnorr::SecretKey, deployment: &DeploymentId) -> Self {
		self.signature = key.sign(self.signed_message(deployment)).to_bytes();
		self
	}
}
