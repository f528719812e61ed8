//! Fixtures for tests of the rules, the prover and the runtime: participants with keys and
//! helpers that build correctly signed inbox entries.

use crate::{
	inbox::InboxEntry,
	ops::{BlockNumber, Operation, Origin, ParticipantId, Role, SignedOp},
	rules::participant_id,
	schnorr::{cosign, SecretKey},
};

/// A participant of a test: its key, id and next nonce.
#[derive(Clone, Debug)]
pub struct Actor {
	/// Rollup secret key.
	pub key: SecretKey,
	/// Participant id (derived from the key).
	pub id: ParticipantId,
	/// Next nonce.
	pub nonce: u32,
	/// X25519 key bytes (any 32 bytes in tests).
	pub enc: [u8; 32],
}

impl Actor {
	/// A participant from `seed`, skipping seeds whose id would be 0 or in `taken`.
	pub fn new(seed: u64, taken: &[ParticipantId]) -> Self {
		let mut s = seed;
		loop {
			let mut bytes = [0u8; 32];
			bytes[..8].copy_from_slice(&s.to_le_bytes());
			let key = SecretKey::from_seed(&bytes);
			let id = participant_id(&key.public());
			if id != 0 && !taken.contains(&id) {
				return Actor { key, id, nonce: 0, enc: [seed as u8; 32] };
			}
			s += 1_000_000;
		}
	}

	/// The compressed public key.
	pub fn public(&self) -> [u8; 32] {
		self.key.public().to_bytes()
	}

	/// A signed user entry of this actor with its next nonce (which then advances).
	pub fn sign(&mut self, op: Operation, block: BlockNumber) -> InboxEntry {
		let signed =
			SignedOp { actor: self.id, nonce: self.nonce, op, signature: [0; 64] }.sign(&self.key);
		self.nonce += 1;
		InboxEntry { op: signed, origin: Origin::User, block }
	}

	/// The registration entry of this (patient) actor.
	pub fn register(&mut self, block: BlockNumber) -> InboxEntry {
		let op = Operation::RegisterPatient { public_key: self.public(), encryption_key: self.enc };
		self.sign(op, block)
	}

	/// The governance entry admitting this actor with `role`.
	pub fn admit(&self, role: Role, block: BlockNumber) -> InboxEntry {
		InboxEntry {
			op: SignedOp {
				actor: self.id,
				nonce: 0,
				op: Operation::AdmitMember {
					role,
					public_key: self.public(),
					encryption_key: self.enc,
				},
				signature: [0; 64],
			},
			origin: Origin::Governance,
			block,
		}
	}
}

/// An emergency-access entry co-signed by `doctor` and `hospital` (two rounds).
pub fn emergency(
	doctor: &mut Actor,
	hospital: &Actor,
	patient: ParticipantId,
	reason: u16,
	block: BlockNumber,
) -> InboxEntry {
	let op = SignedOp {
		actor: doctor.id,
		nonce: doctor.nonce,
		op: Operation::EmergencyAccess { patient, reason },
		signature: [0; 64],
	};
	let msg = op.message();
	let joint = doctor.key.public().joint(&hospital.key.public());
	let (n1, r1) = cosign::commit(&doctor.key, &[1; 32], msg);
	let (n2, r2) = cosign::commit(&hospital.key, &[2; 32], msg);
	let r = cosign::joint_r(&r1, &r2);
	let s1 = cosign::respond(&doctor.key, n1, &joint, &r, msg);
	let s2 = cosign::respond(&hospital.key, n2, &joint, &r, msg);
	doctor.nonce += 1;
	InboxEntry {
		op: SignedOp { signature: cosign::combine(&r1, &r2, s1, s2).to_bytes(), ..op },
		origin: Origin::User,
		block,
	}
}
