// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BeefyMmr, Commitment, LeafProof, MmrLeaf} from "./BeefyMmr.sol";

/// @title BeefyClient
/// @notice A BEEFY light client of the emr-chain app-chain. It holds the current and the next
/// validator set (id, size, keyset root) and accepts a commitment when more than two thirds of
/// the signing set signed it with ECDSA. A commitment by the next set must come with the MMR
/// leaf that announces the set after it: the client then moves on (current := next, next :=
/// the leaf's next set), as Snowbridge's client does. Every accepted MMR root is remembered so
/// that `EmrRollup` can check leaf proofs against it.
contract BeefyClient {
	/// @notice A validator set as the chain announces it.
	struct ValidatorSet {
		/// The set id.
		uint64 id;
		/// Number of validators.
		uint32 len;
		/// `BeefyMmr.setRoot` of their addresses, in order.
		bytes32 root;
	}

	/// secp256k1 group order / 2: signatures with a larger s are malleated copies.
	uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

	ValidatorSet private current;
	ValidatorSet private next;
	uint32 private latestBlockNumber;
	bytes32 private latestRoot;
	mapping(bytes32 => bool) private knownRoots;

	/// @notice A commitment was accepted.
	event CommitmentAccepted(bytes32 indexed mmrRoot, uint32 blockNumber, uint64 validatorSetId);
	/// @notice The next set took over; `nextId` is the set announced after it.
	event ValidatorSetRotated(uint64 currentId, uint64 nextId);

	/// The commitment is not newer than the latest accepted one.
	error StaleCommitment(uint32 blockNumber, uint32 latest);
	/// The commitment is signed by neither the current nor the next set.
	error UnknownValidatorSet(uint64 validatorSetId);
	/// The addresses given do not hash to the signing set's root or have another length.
	error ValidatorSetMismatch();
	/// There is not one signature slot per validator.
	error SignatureCountMismatch(uint256 signatures, uint256 validators);
	/// The signature at `index` is malformed, malleated or not by the validator at `index`.
	error InvalidSignature(uint256 index);
	/// Not more than two thirds of the set signed.
	error TooFewSignatures(uint256 signed, uint256 needed);
	/// The leaf of a handoff does not announce the set after the next one.
	error HandoffLeafMismatch(uint64 expected, uint64 announced);

	/// @param initialCurrent the set that signs now
	/// @param initialNext the set announced to follow it
	constructor(ValidatorSet memory initialCurrent, ValidatorSet memory initialNext) {
		current = initialCurrent;
		next = initialNext;
	}

	/// @notice Accepts `commitment` if it is newer than the latest one and more than two thirds
	/// of its set signed it. `signatures` has one slot per validator of the signing set, in the
	/// set's order (an empty slot: not signed; else 65 bytes r ‖ s ‖ v, v in {0, 1, 27, 28});
	/// `validators` are the set's addresses. For a commitment by the next set, `leaf` (in the
	/// commitment's MMR by `proof`) must announce the set after it; otherwise both are ignored.
	function submitCommitment(
		Commitment calldata commitment,
		bytes[] calldata signatures,
		address[] calldata validators,
		MmrLeaf calldata leaf,
		LeafProof calldata proof
	) external {
		if (commitment.blockNumber <= latestBlockNumber) {
			revert StaleCommitment(commitment.blockNumber, latestBlockNumber);
		}
		bool handoff;
		ValidatorSet memory set;
		if (commitment.validatorSetId == current.id) {
			set = current;
		} else if (commitment.validatorSetId == next.id) {
			set = next;
			handoff = true;
		} else {
			revert UnknownValidatorSet(commitment.validatorSetId);
		}
		if (validators.length != set.len || BeefyMmr.setRoot(validators) != set.root) {
			revert ValidatorSetMismatch();
		}
		if (signatures.length != validators.length) {
			revert SignatureCountMismatch(signatures.length, validators.length);
		}
		bytes32 message = BeefyMmr.commitmentHash(commitment);
		uint256 signed = 0;
		for (uint256 i = 0; i < signatures.length; i++) {
			if (signatures[i].length == 0) {
				continue;
			}
			address signer = recover(message, signatures[i]);
			if (signer == address(0) || signer != validators[i]) {
				revert InvalidSignature(i);
			}
			signed++;
		}
		uint256 needed = threshold(validators.length);
		if (signed < needed) {
			revert TooFewSignatures(signed, needed);
		}
		if (handoff) {
			BeefyMmr.verifyLeaf(commitment.mmrRoot, leaf, proof);
			if (leaf.nextSetId != next.id + 1) {
				revert HandoffLeafMismatch(next.id + 1, leaf.nextSetId);
			}
			current = next;
			next = ValidatorSet(leaf.nextSetId, leaf.nextSetLen, leaf.nextSetRoot);
			emit ValidatorSetRotated(current.id, next.id);
		}
		latestBlockNumber = commitment.blockNumber;
		latestRoot = commitment.mmrRoot;
		knownRoots[commitment.mmrRoot] = true;
		emit CommitmentAccepted(commitment.mmrRoot, commitment.blockNumber, commitment.validatorSetId);
	}

	/// @notice Whether `mmrRoot` was in an accepted commitment.
	function isKnownRoot(bytes32 mmrRoot) external view returns (bool) {
		return knownRoots[mmrRoot];
	}

	/// @notice The set that signs now.
	function currentSet() external view returns (ValidatorSet memory) {
		return current;
	}

	/// @notice The set announced to follow the current one.
	function nextSet() external view returns (ValidatorSet memory) {
		return next;
	}

	/// @notice The block of the latest accepted commitment (0 before the first).
	function latestBlock() external view returns (uint32) {
		return latestBlockNumber;
	}

	/// @notice The MMR root of the latest accepted commitment.
	function latestMmrRoot() external view returns (bytes32) {
		return latestRoot;
	}

	/// @notice The message the validators sign for `commitment` (for relayers and tests).
	function commitmentHash(Commitment calldata commitment) external pure returns (bytes32) {
		return BeefyMmr.commitmentHash(commitment);
	}

	/// @notice The MMR node of `leaf` (for relayers and tests).
	function leafHash(MmrLeaf calldata leaf) external pure returns (bytes32) {
		return BeefyMmr.leafHash(leaf);
	}

	/// @notice The keyset root of `validators` (for relayers and tests).
	function setRoot(address[] calldata validators) external pure returns (bytes32) {
		return BeefyMmr.setRoot(validators);
	}

	/// @notice The least number of signatures that is more than two thirds of `validators`.
	function threshold(uint256 validators) public pure returns (uint256) {
		return (validators * 2) / 3 + 1;
	}

	/// The signer of `message` under r ‖ s ‖ v, or address(0) when the signature is malformed,
	/// has s in the upper half or recovers to nothing.
	function recover(bytes32 message, bytes calldata signature) private pure returns (address) {
		if (signature.length != 65) {
			return address(0);
		}
		bytes32 r = bytes32(signature[0:32]);
		bytes32 s = bytes32(signature[32:64]);
		uint8 v = uint8(signature[64]);
		if (v < 27) {
			v += 27;
		}
		if ((v != 27 && v != 28) || uint256(s) > HALF_N) {
			return address(0);
		}
		return ecrecover(message, v, r, s);
	}
}
