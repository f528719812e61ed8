//! What the chain commits to for Ethereum: the rollup digest.
//!
//! Every MMR leaf of the chain carries, as its extra data, the digest of the last proven batch:
//!
//! ```text
//! digest = keccak256(abi.encode(uint256 batch, uint256 newRoot, uint256 inboxCommitment))
//! ```
//!
//! that is keccak-256 over three 32-byte big-endian words, the values the Groth16 verifier on
//! Ethereum takes as public inputs (the chain stores the two field elements little-endian, so
//! their bytes are reversed here). Before any batch is proven the extra data is
//! [`NOTHING_PROVEN`]. A BEEFY-signed MMR root therefore commits to exactly what the chain
//! proved, and the settlement contract recomputes the digest with `keccak256(abi.encode(..))`.

use sha3::{Digest, Keccak256};

/// The leaf extra data while no batch is proven.
pub const NOTHING_PROVEN: [u8; 32] = [0; 32];

/// Keccak-256 of `data` (the Ethereum hash).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
	Keccak256::digest(data).into()
}

/// A 32-byte little-endian value as the big-endian ABI word Ethereum reads.
pub fn abi_word_le(le: &[u8; 32]) -> [u8; 32] {
	let mut word = *le;
	word.reverse();
	word
}

/// `batch` as an ABI `uint256` word.
pub fn abi_word_u64(value: u64) -> [u8; 32] {
	let mut word = [0u8; 32];
	word[24..].copy_from_slice(&value.to_be_bytes());
	word
}

/// The rollup digest of batch `batch`, proven with new root `new_root` over the inbox
/// commitment `commitment` (both as the chain stores them: canonical little-endian field
/// elements).
pub fn digest(batch: u64, new_root: &[u8; 32], commitment: &[u8; 32]) -> [u8; 32] {
	let mut encoded = [0u8; 96];
	encoded[..32].copy_from_slice(&abi_word_u64(batch));
	encoded[32..64].copy_from_slice(&abi_word_le(new_root));
	encoded[64..].copy_from_slice(&abi_word_le(commitment));
	keccak256(&encoded)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn keccak_matches_the_ethereum_reference_values() {
		// keccak256("") and keccak256("abc") as Ethereum computes them.
		assert_eq!(
			hex::encode(keccak256(b"")),
			"c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
		);
		assert_eq!(
			hex::encode(keccak256(b"abc")),
			"4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
		);
	}

	#[test]
	fn digest_hashes_three_big_endian_words() {
		let mut root = [0u8; 32];
		root[0] = 0x01; // little-endian 1
		let mut commitment = [0u8; 32];
		commitment[31] = 0x02; // little-endian 2 << 248
		let d = digest(7, &root, &commitment);
		let mut expected = [0u8; 96];
		expected[31] = 7;
		expected[63] = 1;
		expected[64] = 2;
		assert_eq!(d, keccak256(&expected));
		assert_ne!(d, digest(8, &root, &commitment), "the batch number is bound");
		assert_ne!(d, digest(7, &commitment, &root), "root and commitment are not interchangeable");
	}
}
