//! Finality that Ethereum can check, on the four-hospital devnet (`consortium-local`):
//!
//! 1. BEEFY justifications appear, signed by more than two thirds of the validators; checked
//!    with `emr_prover::beefy`, which verifies the way the L1 contracts will (keccak,
//!    `ecrecover`, the binary Merkle root of the validators' addresses).
//! 2. After the in-node prover proves a batch, the next MMR leaf's extra data is the rollup
//!    digest (`emr_primitives::settlement::digest`) of that batch, and the leaf's MMR proof
//!    leads to the MMR root a BEEFY commitment signed.
//! 3. A fifth hospital (`//Eve`) starts its node with its keys, sets them on chain
//!    (`session.set_keys`) and is admitted by a council motion (`validators.add_validator`, in
//!    a `utility.batch_all` with its council seat): it becomes a validator at a following
//!    session and signs BEEFY commitments. A second motion removes hospital 4 (`//Dave`): it
//!    drops out of the set. GRANDPA and BEEFY finality go on throughout.

use codec::Encode;
use emr_primitives::{settlement, testing::Actor};
use emr_prover::beefy::{self, Address, Commitment, LeafProof, MmrLeaf};
use emr_runtime::RuntimeCall;
use emr_tests::{
	dev_actor, dev_prover_keys,
	devnet::{self, bytes_of, decode, state_call},
	submit_op, Error, Node, Result, TempDir,
};
use polkadot_sdk::{
	pallet_membership, pallet_utility,
	sp_consensus_beefy::{
		ecdsa_crypto::{AuthorityId as BeefyId, Signature as BeefySignature},
		ValidatorSet, VersionedFinalityProof, BEEFY_ENGINE_ID,
	},
	sp_keyring::Sr25519Keyring,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(150);
/// Long enough for a council decision to take effect: two session rotations of 10 blocks.
const SESSIONS: Duration = Duration::from_secs(300);

/// A BEEFY justification as the chain stores it, converted to what a relayer sends Ethereum.
struct Justification {
	block_hash: String,
	commitment: Commitment,
	signatures: Vec<Option<[u8; 65]>>,
	/// Its SCALE size as the node stores it (compact signatures).
	encoded_len: usize,
}

fn hex_str(v: &Value) -> Result<String> {
	v.as_str().map(String::from).ok_or_else(|| Error(format!("expected a string, got {v}")))
}

/// Bytes given as `0x` hex or as an array of numbers (how serde writes `Vec<u8>` and arrays).
fn json_bytes(v: &Value) -> Result<Vec<u8>> {
	if let Some(items) = v.as_array() {
		return items
			.iter()
			.map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
			.collect::<Option<Vec<u8>>>()
			.ok_or_else(|| Error(format!("not a byte array: {v}")));
	}
	bytes_of(v)
}

/// The BEEFY justification stored with the best BEEFY-finalized block of `node`, if any.
fn latest_justification(node: &Node) -> Result<Option<Justification>> {
	let head = hex_str(&node.rpc("beefy_getFinalizedHead", json!([]))?)?;
	let block = node.rpc("chain_getBlock", json!([head]))?;
	let Some(list) = block["justifications"].as_array() else { return Ok(None) };
	for entry in list {
		let engine = json_bytes(&entry[0])?;
		if engine != BEEFY_ENGINE_ID {
			continue;
		}
		let bytes = json_bytes(&entry[1])?;
		let VersionedFinalityProof::V1(signed) =
			decode::<VersionedFinalityProof<u32, BeefySignature>>("a BEEFY justification", &bytes)?;
		// The contract reads the same encoding: decode the commitment with our own type.
		let commitment: Commitment = decode("a BEEFY commitment", &signed.commitment.encode())?;
		let signatures = signed
			.signatures
			.iter()
			.map(|s| {
				s.as_ref().map(|s| {
					let mut raw = [0u8; 65];
					raw.copy_from_slice(s.as_ref());
					raw
				})
			})
			.collect();
		return Ok(Some(Justification {
			block_hash: head,
			commitment,
			signatures,
			encoded_len: bytes.len(),
		}));
	}
	Ok(None)
}

/// The BEEFY validator set active at block `at`.
fn beefy_set(node: &Node, at: &str) -> Result<ValidatorSet<BeefyId>> {
	let bytes = state_call(node, "BeefyApi_validator_set", &[], Some(at))?;
	decode::<Option<ValidatorSet<BeefyId>>>("the BEEFY validator set", &bytes)?
		.ok_or_else(|| Error("BEEFY has no validator set".into()))
}

fn addresses(set: &ValidatorSet<BeefyId>) -> Result<Vec<Address>> {
	set.validators()
		.iter()
		.map(|k| beefy::eth_address(AsRef::<[u8]>::as_ref(k)).map_err(|e| Error(e.to_string())))
		.collect()
}

fn beefy_key(who: &str) -> BeefyId {
	devnet::session_keys(who).beefy
}

/// Waits for a BEEFY justification of a block after `after` that passes `accept`; checks it
/// the way the light-client contract will, against the set active at its block, and also
/// checks that the set's keyset commitment on chain is the Merkle root of its addresses.
fn wait_checked_justification(
	node: &mut Node,
	after: u32,
	what: &str,
	timeout: Duration,
	mut accept: impl FnMut(&Justification, &ValidatorSet<BeefyId>) -> bool,
) -> Result<(Justification, ValidatorSet<BeefyId>)> {
	let found = node.wait_for(what, timeout, |n| {
		let j = latest_justification(n).ok()??;
		if j.commitment.block_number <= after {
			return None;
		}
		let set = beefy_set(n, &j.block_hash).ok()?;
		accept(&j, &set).then_some((j, set))
	})?;
	let (j, set) = found;
	assert_eq!(j.commitment.validator_set_id, set.id(), "signed by the set active at its block");
	let signed = beefy::verify_commitment(&j.commitment, &j.signatures, &addresses(&set)?)
		.map_err(|e| {
			Error(format!("the commitment of block {}: {e}", j.commitment.block_number))
		})?;
	assert!(signed * 3 > set.len() * 2, "more than two thirds signed ({signed} of {})", set.len());
	let proof = state_call(node, "BeefyMmrApi_authority_set_proof", &[], Some(&j.block_hash))?;
	let (id, len, root): (u64, u32, [u8; 32]) = decode("the BEEFY authority set", &proof)?;
	assert_eq!((id, len as usize), (set.id(), set.len()));
	assert_eq!(root, beefy::set_root(&addresses(&set)?), "keyset commitment = root of addresses");
	Ok((j, set))
}

fn finalized_number(node: &Node) -> Result<u64> {
	node.finalized().map(|f| f.1)
}

#[test]
fn beefy_signs_the_rollup_digest_and_follows_the_council() -> Result<()> {
	let dir = TempDir::new("finality")?;
	let keys = dev_prover_keys()?;
	let mut configs = devnet::HOSPITALS
		.iter()
		.enumerate()
		.map(|(i, who)| devnet::hospital(dir.path(), i, who))
		.collect::<Result<Vec<_>>>()?;
	// Hospital 1 proves, with its account's key as the prover key.
	let base = configs[0].base_path.display().to_string();
	devnet::insert_key(&devnet::spec(), &base, "emrp", "sr25519", "//Alice")?;
	configs[0].extra = vec!["--prover".into(), "--prover-keys".into(), keys.display().to_string()];
	let mut nodes = devnet::start(dir.path(), configs)?;

	// 1. BEEFY justifications of the four, checked as the contract will.
	let (first, set) =
		wait_checked_justification(&mut nodes[1], 0, "a BEEFY justification", STEP, |_, _| true)?;
	assert_eq!(set.len(), 4);
	println!(
		"BEEFY: block {} signed by {} of 4; justification {} bytes",
		first.commitment.block_number,
		first.signatures.iter().flatten().count(),
		first.encoded_len
	);

	// 2. A batch proven by hospital 1's worker, then committed to by BEEFY through the MMR.
	let hospital = dev_actor("Alice");
	let mut patient = Actor::new(700, &[hospital.id]);
	submit_op(&nodes[0], &patient.register(0).op)?;
	let proven = nodes[0].wait_for("batch 0 proven", Duration::from_secs(300), |n| {
		let b = n.rpc("rollup_batch", json!([0])).ok()?;
		b["provenAt"].as_u64().map(|at| (at as u32, b))
	})?;
	let (proven_at, batch) = proven;
	let proven_seen = Instant::now();
	let root: [u8; 32] = bytes_of(&batch["newRoot"])?
		.try_into()
		.map_err(|_| Error("newRoot is not 32 bytes".into()))?;
	let inbox: [u8; 32] = bytes_of(&batch["commitment"])?
		.try_into()
		.map_err(|_| Error("commitment is not 32 bytes".into()))?;
	let digest = settlement::digest(0, &root, &inbox);
	// The leaf of block `proven_at` is appended in block `proven_at + 1`; a commitment at or
	// after that block covers it.
	let (j, _) = wait_checked_justification(
		&mut nodes[0],
		proven_at,
		"a BEEFY commitment after the proof",
		STEP,
		|_, _| true,
	)?;
	println!(
		"proven at block {proven_at}; BEEFY-signed root at block {} covers it {:.1} s after the \
		 proof was seen",
		j.commitment.block_number,
		proven_seen.elapsed().as_secs_f64()
	);
	let mmr_root =
		j.commitment.mmr_root().ok_or_else(|| Error("the commitment has no MMR root".into()))?;
	let generated = nodes[0].rpc(
		"mmr_generateProof",
		json!([[proven_at + 1], j.commitment.block_number, j.block_hash]),
	)?;
	let leaves: Vec<Vec<u8>> = decode("MMR leaves", &bytes_of(&generated["leaves"])?)?;
	let proof: LeafProof = decode("an MMR proof", &bytes_of(&generated["proof"])?)?;
	let [leaf] = &leaves[..] else { return Err(Error(format!("{} leaves", leaves.len()))) };
	let leaf: MmrLeaf = decode("an MMR leaf", leaf)?;
	assert_eq!(leaf.parent_number, proven_at, "the leaf stands for the proving block");
	assert_eq!(leaf.extra, digest, "the leaf carries the digest of batch 0");
	beefy::verify_leaf(&mmr_root, &leaf, &proof).map_err(|e| Error(e.to_string()))?;
	let mut stale = leaf.clone();
	stale.extra = settlement::NOTHING_PROVEN;
	assert!(beefy::verify_leaf(&mmr_root, &stale, &proof).is_err(), "another digest fails");
	println!(
		"settlement data for 4 validators: justification {} + leaf {} + proof {} bytes ({} items)",
		j.encoded_len,
		leaf.encode().len(),
		proof.encode().len(),
		proof.items.len()
	);

	// 3. A fifth hospital joins: node with keys, keys on chain, council motion.
	let mut eve = devnet::hospital(dir.path(), 4, "Eve")?;
	eve.bootnodes =
		nodes.iter().map(|n| devnet::address(dir.path(), &n.config)).collect::<Result<_>>()?;
	let mut eve = Node::start(eve)?;
	eve.wait_rpc_ready(Duration::from_secs(60))?;
	let (_, best) = nodes[0].finalized()?;
	eve.wait_finalized(best, STEP)?;
	let eve_account = Sr25519Keyring::Eve.to_account_id();
	let (keys, proof) = devnet::session_keys_with_proof("Eve", &eve_account);
	let set_keys =
		RuntimeCall::Session(polkadot_sdk::pallet_session::Call::set_keys { keys, proof });
	let nonce = devnet::submit_signed(&nodes[0], Sr25519Keyring::Eve, set_keys)?;
	devnet::wait_included(&mut nodes[0], Sr25519Keyring::Eve, nonce, STEP)?;
	let admit = RuntimeCall::Utility(pallet_utility::Call::batch_all {
		calls: vec![
			RuntimeCall::Validators(pallet_emr_validators::Call::add_validator {
				who: eve_account.clone(),
			}),
			RuntimeCall::CouncilMembership(pallet_membership::Call::add_member {
				who: eve_account.into(),
			}),
		],
	});
	let ayes = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie];
	devnet::council_motion(&mut nodes[0], admit, &ayes, STEP)?;
	let admitted_at = finalized_number(&nodes[0])? as u32;
	let eve_key = beefy_key("Eve");
	let (j, set) = wait_checked_justification(
		&mut nodes[1],
		admitted_at,
		"a BEEFY commitment signed by the fifth hospital",
		SESSIONS,
		|j, set| {
			let index = set.validators().iter().position(|k| *k == eve_key);
			index.is_some_and(|i| j.signatures.get(i).is_some_and(Option::is_some))
		},
	)?;
	assert_eq!(set.len(), 5, "Eve joined the four");
	println!(
		"5 validators: block {} signed by {}; justification {} bytes",
		j.commitment.block_number,
		j.signatures.iter().flatten().count(),
		j.encoded_len
	);

	// 4. The council removes hospital 4; it leaves the set, the other four go on.
	let remove = RuntimeCall::Validators(pallet_emr_validators::Call::remove_validator {
		who: Sr25519Keyring::Dave.to_account_id(),
	});
	devnet::council_motion(&mut nodes[0], remove, &ayes, STEP)?;
	let removed_at = finalized_number(&nodes[0])? as u32;
	let dave_key = beefy_key("Dave");
	let (j, set) = wait_checked_justification(
		&mut eve,
		removed_at,
		"a BEEFY commitment of the set without hospital 4",
		SESSIONS,
		|_, set| !set.validators().contains(&dave_key),
	)?;
	assert_eq!(set.len(), 4);
	assert!(set.validators().contains(&eve_key));
	let grandpa = state_call(&eve, "GrandpaApi_grandpa_authorities", &[], Some(&j.block_hash))?;
	let grandpa: Vec<([u8; 32], u64)> = decode("the GRANDPA authorities", &grandpa)?;
	assert_eq!(grandpa.len(), 4, "GRANDPA follows the session too");

	// Finality goes on with the new set on every node still a validator.
	let (_, now) = nodes[0].finalized()?;
	for node in nodes[..3].iter_mut().chain([&mut eve]) {
		node.wait_finalized(now + 3, STEP)?;
	}
	wait_checked_justification(
		&mut nodes[2],
		j.commitment.block_number,
		"BEEFY going on",
		STEP,
		|_, _| true,
	)?;
	Ok(())
}

/// The settlement data of a commitment signed by sixteen validators, built with the node's own
/// types and checked by the contract-side verifier: its size is what the relayer pays for.
#[test]
fn sixteen_validator_commitment_verifies_and_its_size_is_known() -> Result<()> {
	use polkadot_sdk::{
		sp_consensus_beefy::{
			known_payloads::MMR_ROOT_ID, Commitment as Beefy, Payload, SignedCommitment,
		},
		sp_core::{ecdsa, Pair},
		sp_io::hashing::keccak_256,
	};
	let pairs: Vec<ecdsa::Pair> = (0..16)
		.map(|i| ecdsa::Pair::from_string(&format!("//Hospital{i}"), None))
		.collect::<std::result::Result<_, _>>()
		.map_err(|e| Error(format!("{e:?}")))?;
	let commitment = Beefy {
		payload: Payload::from_single_entry(MMR_ROOT_ID, [7u8; 32].encode()),
		block_number: 1_000_000u32,
		validator_set_id: 42,
	};
	let ours: Commitment = decode("a BEEFY commitment", &commitment.encode())?;
	let message = keccak_256(&commitment.encode());
	assert_eq!(message, ours.hash(), "both sides hash the same bytes");
	let set: Vec<Address> = pairs
		.iter()
		.map(|p| beefy::eth_address(p.public().as_ref()).map_err(|e| Error(e.to_string())))
		.collect::<Result<_>>()?;
	let sign = |signers: usize| -> Vec<Option<[u8; 65]>> {
		pairs
			.iter()
			.enumerate()
			.map(|(i, p)| {
				(i < signers).then(|| {
					let mut raw = [0u8; 65];
					raw.copy_from_slice(p.sign_prehashed(&message).as_ref());
					raw
				})
			})
			.collect()
	};
	// 11 of 16 is more than two thirds; 10 is not.
	assert_eq!(beefy::verify_commitment(&ours, &sign(11), &set), Ok(11));
	assert!(beefy::verify_commitment(&ours, &sign(10), &set).is_err());
	for signers in [11, 16] {
		let signed = SignedCommitment::<u32, BeefySignature> {
			commitment: commitment.clone(),
			signatures: sign(signers)
				.into_iter()
				.map(|s| s.map(|s| ecdsa::Signature::from_raw(s).into()))
				.collect(),
		};
		let bytes = VersionedFinalityProof::<u32, BeefySignature>::V1(signed).encode();
		println!("16 validators, {signers} signatures: justification {} bytes", bytes.len());
	}
	Ok(())
}
