//! `emr audit`: checks what the chain claims about its proven batches against the evidence,
//! with the same functions the runtime and the contracts use, trusting neither the node nor
//! the relayer:
//!
//! * each batch's inbox commitment is recomputed from its operations
//!   ([`emr_primitives::inbox::commitment`] from the chain's deployment id);
//! * its Groth16 proof is verified locally ([`emr_primitives::groth16::verify`] over
//!   BLS12-381) with the verifying key read from the chain's storage, whose Blake2b hash the
//!   chain records, on the public inputs (old root, new root, commitment, batch);
//! * consecutive batches chain: a batch starts from the root the previous one proved;
//! * with an Ethereum node (`--l1`): the `BatchSettled` event of the rollup contract in the
//!   batch's settlement transaction carries the same old root, new root and commitment.
//!
//! The evidence ([`Evidence`]) is gathered from the nodes, can be saved as JSON and checked
//! again later or elsewhere ([`check`]); any disagreement is an [`AuditError`] naming it.

use codec::Decode;
use emr_primitives::{
	groth16,
	inbox::{self, InboxEntry, PublicInputs},
	ops::DeploymentId,
	settlement::{abi_word_le, abi_word_u64, keccak256},
	stored::{field_bytes, field_from_bytes, field_le},
};
use serde_json::{json, Value};

use codec::Encode;
use emr_primitives::{
	ops::{GrantId, ParticipantId},
	stored::StoredGrant,
};
use polkadot_sdk::{
	sp_core::{Blake2Hasher, H256},
	sp_state_machine::read_proof_check,
	sp_trie::StorageProof,
};
use sp_crypto_hashing::{blake2_128, blake2_256, twox_128, twox_64};

use crate::chain::{
	read::{decode_log_entry, LogEntry},
	ChainError, ChainState, NodeClient,
};

/// The signature of the rollup contract's settlement event.
pub const BATCH_SETTLED: &str = "BatchSettled(uint64,uint256,uint256,uint256)";

/// What is wrong.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
	/// A node could not be asked.
	#[error(transparent)]
	Chain(#[from] ChainError),
	/// The evidence is incomplete or not in the expected form.
	#[error("batch {batch}: {what}")]
	Missing {
		/// The batch.
		batch: u64,
		/// What is missing.
		what: String,
	},
	/// A check failed: the chain's (or Ethereum's) claim disagrees with the evidence.
	#[error("AUDIT FAILED: batch {batch}: {what}")]
	Disagrees {
		/// The batch.
		batch: u64,
		/// What disagrees.
		what: String,
	},
	/// Evidence file problems.
	#[error("evidence file: {0}")]
	File(String),
	/// A patient's log or grants disagree with the storage proof or the chain.
	#[error("AUDIT FAILED: patient {patient}: {what}")]
	Patient {
		/// The patient.
		patient: ParticipantId,
		/// What disagrees.
		what: String,
	},
}

/// A settlement on Ethereum as seen in the transaction's receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Evidence {
	/// The transaction.
	pub tx: String,
	/// The rollup contract the chain's bridge names.
	pub contract: String,
	/// The `BatchSettled` log's topics.
	pub topics: Vec<[u8; 32]>,
	/// Its data: old root, new root, commitment (ABI words).
	pub data: Vec<u8>,
}

/// One proven batch with what it takes to check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchEvidence {
	/// Its number.
	pub batch: u64,
	/// Its inbox entries, SCALE-encoded.
	pub entries: Vec<Vec<u8>>,
	/// The commitment the chain recorded.
	pub commitment: [u8; 32],
	/// The root before it.
	pub old_root: [u8; 32],
	/// The root it proved.
	pub new_root: [u8; 32],
	/// The Groth16 proof.
	pub proof: Vec<u8>,
	/// The verifying key it was proven with.
	pub vk: Vec<u8>,
	/// The key's hash as the chain recorded it.
	pub vk_hash: [u8; 32],
	/// Its settlement on Ethereum, when asked for and settled.
	pub l1: Option<L1Evidence>,
	/// Why there is no settlement to check although Ethereum was asked (not settled yet, or
	/// proven before the contract's first batch).
	pub l1_note: Option<String>,
}

/// The evidence for a set of batches of one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
	/// The chain's deployment id.
	pub deployment: [u8; 32],
	/// The batches, in order.
	pub batches: Vec<BatchEvidence>,
}

fn hex_bytes(v: &Value) -> Option<Vec<u8>> {
	hex::decode(v.as_str()?.trim_start_matches("0x")).ok()
}

fn hex32(v: &Value) -> Option<[u8; 32]> {
	hex_bytes(v)?.try_into().ok()
}

fn hx(b: &[u8]) -> String {
	format!("0x{}", hex::encode(b))
}

/// Gathers the evidence of `batches` (all proven batches when empty) from `node`, and their
/// settlements from the Ethereum node `l1` when given.
pub async fn collect(
	node: &NodeClient,
	batches: &[u64],
	l1: Option<&NodeClient>,
) -> Result<Evidence, AuditError> {
	let state = node.state().await?;
	let at = state.latest().await?;
	let deployment = state.deployment(&at).await?.0;
	let wanted: Vec<u64> = if batches.is_empty() {
		state.last_proven(&at).await?.map(|l| (0..=l).collect()).unwrap_or_default()
	} else {
		batches.to_vec()
	};
	let (contract, first_batch) = match l1 {
		Some(_) => match state.contracts(&at).await? {
			Some((_, rollup, first)) => (Some(format!("0x{}", hex::encode(rollup))), first),
			None => {
				return Err(AuditError::Missing {
					batch: 0,
					what: "the chain names no Ethereum contracts (EthBridgeApi)".into(),
				})
			},
		},
		None => (None, 0),
	};
	let mut out = Vec::new();
	for batch in wanted {
		let missing = |what: &str| AuditError::Missing { batch, what: what.into() };
		let b =
			state.batch(&at, batch).await?.ok_or_else(|| missing("the chain has no such batch"))?;
		if b.proven_at.is_none() {
			return Err(missing("not proven yet"));
		}
		let (vk, vk_hash) = state
			.verifying_key(&at, b.vk)
			.await?
			.ok_or_else(|| missing("its verifying key is not in the chain's storage"))?;
		let mut l1_note = None;
		let l1_evidence = match (l1, &contract) {
			(Some(_), Some(_)) if batch < first_batch => {
				l1_note = Some(format!(
					"proven before the contract's first batch ({first_batch}): not settled there"
				));
				None
			},
			(Some(eth), Some(contract)) => 'l1: {
				let Some((_, tx)) = state.anchor(&at, batch).await? else {
					l1_note = Some("not settled on Ethereum yet".into());
					break 'l1 None;
				};
				let tx = format!("0x{}", hex::encode(tx));
				let receipt = eth.call("eth_getTransactionReceipt", json!([tx])).await?;
				if receipt["status"].as_str() != Some("0x1") {
					return Err(AuditError::Disagrees {
						batch,
						what: format!(
							"its settlement transaction {tx} failed or is unknown on Ethereum"
						),
					});
				}
				let topic0 = keccak256(BATCH_SETTLED.as_bytes());
				let log = receipt["logs"]
					.as_array()
					.into_iter()
					.flatten()
					.find(|l| {
						l["address"].as_str().map(str::to_lowercase).as_deref()
							== Some(contract.as_str())
							&& hex32(&l["topics"][0]) == Some(topic0)
					})
					.ok_or_else(|| AuditError::Disagrees {
						batch,
						what: format!("transaction {tx} holds no BatchSettled event of {contract}"),
					})?;
				Some(L1Evidence {
					tx,
					contract: contract.clone(),
					topics: log["topics"]
						.as_array()
						.map(|t| t.iter().filter_map(hex32).collect())
						.unwrap_or_default(),
					data: hex_bytes(&log["data"]).unwrap_or_default(),
				})
			},
			_ => None,
		};
		out.push(BatchEvidence {
			batch,
			entries: b.entries.iter().map(Encode::encode).collect(),
			commitment: b.commitment,
			old_root: b.old_root.ok_or_else(|| missing("no old root"))?,
			new_root: b.new_root.ok_or_else(|| missing("no new root"))?,
			proof: b.proof.ok_or_else(|| missing("no proof"))?,
			vk,
			vk_hash,
			l1: l1_evidence,
			l1_note,
		});
	}
	Ok(Evidence { deployment, batches: out })
}

/// Checks the evidence; returns one line per batch that passed, or the first disagreement.
pub fn check(e: &Evidence) -> Result<Vec<String>, AuditError> {
	let deployment = DeploymentId(e.deployment);
	let mut lines = Vec::new();
	let mut previous: Option<&BatchEvidence> = None;
	for b in &e.batches {
		let batch = b.batch;
		let fail = |what: String| AuditError::Disagrees { batch, what };
		// The operations the proof covers.
		let entries = b
			.entries
			.iter()
			.map(|bytes| InboxEntry::decode(&mut &bytes[..]))
			.collect::<Result<Vec<_>, _>>()
			.map_err(|_| fail("an operation of the batch does not decode".into()))?;
		let commitment = inbox::commitment(&deployment, &entries);
		if field_bytes(&commitment) != b.commitment {
			return Err(fail(format!(
				"the chain's inbox commitment {} is not that of its {} operations ({})",
				hx(&b.commitment),
				entries.len(),
				hx(&field_bytes(&commitment))
			)));
		}
		// The proof, with the key the chain registered.
		if groth16::vk_hash(&b.vk) != b.vk_hash {
			return Err(fail(
				"the verifying key does not match the hash the chain recorded".into(),
			));
		}
		let vk = groth16::decode_vk::<ark_bls12_381::Bls12_381>(&b.vk)
			.map_err(|e| fail(format!("the verifying key does not decode ({e:?})")))?;
		let proof = groth16::decode_proof::<ark_bls12_381::Bls12_381>(&b.proof)
			.map_err(|e| fail(format!("the proof does not decode ({e:?})")))?;
		let root = |bytes: &[u8; 32], what: &str| {
			field_from_bytes(bytes)
				.ok_or_else(|| fail(format!("the {what} is not a field element")))
		};
		let public = PublicInputs {
			old_root: root(&b.old_root, "old root")?,
			new_root: root(&b.new_root, "new root")?,
			inbox_commitment: field_le(&b.commitment),
			batch,
		};
		if !groth16::verify(&vk, &public, &proof) {
			return Err(fail(format!(
				"the proof does not verify for old root {}, new root {} and its operations",
				hx(&b.old_root),
				hx(&b.new_root)
			)));
		}
		if let Some(p) = previous.filter(|p| p.batch + 1 == batch) {
			if p.new_root != b.old_root {
				return Err(fail(format!(
					"it starts from root {} but batch {} proved {}",
					hx(&b.old_root),
					p.batch,
					hx(&p.new_root)
				)));
			}
		}
		let mut line = format!(
			"batch {batch}: {} operation(s), commitment recomputed, proof verified (root {}…)",
			entries.len(),
			&hx(&b.new_root)[..18]
		);
		if let Some(l1) = &b.l1 {
			let expected: Vec<u8> =
				[abi_word_le(&b.old_root), abi_word_le(&b.new_root), abi_word_le(&b.commitment)]
					.concat();
			if l1.topics.first() != Some(&keccak256(BATCH_SETTLED.as_bytes()))
				|| l1.topics.get(1) != Some(&abi_word_u64(batch))
			{
				return Err(fail(format!("transaction {} settled another batch", l1.tx)));
			}
			if l1.data != expected {
				return Err(fail(format!(
					"Ethereum's contract {} settled roots {} in transaction {}, the chain proved old {} new {} commitment {}",
					l1.contract,
					hx(&l1.data),
					l1.tx,
					hx(&b.old_root),
					hx(&b.new_root),
					hx(&b.commitment)
				)));
			}
			line.push_str(&format!(
				", same roots on Ethereum (tx {}…)",
				&l1.tx[..l1.tx.len().min(18)]
			));
		} else if let Some(note) = &b.l1_note {
			line.push_str(&format!("; Ethereum: {note}"));
		}
		lines.push(line);
		previous = Some(b);
	}
	Ok(lines)
}

impl Evidence {
	/// The evidence as JSON (hex strings).
	pub fn to_json(&self) -> Value {
		json!({
			"deployment": hx(&self.deployment),
			"batches": self.batches.iter().map(|b| json!({
				"batch": b.batch,
				"entries": b.entries.iter().map(|e| hx(e)).collect::<Vec<_>>(),
				"commitment": hx(&b.commitment),
				"oldRoot": hx(&b.old_root),
				"newRoot": hx(&b.new_root),
				"proof": hx(&b.proof),
				"verifyingKey": hx(&b.vk),
				"verifyingKeyHash": hx(&b.vk_hash),
				"l1Note": b.l1_note,
				"l1": b.l1.as_ref().map(|l| json!({
					"tx": l.tx,
					"contract": l.contract,
					"topics": l.topics.iter().map(|t| hx(t)).collect::<Vec<_>>(),
					"data": hx(&l.data),
				})),
			})).collect::<Vec<_>>(),
		})
	}

	/// Reads evidence written by [`Evidence::to_json`].
	pub fn from_json(v: &Value) -> Result<Self, AuditError> {
		let bad = |what: &str| AuditError::File(format!("{what} is missing or not hex"));
		let deployment = hex32(&v["deployment"]).ok_or_else(|| bad("deployment"))?;
		let mut batches = Vec::new();
		for b in v["batches"].as_array().ok_or_else(|| bad("batches"))? {
			let l1 = match &b["l1"] {
				Value::Null => None,
				l => Some(L1Evidence {
					tx: l["tx"].as_str().ok_or_else(|| bad("l1.tx"))?.to_owned(),
					contract: l["contract"].as_str().ok_or_else(|| bad("l1.contract"))?.to_owned(),
					topics: l["topics"]
						.as_array()
						.ok_or_else(|| bad("l1.topics"))?
						.iter()
						.map(|t| hex32(t).ok_or_else(|| bad("l1.topics")))
						.collect::<Result<_, _>>()?,
					data: hex_bytes(&l["data"]).ok_or_else(|| bad("l1.data"))?,
				}),
			};
			batches.push(BatchEvidence {
				batch: b["batch"].as_u64().ok_or_else(|| bad("batch"))?,
				entries: b["entries"]
					.as_array()
					.ok_or_else(|| bad("entries"))?
					.iter()
					.map(|e| hex_bytes(e).ok_or_else(|| bad("entries")))
					.collect::<Result<_, _>>()?,
				commitment: hex32(&b["commitment"]).ok_or_else(|| bad("commitment"))?,
				old_root: hex32(&b["oldRoot"]).ok_or_else(|| bad("oldRoot"))?,
				new_root: hex32(&b["newRoot"]).ok_or_else(|| bad("newRoot"))?,
				proof: hex_bytes(&b["proof"]).ok_or_else(|| bad("proof"))?,
				vk: hex_bytes(&b["verifyingKey"]).ok_or_else(|| bad("verifyingKey"))?,
				vk_hash: hex32(&b["verifyingKeyHash"]).ok_or_else(|| bad("verifyingKeyHash"))?,
				l1,
				l1_note: b["l1Note"].as_str().map(str::to_owned),
			});
		}
		Ok(Evidence { deployment, batches })
	}
}

/// A patient's access log and grants at one finalized block, with the storage proof that binds
/// them to that block's state root (`emr audit --patient`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientEvidence {
	/// The patient.
	pub patient: ParticipantId,
	/// The block's number.
	pub block: u64,
	/// The block's hash (finalized, as the light client or the node said).
	pub hash: [u8; 32],
	/// The block's SCALE-encoded header (it hashes to `hash` and holds the state root).
	pub header: Vec<u8>,
	/// Entries of the access log the chain holds for the patient.
	pub log_entries: u32,
	/// Grant slots the patient ever used.
	pub grant_slots: u32,
	/// The storage proof: trie nodes (from the node's `state_getReadProof`).
	pub proof: Vec<Vec<u8>>,
}

/// What a patient's evidence proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientState {
	/// The access log, in order.
	pub log: Vec<LogEntry>,
	/// The grants in the slots that hold one.
	pub grants: Vec<(GrantId, StoredGrant)>,
}

/// FRAME's key of a map entry: `twox128(pallet) ++ twox128(item) ++ key hashes`.
fn frame_key(pallet: &str, item: &str, hashed_keys: &[Vec<u8>]) -> Vec<u8> {
	let mut key = twox_128(pallet.as_bytes()).to_vec();
	key.extend(twox_128(item.as_bytes()));
	for k in hashed_keys {
		key.extend(k);
	}
	key
}

fn blake2_128_concat(data: &[u8]) -> Vec<u8> {
	let mut out = blake2_128(data).to_vec();
	out.extend(data);
	out
}

fn twox_64_concat(data: &[u8]) -> Vec<u8> {
	let mut out = twox_64(data).to_vec();
	out.extend(data);
	out
}

/// The storage keys a patient's evidence proves, in order: `Consent::LogLength`,
/// `Consent::SlotsUsed`, each `Consent::AccessLog` entry, each `Consent::Grants` slot.
pub fn patient_keys(patient: ParticipantId, log_entries: u32, grant_slots: u32) -> Vec<Vec<u8>> {
	let p = blake2_128_concat(&patient.encode());
	let mut keys = vec![
		frame_key("Consent", "LogLength", std::slice::from_ref(&p)),
		frame_key("Consent", "SlotsUsed", std::slice::from_ref(&p)),
	];
	for i in 0..log_entries {
		keys.push(frame_key("Consent", "AccessLog", &[p.clone(), twox_64_concat(&i.encode())]));
	}
	for slot in 0..grant_slots {
		let slot = slot as GrantId;
		keys.push(frame_key("Consent", "Grants", &[p.clone(), twox_64_concat(&slot.encode())]));
	}
	keys
}

/// Gathers a patient's evidence at the latest finalized block of `state` (the light client's
/// GRANDPA-finalized block, or the node's): the two counts and the keys through `state`, the
/// storage proof from `node`. The keys are checked against the ones `state`'s generated storage
/// addresses give, so both agree on where the pallet keeps the log.
pub async fn collect_patient(
	node: &NodeClient,
	state: &ChainState,
	patient: ParticipantId,
) -> Result<PatientEvidence, AuditError> {
	let at = state.finalized().await?;
	let header = state.header(at.hash).await?;
	let keys = state.patient_keys(&at, patient).await?;
	let (log_entries, grant_slots) = (keys.log.len() as u32, keys.grants.len() as u32);
	let mut generated = vec![keys.log_length, keys.slots_used];
	generated.extend(keys.log);
	generated.extend(keys.grants.into_iter().map(|(_, k)| k));
	let expected = patient_keys(patient, log_entries, grant_slots);
	if generated != expected {
		return Err(AuditError::File(
			"the client's generated storage addresses and FRAME's key layout disagree: the \
			 metadata in client/metadata is stale"
				.into(),
		));
	}
	let answer = node
		.call(
			"state_getReadProof",
			json!([expected.iter().map(|k| hx(k)).collect::<Vec<_>>(), hx(&at.hash)]),
		)
		.await?;
	let proof = answer["proof"]
		.as_array()
		.and_then(|nodes| nodes.iter().map(hex_bytes).collect::<Option<Vec<_>>>())
		.ok_or_else(|| AuditError::File(format!("state_getReadProof answered {answer}")))?;
	Ok(PatientEvidence {
		patient,
		block: at.number,
		hash: at.hash,
		header,
		log_entries,
		grant_slots,
		proof,
	})
}

/// Checks a patient's evidence: the header hashes to the block, the storage proof holds against
/// the header's state root, and the log and grant slots it proves are complete.
pub fn check_patient(e: &PatientEvidence) -> Result<PatientState, AuditError> {
	let fail = |what: String| AuditError::Patient { patient: e.patient, what };
	if blake2_256(&e.header) != e.hash {
		return Err(fail(format!("the header does not hash to block {}", hx(&e.hash))));
	}
	let (_parent, number, state_root) =
		<([u8; 32], codec::Compact<u32>, [u8; 32])>::decode(&mut &e.header[..])
			.map_err(|err| fail(format!("the header does not decode: {err}")))?;
	if u64::from(number.0) != e.block {
		return Err(fail(format!("the header is of block #{}, not #{}", number.0, e.block)));
	}
	let keys = patient_keys(e.patient, e.log_entries, e.grant_slots);
	let values = read_proof_check::<Blake2Hasher, _>(
		H256(state_root),
		StorageProof::new(e.proof.iter().cloned()),
		&keys,
	)
	.map_err(|err| {
		fail(format!(
			"the storage proof does not hold against block #{}'s state root: {err}",
			e.block
		))
	})?;
	let value = |k: &Vec<u8>| values.get(k).cloned().flatten();
	let count = |k: &Vec<u8>| -> Result<u32, AuditError> {
		value(k).map_or(Ok(0), |v| {
			u32::decode(&mut &v[..]).map_err(|err| fail(format!("a count does not decode: {err}")))
		})
	};
	let (log_length, slots_used) = (count(&keys[0])?, count(&keys[1])?);
	if log_length != e.log_entries || slots_used != e.grant_slots {
		return Err(fail(format!(
			"the chain holds {log_length} log entries and {slots_used} grant slots; the evidence \
			 covers {} and {}",
			e.log_entries, e.grant_slots
		)));
	}
	let mut log = Vec::new();
	for (i, k) in keys[2..2 + e.log_entries as usize].iter().enumerate() {
		let bytes = value(k).ok_or_else(|| fail(format!("log entry {i} is not in the proof")))?;
		log.push(
			decode_log_entry(&bytes)
				.map_err(|err| fail(format!("log entry {i} does not decode: {err}")))?,
		);
	}
	let mut grants = Vec::new();
	for (slot, k) in keys[2 + e.log_entries as usize..].iter().enumerate() {
		if let Some(bytes) = value(k) {
			let g = StoredGrant::decode(&mut &bytes[..])
				.map_err(|err| fail(format!("grant slot {slot} does not decode: {err}")))?;
			grants.push((slot as GrantId, g));
		}
	}
	Ok(PatientState { log, grants })
}

impl PatientEvidence {
	/// The evidence as JSON (hex strings).
	pub fn to_json(&self) -> Value {
		json!({
			"patient": self.patient,
			"block": self.block,
			"hash": hx(&self.hash),
			"header": hx(&self.header),
			"logEntries": self.log_entries,
			"grantSlots": self.grant_slots,
			"proof": self.proof.iter().map(|n| hx(n)).collect::<Vec<_>>(),
		})
	}

	/// Reads evidence written by [`PatientEvidence::to_json`].
	pub fn from_json(v: &Value) -> Result<Self, AuditError> {
		let bad = |what: &str| AuditError::File(format!("{what} is missing or malformed"));
		let number = |k: &str| v[k].as_u64().ok_or_else(|| bad(k));
		Ok(PatientEvidence {
			patient: number("patient")? as ParticipantId,
			block: number("block")?,
			hash: hex32(&v["hash"]).ok_or_else(|| bad("hash"))?,
			header: hex_bytes(&v["header"]).ok_or_else(|| bad("header"))?,
			log_entries: number("logEntries")? as u32,
			grant_slots: number("grantSlots")? as u32,
			proof: v["proof"]
				.as_array()
				.ok_or_else(|| bad("proof"))?
				.iter()
				.map(|n| hex_bytes(n).ok_or_else(|| bad("proof")))
				.collect::<Result<_, _>>()?,
		})
	}
}

/// An evidence file: a batch audit's or a patient's.
#[derive(Clone, Debug)]
pub enum SavedEvidence {
	/// Batches ([`collect`]).
	Batches(Evidence),
	/// A patient's log and grants ([`collect_patient`]).
	Patient(PatientEvidence),
}

impl SavedEvidence {
	/// Reads the text of the evidence file `name` (JSON, as [`Evidence::to_file`] and
	/// [`PatientEvidence::to_file`] write it).
	pub fn from_file(name: &str, text: &str) -> Result<Self, AuditError> {
		let v: Value =
			serde_json::from_str(text).map_err(|e| AuditError::File(format!("{name}: {e}")))?;
		if v.get("patient").is_some() {
			Ok(SavedEvidence::Patient(PatientEvidence::from_json(&v)?))
		} else {
			Ok(SavedEvidence::Batches(Evidence::from_json(&v)?))
		}
	}
}

impl Evidence {
	/// The evidence as the text of a file (pretty JSON, a final newline).
	pub fn to_file(&self) -> String {
		format!("{:#}\n", self.to_json())
	}
}

impl PatientEvidence {
	/// The evidence as the text of a file (pretty JSON, a final newline).
	pub fn to_file(&self) -> String {
		format!("{:#}\n", self.to_json())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_patients_keys_follow_frames_layout_and_evidence_round_trips() {
		let keys = patient_keys(7, 2, 1);
		// LogLength, SlotsUsed, two log entries, one grant slot.
		assert_eq!(keys.len(), 5);
		let p = blake2_128_concat(&7u32.encode());
		assert_eq!(keys[0][..16], twox_128(b"Consent"));
		assert_eq!(keys[0][16..32], twox_128(b"LogLength"));
		assert_eq!(keys[0][32..], p[..]);
		assert_eq!(keys[3][32..32 + p.len()], p[..]);
		assert_eq!(keys[3][32 + p.len() + 8..], 1u32.encode()[..]);
		assert_eq!(keys[4][16..32], twox_128(b"Grants"));
		let e = PatientEvidence {
			patient: 7,
			block: 9,
			hash: [1; 32],
			header: vec![2; 40],
			log_entries: 2,
			grant_slots: 1,
			proof: vec![vec![3; 5], vec![4; 6]],
		};
		assert_eq!(PatientEvidence::from_json(&e.to_json()).unwrap(), e);
		// A header that is not the block's is refused before anything else.
		let err = check_patient(&e).unwrap_err().to_string();
		assert!(err.contains("the header does not hash to block"), "{err}");
	}
}
