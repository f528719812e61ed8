// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title EmrL1Baseline
/// @notice The "Layer-1 only" baseline: what one EMR operation stores when every operation is
/// its own Ethereum transaction, with no rollup. It keeps, per patient, the head of the record
/// index (latest CID and version), consent grants in numbered slots, and an append-only access
/// log. It is for measuring gas, not for production: it holds no encryption keys and only the
/// authorization checks the rollup's rules have in common with it.
contract EmrL1Baseline {
	/// @notice The head of a patient's record index.
	struct RecordHead {
		/// CID (multihash digest) of the latest record version.
		bytes32 cid;
		/// Its version, counting from 1.
		uint64 version;
	}

	/// @notice A consent grant.
	struct Grant {
		/// Who may access.
		address grantee;
		/// Scope bits (which record categories).
		uint64 scope;
		/// Unix time after which it no longer holds.
		uint64 expiry;
	}

	/// @notice One entry of a patient's access log.
	struct AccessEntry {
		/// Who accessed.
		address accessor;
		/// When (block timestamp).
		uint64 time;
		/// Purpose code.
		uint16 purpose;
		/// Outcome code (granted, denied, emergency, ...).
		uint8 outcome;
	}

	mapping(address => RecordHead) private heads;
	mapping(address => mapping(uint16 => Grant)) private grants;
	mapping(address => AccessEntry[]) private logs;

	/// @notice A record version was appended for `patient`.
	event RecordAppended(address indexed patient, bytes32 cid, uint64 version);
	/// @notice `patient` granted slot `slot` to `grantee`.
	event ConsentGranted(address indexed patient, uint16 slot, address grantee, uint64 scope, uint64 expiry);
	/// @notice `accessor` logged an access to `patient`'s records.
	event AccessLogged(address indexed patient, address indexed accessor, uint16 purpose, uint8 outcome);

	/// The version is not the one after the head's.
	error VersionMismatch(uint64 version, uint64 expected);
	/// The grant expires in the past.
	error GrantExpired(uint64 expiry);

	/// @notice Appends version `version` (the head's plus one) with CID `cid` to `patient`'s index.
	function appendRecord(address patient, bytes32 cid, uint64 version) external {
		RecordHead storage head = heads[patient];
		if (version != head.version + 1) {
			revert VersionMismatch(version, head.version + 1);
		}
		head.cid = cid;
		head.version = version;
		emit RecordAppended(patient, cid, version);
	}

	/// @notice The caller (a patient) grants slot `slot` to `grantee` with `scope` until `expiry`.
	function grant(uint16 slot, address grantee, uint64 scope, uint64 expiry) external {
		if (expiry <= block.timestamp) {
			revert GrantExpired(expiry);
		}
		grants[msg.sender][slot] = Grant(grantee, scope, expiry);
		emit ConsentGranted(msg.sender, slot, grantee, scope, expiry);
	}

	/// @notice The caller logs an access to `patient`'s records.
	function logAccess(address patient, uint16 purpose, uint8 outcome) external {
		logs[patient].push(AccessEntry(msg.sender, uint64(block.timestamp), purpose, outcome));
		emit AccessLogged(patient, msg.sender, purpose, outcome);
	}

	/// @notice `patient`'s record head.
	function recordHead(address patient) external view returns (RecordHead memory) {
		return heads[patient];
	}

	/// @notice `patient`'s grant in slot `slot`.
	function grantOf(address patient, uint16 slot) external view returns (Grant memory) {
		return grants[patient][slot];
	}

	/// @notice The number of entries in `patient`'s access log.
	function accessLogLength(address patient) external view returns (uint256) {
		return logs[patient].length;
	}
}
