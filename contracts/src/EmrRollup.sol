// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BeefyMmr, LeafProof, MmrLeaf} from "./BeefyMmr.sol";

/// @notice What `EmrRollup` needs of the light client.
interface IBeefyClient {
	/// @notice Whether `mmrRoot` was in a commitment the light client accepted.
	function isKnownRoot(bytes32 mmrRoot) external view returns (bool);
}

/// @title EmrRollup
/// @notice Settles emr-chain batches on Ethereum. A batch is accepted when it is the next one,
/// starts from the latest settled root, its rollup digest is the extra data of a leaf of an MMR
/// root the BEEFY light client accepted, and its Groth16 proof (BLS12-381, EIP-2537
/// precompiles) verifies for the public inputs (oldRoot, newRoot, inboxCommitment, batch).
///
/// Encodings (EIP-2537): an Fp element is 64 bytes (16 zero bytes, then 48 bytes big-endian);
/// a G1 point is x ‖ y (128 bytes); a G2 point is x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1 (256 bytes). The
/// key holds β, γ and δ already negated, so the check
/// e(A, B) · e(α, −β) · e(L, −γ) · e(C, −δ) = 1 with L = IC0 + Σ xᵢ·ICᵢ
/// needs no field arithmetic here. The key lives in the code of a data contract (read with one
/// EXTCODECOPY instead of 48 storage reads).
contract EmrRollup {
	/// @notice A Groth16 verifying key in EIP-2537 encoding, with β, γ, δ negated.
	struct VerifyingKey {
		/// α (G1, 128 bytes).
		bytes alpha;
		/// −β (G2, 256 bytes).
		bytes betaNeg;
		/// −γ (G2, 256 bytes).
		bytes gammaNeg;
		/// −δ (G2, 256 bytes).
		bytes deltaNeg;
		/// IC0..IC4 (G1, 128 bytes each): the constant and one per public input.
		bytes[5] ic;
	}

	/// The BLS12-381 scalar field order r.
	uint256 private constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
	address private constant G1_MSM = address(0x0c);
	address private constant PAIRING = address(0x0f);
	uint256 private constant G1 = 128;
	uint256 private constant G2 = 256;
	/// Byte offsets in the stored key: α ‖ −β ‖ −γ ‖ −δ ‖ IC0..IC4.
	/// (Literals: inline assembly reads only literal constants.)
	uint256 private constant OFF_BETA = 128;
	uint256 private constant OFF_GAMMA = 384;
	uint256 private constant OFF_DELTA = 640;
	uint256 private constant OFF_IC = 896;
	uint256 private constant KEY_LEN = 1536;
	uint256 private constant PROOF_LEN = 512;

	IBeefyClient private immutable lightClient;
	address private governorAddress;
	/// The data contract whose code is 0x00 ‖ the key.
	address private keyPointer;
	uint64 private next;
	uint256 private root;

	/// @notice Batch `batch` was settled.
	event BatchSettled(uint64 indexed batch, uint256 oldRoot, uint256 newRoot, uint256 commitment);
	/// @notice The governor replaced the verifying key; `keyHash` is keccak256 of α ‖ −β ‖ −γ ‖ −δ ‖ IC.
	event VerifyingKeyChanged(bytes32 keyHash);
	/// @notice The governor handed over.
	event GovernorChanged(address previous, address governor);

	/// The caller is not the governor.
	error NotGovernor(address caller);
	/// A key element has the wrong length.
	error MalformedVerifyingKey();
	/// A key point is not on the curve or not in its subgroup.
	error InvalidVerifyingKey();
	/// The batch is not the next one to settle.
	error UnexpectedBatch(uint64 batch, uint64 expected);
	/// Public input `index` (0 old root, 1 new root, 2 commitment) is not below r.
	error PublicInputNotInField(uint256 index);
	/// The batch does not start from the latest settled root.
	error OldRootMismatch(uint256 oldRoot, uint256 latest);
	/// The light client has not accepted this MMR root.
	error UnknownMmrRoot(bytes32 mmrRoot);
	/// The leaf does not carry this batch's digest.
	error DigestMismatch(bytes32 digest, bytes32 leafExtra);
	/// The proof is not 512 bytes (A ‖ B ‖ C).
	error MalformedProof();
	/// A proof point is badly encoded, not on its curve or not in its subgroup (the pairing
	/// precompile refused it).
	error InvalidProofPoint();
	/// The multi-scalar multiplication precompile failed.
	error MsmFailed();
	/// The pairing check failed: the proof does not verify.
	error ProofRejected();

	/// @param client the BEEFY light client
	/// @param key the verifying key
	/// @param governor_ who may replace the key and hand over
	/// @param firstBatch the number of the first batch to settle
	/// @param initialRoot the state root before it
	constructor(
		IBeefyClient client,
		VerifyingKey memory key,
		address governor_,
		uint64 firstBatch,
		uint256 initialRoot
	) {
		lightClient = client;
		governorAddress = governor_;
		next = firstBatch;
		root = initialRoot;
		storeKey(key);
	}

	modifier onlyGovernor() {
		if (msg.sender != governorAddress) {
			revert NotGovernor(msg.sender);
		}
		_;
	}

	/// @notice Settles batch `batch` from `oldRoot` to `newRoot` over inbox commitment
	/// `commitment` with Groth16 `proof` (A ‖ B ‖ C, EIP-2537, 512 bytes). `leaf` must carry the
	/// batch's digest keccak256(abi.encode(batch, newRoot, commitment)) and be in the MMR with
	/// root `mmrRoot`, which the light client must have accepted.
	function submitBatch(
		uint64 batch,
		uint256 oldRoot,
		uint256 newRoot,
		uint256 commitment,
		bytes calldata proof,
		MmrLeaf calldata leaf,
		LeafProof calldata leafProof,
		bytes32 mmrRoot
	) external {
		if (batch != next) {
			revert UnexpectedBatch(batch, next);
		}
		if (oldRoot >= R) revert PublicInputNotInField(0);
		if (newRoot >= R) revert PublicInputNotInField(1);
		if (commitment >= R) revert PublicInputNotInField(2);
		if (oldRoot != root) {
			revert OldRootMismatch(oldRoot, root);
		}
		if (!lightClient.isKnownRoot(mmrRoot)) {
			revert UnknownMmrRoot(mmrRoot);
		}
		bytes32 digest = keccak256(abi.encode(uint256(batch), newRoot, commitment));
		if (leaf.extra != digest) {
			revert DigestMismatch(digest, leaf.extra);
		}
		BeefyMmr.verifyLeaf(mmrRoot, leaf, leafProof);
		verifyProof(proof, oldRoot, newRoot, commitment, batch);
		root = newRoot;
		next = batch + 1;
		emit BatchSettled(batch, oldRoot, newRoot, commitment);
	}

	/// @notice Replaces the verifying key (governor only).
	function setVerifyingKey(VerifyingKey calldata key) external onlyGovernor {
		storeKey(key);
	}

	/// @notice Hands the governor role to `governor_` (governor only).
	function setGovernor(address governor_) external onlyGovernor {
		emit GovernorChanged(governorAddress, governor_);
		governorAddress = governor_;
	}

	/// @notice The number of the next batch to settle.
	function nextBatch() external view returns (uint64) {
		return next;
	}

	/// @notice The latest settled state root.
	function latestRoot() external view returns (uint256) {
		return root;
	}

	/// @notice Who may replace the key and hand over.
	function governor() external view returns (address) {
		return governorAddress;
	}

	/// @notice The BEEFY light client.
	function beefyClient() external view returns (address) {
		return address(lightClient);
	}

	/// @notice The stored key: α ‖ −β ‖ −γ ‖ −δ ‖ IC0..IC4 (1536 bytes).
	function verifyingKey() public view returns (bytes memory key) {
		address pointer = keyPointer;
		key = new bytes(KEY_LEN);
		assembly ("memory-safe") {
			extcodecopy(pointer, add(key, 0x20), 1, KEY_LEN)
		}
	}

	function storeKey(VerifyingKey memory key) private {
		if (
			key.alpha.length != G1 ||
			key.betaNeg.length != G2 ||
			key.gammaNeg.length != G2 ||
			key.deltaNeg.length != G2
		) {
			revert MalformedVerifyingKey();
		}
		for (uint256 i = 0; i < 5; i++) {
			if (key.ic[i].length != G1) revert MalformedVerifyingKey();
		}
		bytes memory blob = abi.encodePacked(
			key.alpha,
			key.betaNeg,
			key.gammaNeg,
			key.deltaNeg,
			key.ic[0],
			key.ic[1],
			key.ic[2],
			key.ic[3],
			key.ic[4]
		);
		checkKey(blob);
		// Init code that returns the rest of itself as the new contract's code:
		// PUSH2 len; DUP1; PUSH1 12; PUSH1 0; CODECOPY; PUSH1 0; RETURN.
		uint256 len = KEY_LEN + 1;
		bytes memory init = abi.encodePacked(
			hex"61",
			uint16(len),
			hex"80600c6000396000f3",
			hex"00",
			blob
		);
		address pointer;
		assembly ("memory-safe") {
			pointer := create(0, add(init, 0x20), mload(init))
		}
		if (pointer == address(0)) {
			revert MalformedVerifyingKey();
		}
		keyPointer = pointer;
		emit VerifyingKeyChanged(keccak256(blob));
	}

	/// Reverts with `InvalidVerifyingKey` unless every point of the key is on its curve and in
	/// its subgroup: the MSM precompile checks the G1 points, the pairing precompile the G2 ones.
	function checkKey(bytes memory blob) private view {
		bytes memory msm = new bytes(6 * (G1 + 32));
		bytes memory pairs = new bytes(3 * (G1 + G2));
		assembly ("memory-safe") {
			let src := add(blob, 0x20)
			let dst := add(msm, 0x20)
			// α, then IC0..IC4, each with scalar 1.
			mcopy(dst, src, 128)
			mstore(add(dst, 128), 1)
			for { let i := 0 } lt(i, 5) { i := add(i, 1) } {
				let d := add(dst, mul(add(i, 1), 160))
				mcopy(d, add(src, add(OFF_IC, mul(i, 128))), 128)
				mstore(add(d, 128), 1)
			}
			let p := add(pairs, 0x20)
			for { let i := 0 } lt(i, 3) { i := add(i, 1) } {
				let d := add(p, mul(i, 384))
				mcopy(d, src, 128)
				mcopy(add(d, 128), add(src, add(OFF_BETA, mul(i, 256))), 256)
			}
		}
		(bool msmOk, ) = G1_MSM.staticcall(msm);
		(bool pairingOk, ) = PAIRING.staticcall(pairs);
		if (!msmOk || !pairingOk) {
			revert InvalidVerifyingKey();
		}
	}

	function verifyProof(
		bytes calldata proof,
		uint256 oldRoot,
		uint256 newRoot,
		uint256 commitment,
		uint64 batch
	) private view {
		if (proof.length != PROOF_LEN) {
			revert MalformedProof();
		}
		bytes memory key = verifyingKey();
		// L = IC0·1 + IC1·oldRoot + IC2·newRoot + IC3·commitment + IC4·batch.
		bytes memory msm = new bytes(5 * (G1 + 32));
		assembly ("memory-safe") {
			let ic := add(add(key, 0x20), OFF_IC)
			let dst := add(msm, 0x20)
			for { let i := 0 } lt(i, 5) { i := add(i, 1) } {
				mcopy(add(dst, mul(i, 160)), add(ic, mul(i, 128)), 128)
			}
			mstore(add(dst, 128), 1)
			mstore(add(dst, 288), oldRoot)
			mstore(add(dst, 448), newRoot)
			mstore(add(dst, 608), commitment)
			mstore(add(dst, 768), batch)
		}
		(bool ok, bytes memory l) = G1_MSM.staticcall(msm);
		if (!ok || l.length != G1) {
			revert MsmFailed();
		}
		// (A, B), (α, −β), (L, −γ), (C, −δ).
		bytes memory pairs = new bytes(4 * (G1 + G2));
		assembly ("memory-safe") {
			let k := add(key, 0x20)
			let d := add(pairs, 0x20)
			calldatacopy(d, proof.offset, 384)
			mcopy(add(d, 384), k, 128)
			mcopy(add(d, 512), add(k, OFF_BETA), 256)
			mcopy(add(d, 768), add(l, 0x20), 128)
			mcopy(add(d, 896), add(k, OFF_GAMMA), 256)
			calldatacopy(add(d, 1152), add(proof.offset, 384), 128)
			mcopy(add(d, 1280), add(k, OFF_DELTA), 256)
		}
		bytes memory out;
		(ok, out) = PAIRING.staticcall(pairs);
		if (!ok || out.length != 32) {
			revert InvalidProofPoint();
		}
		if (abi.decode(out, (uint256)) != 1) {
			revert ProofRejected();
		}
	}
}
