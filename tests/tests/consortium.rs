//! (b) Four hospital validators on the committed `consortium-local` raw chain spec finalize
//! the same blocks; with one stopped, the other three keep finalizing (GRANDPA needs more
//! than two thirds: 3 of 4); restarted on its old database, the fourth catches up.
//!
//! Validator keys are put into each node's keystore with `emr-node key insert`, as an operator
//! would; libp2p identities are fixed node keys, so the bootnode addresses are known up front
//! (`emr_tests::devnet`).

use emr_primitives::ops::{permission, purpose, scope, Operation};
use emr_tests::{
	dev_actor, devnet, new_actor, registered, submit_op, Error, Node, Result, TempDir,
};
use serde_json::json;
use std::time::Duration;

const STEP: Duration = Duration::from_secs(150);

/// Asserts that all `nodes` have the same block hash at `number`.
fn assert_same_hash(nodes: &[&Node], number: u64) -> Result<String> {
	let hashes = nodes.iter().map(|n| n.block_hash(number)).collect::<Result<Vec<_>>>()?;
	let first = hashes[0].clone().ok_or_else(|| Error(format!("no block #{number}")))?;
	for (node, hash) in nodes.iter().zip(&hashes) {
		assert_eq!(
			hash.as_deref(),
			Some(first.as_str()),
			"{} disagrees on block #{number}",
			node.config.name
		);
	}
	Ok(first)
}

#[test]
fn four_hospitals_finalize_together_and_survive_one_outage() -> Result<()> {
	let dir = TempDir::new("consortium")?;
	let configs = devnet::HOSPITALS
		.iter()
		.enumerate()
		.map(|(i, who)| devnet::hospital(dir.path(), i, who))
		.collect::<Result<Vec<_>>>()?;
	let mut nodes = devnet::start(dir.path(), configs)?;

	// All four finalize, and agree on what they finalized.
	for node in nodes.iter_mut() {
		node.wait_finalized(3, STEP)?;
	}
	let common = nodes.iter().map(|n| n.finalized().map(|f| f.1)).collect::<Result<Vec<_>>>()?;
	let common = common.into_iter().min().unwrap_or_default();
	let all: Vec<&Node> = nodes.iter().collect();
	for number in 1..=common {
		assert_same_hash(&all, number)?;
	}
	let peers = nodes[0].rpc("system_health", serde_json::json!([]))?;
	assert_eq!(peers["peers"], serde_json::json!(3), "hospital 1 sees the other three");

	// Hospital 4 goes down; the remaining three still hold more than 2/3 of the votes. L2
	// operations go on meanwhile (a patient registers and grants consent through hospital 1).
	nodes[3].stop(Duration::from_secs(30))?;
	let hospital = dev_actor(&nodes[0], "Alice")?;
	let mut patient = new_actor(&nodes[0], 500)?;
	submit_op(&nodes[0], &patient.register(0).op)?;
	registered(&nodes[0], &mut patient)?;
	// The pool checks an operation's signature against the key on chain: the patient's next
	// operation can enter it once the registration is in a block.
	let pid = patient.id;
	nodes[0].wait_for("the patient's registration on hospital 1", STEP, |n| {
		n.rpc("emr_participant", json!([pid])).ok().filter(|p| !p.is_null())
	})?;
	let grant = patient.sign(
		Operation::GrantConsent {
			grantee: hospital.id,
			permissions: permission::READ,
			purposes: purpose::TREATMENT,
			scope: scope::ALL,
			expires_at: 100_000,
			slot: 0,
		},
		0,
	);
	submit_op(&nodes[0], &grant.op)?;
	let (_, before) = nodes[0].finalized()?;
	let (_, after) = nodes[0].wait_finalized(before + 3, STEP)?;
	for node in nodes[1..3].iter_mut() {
		node.wait_finalized(after, STEP)?;
	}
	let three: Vec<&Node> = nodes[..3].iter().collect();
	assert_same_hash(&three, after)?;

	// Hospital 4 comes back on its old database and catches up with the others.
	nodes[3].restart()?;
	nodes[3].wait_rpc_ready(Duration::from_secs(60))?;
	let (_, target) = nodes[0].finalized()?;
	nodes[3].wait_finalized(target, STEP)?;
	let all: Vec<&Node> = nodes.iter().collect();
	assert_same_hash(&all, target)?;

	// The four agree on the rollup state: the patient, its grant, the batches.
	nodes[0].wait_for("the grant on hospital 1", STEP, |n| {
		n.rpc("emr_grants", json!([pid]))
			.ok()
			.filter(|g| g.as_array().is_some_and(|a| a.len() == 1))
	})?;
	let (_, settled) = nodes[0].finalized()?;
	for node in nodes.iter_mut() {
		node.wait_finalized(settled, STEP)?;
	}
	// The batch that holds the grant, once sealed, no longer changes: compare it.
	let batch = nodes[0].rpc("rollup_operationStatus", json!([pid, 1]))?["batch"].clone();
	nodes[0].wait_for("the grant's batch to seal", STEP, |n| {
		n.rpc("rollup_batch", json!([batch])).ok().filter(|b| b["sealedAt"].is_number())
	})?;
	let views = |n: &Node| -> Result<serde_json::Value> {
		Ok(json!([
			n.rpc("emr_participant", json!([pid]))?,
			n.rpc("emr_grants", json!([pid]))?,
			n.rpc("rollup_batch", json!([batch]))?,
		]))
	};
	let reference = views(&nodes[0])?;
	assert!(!reference[0].is_null(), "the patient is registered");
	for node in nodes[1..].iter_mut() {
		node.wait_for("the same rollup state as hospital 1", STEP, |n| {
			views(n).ok().filter(|v| *v == reference)
		})?;
	}

	// And finality goes on with all four.
	let (_, now) = nodes[0].finalized()?;
	nodes[3].wait_finalized(now + 2, STEP)?;
	Ok(())
}
