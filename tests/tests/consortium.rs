//! (b) Four hospital validators on the committed `consortium-local` raw chain spec finalize
//! the same blocks; with one stopped, the other three keep finalizing (GRANDPA needs more
//! than two thirds: 3 of 4); restarted on its old database, the fourth catches up.
//!
//! Validator keys are put into each node's keystore with `emr-node key insert`, as an operator
//! would; libp2p identities are fixed node keys, so the bootnode addresses are known up front.

use emr_primitives::{
	ops::{permission, purpose, scope, Operation},
	testing::Actor,
};
use emr_tests::{
	dev_actor, repo_root, run_node_command, submit_op, Error, Node, NodeConfig, Result, TempDir,
};
use serde_json::json;
use std::time::Duration;

/// Dev identities of the four hospitals, in the order of the `consortium_local` preset.
const HOSPITALS: [&str; 4] = ["Alice", "Bob", "Charlie", "Dave"];
const STEP: Duration = Duration::from_secs(150);

fn node_key(index: usize) -> String {
	format!("{:064x}", index + 1)
}

fn peer_id(dir: &std::path::Path, key: &str) -> Result<String> {
	let file = dir.join(format!("node-key-{key}"));
	std::fs::write(&file, key).map_err(|e| Error(format!("cannot write node key: {e}")))?;
	let file = file.display().to_string();
	let out = run_node_command(&["key", "inspect-node-key", "--file", &file])?;
	if !out.status.success() {
		return Err(Error(format!(
			"key inspect-node-key failed: {}",
			String::from_utf8_lossy(&out.stderr)
		)));
	}
	Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn insert_keys(spec: &str, base_path: &str, who: &str) -> Result<()> {
	for (key_type, scheme) in [("aura", "sr25519"), ("gran", "ed25519")] {
		let suri = format!("//{who}");
		let out = run_node_command(&[
			"key",
			"insert",
			"--chain",
			spec,
			"--base-path",
			base_path,
			"--scheme",
			scheme,
			"--suri",
			&suri,
			"--key-type",
			key_type,
		])?;
		if !out.status.success() {
			return Err(Error(format!(
				"key insert {key_type} for {who} failed: {}",
				String::from_utf8_lossy(&out.stderr)
			)));
		}
	}
	Ok(())
}

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
	let spec = repo_root().join("chain-specs/consortium-local-raw.json").display().to_string();

	let mut configs = Vec::new();
	for (i, who) in HOSPITALS.iter().enumerate() {
		let base = dir.path().join(format!("hospital-{}", i + 1));
		let mut config = NodeConfig::new(&format!("hospital-{}-{}", i + 1, who), &base)?;
		config.chain = Some(spec.clone());
		config.validator = true;
		config.node_key = Some(node_key(i));
		insert_keys(&spec, &base.display().to_string(), who)?;
		configs.push(config);
	}
	let addresses = configs
		.iter()
		.enumerate()
		.map(|(i, c)| {
			Ok(format!(
				"/ip4/127.0.0.1/tcp/{}/p2p/{}",
				c.p2p_port,
				peer_id(dir.path(), &node_key(i))?
			))
		})
		.collect::<Result<Vec<_>>>()?;
	for (i, config) in configs.iter_mut().enumerate() {
		config.bootnodes =
			addresses.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| a.clone()).collect();
	}

	let mut nodes = configs.into_iter().map(Node::start).collect::<Result<Vec<_>>>()?;
	for node in nodes.iter_mut() {
		node.wait_rpc_ready(Duration::from_secs(60))?;
	}

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
	let hospital = dev_actor("Alice");
	let mut patient = Actor::new(500, &[hospital.id]);
	submit_op(&nodes[0], &patient.register(0).op)?;
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
