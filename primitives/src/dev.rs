//! Fixtures for tests of the rules, the prover and the runtime: participants with keys and
//! helpers that build correctly signed inbox entries.

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

/// The signed governance operation admitting `key` (`op` an [`Operation::AdmitMember`] of its
/// public key) on `deployment`: it names no actor (the id is assigned when it is applied), its
/// nonce is 0, its signature the key's proof of possession.
pub fn admission(key: &SecretKey, op: Operation, deployment: &DeploymentId) -> SignedOp {
	SignedOp { actor: 0, nonce: 0, op, signature: [0; 64] }.sign(key, deployment)
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

/// Blake2b-256 of `parts` concatenated.
fn blake2_256(parts: &[&[u8]]) -> [u8; 32] {
	use blake2::{digest::consts::U32, Blake2b, Digest};
	let mut h = Blake2b::<U32>::new();
	for p in parts {
		h.update(p);
	}
	h.finalize().into()
}

/// The INSECURE rollup key of the development identity `name` (`Alice`, `Bob`, …): the secret is
/// `Blake2b-256("emr-chain dev rollup key //" ‖ name)`, known to everyone. The dev and
/// consortium-local chain specs admit organisations with these keys; tests, the demo and the
/// client's `--dev` identities use them. Never on a network others use.
pub fn dev_rollup_key(name: &str) -> SecretKey {
	SecretKey::from_seed(&blake2_256(&[b"emr-chain dev rollup key //", name.as_bytes()]))
}

/// The INSECURE X25519 secret of the development identity `name`:
/// `Blake2b-256("emr-chain dev encryption key //" ‖ name)`.
pub fn dev_encryption_secret(name: &str) -> [u8; 32] {
	blake2_256(&[b"emr-chain dev encryption key //", name.as_bytes()])
}

/// The X25519 public keys of [`dev_encryption_secret`] for the well-known development
/// identities (precomputed: this crate does no X25519; the client's tests check them).
pub const DEV_ENCRYPTION_KEYS: [(&str, [u8; 32]); 6] = [
	("Alice", hex32("953c200e85b8ee4e2ec753865a72cf59e458e0bc3c7d15028297ac706b92620a")),
	("Bob", hex32("c80d5940ea9172e0b49046f7916abb249049293b91ced8bf03d31b1f60b4b36d")),
	("Charlie", hex32("af91161eb38e94b0f1c7c5f758b942cead77dd42394be9a5f691d0997a79e363")),
	("Dave", hex32("9b0e4838c1e99793fb81309a35500207f8c904638dd50a5aeb3565e43924842f")),
	("Eve", hex32("6cb959df422e92d2d0490095ed78860b20eb8a0b2732a789b2ae267cf28fb247")),
	("Ferdie", hex32("909c5e5b49ff5fbc985fcf7c5463220910d15eea75fbef68286ae92dbe5bf536")),
];

/// The X25519 public key of the development identity `name`, if it is one of
/// [`DEV_ENCRYPTION_KEYS`].
pub fn dev_encryption_key(name: &str) -> Option<[u8; 32]> {
	DEV_ENCRYPTION_KEYS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

const fn hex32(s: &str) -> [u8; 32] {
	const fn nibble(c: u8) -> u8 {
		match c {
			b'0'..=b'9' => c - b'0',
			b'a'..=b'f' => c - b'a' + 10,
			_ => panic!("not lowercase hex"),
		}
	}
	let b = s.as_bytes();
	assert!(b.len() == 64, "32 bytes of hex");
	let mut out = [0u8; 32];
	let mut i = 0;
	while i < 32 {
		out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
		i += 1;
	}
	out
}
