//! Every rejection of the rules is unsatisfiable in the circuit (with the most honest witness the
//! prover could build), and every access outcome other than the rules' is too.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use emr_circuit::{
	circuit::BatchCircuit,
	witness::{self, BatchStart},
};
use emr_primitives::{
	inbox::InboxEntry,
	ops::{permission, purpose, scope, Cid, Operation, Origin, Role, SignedOp},
	rules::{self, RuleError},
	schnorr::{Message, SecretKey},
	state::RollupState,
	testing::{deployment, emergency, Actor},
	F,
};
use emr_state_store::Store;

struct Fx {
	_dir: tempfile::TempDir,
	store: Store,
	hospital: Actor,
	hospital2: Actor,
	insurer: Actor,
	insurer2: Actor,
	researcher: Actor,
	patient: Actor,
	doctor: Actor,
	/// A registered doctor no hospital has credentialed.
	doctor2: Actor,
}

impl Fx {
	/// Hospitals, insurers, a researcher, a patient with grant 0 (hospital: READ+WRITE for
	/// treatment) and grant 1 (insurer: CLAIM for insurance), a credentialed doctor and a
	/// registered doctor without a credential.
	fn new() -> Self {
		let dir = tempfile::tempdir().expect("tempdir");
		let store = Store::open(dir.path().join("s.redb"), deployment()).expect("open");
		let mut taken = vec![];
		let mut next = |seed| {
			let a = Actor::new(seed, taken.len() as u32 + 1);
			taken.push(a.id);
			a
		};
		let hospital = next(11);
		let hospital2 = next(12);
		let insurer = next(13);
		let insurer2 = next(14);
		let researcher = next(15);
		let patient = next(16);
		let doctor = next(17);
		let doctor2 = next(18);
		let mut fx = Fx {
			_dir: dir,
			store,
			hospital,
			hospital2,
			insurer,
			insurer2,
			researcher,
			patient,
			doctor,
			doctor2,
		};
		let mut e = vec![
			fx.hospital.admit(Role::Hospital, 1),
			fx.hospital2.admit(Role::Hospital, 1),
			fx.insurer.admit(Role::Insurer, 1),
			fx.insurer2.admit(Role::Insurer, 1),
			fx.researcher.admit(Role::Researcher, 1),
			fx.patient.register(1),
			fx.doctor.register_as(Role::Doctor, 1),
			fx.doctor2.register_as(Role::Doctor, 1),
		];
		e.push(fx.hospital.sign(Operation::CredentialDoctor { doctor: fx.doctor.id }, 1));
		e.push(fx.patient.sign(
			grant(fx.hospital.id, permission::READ | permission::WRITE, purpose::TREATMENT, 0),
			2,
		));
		e.push(fx.patient.sign(grant(fx.insurer.id, permission::CLAIM, purpose::INSURANCE, 1), 2));
		for entry in &e {
			rules::apply_entry(&mut fx.store, entry).expect("fixture applies");
		}
		fx
	}

	/// Applies `entry`, which must be accepted.
	fn accept(&mut self, entry: &InboxEntry) {
		rules::apply_entry(&mut self.store, entry).expect("accepted");
	}

	/// `entry` is refused natively with `expected`, changes nothing, and no witness satisfies
	/// the circuit: neither the honest one with either access outcome, nor one that lies about
	/// the state in the operation's favour ([`favourable`]).
	fn refuse(&mut self, name: &str, entry: InboxEntry, expected: RuleError) {
		let root = BatchStart::of(&self.store);
		assert_eq!(rules::apply_entry(&mut self.store, &entry), Err(expected), "{name}: native");
		assert_eq!(self.store.root(), root.root(), "{name}: a refused entry changed the state");
		for granted in [false, true] {
			match witness::slot_witness(&mut self.store, &entry, granted) {
				Ok(slot) => {
					if granted {
						let lie = favourable(&slot, &entry);
						assert!(!satisfied(lie, root), "{name}: a favourable lie about the state");
					}
					assert!(
						!satisfied(slot, root),
						"{name}: the circuit accepts a refused operation"
					)
				},
				// No witness can even be built (an id or slot beyond its tree): same reason.
				Err(e) => assert_eq!(e, expected, "{name}: the witness builder's reason"),
			}
		}
	}
}

/// The witness a cheating prover would want for `entry`: the grant slot holds a grant to the
/// actor with every permission, purpose and scope bit, never expiring (an open claim for a
/// decision, an empty slot for an insertion), and the actor's leaf is active, has the role the
/// kind needs and the nonce the operation carries. The Merkle paths are left as they are.
fn favourable(
	honest: &emr_circuit::circuit::SlotWitness,
	entry: &InboxEntry,
) -> emr_circuit::circuit::SlotWitness {
	use emr_primitives::ops::kind;
	let mut w = honest.clone();
	let k = entry.op.op.kind();
	let inserting = k == kind::GRANT_CONSENT || k == kind::EMERGENCY_ACCESS;
	w.grant.grantee = entry.op.actor;
	w.grant.permissions = permission::ALL;
	w.grant.purposes = purpose::ALL;
	w.grant.scope = scope::ALL;
	w.grant.expires_at = u32::MAX;
	w.grant.flags = if inserting { 0 } else { 1 };
	w.grant.claim_status = if k == kind::DECIDE_CLAIM { 1 } else { 0 };
	w.grant.claim_amount = if k == kind::DECIDE_CLAIM { u64::MAX >> 1 } else { 0 };
	let role = match k {
		kind::CREDENTIAL_DOCTOR | kind::REVOKE_CREDENTIAL => Some(3),
		kind::GRANT_CONSENT | kind::REVOKE_CONSENT => Some(1),
		kind::SUBMIT_CLAIM | kind::DECIDE_CLAIM => Some(4),
		kind::EMERGENCY_ACCESS | kind::APPEND_RECORD | kind::ACCESS_RECORD => Some(2),
		_ => None,
	};
	// The actor is leaf 2 for consent operations, leaf 1 otherwise.
	let actor = if k == kind::GRANT_CONSENT { &mut w.leaf2 } else { &mut w.leaf1 };
	if let Some(role) = role {
		actor.role = role;
	}
	actor.active = true;
	actor.nonce = entry.op.nonce;
	w
}

fn satisfied(slot: emr_circuit::circuit::SlotWitness, root: BatchStart) -> bool {
	satisfied_batch(vec![slot], root)
}

fn grant(grantee: u32, permissions: u8, purposes: u8, slot: u32) -> Operation {
	Operation::GrantConsent {
		grantee,
		permissions,
		purposes,
		scope: scope::ALL,
		expires_at: 1000,
		slot,
	}
}

fn access(patient: u32, grant: u32, purpose: u8, scope: u32) -> Operation {
	Operation::AccessRecord { patient, grant, purpose, scope }
}

fn append(patient: u32, version: u32) -> Operation {
	Operation::AppendRecord {
		patient,
		grant: 0,
		expected_version: version,
		index_head: Cid(b"bafy-head".to_vec()),
	}
}

fn governance(actor: u32, op: Operation) -> InboxEntry {
	InboxEntry {
		op: SignedOp { actor, nonce: 0, op, signature: [0; 64] },
		origin: Origin::Governance,
		block: 3,
	}
}

#[test]
fn accepted_entries_satisfy_and_flipped_outcomes_do_not() {
	let mut fx = Fx::new();
	let p = fx.patient.id;
	for (name, entry, granted) in [
		("doctor via hospital grant", fx.doctor.sign(access(p, 0, purpose::TREATMENT, 3), 3), true),
		(
			"researcher without grant",
			fx.researcher.sign(access(p, 0, purpose::RESEARCH, 1), 3),
			false,
		),
		("wrong purpose", fx.hospital.sign(access(p, 0, purpose::AUDIT, 1), 3), false),
		("insurer without READ", fx.insurer.sign(access(p, 1, purpose::INSURANCE, 1), 3), false),
		("patient reads own", fx.patient.sign(access(p, 7, purpose::TREATMENT, 1), 3), true),
	] {
		let root = BatchStart::of(&fx.store);
		let right = witness::slot_witness(&mut fx.store, &entry, granted).expect("well formed");
		let wrong = witness::slot_witness(&mut fx.store, &entry, !granted).expect("well formed");
		let fxs = rules::apply_entry(&mut fx.store, &entry).expect("access is never refused");
		assert_eq!(
			fxs.outcome == Some(rules::AccessOutcome::Granted),
			granted,
			"{name}: native outcome"
		);
		assert!(satisfied(right, root), "{name}: the rules' outcome must prove");
		assert!(!satisfied(wrong, root), "{name}: the opposite outcome must not prove");
	}
	// An expired grant is DENIED.
	let late = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 1), 1000);
	let root = BatchStart::of(&fx.store);
	let w = witness::slot_witness(&mut fx.store, &late, false).expect("well formed");
	let flipped = witness::slot_witness(&mut fx.store, &late, true).expect("well formed");
	assert_eq!(
		rules::apply_entry(&mut fx.store, &late).expect("logged").outcome,
		Some(rules::AccessOutcome::Denied)
	);
	assert!(satisfied(w, root) && !satisfied(flipped, root));
}

#[test]
fn every_rejection_is_unsatisfiable() {
	use RuleError::*;
	let mut fx = Fx::new();
	let p = fx.patient.id;
	let h = fx.hospital.id;

	// Origin.
	let e = fx.hospital.sign(Operation::RemoveMember, 3);
	fx.refuse("user remove", e, GovernanceOnly);
	fx.hospital.nonce -= 1;
	let e = governance(
		0,
		Operation::Register {
			role: Role::Patient,
			public_key: fx.patient.public(),
			encryption_key: [0; 32],
		},
	);
	fx.refuse("governance register", e, NotAGovernanceOperation);

	// Actor, nonce, signature.
	// Never registered: the fixture's ids are 1..=8.
	let mut stranger = Actor::new(99, 999);
	let e = stranger.sign(access(p, 0, purpose::TREATMENT, 1), 3);
	fx.refuse("unknown actor", e, UnknownActor);
	let mut e = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 1), 3);
	fx.doctor.nonce -= 1;
	e.op.nonce += 1;
	e.op = e.op.sign(&fx.doctor.key, &deployment());
	fx.refuse("nonce ahead", e, BadNonce);
	let mut e = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 1), 3);
	fx.doctor.nonce -= 1;
	e.op = e.op.sign(&fx.researcher.key, &deployment());
	fx.refuse("signed by another key", e, BadSignature);
	let mut e = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 1), 3);
	fx.doctor.nonce -= 1;
	// s + r: the same residue, not canonical.
	let sig = emr_primitives::schnorr::Signature::from_bytes(&e.op.signature).expect("sig");
	let mut s = ark_ff::PrimeField::into_bigint(sig.s);
	ark_ff::BigInteger::add_with_carry(
		&mut s,
		&<ark_ed_on_bls12_381_bandersnatch::Fr as ark_ff::PrimeField>::MODULUS,
	);
	e.op.signature[32..].copy_from_slice(&ark_ff::BigInteger::to_bytes_le(&s));
	fx.refuse("non-canonical s", e, MalformedSignature);
	let mut e = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 1), 3);
	fx.doctor.nonce -= 1;
	e.block = 4;
	let mut forged = e.clone();
	if let Operation::AccessRecord { scope, .. } = &mut forged.op.op {
		*scope = 2;
	}
	fx.refuse("signature over another operation", forged, BadSignature);

	// Registration and admission: they name no actor (the id is assigned in order).
	let mut newbie = Actor::new(40, 0);
	let mut e = newbie.register(3);
	e.op.actor = 9;
	e.op = e.op.sign(&newbie.key, &deployment());
	fx.refuse("a registration that names an id", e, MalformedEncoding);
	let mut e = newbie.admit(Role::Auditor, 3);
	e.op.actor = 9;
	e.op = e.op.sign(&newbie.key, &deployment());
	fx.refuse("an admission that names an id", e, MalformedEncoding);
	let mut bad = Actor::new(41, 0);
	let mut e = bad.register(3);
	if let Operation::Register { public_key, .. } = &mut e.op.op {
		*public_key = [0xff; 32];
	}
	e.op = e.op.sign(&bad.key, &deployment());
	fx.refuse("key off the curve", e, InvalidKey);
	let mut newcomer = Actor::new(42, 0);
	fx.refuse("admit a patient", newcomer.admit(Role::Patient, 3), InvalidRole);
	let e = newcomer.register_as(Role::Hospital, 3);
	newcomer.nonce -= 1;
	fx.refuse("register as a hospital", e, InvalidRole);
	// An admission needs the admitted key's proof of possession: not a signature by another key
	// (governance cannot pin a key nobody proved to hold), nor none.
	let mut e = newcomer.admit(Role::Hospital, 3);
	e.op = e.op.sign(&fx.hospital.key, &deployment());
	fx.refuse("admission signed by another key", e, BadSignature);
	let mut e = newcomer.admit(Role::Hospital, 3);
	e.op.signature = [0; 64];
	fx.refuse("admission without a signature", e, MalformedSignature);
	let e = governance(stranger.id, Operation::RemoveMember);
	fx.refuse("remove unknown", e, UnknownParticipant);

	// Credentials: a hospital credentials a doctor that registered itself (and so proved it holds
	// its key), active and not yet credentialed.
	let d2 = fx.doctor2.id;
	let e = fx.insurer.sign(Operation::CredentialDoctor { doctor: d2 }, 3);
	fx.insurer.nonce -= 1;
	fx.refuse("insurer credentials", e, NotAHospital);
	let e = fx.hospital.sign(Operation::CredentialDoctor { doctor: stranger.id }, 3);
	fx.hospital.nonce -= 1;
	fx.refuse("credential an unregistered key's slot", e, UnknownParticipant);
	let e = fx.hospital.sign(Operation::CredentialDoctor { doctor: p }, 3);
	fx.hospital.nonce -= 1;
	fx.refuse("credential a patient", e, NotADoctor);
	let e = fx.hospital2.sign(Operation::CredentialDoctor { doctor: fx.doctor.id }, 3);
	fx.hospital2.nonce -= 1;
	fx.refuse("credential another hospital's doctor", e, AlreadyCredentialed);
	let e = fx.hospital.sign(Operation::CredentialDoctor { doctor: fx.doctor.id }, 3);
	fx.hospital.nonce -= 1;
	fx.refuse("credential one's own doctor twice", e, AlreadyCredentialed);
	// A doctor key that cancels the hospital's (registrable only by whoever holds the
	// hospital's secret) would make the joint emergency key the identity.
	let mut cancel = Actor::cancelling(&fx.hospital, 9);
	fx.accept(&cancel.register_as(Role::Doctor, 3));
	let e = fx.hospital.sign(Operation::CredentialDoctor { doctor: cancel.id }, 3);
	fx.hospital.nonce -= 1;
	fx.refuse("doctor key cancelling the hospital's", e, InvalidKey);
	// A doctor removed by governance is not credentialed.
	let mut removed = Actor::new(44, 10);
	fx.accept(&removed.register_as(Role::Doctor, 3));
	fx.accept(&governance(removed.id, Operation::RemoveMember));
	let e = fx.hospital2.sign(Operation::CredentialDoctor { doctor: removed.id }, 3);
	fx.hospital2.nonce -= 1;
	fx.refuse("credential a removed doctor", e, ParticipantInactive);
	let e = fx.hospital.sign(Operation::RevokeCredential { doctor: p }, 3);
	fx.hospital.nonce -= 1;
	fx.refuse("revoke a patient", e, NotADoctor);
	let e = fx.hospital2.sign(Operation::RevokeCredential { doctor: fx.doctor.id }, 3);
	fx.hospital2.nonce -= 1;
	fx.refuse("another hospital's doctor", e, NotYourDoctor);
	let e = fx.hospital.sign(Operation::RevokeCredential { doctor: stranger.id }, 3);
	fx.hospital.nonce -= 1;
	fx.refuse("revoke unknown", e, UnknownParticipant);

	// Records.
	let e = fx.doctor.sign(append(h, 0), 3);
	fx.doctor.nonce -= 1;
	fx.refuse("append for a hospital", e, UnknownPatient);
	let e = fx.doctor.sign(append(p, 5), 3);
	fx.doctor.nonce -= 1;
	fx.refuse("stale version", e, VersionMismatch);
	let e = fx.researcher.sign(append(p, 0), 3);
	fx.researcher.nonce -= 1;
	fx.refuse("write without grant", e, NoWriteGrant);
	let e = fx.doctor.sign(access(p, 5000, purpose::TREATMENT, 1), 3);
	fx.doctor.nonce -= 1;
	fx.refuse("grant beyond subtree", e, GrantOutOfRange);
	let e = fx.doctor.sign(access(p | 1 << 24, 0, purpose::TREATMENT, 1), 3);
	fx.doctor.nonce -= 1;
	fx.refuse("id beyond tree", e, IdOutOfRange);
	let e = fx.doctor.sign(access(p, 0, purpose::TREATMENT | purpose::RESEARCH, 1), 3);
	fx.doctor.nonce -= 1;
	fx.refuse("two purposes", e, InvalidPurposes);

	// Consent.
	for (name, op, err) in [
		(
			"grant to nobody",
			grant(stranger.id, permission::READ, purpose::TREATMENT, 2),
			GranteeNotRegistered,
		),
		("no permissions", grant(h, 0, purpose::TREATMENT, 2), InvalidPermissions),
		("undefined permission", grant(h, 8, purpose::TREATMENT, 2), InvalidPermissions),
		("no purpose", grant(h, permission::READ, 0, 2), InvalidPurposes),
		("undefined purpose", grant(h, permission::READ, 32, 2), InvalidPurposes),
		("the slot of a live grant", grant(h, permission::READ, purpose::TREATMENT, 0), SlotTaken),
		(
			"empty scope",
			Operation::GrantConsent {
				grantee: h,
				permissions: 1,
				purposes: 1,
				scope: 0,
				expires_at: 100,
				slot: 2,
			},
			InvalidScope,
		),
		(
			"already expired",
			Operation::GrantConsent {
				grantee: h,
				permissions: 1,
				purposes: 1,
				scope: 1,
				expires_at: 3,
				slot: 2,
			},
			ExpiryInPast,
		),
		("revoke empty slot", Operation::RevokeConsent { grant: 9 }, GrantNotFound),
	] {
		let e = fx.patient.sign(op, 3);
		fx.patient.nonce -= 1;
		fx.refuse(name, e, err);
	}
	let e = fx.hospital.sign(grant(p, permission::READ, purpose::TREATMENT, 2), 3);
	fx.hospital.nonce -= 1;
	fx.refuse("hospital grants", e, NotAPatient);

	// Emergency.
	let e = emergency(&mut fx.doctor, &fx.hospital, p, 2, 0, 3);
	fx.doctor.nonce -= 1;
	fx.refuse("no reason", e, ReasonMissing);
	let e = emergency(&mut fx.doctor, &fx.hospital2, p, 2, 4, 3);
	fx.doctor.nonce -= 1;
	fx.refuse("co-signed by another hospital", e, BadSignature);
	let e = emergency(&mut fx.doctor, &fx.hospital, p, 1, 4, 3);
	fx.doctor.nonce -= 1;
	fx.refuse("emergency into the slot of a live grant", e, SlotTaken);
	let e = emergency(&mut fx.insurer, &fx.hospital, p, 2, 4, 3);
	fx.insurer.nonce -= 1;
	fx.refuse("insurer emergency", e, NotADoctor);

	// Claims.
	let claim =
		|grant, amount| Operation::SubmitClaim { patient: p, grant, record: [3; 32], amount };
	let decide =
		|grant, approve, settled| Operation::DecideClaim { patient: p, grant, approve, settled };
	let e = fx.researcher.sign(claim(1, 5), 3);
	fx.researcher.nonce -= 1;
	fx.refuse("researcher claims", e, NotAnInsurer);
	let e = fx.insurer.sign(claim(0, 5), 3);
	fx.insurer.nonce -= 1;
	fx.refuse("claim under a treatment grant", e, NoClaimGrant);
	let e = fx.insurer2.sign(claim(1, 5), 3);
	fx.insurer2.nonce -= 1;
	fx.refuse("claim under another insurer's grant", e, NoClaimGrant);
	let e = fx.insurer.sign(claim(1, 0), 3);
	fx.insurer.nonce -= 1;
	fx.refuse("zero amount", e, ZeroAmount);
	let e = fx.insurer.sign(decide(1, true, 1), 3);
	fx.insurer.nonce -= 1;
	fx.refuse("decide before a claim", e, ClaimNotOpen);
	let e = fx.insurer.sign(claim(1, 50), 3);
	fx.accept(&e);
	let e = fx.insurer.sign(claim(1, 50), 3);
	fx.insurer.nonce -= 1;
	fx.refuse("second open claim", e, ClaimAlreadyOpen);
	let e = fx.insurer2.sign(decide(1, true, 1), 3);
	fx.insurer2.nonce -= 1;
	fx.refuse("another insurer decides", e, NotYourClaim);
	let e = fx.insurer.sign(decide(1, true, 51), 3);
	fx.insurer.nonce -= 1;
	fx.refuse("settle above the claim", e, SettlementExceedsClaim);
	let e = fx.insurer.sign(decide(1, false, 1), 3);
	fx.insurer.nonce -= 1;
	fx.refuse("reject with a payment", e, SettlementExceedsClaim);

	// Removed participants and revoked credentials.
	fx.accept(&governance(fx.researcher.id, Operation::RemoveMember));
	fx.refuse(
		"remove twice",
		governance(fx.researcher.id, Operation::RemoveMember),
		ParticipantInactive,
	);
	let e = fx.researcher.sign(access(p, 0, purpose::RESEARCH, 1), 3);
	fx.refuse("removed actor", e, ActorInactive);
	let e = fx.hospital.sign(Operation::RevokeCredential { doctor: fx.doctor.id }, 3);
	fx.accept(&e);
	let e = emergency(&mut fx.doctor, &fx.hospital, p, 2, 4, 3);
	fx.refuse("revoked doctor", e, NotCredentialed);

	// Counters at their limits.
	let mut full = fx.store.participant(p).expect("patient");
	full.nonce = u32::MAX;
	fx.store.set_participant(p, full);
	fx.patient.nonce = u32::MAX;
	let e = fx.patient.sign(grant(h, permission::READ, purpose::TREATMENT, 2), 3);
	fx.refuse("nonce exhausted", e, CounterOverflow);
}

/// A key on Bandersnatch but outside its prime-order subgroup: a valid key plus the point of
/// order two `(0, −1)`. Unlike bytes that are no point at all, its coordinates enter the
/// operation's encoding as they are, so the circuit itself must refuse it.
fn outside_subgroup(key: &emr_primitives::schnorr::PublicKey) -> [u8; 32] {
	use ark_ec::{AffineRepr, CurveGroup};
	use ark_serialize::CanonicalSerialize;
	let order_two = ark_ed_on_bls12_381_bandersnatch::EdwardsAffine::new_unchecked(
		F::from(0u64),
		-F::from(1u64),
	);
	assert!(order_two.is_on_curve());
	let p = (key.0.into_group() + order_two).into_affine();
	assert!(p.is_on_curve() && !p.is_in_correct_subgroup_assuming_on_curve());
	let mut out = [0u8; 32];
	p.serialize_compressed(&mut out[..]).expect("32 bytes");
	out
}

#[test]
fn keys_outside_the_subgroup_are_refused_by_every_kind_that_takes_a_key() {
	let mut fx = Fx::new();
	// A patient registering a key outside the subgroup (signed by the matching secret key).
	let mut newbie = Actor::new(50, 0);
	let mut e = newbie.register(3);
	if let Operation::Register { public_key, .. } = &mut e.op.op {
		*public_key = outside_subgroup(&newbie.key.public());
	}
	e.op = e.op.sign(&newbie.key, &deployment());
	fx.refuse("register: key outside the subgroup", e, RuleError::InvalidKey);
	// Governance admitting a member with such a key.
	let member = Actor::new(51, 0);
	let mut e = member.admit(Role::Hospital, 3);
	if let Operation::AdmitMember { public_key, .. } = &mut e.op.op {
		*public_key = outside_subgroup(&member.key.public());
	}
	fx.refuse("admit: key outside the subgroup", e, RuleError::InvalidKey);
	// A doctor registering such a key (a credential takes no key: it reads the registered one).
	let mut doctor = Actor::new(52, 0);
	let mut e = doctor.register_as(Role::Doctor, 3);
	if let Operation::Register { public_key, .. } = &mut e.op.op {
		*public_key = outside_subgroup(&doctor.key.public());
	}
	e.op = e.op.sign(&doctor.key, &deployment());
	fx.refuse("register a doctor: key outside the subgroup", e, RuleError::InvalidKey);
}

/// The circuit's own range check on `s`: the honest witness of a valid signature proves, and the
/// same witness with `s + r` (the same residue, non-canonical, below 2^253 so that a 253-bit
/// decomposition alone would accept it) does not.
#[test]
fn a_non_canonical_s_below_2_pow_253_does_not_satisfy() {
	use ark_ff::{BigInteger, PrimeField};
	type Fr = ark_ed_on_bls12_381_bandersnatch::Fr;
	let mut fx = Fx::new();
	let p = fx.patient.id;
	let limit = <Fr as PrimeField>::BigInt::from(1u64) << 253u32;
	let (entry, wide) = (1u32..)
		.find_map(|scope| {
			let e = fx.doctor.sign(access(p, 0, purpose::TREATMENT, scope), 3);
			fx.doctor.nonce -= 1;
			let sig = emr_primitives::schnorr::Signature::from_bytes(&e.op.signature).ok()?;
			let mut s = sig.s.into_bigint();
			let carry = s.add_with_carry(&Fr::MODULUS);
			(!carry && s < limit).then_some((e, s))
		})
		.expect("about one signature in ten has s + r < 2^253");
	let root = BatchStart::of(&fx.store);
	let honest = witness::slot_witness(&mut fx.store, &entry, true).expect("well formed");
	assert!(satisfied(honest.clone(), root), "the honest witness must prove");
	let mut tampered = honest;
	tampered.s = F::from_le_bytes_mod_order(&wide.to_bytes_le());
	assert_ne!(tampered.s, F::from_le_bytes_mod_order(&Fr::MODULUS.to_bytes_le()));
	assert!(!satisfied(tampered, root), "s + r must not satisfy the circuit");
}

/// Who signs a re-encoded operation.
enum Signer {
	/// A governance entry: no signature.
	Governance,
	/// One key.
	One(SecretKey),
	/// The doctor + hospital joint key (two rounds).
	Joint(SecretKey, SecretKey),
}

impl Signer {
	/// A signature of `message` on the test deployment.
	fn sign(&self, message: F) -> Option<emr_primitives::schnorr::Signature> {
		let message = Message::new(deployment().field(), message);
		match self {
			Signer::Governance => None,
			Signer::One(k) => Some(k.sign(message)),
			Signer::Joint(d, h) => Some(emr_primitives::testing::cosign_with(d, h, message)),
		}
	}
}

/// A witness whose encoding is `fields`, signed afresh so that only the encoding is off.
fn reencoded(
	honest: &emr_circuit::circuit::SlotWitness,
	fields: [F; 6],
	signer: &Signer,
) -> emr_circuit::circuit::SlotWitness {
	let mut w = honest.clone();
	w.fields = fields;
	if let Some(sig) = signer.sign(emr_primitives::ops::message_of(&fields)) {
		w.r = sig.r;
		w.s = emr_primitives::inbox::scalar_to_field(&sig.s);
	}
	w
}

/// An accepted entry of every kind but claim decisions (which need an open claim: see
/// [`decide_case`]), each with who signs it, against the fixture's state (nothing applied).
fn every_kind(fx: &mut Fx) -> Vec<(&'static str, InboxEntry, Signer)> {
	use emr_primitives::ops::Operation as Op;
	let p = fx.patient.id;
	// Each case runs against the fixture alone: a new participant is id 9.
	let newcomer = Actor::new(41, 9);
	let mut patient2 = Actor::new(42, 9);
	let claim = Op::SubmitClaim { patient: p, grant: 1, record: [9; 32], amount: 500 };
	let mut cases: Vec<(&str, InboxEntry, Signer)> = vec![
		("admit", newcomer.admit(Role::Auditor, 3), Signer::One(newcomer.key.clone())),
		("remove", governance(fx.researcher.id, Op::RemoveMember), Signer::Governance),
		("register", patient2.register(3), Signer::One(patient2.key.clone())),
	];
	let mut user = |name, actor: &mut Actor, op, key: Signer| {
		let e = actor.sign(op, 3);
		actor.nonce -= 1;
		cases.push((name, e, key));
	};
	let (hk, dk, pk, ik) = (
		fx.hospital.key.clone(),
		fx.doctor.key.clone(),
		fx.patient.key.clone(),
		fx.insurer.key.clone(),
	);
	user(
		"credential",
		&mut fx.hospital,
		Op::CredentialDoctor { doctor: fx.doctor2.id },
		Signer::One(hk.clone()),
	);
	user(
		"revoke credential",
		&mut fx.hospital,
		Op::RevokeCredential { doctor: fx.doctor.id },
		Signer::One(hk.clone()),
	);
	user("append", &mut fx.doctor, append(p, 0), Signer::One(dk.clone()));
	user(
		"grant",
		&mut fx.patient,
		grant(fx.insurer2.id, permission::READ, purpose::INSURANCE, 2),
		Signer::One(pk.clone()),
	);
	user("revoke consent", &mut fx.patient, Op::RevokeConsent { grant: 0 }, Signer::One(pk));
	user("access", &mut fx.doctor, access(p, 0, purpose::TREATMENT, 1), Signer::One(dk.clone()));
	user("submit claim", &mut fx.insurer, claim, Signer::One(ik));
	let e = emergency(&mut fx.doctor, &fx.hospital, p, 3, 4, 3);
	fx.doctor.nonce -= 1;
	cases.push(("emergency", e, Signer::Joint(dk, hk)));

	cases
}

/// Opens a claim (applied) and returns a decision on it, signed by the insurer.
fn decide_case(fx: &mut Fx) -> (&'static str, InboxEntry, Signer) {
	use emr_primitives::ops::Operation as Op;
	let p = fx.patient.id;
	let claim = Op::SubmitClaim { patient: p, grant: 1, record: [9; 32], amount: 500 };
	let submitted = fx.insurer.sign(claim, 3);
	fx.accept(&submitted);
	let decide = Op::DecideClaim { patient: p, grant: 1, approve: true, settled: 400 };
	let e = fx.insurer.sign(decide, 3);
	fx.insurer.nonce -= 1;
	("decide claim", e, Signer::One(fx.insurer.key.clone()))
}

/// For an accepted entry of every kind: the honest witness proves, and so does the same
/// witness re-signed (the check of the test itself); setting any one part of the encoding the
/// kind does not use (`layout::used`), re-signed so that the signature still verifies, is not
/// canonical natively and does not satisfy the circuit.
#[test]
fn an_encoding_part_the_kind_does_not_use_must_be_zero() {
	use ark_ff::Field;
	use emr_primitives::ops::{canonical, kind, layout};
	let mut fx = Fx::new();
	let cases = every_kind(&mut fx);
	let check = |fx: &mut Fx, name: &str, entry: &InboxEntry, signer: &Signer| {
		let root = BatchStart::of(&fx.store);
		let granted = entry.op.op.kind() == kind::ACCESS_RECORD;
		let honest = witness::slot_witness(&mut fx.store, entry, granted).expect("well formed");
		assert!(canonical(&honest.fields), "{name}: the honest encoding is canonical");
		assert!(satisfied(honest.clone(), root), "{name}: the honest witness must prove");
		let resigned = reencoded(&honest, honest.fields, signer);
		assert!(satisfied(resigned, root), "{name}: re-signing alone must still prove");
		let used = layout::used(entry.op.op.kind());
		let mut tried = 0;
		for (bit, (off, _)) in layout::F1_PARTS {
			if used & bit == 0 {
				let mut fields = honest.fields;
				fields[1] += F::from(2u64).pow([off as u64]);
				assert!(!canonical(&fields), "{name}: f1 part {bit:#x} set is not canonical");
				let w = reencoded(&honest, fields, signer);
				assert!(!satisfied(w, root), "{name}: f1 part {bit:#x} set must not prove");
				tried += 1;
			}
		}
		for (bit, i) in layout::WIDE_PARTS {
			if used & bit == 0 {
				let mut fields = honest.fields;
				fields[i] = F::from(1u64);
				assert!(!canonical(&fields), "{name}: f{i} set is not canonical");
				let w = reencoded(&honest, fields, signer);
				assert!(!satisfied(w, root), "{name}: f{i} set must not prove");
				tried += 1;
			}
		}
		// A registration or admission names no actor: an id in f0 is refused too.
		if matches!(entry.op.op.kind(), kind::REGISTER | kind::ADMIT_MEMBER) {
			let mut fields = honest.fields;
			fields[0] += F::from(9u64 << 8);
			assert!(!canonical(&fields), "{name}: an actor is not canonical");
			let w = reencoded(&honest, fields, signer);
			assert!(!satisfied(w, root), "{name}: an actor must not prove");
			tried += 1;
		}
		assert!(tried > 0, "{name}: every kind leaves some part unused");
	};
	let mut kinds = std::collections::BTreeSet::new();
	for (name, entry, signer) in &cases {
		check(&mut fx, name, entry, signer);
		kinds.insert(entry.op.op.kind());
	}
	let (name, e, signer) = decide_case(&mut fx);
	check(&mut fx, name, &e, &signer);
	kinds.insert(e.op.op.kind());
	assert_eq!(kinds.len(), kind::COUNT - 1, "every kind but padding is tried");
}

fn satisfied_batch(slots: Vec<emr_circuit::circuit::SlotWitness>, root: BatchStart) -> bool {
	synthesized(slots, root, deployment().field()).0
}

/// Whether the slots satisfy the circuit of a batch of deployment `d`, and the inbox commitment
/// the constraints computed.
fn synthesized(slots: Vec<emr_circuit::circuit::SlotWitness>, root: BatchStart, d: F) -> (bool, F) {
	let circuit = BatchCircuit::new(BatchStart { deployment: d, ..root }.witness(1, slots), None);
	let cs = ConstraintSystem::<F>::new_ref();
	(&circuit).generate_constraints(cs.clone()).expect("synthesis");
	let commitment = circuit.computed.get().expect("computed").1;
	(cs.is_satisfied().expect("check"), commitment)
}

/// The deployment is a private input of the circuit: for an accepted entry of every kind, the
/// honest witness proves under the deployment it was signed for, and under another deployment a
/// signed entry does not (its signature's challenge covers the deployment) while a governance
/// entry (unsigned) proves only a different inbox commitment than the chain computes for it.
#[test]
fn a_batch_proves_only_for_the_deployment_its_entries_were_signed_for() {
	let elsewhere = emr_primitives::ops::DeploymentId::named("elsewhere").field();
	let mut fx = Fx::new();
	for (name, entry, signer) in every_kind(&mut fx) {
		let root = BatchStart::of(&fx.store);
		let granted = entry.op.op.kind() == emr_primitives::ops::kind::ACCESS_RECORD;
		let slot = witness::slot_witness(&mut fx.store, &entry, granted).expect("well formed");
		let chain = emr_primitives::inbox::commitment(&deployment(), std::slice::from_ref(&entry));
		let (ok, commitment) = synthesized(vec![slot.clone()], root, deployment().field());
		assert!(
			ok && commitment == chain,
			"{name}: the honest batch proves the chain's commitment"
		);
		let (ok, commitment) = synthesized(vec![slot], root, elsewhere);
		match signer {
			Signer::Governance => {
				assert!(ok, "{name}: unsigned, so only the commitment tells deployments apart");
				assert_ne!(commitment, chain, "{name}: another deployment, the same commitment");
			},
			_ => assert!(!ok, "{name}: proves with a signature made for another deployment"),
		}
	}
}

/// Two entries of one batch at blocks `(first, second)`, each a valid operation: the builder
/// accepts the batch and its witness (plus a padding slot) proves exactly when the blocks do
/// not decrease; when they do, the builder refuses the second entry with `BlockDecreased` and
/// the hand-built witness does not satisfy the circuit.
#[test]
fn entries_out_of_block_order_are_refused() {
	for (first, second, in_order) in [(4, 5, true), (5, 5, true), (5, 4, false), (9, 0, false)] {
		let mut fx = Fx::new();
		let p = fx.patient.id;
		let a = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 1), first);
		let b = fx.hospital.sign(access(p, 0, purpose::TREATMENT, 1), second);
		let root = BatchStart::of(&fx.store);
		let mut slots = vec![];
		for e in [&a, &b] {
			slots.push(witness::slot_witness(&mut fx.store, e, true).expect("well formed"));
			fx.accept(e);
		}
		slots.push(witness::padding_witness(&fx.store));
		assert_eq!(
			satisfied_batch(slots, root),
			in_order,
			"blocks ({first}, {second}): the circuit's verdict"
		);
		let mut replay = Fx::new();
		let built = witness::build(&mut replay.store, 1, &[a, b], 3).map(|_| ());
		let expected = if in_order {
			Ok(())
		} else {
			Err(witness::WitnessError::Rejected { index: 1, error: RuleError::BlockDecreased })
		};
		assert_eq!(built, expected, "blocks ({first}, {second}): the builder's verdict");
	}
}

/// A new grant (consent or emergency) takes a slot that is empty, revoked, or whose grant
/// expired with no open claim, and proves; a slot whose expired grant holds an open claim is
/// refused with `SlotTaken` (natively, by the honest witness, and by the favourable lie that the
/// slot is empty). The live-grant cases are in `every_rejection_is_unsatisfiable`.
#[test]
fn freed_grant_slots_are_reused_and_claimed_ones_are_not() {
	use emr_primitives::state::ClaimStatus;
	let mut fx = Fx::new();
	let (p, h) = (fx.patient.id, fx.hospital.id);
	// Slot 5: a grant that expired at block 3 with an open claim; slot 6: one that expired with
	// its claim decided; slot 7: one revoked.
	let mut expired = fx.store.grant(p, 1).expect("the insurer's grant");
	expired.expires_at = 3;
	expired.claim_status = ClaimStatus::Open;
	fx.store.set_grant(p, 5, Some(expired.clone()));
	expired.claim_status = ClaimStatus::Approved;
	fx.store.set_grant(p, 6, Some(expired));
	let e = fx.patient.sign(grant(h, permission::READ, purpose::TREATMENT, 5), 3);
	fx.patient.nonce -= 1;
	fx.refuse("an expired grant with an open claim", e, RuleError::SlotTaken);
	let e = emergency(&mut fx.doctor, &fx.hospital, p, 5, 4, 3);
	fx.doctor.nonce -= 1;
	fx.refuse("an emergency into it", e, RuleError::SlotTaken);

	let prove_and_apply = |fx: &mut Fx, name: &str, e: InboxEntry| {
		let root = BatchStart::of(&fx.store);
		let w = witness::slot_witness(&mut fx.store, &e, false).expect("well formed");
		assert!(satisfied(w, root), "{name}: the circuit refuses a free slot");
		fx.accept(&e);
	};
	let e = fx.patient.sign(grant(h, permission::READ, purpose::TREATMENT, 6), 3);
	prove_and_apply(&mut fx, "an expired grant with its claim decided", e);
	assert_eq!(fx.store.grant(p, 6).map(|g| (g.grantee, g.expires_at)), Some((h, 1000)));
	let e = fx.patient.sign(grant(h, permission::READ, purpose::TREATMENT, 7), 3);
	prove_and_apply(&mut fx, "an empty slot", e);
	let e = fx.patient.sign(Operation::RevokeConsent { grant: 7 }, 3);
	fx.accept(&e);
	let e = emergency(&mut fx.doctor, &fx.hospital, p, 7, 4, 3);
	prove_and_apply(&mut fx, "an emergency into a revoked slot", e);
	assert!(fx.store.grant(p, 7).is_some_and(|g| g.emergency));
	// The lowest free slot: 0 and 1 hold live grants, 2, 3 and 4 were never used.
	assert_eq!(rules::free_slot(&fx.store, p, 3), Some(2));
	assert!(!rules::slot_free(&fx.store, p, 5, 3) && rules::slot_free(&fx.store, p, 2, 3));
	assert!(!rules::slot_free(&fx.store, p, 1 << 12, 3), "beyond the subtree");
}

/// For an accepted entry of every kind, the honest witness proves and no witness with one
/// intermediate value changed does: a sibling of any of the three Merkle paths, and, where the
/// slot holds something (an empty slot's fields are free by design), a counter, the log, the
/// index head or the affiliation of either leaf, or the expiry, scope or grantee of the grant.
#[test]
fn a_tampered_intermediate_never_proves() {
	use emr_circuit::circuit::SlotWitness;
	type Tamper = (&'static str, fn(&mut SlotWitness) -> bool);
	let tampers: [Tamper; 14] = [
		("leaf 1 path", |w| {
			w.leaf1.path[0] += F::from(1u64);
			true
		}),
		("leaf 2 path", |w| {
			w.leaf2.path[3] += F::from(1u64);
			true
		}),
		("grant path", |w| {
			w.grant.path[0] += F::from(1u64);
			true
		}),
		("leaf 1 nonce", |w| {
			w.leaf1.nonce += 1;
			w.leaf1.role != 0
		}),
		("leaf 1 log", |w| {
			w.leaf1.log += F::from(1u64);
			w.leaf1.role != 0
		}),
		("leaf 1 affiliation", |w| {
			w.leaf1.affiliation ^= 1;
			w.leaf1.role != 0
		}),
		("leaf 2 nonce", |w| {
			w.leaf2.nonce += 1;
			w.leaf2.role != 0
		}),
		("leaf 2 version", |w| {
			w.leaf2.version += 1;
			w.leaf2.role != 0
		}),
		("leaf 2 log", |w| {
			w.leaf2.log += F::from(1u64);
			w.leaf2.role != 0
		}),
		("leaf 2 head", |w| {
			w.leaf2.head += F::from(1u64);
			w.leaf2.role != 0
		}),
		("leaf 2 consent root", |w| {
			w.leaf2.consent += F::from(1u64);
			w.leaf2.role != 0
		}),
		("grant expiry", |w| {
			w.grant.expires_at += 1;
			w.grant.flags != 0
		}),
		("grant scope", |w| {
			w.grant.scope ^= 1;
			w.grant.flags != 0
		}),
		("grant grantee", |w| {
			w.grant.grantee ^= 1;
			w.grant.flags != 0
		}),
	];
	let mut fx = Fx::new();
	let mut cases = every_kind(&mut fx);
	let mut tried = 0;
	let mut check = |fx: &mut Fx, name: &str, entry: &InboxEntry| {
		let root = BatchStart::of(&fx.store);
		let granted = entry.op.op.kind() == emr_primitives::ops::kind::ACCESS_RECORD;
		let honest = witness::slot_witness(&mut fx.store, entry, granted).expect("well formed");
		assert!(satisfied(honest.clone(), root), "{name}: the honest witness must prove");
		for (what, tamper) in &tampers {
			let mut w = honest.clone();
			if tamper(&mut w) {
				assert!(!satisfied(w, root), "{name}: {what} tampered must not prove");
				tried += 1;
			}
		}
	};
	for (name, entry, _) in &cases {
		check(&mut fx, name, entry);
	}
	cases.clear();
	let (name, e, _) = decide_case(&mut fx);
	check(&mut fx, name, &e);
	assert!(tried >= 13 * 3 + 40, "tampers tried: {tried}");
}

/// H3: a hospital removed by governance takes its doctors' credentials with it, in one step and
/// without touching their leaves: access through its grants is DENIED (and proves only so),
/// emergency access co-signed with it is refused, and another hospital may credential the
/// doctor again. Organisation indices are never reused, and the deployment refuses a hospital
/// once every index is taken.
#[test]
fn a_removed_hospital_takes_its_credentials_with_it() {
	use emr_primitives::state::MAX_ORGS;
	let mut fx = Fx::new();
	let (p, h, d) = (fx.patient.id, fx.hospital.id, fx.doctor.id);
	let prove_and_apply = |fx: &mut Fx, name: &str, e: InboxEntry, granted: bool| {
		let root = BatchStart::of(&fx.store);
		let right = witness::slot_witness(&mut fx.store, &e, granted).expect("well formed");
		let wrong = witness::slot_witness(&mut fx.store, &e, !granted).expect("well formed");
		let effects = rules::apply_entry(&mut fx.store, &e).expect(name);
		assert!(satisfied(right, root), "{name}: the rules' result must prove");
		if effects.outcome.is_some() {
			let expected =
				if granted { rules::AccessOutcome::Granted } else { rules::AccessOutcome::Denied };
			assert_eq!(effects.outcome, Some(expected), "{name}: native outcome");
			assert!(!satisfied(wrong, root), "{name}: the opposite outcome must not prove");
		}
	};
	let hospital_org = fx.store.participant(h).expect("hospital").org;
	let hospital2_org = fx.store.participant(fx.hospital2.id).expect("hospital 2").org;
	assert_ne!(hospital_org, hospital2_org, "each hospital has its own organisation");
	assert_eq!(fx.store.participant(d).expect("doctor").affiliation_org, hospital_org);

	let e = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 3), 3);
	prove_and_apply(&mut fx, "access through the hospital", e, true);
	prove_and_apply(
		&mut fx,
		"the hospital's removal",
		governance(h, Operation::RemoveMember),
		false,
	);
	assert!(!fx.store.header().orgs.contains(hospital_org));
	assert!(fx.store.header().orgs.contains(hospital2_org));
	assert_eq!(fx.store.participant(d).expect("doctor").affiliation, h, "its leaf is untouched");

	let e = fx.doctor.sign(access(p, 0, purpose::TREATMENT, 3), 4);
	prove_and_apply(&mut fx, "access through the removed hospital", e, false);
	let e = fx.doctor.sign(append(p, 0), 4);
	fx.doctor.nonce -= 1;
	fx.refuse("a write through the removed hospital", e, RuleError::NoWriteGrant);
	let e = emergency(&mut fx.doctor, &fx.hospital, p, 9, 4, 4);
	fx.doctor.nonce -= 1;
	fx.refuse("emergency co-signed with the removed hospital", e, RuleError::NotCredentialed);

	let e = fx.hospital2.sign(Operation::CredentialDoctor { doctor: d }, 4);
	prove_and_apply(&mut fx, "another hospital credentials the doctor", e, false);
	let doctor = fx.store.participant(d).expect("doctor");
	assert_eq!((doctor.affiliation, doctor.affiliation_org), (fx.hospital2.id, hospital2_org));
	let e = emergency(&mut fx.doctor, &fx.hospital2, p, 9, 4, 4);
	prove_and_apply(&mut fx, "emergency co-signed with the new hospital", e, false);

	let newcomer = Actor::new(60, 9);
	let e = newcomer.admit(Role::Hospital, 4);
	prove_and_apply(&mut fx, "a new hospital", e, false);
	let org = fx.store.participant(newcomer.id).expect("newcomer").org;
	assert_eq!(org, 2, "indices are never reused: the removed hospital's 0 stays retired");
	assert!(fx.store.header().orgs.contains(org));
	assert_eq!(fx.store.header().next_org, 3);

	let mut header = fx.store.header();
	header.next_org = MAX_ORGS as u8;
	fx.store.set_header(header);
	let late = Actor::new(61, 10);
	fx.refuse(
		"a hospital once every index is taken",
		late.admit(Role::Hospital, 4),
		RuleError::TooManyOrganisations,
	);
	let e = late.admit(Role::Insurer, 4);
	prove_and_apply(&mut fx, "an insurer needs no index", e, false);
}

/// Ids are assigned in order from the header: the next registration takes `participants + 1`;
/// a state whose next slot is taken (not one the rules built) refuses it (IdCollision), and a
/// full tree refuses it (IdOutOfRange); neither proves.
#[test]
fn ids_are_assigned_in_registration_order() {
	let mut fx = Fx::new();
	assert_eq!(fx.store.header().participants, 8);
	let mut newbie = Actor::new(70, 9);
	let e = newbie.register(3);
	let root = BatchStart::of(&fx.store);
	let w = witness::slot_witness(&mut fx.store, &e, false).expect("well formed");
	let effects = rules::apply_entry(&mut fx.store, &e).expect("registered");
	assert_eq!((effects.actor, effects.subject), (9, 9));
	assert!(satisfied(w, root), "the next id proves");
	assert_eq!(fx.store.participant(9).map(|p| p.key), Some(newbie.key.public()));
	assert_eq!(fx.store.header().participants, 9);

	let mut full = fx.store.header();
	full.participants = (1 << emr_primitives::ops::PARTICIPANT_DEPTH) - 1;
	fx.store.set_header(full);
	let mut late = Actor::new(71, 0);
	let e = late.register(3);
	fx.refuse("a registration into a full tree", e, RuleError::IdOutOfRange);
	full.participants = 10;
	fx.store.set_header(full);
	let squatter = fx.store.participant(fx.patient.id).expect("patient");
	fx.store.set_participant(11, squatter);
	let e = late.register(3);
	fx.refuse("a registration into a taken slot", e, RuleError::IdCollision);
}
