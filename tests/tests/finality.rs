//! Finality that Ethereum can check, on the four-hospital devnet (`consortium-local`):
//!
//! 1. BEEFY justifications appear, signed by more than two thirds of the validators; checked
//!    with `emr_settlement::beefy`, which verifies the way the L1 contracts will (keccak,
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
use emr_primitives::settlement;
use emr_runtime::RuntimeCall;
use emr_settlement::beefy::{self, Address, Commitment};
use emr_settlement::evidence::{self as cli_beefy, Checked, Justification};
use emr_tests::{
	dev_prover_keys,
	devnet::{self, bytes_of, decode, state_call},
	new_actor, prover_binary, submit_op, Error, Node, Result, TempDir,
};
use polkadot_sdk::{
	pallet_membership, pallet_utility,
	sp_consensus_beefy::{
		ecdsa_crypto::{AuthorityId as BeefyId, Signature as BeefySignature},
		ValidatorSet, VersionedFinalityProof,
	},
	sp_keyring::Sr25519Keyring,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(150);
/// Long enough for a council decision to take effect: two session rotations of 10 blocks.
const SESSIONS: Duration = Duration::from_secs(300);

/// The node's JSON-RPC as the shared BEEFY checks take it.
fn rpc_of(node: &Node) -> impl Fn(&str, Value) -> std::result::Result<Value, String> + '_ {
	|method, params| node.rpc(method, params).map_err(|e| e.0)
}

fn beefy_key(who: &str) -> BeefyId {
	devnet::session_keys(who).beefy
}

/// Waits for a BEEFY justification of a block after `after` that passes `accept` (given the
/// set active at its block); checks it the way the light-client contract will
/// (`emr_settlement::evidence::check_justification`).
fn wait_checked_justification(
	node: &mut Node,
	after: u32,
	what: &str,
	timeout: Duration,
	mut accept: impl FnMut(&Justification, &ValidatorSet<BeefyId>) -> bool,
) -> Result<(Justification, Checked)> {
	let j = node.wait_for(what, timeout, |n| {
		let rpc = rpc_of(n);
		let j = cli_beefy::latest_justification(&rpc).ok()??;
		if j.commitment.block_number <= after {
			return None;
		}
		let set = cli_beefy::validator_set(&rpc, &j.block_hash).ok()?;
		accept(&j, &set).then_some(j)
	})?;
	let checked = cli_beefy::check_justification(&rpc_of(node), &j).map_err(Error)?;
	assert!(
		checked.signed * 3 > checked.set.len() * 2,
		"more than two thirds signed ({} of {})",
		checked.signed,
		checked.set.len()
	);
	Ok((j, checked))
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
	let (first, checked) =
		wait_checked_justification(&mut nodes[1], 0, "a BEEFY justification", STEP, |_, _| true)?;
	assert_eq!(checked.set.len(), 4);
	println!(
		"BEEFY: block {} signed by {} of 4; justification {} bytes",
		first.commitment.block_number,
		first.signatures.iter().flatten().count(),
		first.encoded_len
	);

	// 2. A batch proven by hospital 1's worker, then committed to by BEEFY through the MMR.
	let mut patient = new_actor(&nodes[0], 700)?;
	submit_op(&nodes[0], &patient.register(0).op)?;
	let proven_at = nodes[0].wait_for("batch 0 proven", Duration::from_secs(300), |n| {
		n.rpc("rollup_batch", json!([0])).ok()?["provenAt"].as_u64()
	})? as u32;
	let proven_seen = Instant::now();
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
	let covered = cli_beefy::check_batch(&rpc_of(&nodes[0]), &j, 0).map_err(Error)?;
	let batch = nodes[0].rpc("rollup_batch", json!([0]))?;
	let root: [u8; 32] = bytes_of(&batch["newRoot"])?
		.try_into()
		.map_err(|_| Error("newRoot is not 32 bytes".into()))?;
	let inbox: [u8; 32] = bytes_of(&batch["commitment"])?
		.try_into()
		.map_err(|_| Error("commitment is not 32 bytes".into()))?;
	assert_eq!(covered.proven_at, proven_at);
	assert_eq!(covered.leaf.extra, settlement::digest(0, &root, &inbox), "batch 0's digest");
	let mmr_root =
		j.commitment.mmr_root().ok_or_else(|| Error("the commitment has no MMR root".into()))?;
	let mut stale = covered.leaf.clone();
	stale.extra = settlement::NOTHING_PROVEN;
	assert!(beefy::verify_leaf(&mmr_root, &stale, &covered.proof).is_err(), "another digest fails");
	println!(
		"settlement data for 4 validators: justification {} + leaf {} + proof {} bytes ({} items)",
		j.encoded_len,
		covered.leaf.encode().len(),
		covered.proof.encode().len(),
		covered.proof.items.len()
	);

	// What an auditor runs: `emr-prover beefy` checks the same from the command line.
	let out = std::process::Command::new(prover_binary())
		.args(["beefy", "--rpc", &nodes[0].rpc_url(), "--batch", "0"])
		.output()
		.map_err(|e| Error(format!("cannot run emr-prover beefy: {e}")))?;
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert!(
		out.status.success(),
		"emr-prover beefy failed: {stdout}{}",
		String::from_utf8_lossy(&out.stderr)
	);
	assert!(stdout.contains("batch 0, proven in block"), "{stdout}");

	// 3. A fifth hospital joins as the README says: its node makes its session keys
	// (`author_rotateKeysWithOwner`), its account sets them, the council admits it.
	let mut eve = devnet::hospital_config(dir.path(), 4, "Eve")?;
	eve.bootnodes = nodes.iter().map(Node::p2p_address).collect();
	let mut eve = Node::start(eve)?;
	eve.wait_rpc_ready(Duration::from_secs(60))?;
	let (_, best) = nodes[0].finalized()?;
	eve.wait_finalized(best, STEP)?;
	let eve_account = Sr25519Keyring::Eve.to_account_id();
	let generated = eve.rpc(
		"author_rotateKeysWithOwner",
		json!([format!("0x{}", hex::encode(eve_account.encode()))]),
	)?;
	let keys: emr_runtime::opaque::SessionKeys =
		decode("Eve's session keys", &bytes_of(&generated["keys"])?)?;
	let proof = bytes_of(&generated["proof"])?;
	let eve_key = keys.beefy.clone();
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
	let (j, checked) = wait_checked_justification(
		&mut nodes[1],
		admitted_at,
		"a BEEFY commitment signed by the fifth hospital",
		SESSIONS,
		|j, set| {
			let index = set.validators().iter().position(|k| *k == eve_key);
			index.is_some_and(|i| j.signatures.get(i).is_some_and(Option::is_some))
		},
	)?;
	assert_eq!(checked.set.len(), 5, "Eve joined the four");
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
	let (j, checked) = wait_checked_justification(
		&mut eve,
		removed_at,
		"a BEEFY commitment of the set without hospital 4",
		SESSIONS,
		|_, set| !set.validators().contains(&dave_key),
	)?;
	assert_eq!(checked.set.len(), 4);
	assert!(checked.set.contains(&eve_key));
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
