//! The answers of the emr-chain node's own JSON-RPC methods: `emr_*` (participants, index
//! heads, grants, access logs, claims), `rollup_*` (status, batches, an operation's stage,
//! submission) and `bridge_*` (settlement on Ethereum).
//!
//! The node serializes these types and a client may deserialize them; neither side needs the
//! other, and this crate needs nothing but serde and hex (so it also builds for
//! `wasm32-unknown-unknown`).
//!
//! The wire format:
//! * object keys are camelCase;
//! * binary values are `0x` followed by lowercase hex ([`Hex`]);
//! * accounts on the chain (relayers, provers) are SS58 text;
//! * role, claim status, operation kind, purpose and rule names are the names `emr` prints
//!   (those of `emr_primitives`);
//! * an absent value is `null`, except where a field's documentation says the key is left out;
//! * the keys of each object appear in alphabetical order, which is why the fields below are
//!   declared in that order.
//!
//! The README documents each method with an example.

// Tests may unwrap; library code may not (workspace lint `clippy::unwrap_used`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes written as `0x` and lowercase hex (reading also accepts hex without the prefix).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

impl From<&[u8]> for Hex {
	fn from(bytes: &[u8]) -> Self {
		Hex(bytes.to_vec())
	}
}

impl<const N: usize> From<[u8; N]> for Hex {
	fn from(bytes: [u8; N]) -> Self {
		Hex(bytes.to_vec())
	}
}

impl<const N: usize> From<&[u8; N]> for Hex {
	fn from(bytes: &[u8; N]) -> Self {
		Hex(bytes.to_vec())
	}
}

impl From<Vec<u8>> for Hex {
	fn from(bytes: Vec<u8>) -> Self {
		Hex(bytes)
	}
}

impl core::fmt::Display for Hex {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "0x{}", hex::encode(&self.0))
	}
}

impl Serialize for Hex {
	fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
		serializer.collect_str(self)
	}
}

impl<'de> Deserialize<'de> for Hex {
	fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
		let text = String::deserialize(deserializer)?;
		let digits = text.strip_prefix("0x").unwrap_or(&text);
		hex::decode(digits).map(Hex).map_err(serde::de::Error::custom)
	}
}

/// A participant's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
	/// A patient (self-registered).
	Patient,
	/// A doctor (credentialed by a hospital).
	Doctor,
	/// A hospital (admitted by governance).
	Hospital,
	/// An insurer (admitted by governance).
	Insurer,
	/// A researcher (admitted by governance).
	Researcher,
	/// An auditor (admitted by governance).
	Auditor,
}

/// `emr_participant`: a registered participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
	/// False once governance removed it.
	pub active: bool,
	/// For a doctor: the hospital whose credential it holds while that hospital is a member
	/// (`null`: none).
	pub affiliation: Option<u32>,
	/// For a doctor: it was credentialed, but its hospital has since been removed.
	pub credential_lapsed: bool,
	/// Whether a joint doctor + hospital key for emergency access is pinned.
	pub emergency_key: bool,
	/// The X25519 encryption key (32 bytes; `null`: not known).
	pub encryption_key: Option<Hex>,
	/// The participant id.
	pub id: u32,
	/// The index version (number of record appends).
	pub index_version: u32,
	/// The head of its access-log hash chain (32 field bytes).
	pub log_head: Hex,
	/// Its next nonce.
	pub nonce: u32,
	/// The rollup public key, compressed (32 bytes).
	pub public_key: Hex,
	/// The role.
	pub role: Role,
}

/// `emr_indexHead`: a patient's record-index head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexHead {
	/// Who appended it (the patient or a grantee).
	pub author: u32,
	/// The block in which it was appended.
	pub block: u32,
	/// The CID of the newest index entry: the CID's text when its bytes are printable
	/// ASCII, else `0x` hex.
	pub cid: String,
	/// The patient.
	pub patient: u32,
	/// The index version after this append (number of appends).
	pub version: u32,
}

/// The status of the claim filed under a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimStatus {
	/// No claim filed.
	None,
	/// Filed, waiting for a decision.
	Open,
	/// Approved.
	Approved,
	/// Rejected.
	Rejected,
}

/// Why and when an emergency grant was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Emergency {
	/// The doctor.
	pub doctor: u32,
	/// Its hospital (the co-signer).
	pub hospital: u32,
	/// The block in which it was opened.
	pub opened_at: u32,
	/// The reason code (from the hospital's catalogue).
	pub reason: u16,
}

/// `emr_grants`: one of a patient's grant slots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
	/// The status of the claim filed under it.
	pub claim: ClaimStatus,
	/// For a grant opened by emergency access: by whom, why and when (`null` otherwise).
	pub emergency: Option<Emergency>,
	/// The first block at which the grant no longer holds.
	pub expires_at: u32,
	/// Who holds it.
	pub grantee: u32,
	/// The names of its permission bits (`READ`, `WRITE`, …).
	pub permissions: Vec<String>,
	/// The names of its purpose bits (`TREATMENT`, …).
	pub purposes: Vec<String>,
	/// Its scope bits.
	pub scope: u32,
	/// The slot.
	pub slot: u32,
}

/// What the rules made of a logged operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
	/// Not an access (a record, consent, emergency or claim operation).
	Recorded,
	/// An access the rules allowed.
	Granted,
	/// An access the rules refused (logged all the same).
	Denied,
}

/// One entry of a patient's access log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
	/// Who acted.
	pub actor: u32,
	/// The rollup batch that holds the operation.
	pub batch: u64,
	/// The block in which it happened.
	pub block: u32,
	/// The grant slot relied on or written (`null`: none).
	pub grant: Option<u32>,
	/// The entry's position in the log.
	pub index: u32,
	/// The operation's message (32 field bytes): with `block` and the outcome it recomputes
	/// the next link of the hash chain.
	pub message: Hex,
	/// The operation kind's name (`AccessRecord`, …).
	pub operation: String,
	/// What the rules made of it.
	pub outcome: Outcome,
	/// The name of the access's purpose bit (`null` for other operations).
	pub purpose: Option<String>,
}

/// `emr_accessLog`: a page of a patient's access log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessLog {
	/// The page, oldest first.
	pub entries: Vec<LogEntry>,
	/// The index of the page's first entry.
	pub from: u32,
	/// The patient.
	pub patient: u32,
	/// The log's length.
	pub total: u32,
}

/// `emr_claims`: a claim filed under one of a patient's CLAIM grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
	/// The amount claimed (smallest currency unit).
	pub amount: u64,
	/// The insurer (the grantee).
	pub insurer: u32,
	/// The digest of the claimed record (32 field bytes).
	pub record: Hex,
	/// The amount settled.
	pub settled: u64,
	/// The grant slot that holds the claim.
	pub slot: u32,
	/// The claim's status (never `None` here).
	pub status: ClaimStatus,
}

/// The current verifying key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyingKey {
	/// The circuit's slots: a batch is sealed when it holds this many entries.
	pub batch_size: u32,
	/// Blake2b-256 of the key (the prover's fingerprint).
	pub hash: Hex,
	/// The key's id.
	pub id: u32,
}

/// Sealing and rate-limit parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchParams {
	/// L2 operations included per block at most.
	pub max_ops_per_block: u32,
	/// How far ahead of its next nonce one actor may queue operations in the pool.
	pub max_queued_per_actor: u32,
	/// A batch with entries is sealed this many blocks after its first entry at the latest.
	pub seal_after: u32,
}

/// `rollup_status`: the rollup's progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupStatus {
	/// The node's best block.
	pub best_block: u32,
	/// The node's last finalized block.
	pub finalized_block: u32,
	/// The last proven batch (`null`: none yet).
	pub last_proven: Option<u64>,
	/// The last sealed batch (`null`: none yet).
	pub last_sealed: Option<u64>,
	/// The open batch.
	pub open_batch: u64,
	/// Entries in the open batch.
	pub open_entries: u32,
	/// Sealing and rate-limit parameters (`null`: not set).
	pub params: Option<BatchParams>,
	/// The state root after the last proven batch (32 field bytes).
	pub proven_root: Hex,
	/// The current verifying key (`null`: none registered).
	pub verifying_key: Option<VerifyingKey>,
}

/// How an inbox entry was appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
	/// A participant, with a rollup signature.
	User,
	/// Consortium governance (a council motion); no rollup signature.
	Governance,
}

/// The fields of an L2 operation (what was done, not who signed). Each kind of operation has
/// its own fields; the keys of the others are left out (`RemoveMember` has none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationFields {
	/// `SubmitClaim`: the amount claimed.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub amount: Option<u64>,
	/// `DecideClaim`: approve (true) or reject.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub approve: Option<bool>,
	/// `CredentialDoctor`, `RevokeCredential`: the doctor.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub doctor: Option<u32>,
	/// `AdmitMember`, `Register`: the X25519 encryption key.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub encryption_key: Option<Hex>,
	/// `AppendRecord`: the index version the writer saw.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub expected_version: Option<u32>,
	/// `GrantConsent`: the first block at which the grant no longer holds.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub expires_at: Option<u32>,
	/// `AppendRecord`, `RevokeConsent`, `AccessRecord`, `SubmitClaim`, `DecideClaim`: the
	/// grant slot relied on or written.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub grant: Option<u32>,
	/// `GrantConsent`: who receives the grant.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub grantee: Option<u32>,
	/// `AppendRecord`: the new index head's CID (text, or `0x` hex when not printable).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub index_head: Option<String>,
	/// `AppendRecord`, `AccessRecord`, `EmergencyAccess`, `SubmitClaim`, `DecideClaim`: the
	/// patient.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub patient: Option<u32>,
	/// `GrantConsent`: the names of the permission bits.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub permissions: Option<Vec<String>>,
	/// `AdmitMember`, `Register`: the rollup key, compressed.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub public_key: Option<Hex>,
	/// `AccessRecord`: the name of the purpose bit of the request (a list of one).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub purpose: Option<Vec<String>>,
	/// `GrantConsent`: the names of the purpose bits.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub purposes: Option<Vec<String>>,
	/// `EmergencyAccess`: the reason code.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub reason: Option<u16>,
	/// `SubmitClaim`: the digest of the record the claim refers to.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub record: Option<Hex>,
	/// `AdmitMember`, `Register`: the role.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub role: Option<Role>,
	/// `GrantConsent`, `AccessRecord`: the scope bits (granted or requested).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub scope: Option<u32>,
	/// `DecideClaim`: the amount settled.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub settled: Option<u64>,
	/// `GrantConsent`, `EmergencyAccess`: the grant slot taken.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub slot: Option<u32>,
}

/// One entry of a batch's inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchEntry {
	/// The acting participant.
	pub actor: u32,
	/// The block in which the runtime applied it.
	pub block: u32,
	/// The SCALE encoding of the inbox entry (what the inbox commitment hashes).
	pub encoded: Hex,
	/// Its position in the batch.
	pub index: u32,
	/// The operation kind's name (`Register`, `GrantConsent`, …).
	pub kind: String,
	/// The actor's nonce.
	pub nonce: u32,
	/// The operation's fields.
	pub operation: OperationFields,
	/// How it was appended.
	pub origin: Origin,
	/// The Schnorr signature (64 bytes; all zero for governance operations without one).
	pub signature: Hex,
}

/// `rollup_batch`: a batch with its entries, the block of each stage and its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
	/// The batch number.
	pub batch: u64,
	/// The inbox commitment over the entries (32 field bytes).
	pub commitment: Hex,
	/// The entries in inbox order.
	pub entries: Vec<BatchEntry>,
	/// The block of the last entry.
	pub last_block: u32,
	/// The state root after the batch (`null` until proven).
	pub new_root: Option<Hex>,
	/// The state root before the batch (`null` until proven).
	pub old_root: Option<Hex>,
	/// The block of the first entry.
	pub opened_at: u32,
	/// The accepted proof (`null` until proven).
	pub proof: Option<Hex>,
	/// The block in which its proof was accepted (`null` until proven).
	pub proven_at: Option<u32>,
	/// Who proved it (`null` until proven).
	pub prover: Option<String>,
	/// The block in which it was sealed (`null` while open).
	pub sealed_at: Option<u32>,
	/// The id of the verifying key that proves it.
	pub verifying_key: u32,
}

/// `bridge_anchor` (and an operation's settlement): where a batch settled on Ethereum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
	/// The batch.
	pub batch: u64,
	/// The chain's block that recorded the relayer's report.
	pub confirmed_at: u32,
	/// The L1 block that includes the settling transaction.
	pub l1_block: u64,
	/// The settling transaction's hash (32 bytes).
	pub l1_tx: Hex,
	/// The relayer that reported it.
	pub relayer: String,
}

/// How far an operation has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
	/// No such operation was applied (yet).
	Unknown,
	/// Applied in a block that is not finalized.
	Included,
	/// Applied in a finalized block; its batch is not proven.
	Finalized,
	/// Its batch is proven.
	Proven,
	/// Its batch is proven and settled on Ethereum.
	Settled,
}

/// `rollup_operationStatus`: where the operation (actor, nonce) stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
	/// The actor.
	pub actor: u32,
	/// The batch that holds it (key left out when `unknown`).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub batch: Option<u64>,
	/// The block that applied it (key left out when `unknown`).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub block: Option<u32>,
	/// Its position in the batch (key left out when `unknown`).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub index: Option<u32>,
	/// The nonce.
	pub nonce: u32,
	/// Where its batch settled (key present only when `settled`).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub settlement: Option<Anchor>,
	/// How far it has come.
	pub status: Stage,
}

/// The settlement contracts on Ethereum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contracts {
	/// The EIP-155 chain id of the Ethereum network.
	pub chain_id: u64,
	/// The first batch the rollup contract takes.
	pub first_batch: u64,
	/// The BEEFY light-client contract (20 bytes).
	pub light_client: Hex,
	/// The `EmrRollup` contract (20 bytes).
	pub rollup: Hex,
}

/// `bridge_status`: the settlement bridge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeStatus {
	/// The contracts (`null` until the council sets them).
	pub contracts: Option<Contracts>,
	/// Whether the council halted the bridge.
	pub halted: bool,
	/// The last batch the chain proved (`null`: none).
	pub last_proven: Option<u64>,
	/// The last batch confirmed settled (`null`: none).
	pub last_settled: Option<u64>,
	/// The batch the next confirmation must be for.
	pub next_to_settle: u64,
	/// The relayers the council chose.
	pub relayers: Vec<String>,
}

/// `rollup_submit`: the operation the pool took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submitted {
	/// The actor.
	pub actor: u32,
	/// The hash of the unsigned extrinsic that carries it (32 bytes).
	pub extrinsic: Hex,
	/// The operation kind's name.
	pub kind: String,
	/// The actor's nonce.
	pub nonce: u32,
}

/// The `data` of a `rollup_submit` refusal: the rule that refused the operation (error code
/// 9002) or the pool's reason (9003). Exactly one of the two keys is present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
	/// The pool's reason (`TooManyQueued`, `Stale`, `ExhaustsResources`, …).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub reason: Option<String>,
	/// The name of the rule (`RuleError` variant) that refused it.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub rule: Option<String>,
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn hex_is_0x_lowercase_and_reads_back() {
		let h = Hex(vec![0xab, 0x01]);
		assert_eq!(serde_json::to_string(&h).unwrap(), r#""0xab01""#);
		assert_eq!(serde_json::from_str::<Hex>(r#""0xab01""#).unwrap(), h);
		assert_eq!(serde_json::from_str::<Hex>(r#""AB01""#).unwrap(), h);
		assert!(serde_json::from_str::<Hex>(r#""0xzz""#).is_err());
		assert_eq!(serde_json::to_string(&Hex(vec![])).unwrap(), r#""0x""#);
	}

	fn text<T: Serialize>(value: &T) -> String {
		serde_json::to_string(value).unwrap()
	}

	#[test]
	fn name_enums_are_written_as_before() {
		assert_eq!(text(&Role::Researcher), r#""Researcher""#);
		assert_eq!(text(&ClaimStatus::None), r#""None""#);
		assert_eq!(text(&Outcome::Granted), r#""GRANTED""#);
		assert_eq!(text(&Origin::Governance), r#""governance""#);
		assert_eq!(text(&Stage::Finalized), r#""finalized""#);
	}

	#[test]
	fn an_empty_operation_is_an_empty_object() {
		assert_eq!(serde_json::to_string(&OperationFields::default()).unwrap(), "{}");
		assert_eq!(
			serde_json::from_str::<OperationFields>("{}").unwrap(),
			OperationFields::default()
		);
	}
}
