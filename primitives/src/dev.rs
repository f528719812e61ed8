//! The INSECURE development identities: rollup and X25519 keys derived from well-known names
//! (`Alice`, `Bob`, …), which the dev and consortium-local chain specs admit, and the client's
//! `--dev` identities use. Everyone knows these secrets: never on a network others use.
//!
//! Always compiled (the runtime's genesis presets build their members from it); the test
//! builders are in [`testing`](crate::testing), behind the `test-utils` feature.

use crate::{
	ops::{DeploymentId, Operation, SignedOp},
	schnorr::SecretKey,
};

/// The signed governance operation admitting `key` (`op` an [`Operation::AdmitMember`] of its
/// public key) on `deployment`: it names no actor (the id is assigned when it is applied), its
/// nonce is 0, its signature the key's proof of possession.
pub fn admission(key: &SecretKey, op: Operation, deployment: &DeploymentId) -> SignedOp {
	SignedOp { actor: 0, nonce: 0, op, signature: [0; 64] }.sign(key, deployment)
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
