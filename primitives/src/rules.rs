//! The state-transition rules: one pure function, [`apply`], used by the runtime, the prover's
//! native state and (mirrored constraint by constraint) the circuit.
//!
//! An operation either fails with a [`RuleError`] and changes nothing, or succeeds, changes the
//! state and returns its [`Effects`]. Access attempts do not fail when the rules say no: they
//! succeed with [`AccessOutcome::Denied`], which is logged exactly like a granted access.
//!
//! # Shape of every operation
//!
//! Each operation touches at most two participant slots and one grant slot:
//!
//! * the **subject** — the participant whose data changes (the patient for record, consent,
//!   access, emergency and claim operations; the new participant for registration and admission;
//!   the doctor for credentialing);
//! * the **other party** — the actor when it is not the subject (its nonce advances), or the
//!   grantee whose registration a grant checks; and
//! * one **grant slot** of the subject's consent subtree. A new grant (consent or emergency)
//!   names its slot; a slot is reused once its grant expired without an open claim, or was
//!   revoked ([`slot_free`]), so the subtree bounds the grants a patient holds at once, not in
//!   a lifetime.
//!
//! Common checks, in order: governance operations only from governance and user operations only
//! from users; the actor exists, is active and signs with its next nonce (registration and
//! admission: the new key signs, nonce 0, as proof of possession; emergency access: the doctor +
//! hospital joint key pinned at credentialing), each signature over the operation's message
//! within the state's deployment id. Then the rules of DESIGN.md §4, one [`RuleError`] per
//! reason.
//!
//! # Ids and organisations
//!
//! Participant ids are assigned in registration order from the state's [`Header`]: a
//! registration or an admission names no actor (0) and gets `participants + 1` ([`Effects`]
//! returns it). No id is derived from a key, so none can collide or be squatted. The rules
//! cannot see whether a key is registered already; the registry refuses a second registration
//! of a key before the rules run ([`RuleError::AlreadyRegistered`]).
//!
//! A hospital admitted by governance gets the next organisation index and its bit in the
//! header; a doctor's credential records that index, and counts only while the bit is set
//! ([`Header::live_affiliation`]), so removing a hospital ends its doctors' access through it
//! and their emergency co-signing at once.
//!
//! # Access log
//!
//! Operations on a patient's data (append, grant, revoke, access, emergency, claims) extend the
//! patient's log: `log' = Poseidon(AccessLog, [log, message, block + 2^32·outcome])` with
//! outcome 0 (not an access), 1 (GRANTED) or 2 (DENIED).

use crate::{
	inbox::InboxEntry,
	ops::{digest_to_field, message_of},
	ops::{
		kind, permission, purpose, BlockNumber, GrantId, Operation, Origin, ParticipantId, Role,
		SignedOp, EMERGENCY_WINDOW, GRANT_DEPTH, PARTICIPANT_DEPTH,
	},
	poseidon::{self, Domain},
	schnorr::{Message, PublicKey, Signature, SignatureError},
	state::{ClaimStatus, Grant, Header, Participant, RollupState, MAX_ORGS},
	F,
};
use ark_ec::AffineRepr;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Why an operation was refused. Nothing changed.
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
pub enum RuleError {
	/// A governance operation (admit, remove) arrived from a user.
	GovernanceOnly,
	/// Governance may only admit or remove members.
	NotAGovernanceOperation,
	/// The actor's slot is empty.
	UnknownActor,
	/// The actor was removed by governance.
	ActorInactive,
	/// The nonce is not the actor's next nonce.
	BadNonce,
	/// The actor's nonce or the index version cannot advance further.
	CounterOverflow,
	/// The signature bytes are not a valid encoding (point off the curve, `s` not canonical).
	MalformedSignature,
	/// The signature does not verify.
	BadSignature,
	/// A public key in the operation is not a valid rollup key.
	InvalidKey,
	/// The next participant id's slot is already taken (only in a state the rules did not
	/// build: ids are assigned in order).
	IdCollision,
	/// This key is already registered (the registry's check before the rules: the rules
	/// cannot see other participants' keys).
	AlreadyRegistered,
	/// Governance may admit only hospitals, insurers, researchers and auditors; a participant
	/// registers itself only as a patient or a doctor.
	InvalidRole,
	/// Only an admitted hospital may do this.
	NotAHospital,
	/// The participant is not a doctor.
	NotADoctor,
	/// Only a patient may do this.
	NotAPatient,
	/// Only an insurer may do this.
	NotAnInsurer,
	/// No such participant.
	UnknownParticipant,
	/// The doctor is not credentialed by this hospital.
	NotYourDoctor,
	/// No such (active) patient.
	UnknownPatient,
	/// The index version is not the current one (someone appended first).
	VersionMismatch,
	/// The grant slot number is beyond the consent subtree.
	GrantOutOfRange,
	/// A participant id does not fit the participant tree (ids are below 2^24), or the tree is
	/// full.
	IdOutOfRange,
	/// No unexpired WRITE grant covers this writer.
	NoWriteGrant,
	/// The grantee is not a registered, active participant.
	GranteeNotRegistered,
	/// Permissions are empty or have undefined bits.
	InvalidPermissions,
	/// Purposes are empty or have undefined bits (a request names exactly one).
	InvalidPurposes,
	/// The scope is empty.
	InvalidScope,
	/// The grant would already be expired.
	ExpiryInPast,
	/// The named grant slot holds a grant that has not expired, or one with an open claim.
	SlotTaken,
	/// The grant slot is empty.
	GrantNotFound,
	/// The doctor holds no hospital credential.
	NotCredentialed,
	/// Emergency access needs a reason code.
	ReasonMissing,
	/// No unexpired CLAIM grant of the patient covers this insurer.
	NoClaimGrant,
	/// A claim under this grant is still open.
	ClaimAlreadyOpen,
	/// A claim must be for a positive amount.
	ZeroAmount,
	/// There is no open claim under this grant.
	ClaimNotOpen,
	/// The claim belongs to another insurer.
	NotYourClaim,
	/// The settled amount exceeds the claim (or a rejection settles a non-zero amount).
	SettlementExceedsClaim,
	/// The participant was already removed.
	ParticipantInactive,
	/// The operation's encoding sets a part its kind does not use ([`crate::ops::canonical`]).
	MalformedEncoding,
	/// The entry's block is earlier than the previous entry's in the batch.
	BlockDecreased,
	/// The doctor is already credentialed (by this or another hospital); its hospital revokes
	/// the credential first.
	AlreadyCredentialed,
	/// The deployment has admitted [`crate::state::MAX_ORGS`] hospitals: no organisation index
	/// is left.
	TooManyOrganisations,
}

/// The logged outcome of an access attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum AccessOutcome {
	/// An unexpired grant with READ covers the scope and purpose.
	Granted,
	/// It does not.
	Denied,
}

/// What an accepted operation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effects {
	/// The operation's kind ([`kind`]).
	pub kind: u8,
	/// The actor (the new participant for registration and admission).
	pub actor: ParticipantId,
	/// The subject participant.
	pub subject: ParticipantId,
	/// The grant slot written or read, if any.
	pub grant: Option<GrantId>,
	/// The outcome, for access attempts.
	pub outcome: Option<AccessOutcome>,
	/// The new head of the subject's log, when the operation was logged.
	pub log: Option<F>,
}

/// The next link of a patient's log.
pub fn log_link(log: F, message: F, block: BlockNumber, outcome: u8) -> F {
	poseidon::hash(
		Domain::AccessLog,
		&[log, message, F::from(block as u64) + F::from(outcome as u64) * F::from(1u64 << 32)],
	)
}

/// Whether `grant` gives `actor` permission `perm` for `purpose` over `scope` at `now`: the
/// grant names the actor, or the actor is a doctor and the grant names the hospital whose
/// credential it holds while that hospital is a member ([`Header::live_affiliation`]).
#[allow(clippy::too_many_arguments)]
pub fn covers(
	grant: &Grant,
	actor_id: ParticipantId,
	actor: &Participant,
	header: &Header,
	perm: u8,
	purpose: u8,
	scope: u32,
	now: BlockNumber,
) -> bool {
	let affiliation = header.live_affiliation(actor);
	let holder = grant.grantee == actor_id
		|| (actor.role == Role::Doctor && affiliation != 0 && grant.grantee == affiliation);
	holder
		&& grant.permissions & perm == perm
		&& grant.purposes & purpose == purpose
		&& grant.scope & scope == scope
		&& now < grant.expires_at
}

fn ensure(cond: bool, err: RuleError) -> Result<(), RuleError> {
	if cond {
		Ok(())
	} else {
		Err(err)
	}
}

fn decode_key(bytes: &[u8; 32]) -> Result<PublicKey, RuleError> {
	PublicKey::from_bytes(bytes).map_err(|_| RuleError::InvalidKey)
}

/// Checks `op`'s signature by `key` on `message` within the state's deployment.
fn verify<S: RollupState>(
	state: &S,
	key: &PublicKey,
	op: &SignedOp,
	message: F,
) -> Result<(), RuleError> {
	let sig = Signature::from_bytes(&op.signature).map_err(|_| RuleError::MalformedSignature)?;
	let signed = Message::new(state.deployment().field(), message);
	key.verify(signed, &sig).map_err(|e| match e {
		SignatureError::Invalid => RuleError::BadSignature,
		_ => RuleError::MalformedSignature,
	})
}

/// The id the next registration or admission gets, and the header that counts it: ids are
/// assigned in order, below 2^[`PARTICIPANT_DEPTH`]; the slot of a new id is always empty in
/// a state the rules built.
fn next_id<S: RollupState>(state: &S) -> Result<(ParticipantId, Header), RuleError> {
	let mut header = state.header();
	let id = header.participants.checked_add(1).ok_or(RuleError::IdOutOfRange)?;
	ensure((id as u64) < 1u64 << PARTICIPANT_DEPTH, RuleError::IdOutOfRange)?;
	ensure(state.participant(id).is_none(), RuleError::IdCollision)?;
	header.participants = id;
	Ok((id, header))
}

fn active_patient<S: RollupState>(state: &S, id: ParticipantId) -> Result<Participant, RuleError> {
	match state.participant(id) {
		Some(p) if p.role == Role::Patient && p.active => Ok(p),
		_ => Err(RuleError::UnknownPatient),
	}
}

/// Whether a new grant (consent or emergency) may take slot `slot` of `patient`'s consent
/// subtree at block `now`: the slot is empty (never used, or revoked), or its grant has expired
/// (`now ≥ expires_at`) and holds no open claim. A slot number beyond the subtree is never free.
/// So a patient is limited to 2^GRANT_DEPTH grants at once, not in a lifetime.
pub fn slot_free<S: RollupState>(
	state: &S,
	patient: ParticipantId,
	slot: GrantId,
	now: BlockNumber,
) -> bool {
	(slot as u64) < (1u64 << GRANT_DEPTH)
		&& state
			.grant(patient, slot)
			.is_none_or(|g| now >= g.expires_at && g.claim_status != ClaimStatus::Open)
}

/// The lowest slot of `patient`'s consent subtree that is [`slot_free`] at block `now` (for
/// clients and tests choosing the slot of a new grant; it reads up to every slot).
pub fn free_slot<S: RollupState>(
	state: &S,
	patient: ParticipantId,
	now: BlockNumber,
) -> Option<GrantId> {
	(0..1u32 << GRANT_DEPTH).find(|&slot| slot_free(state, patient, slot, now))
}

fn grant_in_range(grant: GrantId) -> Result<(), RuleError> {
	ensure((grant as u64) < (1u64 << GRANT_DEPTH), RuleError::GrantOutOfRange)
}

fn advance(n: u32) -> Result<u32, RuleError> {
	n.checked_add(1).ok_or(RuleError::CounterOverflow)
}

/// Every id and slot number fits its width in the field encoding and the encoding is canonical
/// ([`crate::ops::canonical`]), so no two operations share a message; returns the operation's
/// [`SignedOp::fields`]. The prover's witness builder calls it before it opens any path.
pub fn well_formed(op: &SignedOp) -> Result<[F; 6], RuleError> {
	let ids = 1u32 << PARTICIPANT_DEPTH;
	ensure(op.actor < ids, RuleError::IdOutOfRange)?;
	let packed = op.op.packed();
	ensure(packed.target < ids, RuleError::IdOutOfRange)?;
	grant_in_range(packed.grant)?;
	let fields = op.fields();
	ensure(crate::ops::canonical(&fields), RuleError::MalformedEncoding)?;
	Ok(fields)
}

/// Entries of a batch come in block order: `block` may not be earlier than the previous
/// entry's (`previous`, 0 for the first). The runtime appends at the current block, so it never
/// produces a decreasing batch; the prover checks it and the circuit enforces it.
pub fn in_block_order(previous: BlockNumber, block: BlockNumber) -> Result<(), RuleError> {
	ensure(block >= previous, RuleError::BlockDecreased)
}

/// The key that must sign `op` of an existing actor: the joint doctor + hospital key for
/// emergency access (pinned at credentialing; the credential holds only while its hospital is
/// a member), the actor's own key otherwise.
fn signing_key(
	actor: &Participant,
	header: &Header,
	op: &SignedOp,
) -> Result<PublicKey, RuleError> {
	match &op.op {
		Operation::EmergencyAccess { .. } => {
			ensure(actor.role == Role::Doctor, RuleError::NotADoctor)?;
			let joint = actor.emergency_key.ok_or(RuleError::NotCredentialed)?;
			ensure(header.live_affiliation(actor) != 0, RuleError::NotCredentialed)?;
			Ok(joint)
		},
		_ => Ok(actor.key),
	}
}

/// Checks who signed a user operation without applying it or looking at its nonce: the encoding
/// is well formed, the actor exists and is active, and the signature verifies under the key that
/// [`apply`] would use (the new key for registration). The transaction pool uses it for an
/// operation queued behind earlier ones of the same actor, whose effects cannot be checked yet.
pub fn authenticate<S: RollupState>(state: &S, op: &SignedOp) -> Result<(), RuleError> {
	let message = message_of(&well_formed(op)?);
	ensure(!op.op.is_governance(), RuleError::GovernanceOnly)?;
	if let Operation::Register { public_key, .. } = &op.op {
		return verify(state, &decode_key(public_key)?, op, message);
	}
	let actor = state.participant(op.actor).ok_or(RuleError::UnknownActor)?;
	ensure(actor.active, RuleError::ActorInactive)?;
	verify(state, &signing_key(&actor, &state.header(), op)?, op, message)
}

/// Applies a user operation at block `now` (see the module docs).
pub fn apply<S: RollupState>(
	state: &mut S,
	op: &SignedOp,
	now: BlockNumber,
) -> Result<Effects, RuleError> {
	apply_op(state, op, Origin::User, now)
}

/// Applies a governance operation at block `now`.
pub fn apply_governance<S: RollupState>(
	state: &mut S,
	op: &SignedOp,
	now: BlockNumber,
) -> Result<Effects, RuleError> {
	apply_op(state, op, Origin::Governance, now)
}

/// Applies an inbox entry (dispatching on its origin).
pub fn apply_entry<S: RollupState>(
	state: &mut S,
	entry: &InboxEntry,
) -> Result<Effects, RuleError> {
	apply_op(state, &entry.op, entry.origin, entry.block)
}

fn apply_op<S: RollupState>(
	state: &mut S,
	op: &SignedOp,
	origin: Origin,
	now: BlockNumber,
) -> Result<Effects, RuleError> {
	let k = op.op.kind();
	let base = Effects {
		kind: k,
		actor: op.actor,
		subject: op.actor,
		grant: None,
		outcome: None,
		log: None,
	};
	let message = message_of(&well_formed(op)?);
	match origin {
		Origin::Governance => {
			ensure(op.op.is_governance(), RuleError::NotAGovernanceOperation)?;
			ensure(op.nonce == 0, RuleError::BadNonce)?;
			match &op.op {
				Operation::AdmitMember { role, public_key, encryption_key } => {
					ensure(
						matches!(
							role,
							Role::Hospital | Role::Insurer | Role::Researcher | Role::Auditor
						),
						RuleError::InvalidRole,
					)?;
					let key = decode_key(public_key)?;
					let (id, mut header) = next_id(state)?;
					let mut member = Participant::new(*role, key, digest_to_field(encryption_key));
					if *role == Role::Hospital {
						ensure(header.next_org < MAX_ORGS as u8, RuleError::TooManyOrganisations)?;
						member.org = header.next_org;
						header.orgs.insert(header.next_org);
						header.next_org += 1;
					}
					// Proof of possession: the admitted key signs its own admission.
					verify(state, &key, op, message)?;
					state.set_participant(id, member);
					state.set_header(header);
					Ok(Effects { actor: id, subject: id, ..base })
				},
				Operation::RemoveMember => {
					let mut p = state.participant(op.actor).ok_or(RuleError::UnknownParticipant)?;
					ensure(p.active, RuleError::ParticipantInactive)?;
					p.active = false;
					if p.role == Role::Hospital {
						// Its doctors' credentials lapse with its organisation bit.
						let mut header = state.header();
						header.orgs.remove(p.org);
						state.set_header(header);
					}
					state.set_participant(op.actor, p);
					Ok(base)
				},
				_ => Err(RuleError::NotAGovernanceOperation),
			}
		},
		Origin::User => {
			ensure(!op.op.is_governance(), RuleError::GovernanceOnly)?;
			if let Operation::Register { role, public_key, encryption_key } = &op.op {
				ensure(matches!(role, Role::Patient | Role::Doctor), RuleError::InvalidRole)?;
				let key = decode_key(public_key)?;
				let (id, header) = next_id(state)?;
				ensure(op.nonce == 0, RuleError::BadNonce)?;
				verify(state, &key, op, message)?;
				let mut p = Participant::new(*role, key, digest_to_field(encryption_key));
				p.nonce = 1;
				state.set_participant(id, p);
				state.set_header(header);
				return Ok(Effects { actor: id, subject: id, ..base });
			}
			let mut actor = state.participant(op.actor).ok_or(RuleError::UnknownActor)?;
			ensure(actor.active, RuleError::ActorInactive)?;
			ensure(op.nonce == actor.nonce, RuleError::BadNonce)?;
			let next_nonce = advance(actor.nonce)?;
			verify(state, &signing_key(&actor, &state.header(), op)?, op, message)?;
			user_op(state, op, &mut actor, next_nonce, message, base, now)
		},
	}
}

#[allow(clippy::too_many_arguments)]
fn user_op<S: RollupState>(
	state: &mut S,
	op: &SignedOp,
	actor: &mut Participant,
	next_nonce: u32,
	message: F,
	mut fx: Effects,
	now: BlockNumber,
) -> Result<Effects, RuleError> {
	let actor_id = op.actor;
	// Writes the actor back with its nonce advanced (unless it is the subject, written below).
	let finish_actor = |state: &mut S, actor: &mut Participant| {
		actor.nonce = next_nonce;
		state.set_participant(actor_id, actor.clone());
	};
	match &op.op {
		Operation::Register { .. } | Operation::AdmitMember { .. } | Operation::RemoveMember => {
			Err(RuleError::NotAGovernanceOperation)
		},
		Operation::CredentialDoctor { doctor } => {
			ensure(actor.role == Role::Hospital, RuleError::NotAHospital)?;
			let mut d = state.participant(*doctor).ok_or(RuleError::UnknownParticipant)?;
			ensure(d.role == Role::Doctor, RuleError::NotADoctor)?;
			ensure(d.active, RuleError::ParticipantInactive)?;
			// A credential of a removed hospital has lapsed: another hospital may credential
			// the doctor.
			ensure(state.header().live_affiliation(&d) == 0, RuleError::AlreadyCredentialed)?;
			// The doctor's key is the one it proved to hold when it registered, so it cannot
			// have been chosen to cancel the hospital's; an identity joint key (under which
			// anything verifies) is refused all the same.
			let joint = d.key.joint(&actor.key);
			ensure(!joint.0.is_zero(), RuleError::InvalidKey)?;
			d.affiliation = actor_id;
			d.affiliation_org = actor.org;
			d.emergency_key = Some(joint);
			finish_actor(state, actor);
			state.set_participant(*doctor, d);
			fx.subject = *doctor;
			Ok(fx)
		},
		Operation::RevokeCredential { doctor } => {
			ensure(actor.role == Role::Hospital, RuleError::NotAHospital)?;
			let mut d = state.participant(*doctor).ok_or(RuleError::UnknownParticipant)?;
			ensure(d.role == Role::Doctor, RuleError::NotADoctor)?;
			ensure(d.affiliation == actor_id, RuleError::NotYourDoctor)?;
			d.affiliation = 0;
			d.affiliation_org = 0;
			d.emergency_key = None;
			finish_actor(state, actor);
			state.set_participant(*doctor, d);
			fx.subject = *doctor;
			Ok(fx)
		},
		Operation::AppendRecord { patient, grant, expected_version, index_head } => {
			let mut p = active_patient(state, *patient)?;
			ensure(*expected_version == p.index_version, RuleError::VersionMismatch)?;
			let version = advance(p.index_version)?;
			if *patient != actor_id {
				grant_in_range(*grant)?;
				let g = state.grant(*patient, *grant).ok_or(RuleError::NoWriteGrant)?;
				ensure(
					covers(
						&g,
						actor_id,
						actor,
						&state.header(),
						permission::WRITE,
						purpose::TREATMENT,
						0,
						now,
					),
					RuleError::NoWriteGrant,
				)?;
				fx.grant = Some(*grant);
				finish_actor(state, actor);
			} else {
				p.nonce = next_nonce;
			}
			p.index_head = digest_to_field(&index_head.0);
			p.index_version = version;
			p.log = log_link(p.log, message, now, 0);
			fx.log = Some(p.log);
			fx.subject = *patient;
			state.set_participant(*patient, p);
			Ok(fx)
		},
		Operation::GrantConsent { grantee, permissions, purposes, scope, expires_at, slot } => {
			ensure(actor.role == Role::Patient, RuleError::NotAPatient)?;
			ensure(
				state.participant(*grantee).map(|g| g.active).unwrap_or(false),
				RuleError::GranteeNotRegistered,
			)?;
			ensure(
				*permissions != 0 && permissions & !permission::ALL == 0,
				RuleError::InvalidPermissions,
			)?;
			ensure(*purposes != 0 && purposes & !purpose::ALL == 0, RuleError::InvalidPurposes)?;
			ensure(*scope != 0, RuleError::InvalidScope)?;
			ensure(*expires_at > now, RuleError::ExpiryInPast)?;
			let slot = *slot;
			ensure(slot_free(state, actor_id, slot, now), RuleError::SlotTaken)?;
			state.set_grant(
				actor_id,
				slot,
				Some(Grant {
					grantee: *grantee,
					permissions: *permissions,
					purposes: *purposes,
					scope: *scope,
					expires_at: *expires_at,
					emergency: false,
					claim_status: ClaimStatus::None,
					claim_record: F::from(0u64),
					claim_amount: 0,
					settled: 0,
				}),
			);
			actor.log = log_link(actor.log, message, now, 0);
			fx.log = Some(actor.log);
			fx.grant = Some(slot);
			finish_actor(state, actor);
			Ok(fx)
		},
		Operation::RevokeConsent { grant } => {
			ensure(actor.role == Role::Patient, RuleError::NotAPatient)?;
			grant_in_range(*grant)?;
			ensure(state.grant(actor_id, *grant).is_some(), RuleError::GrantNotFound)?;
			state.set_grant(actor_id, *grant, None);
			actor.log = log_link(actor.log, message, now, 0);
			fx.log = Some(actor.log);
			fx.grant = Some(*grant);
			finish_actor(state, actor);
			Ok(fx)
		},
		Operation::AccessRecord { patient, grant, purpose: wanted, scope } => {
			ensure(
				wanted.count_ones() == 1 && wanted & !purpose::ALL == 0,
				RuleError::InvalidPurposes,
			)?;
			grant_in_range(*grant)?;
			let mut p =
				if *patient == actor_id { actor.clone() } else { active_patient(state, *patient)? };
			ensure(p.role == Role::Patient, RuleError::UnknownPatient)?;
			let header = state.header();
			let granted = *patient == actor_id
				|| state
					.grant(*patient, *grant)
					.map(|g| {
						covers(&g, actor_id, actor, &header, permission::READ, *wanted, *scope, now)
					})
					.unwrap_or(false);
			let outcome = if granted { AccessOutcome::Granted } else { AccessOutcome::Denied };
			let code = if granted { 1 } else { 2 };
			if *patient == actor_id {
				p.nonce = next_nonce;
			} else {
				finish_actor(state, actor);
			}
			p.log = log_link(p.log, message, now, code);
			fx.log = Some(p.log);
			fx.outcome = Some(outcome);
			fx.grant = Some(*grant);
			fx.subject = *patient;
			state.set_participant(*patient, p);
			Ok(fx)
		},
		Operation::EmergencyAccess { patient, reason, slot } => {
			ensure(*reason != 0, RuleError::ReasonMissing)?;
			ensure(*patient != actor_id, RuleError::UnknownPatient)?;
			let mut p = active_patient(state, *patient)?;
			let slot = *slot;
			ensure(slot_free(state, *patient, slot, now), RuleError::SlotTaken)?;
			state.set_grant(
				*patient,
				slot,
				Some(Grant {
					grantee: actor_id,
					permissions: permission::READ | permission::WRITE,
					purposes: purpose::EMERGENCY | purpose::TREATMENT,
					scope: crate::ops::scope::ALL,
					expires_at: now
						.checked_add(EMERGENCY_WINDOW)
						.ok_or(RuleError::CounterOverflow)?,
					emergency: true,
					claim_status: ClaimStatus::None,
					claim_record: F::from(0u64),
					claim_amount: 0,
					settled: 0,
				}),
			);
			p.log = log_link(p.log, message, now, 0);
			fx.log = Some(p.log);
			fx.grant = Some(slot);
			fx.subject = *patient;
			finish_actor(state, actor);
			state.set_participant(*patient, p);
			Ok(fx)
		},
		Operation::SubmitClaim { patient, grant, record, amount } => {
			ensure(actor.role == Role::Insurer, RuleError::NotAnInsurer)?;
			ensure(*patient != actor_id, RuleError::UnknownPatient)?;
			let mut p = active_patient(state, *patient)?;
			grant_in_range(*grant)?;
			let mut g = state.grant(*patient, *grant).ok_or(RuleError::NoClaimGrant)?;
			ensure(
				covers(
					&g,
					actor_id,
					actor,
					&state.header(),
					permission::CLAIM,
					purpose::INSURANCE,
					0,
					now,
				),
				RuleError::NoClaimGrant,
			)?;
			ensure(g.claim_status != ClaimStatus::Open, RuleError::ClaimAlreadyOpen)?;
			ensure(*amount > 0, RuleError::ZeroAmount)?;
			g.claim_status = ClaimStatus::Open;
			g.claim_record = digest_to_field(record);
			g.claim_amount = *amount;
			g.settled = 0;
			state.set_grant(*patient, *grant, Some(g));
			p.log = log_link(p.log, message, now, 0);
			fx.log = Some(p.log);
			fx.grant = Some(*grant);
			fx.subject = *patient;
			finish_actor(state, actor);
			state.set_participant(*patient, p);
			Ok(fx)
		},
		Operation::DecideClaim { patient, grant, approve, settled } => {
			ensure(actor.role == Role::Insurer, RuleError::NotAnInsurer)?;
			ensure(*patient != actor_id, RuleError::UnknownPatient)?;
			let mut p = active_patient(state, *patient)?;
			grant_in_range(*grant)?;
			let mut g = state.grant(*patient, *grant).ok_or(RuleError::ClaimNotOpen)?;
			ensure(g.grantee == actor_id, RuleError::NotYourClaim)?;
			ensure(g.claim_status == ClaimStatus::Open, RuleError::ClaimNotOpen)?;
			let limit = if *approve { g.claim_amount } else { 0 };
			ensure(*settled <= limit, RuleError::SettlementExceedsClaim)?;
			g.claim_status = if *approve { ClaimStatus::Approved } else { ClaimStatus::Rejected };
			g.settled = *settled;
			state.set_grant(*patient, *grant, Some(g));
			p.log = log_link(p.log, message, now, 0);
			fx.log = Some(p.log);
			fx.grant = Some(*grant);
			fx.subject = *patient;
			finish_actor(state, actor);
			state.set_participant(*patient, p);
			Ok(fx)
		},
	}
}

/// Whether operations of this kind extend the subject's log.
pub fn is_logged(k: u8) -> bool {
	matches!(
		k,
		kind::APPEND_RECORD
			| kind::GRANT_CONSENT
			| kind::REVOKE_CONSENT
			| kind::ACCESS_RECORD
			| kind::EMERGENCY_ACCESS
			| kind::SUBMIT_CLAIM
			| kind::DECIDE_CLAIM
	)
}
