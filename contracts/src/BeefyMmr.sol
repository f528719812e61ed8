// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice A BEEFY commitment of the app-chain whose payload holds one entry, the MMR root
/// ("mh"). The validators sign keccak256 of its SCALE encoding (see `BeefyMmr.commitmentHash`).
struct Commitment {
	/// The root of the chain's keccak Merkle mountain range.
	bytes32 mmrRoot;
	/// The block the commitment finalizes.
	uint32 blockNumber;
	/// The id of the validator set that signed it.
	uint64 validatorSetId;
}

/// @notice A leaf of the chain's MMR (`sp_consensus_beefy::mmr::MmrLeaf` with a 32-byte extra).
struct MmrLeaf {
	/// Leaf format version.
	uint8 version;
	/// The number of the block this leaf stands for.
	uint32 parentNumber;
	/// That block's hash.
	bytes32 parentHash;
	/// Id of the next BEEFY validator set.
	uint64 nextSetId;
	/// Its size.
	uint32 nextSetLen;
	/// Its keyset root (`BeefyMmr.setRoot` of its addresses).
	bytes32 nextSetRoot;
	/// The rollup digest of the last proven batch at that block.
	bytes32 extra;
}

/// @notice A proof that one leaf is in an MMR of `leafCount` leaves: the peaks left of the
/// leaf's, the siblings from the leaf up to its peak, then the bag of the peaks to its right.
struct LeafProof {
	/// Position of the leaf.
	uint64 leafIndex;
	/// Number of leaves in the MMR.
	uint64 leafCount;
	/// The proof's hashes, in the order above.
	bytes32[] items;
}

/// The MMR proof does not fit the leaf index and leaf count (too few or too many items, or the
/// index is not below the count).
error MalformedMmrProof();

/// The leaf and its proof lead to another MMR root than the one given.
error LeafNotInMmr(bytes32 computed, bytes32 expected);

/// @title BeefyMmr
/// @notice The encodings and Merkle rules the app-chain's BEEFY and MMR use, written to give
/// exactly what the Rust reference (`emr_prover::beefy`) gives.
library BeefyMmr {
	/// @notice keccak256 of the SCALE encoding of a commitment with the single payload entry
	/// ("mh", mmrRoot): 0x04 ‖ "mh" ‖ 0x80 ‖ mmrRoot ‖ blockNumber (u32 LE) ‖ validatorSetId (u64 LE).
	function commitmentHash(Commitment calldata c) internal pure returns (bytes32) {
		return
			keccak256(
				abi.encodePacked(
					bytes1(0x04),
					bytes2("mh"),
					bytes1(0x80),
					c.mmrRoot,
					le32(c.blockNumber),
					le64(c.validatorSetId)
				)
			);
	}

	/// @notice The leaf's MMR node: keccak256 of its 113-byte SCALE encoding.
	function leafHash(MmrLeaf calldata leaf) internal pure returns (bytes32) {
		return
			keccak256(
				abi.encodePacked(
					leaf.version,
					le32(leaf.parentNumber),
					leaf.parentHash,
					le64(leaf.nextSetId),
					le32(leaf.nextSetLen),
					leaf.nextSetRoot,
					leaf.extra
				)
			);
	}

	/// @notice The keyset root of a validator set: a binary keccak Merkle tree over
	/// keccak256(address) leaves, pairs hashed left ‖ right, an odd last node moved up unchanged.
	function setRoot(address[] calldata validators) internal pure returns (bytes32) {
		uint256 n = validators.length;
		if (n == 0) {
			return bytes32(0);
		}
		bytes32[] memory row = new bytes32[](n);
		for (uint256 i = 0; i < n; i++) {
			row[i] = keccak256(abi.encodePacked(validators[i]));
		}
		while (n > 1) {
			uint256 half = (n + 1) / 2;
			for (uint256 i = 0; i < n / 2; i++) {
				row[i] = hashPair(row[2 * i], row[2 * i + 1]);
			}
			if (n % 2 == 1) {
				row[half - 1] = row[n - 1];
			}
			n = half;
		}
		return row[0];
	}

	/// @notice The MMR root that the leaf node `leaf` at `index` of `count` leaves and the proof
	/// `items` lead to. Peaks are one perfect tree per set bit of `count`, largest first, and
	/// are bagged right to left: bag = keccak256(bag ‖ peak).
	function mmrRoot(
		bytes32 leaf,
		uint64 index,
		uint64 count,
		bytes32[] calldata items
	) internal pure returns (bytes32) {
		if (index >= count) {
			revert MalformedMmrProof();
		}
		bytes32[] memory peaks = new bytes32[](64);
		uint256 peakCount = 0;
		uint256 next = 0;
		uint64 start = 0;
		bool found = false;
		for (uint256 k = 0; k < 64; k++) {
			uint256 height = 63 - k;
			if ((count >> height) & 1 == 0) {
				continue;
			}
			uint64 size = uint64(1) << uint64(height);
			if (found) {
				// Everything right of the leaf's peak comes as one bagged item.
				if (next >= items.length) revert MalformedMmrProof();
				peaks[peakCount++] = items[next++];
				break;
			}
			if (index < start + size) {
				bytes32 node = leaf;
				uint64 position = index - start;
				for (uint256 h = 0; h < height; h++) {
					if (next >= items.length) revert MalformedMmrProof();
					bytes32 sibling = items[next++];
					node = position & 1 == 0 ? hashPair(node, sibling) : hashPair(sibling, node);
					position >>= 1;
				}
				peaks[peakCount++] = node;
				found = true;
			} else {
				if (next >= items.length) revert MalformedMmrProof();
				peaks[peakCount++] = items[next++];
			}
			start += size;
		}
		if (next != items.length) {
			revert MalformedMmrProof();
		}
		bytes32 bag = peaks[peakCount - 1];
		for (uint256 i = peakCount - 1; i > 0; i--) {
			bag = hashPair(bag, peaks[i - 1]);
		}
		return bag;
	}

	/// @notice Reverts with `LeafNotInMmr` unless `leaf` is in the MMR with root `root`.
	function verifyLeaf(bytes32 root, MmrLeaf calldata leaf, LeafProof calldata proof) internal pure {
		bytes32 computed = mmrRoot(leafHash(leaf), proof.leafIndex, proof.leafCount, proof.items);
		if (computed != root) {
			revert LeafNotInMmr(computed, root);
		}
	}

	/// @notice keccak256(left ‖ right).
	function hashPair(bytes32 left, bytes32 right) internal pure returns (bytes32 out) {
		assembly ("memory-safe") {
			mstore(0x00, left)
			mstore(0x20, right)
			out := keccak256(0x00, 0x40)
		}
	}

	/// @notice The 4 little-endian bytes of `v` (SCALE u32).
	function le32(uint32 v) internal pure returns (bytes4) {
		v = ((v & 0xFF00FF00) >> 8) | ((v & 0x00FF00FF) << 8);
		v = (v >> 16) | (v << 16);
		return bytes4(v);
	}

	/// @notice The 8 little-endian bytes of `v` (SCALE u64).
	function le64(uint64 v) internal pure returns (bytes8) {
		v = ((v & 0xFF00FF00FF00FF00) >> 8) | ((v & 0x00FF00FF00FF00FF) << 8);
		v = ((v & 0xFFFF0000FFFF0000) >> 16) | ((v & 0x0000FFFF0000FFFF) << 16);
		v = (v >> 32) | (v << 32);
		return bytes8(v);
	}
}
