//! The development identities' X25519 keys precomputed in `emr-primitives` (the chain specs
//! admit organisations with them) are the public keys of their published dev secrets.

use emr_client_core::crypto::EncryptionSecret;
use emr_primitives::dev::{dev_encryption_key, dev_encryption_secret, DEV_ENCRYPTION_KEYS};

#[test]
fn dev_encryption_keys_match_their_secrets() {
	for (name, public) in DEV_ENCRYPTION_KEYS {
		let secret = EncryptionSecret(dev_encryption_secret(name));
		assert_eq!(secret.public(), public, "{name}");
		assert_eq!(dev_encryption_key(name), Some(public));
	}
	assert_eq!(dev_encryption_key("Mallory"), None);
}
