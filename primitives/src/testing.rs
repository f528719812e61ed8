//! Fixtures for tests of the rules, the prover and the runtime: participants with keys and
//! helpers that build correctly signed inbox entries. Compiled for this crate's tests and with
//! the `test-utils` feature (never in the runtime); the development identities it re-exports
//! live in [`dev`](crate::dev).

pub use crate::dev::*;

use crate::{
	inbox::InboxEntry,
	ops::{BlockNumber, DeploymentId, GrantId, Operation, Origin, ParticipantId, Role, SignedOp},
	schnorr::{cosign, Message, SecretKey, Signature},
};

/// The deployment of tests: `DeploymentId::named("test")` (the pallets' mock runtimes and every
/// test state use it; a test of another deployment changes [`Actor::deployment`]).
pub fn deployment() -> DeploymentId {
	DeploymentId::named("test")
}

/// A participant of a test: its key, id and next nonce.
#[derive(Clone, Debug)]
pub struct Actor {
	/// Rollup secret key.
	pub key: SecretKey,
	/// Participant id: the one the state assigns at its registration or admission (ids are
	/// given in order, so a test registers its actors in the order of their ids).
	pub id: ParticipantId,
	/// Next nonce.
	pub nonce: u32,
	/// X25519 key bytes (any 32 bytes in tests).
	pub enc: [u8; 32],
	/// The deployment it signs for ([`deployment`] unless a test changes it).
	pub deployment: DeploymentId,
}

impl Actor {
	/// A participant with the key of `seed`, to be registered (or admitted) as id `id`.
	pub fn new(seed: u64, id: ParticipantId) -> Self {
		let mut bytes = [0u8; 32];
		bytes[..8].copy_from_slice(&seed.to_le_bytes());
		Actor {
			key: SecretKey::from_seed(&bytes),
			id,
			nonce: 0,
			enc: [seed as u8; 32],
			deployment: deployment(),
		}
	}

	/// A participant whose key is the negation of `other`'s (so that the sum of the two keys is
	/// the identity), to be registered as `id`. Only whoever holds `other`'s secret can make it:
	/// tests of the rule that refuses an identity joint key use it.
	pub fn cancelling(other: &Actor, id: ParticipantId) -> Self {
		let key = SecretKey(-other.key.0);
		Actor { key, id, nonce: 0, enc: [0xcc; 32], deployment: other.deployment }
	}

	/// The compressed public key.
	pub fn public(&self) -> [u8; 32] {
		self.key.public().to_bytes()
	}

	/// A signed user entry of this actor with its next nonce (which then advances).
	pub fn sign(&mut self, op: Operation, block: BlockNumber) -> InboxEntry {
		let signed = SignedOp { actor: self.id, nonce: self.nonce, op, signature: [0; 64] }
			.sign(&self.key, &self.deployment);
		self.nonce += 1;
		InboxEntry { op: signed, origin: Origin::User, block }
	}

	/// The registration entry of this actor as a patient.
	pub fn register(&mut self, block: BlockNumber) -> InboxEntry {
		self.register_as(Role::Patient, block)
	}

	/// The registration entry of this actor with `role` (a patient or a doctor): it names no
	/// actor (the id is assigned when it is applied) and is signed by the new key with nonce 0.
	pub fn register_as(&mut self, role: Role, block: BlockNumber) -> InboxEntry {
		let op = Operation::Register { role, public_key: self.public(), encryption_key: self.enc };
		let signed = SignedOp { actor: 0, nonce: 0, op, signature: [0; 64] }
			.sign(&self.key, &self.deployment);
		self.nonce = 1;
		InboxEntry { op: signed, origin: Origin::User, block }
	}

	/// The governance entry admitting this actor with `role`, signed by the actor's key (its
	/// proof of possession).
	pub fn admit(&self, role: Role, block: BlockNumber) -> InboxEntry {
		let op =
			Operation::AdmitMember { role, public_key: self.public(), encryption_key: self.enc };
		InboxEntry {
			op: admission(&self.key, op, &self.deployment),
			origin: Origin::Governance,
			block,
		}
	}
}

/// An emergency-access entry co-signed by `doctor` and `hospital` (two rounds) into grant slot
/// `slot` of `patient`.
pub fn emergency(
	doctor: &mut Actor,
	hospital: &Actor,
	patient: ParticipantId,
	slot: GrantId,
	reason: u16,
	block: BlockNumber,
) -> InboxEntry {
	let op = SignedOp {
		actor: doctor.id,
		nonce: doctor.nonce,
		op: Operation::EmergencyAccess { patient, reason, slot },
		signature: [0; 64],
	};
	let signature = cosign_with(&doctor.key, &hospital.key, op.signed_message(&doctor.deployment));
	doctor.nonce += 1;
	InboxEntry {
		op: SignedOp { signature: signature.to_bytes(), ..op },
		origin: Origin::User,
		block,
	}
}

/// A signature on `msg` under the joint key of `first` and `second`, made in the two rounds of
/// [`cosign`] (fixed test randomness: never do this outside tests).
pub fn cosign_with(first: &SecretKey, second: &SecretKey, msg: Message) -> Signature {
	let joint = first.public().joint(&second.public());
	let (n1, p1) = cosign::commit(first, &[1; 32], msg);
	let (n2, p2) = cosign::commit(second, &[2; 32], msg);
	let session = cosign::Session::new(&joint, &[p1, p2], msg).expect("two fresh nonce pairs");
	let s1 = cosign::respond(first, n1, &session);
	let s2 = cosign::respond(second, n2, &session);
	cosign::combine(&session, &[s1, s2])
}
