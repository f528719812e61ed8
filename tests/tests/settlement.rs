//! Settlement on Ethereum end to end: a `--dev` node with the prover inside, a real anvil
//! (Prague, EIP-2537), the contracts deployed from the chain's state by `emr-prover l1-deploy`
//! (and recorded on the chain by sudo), and the relayer `emr-prover relay`. Operations go from
//! *included* to *settled*; the contract's root equals the chain's proven root; a relayer killed
//! between settling on L1 and confirming on the chain settles every batch exactly once after a
//! restart; an L1 node that goes down and comes back is waited for, and settling resumes.

use emr_settlement::l1::{self, L1};
use emr_tests::{
	dev_prover_keys, l1::Anvil, l1::DEV_L1_KEY, new_actor, prover_binary, registered, submit_op,
	Error, Node, NodeConfig, Result, TempDir, Worker,
};
use serde_json::{json, Value};
use std::{path::Path, time::Duration};

/// Batches seal after 10 blocks (60 s) at the latest, proofs take seconds, BEEFY follows
/// GRANDPA by a few blocks and the relayer waits for L1 confirmations.
const WAIT: Duration = Duration::from_secs(400);

fn relayer(node: &Node, anvil: &Anvil, dir: &Path, confirmations: u64) -> Result<Worker> {
	let l1_key = emr_tests::l1::key_file(dir, "relayer-l1.key", DEV_L1_KEY)?;
	let account = emr_tests::l1::key_file(dir, "relayer.key", "//Ferdie")?;
	let args = [
		"relay",
		"--rpc",
		&node.rpc_url(),
		"--l1",
		&anvil.url(),
		"--l1-key",
		&l1_key.display().to_string(),
		"--account-key",
		&account.display().to_string(),
		"--confirmations",
		&confirmations.to_string(),
		"--poll",
		"1",
	]
	.iter()
	.map(|s| s.to_string())
	.collect();
	Worker::command(args, dir.join("relayer.log"))
}

/// The `BatchSettled` events of `batch` on L1 (all of them: a batch paid twice shows twice).
fn settled_events(anvil: &Anvil, rollup: &str, batch: u64) -> Result<Vec<Value>> {
	let topic =
		emr_primitives::settlement::keccak256(b"BatchSettled(uint64,uint256,uint256,uint256)");
	let logs = anvil.eth(
		"eth_getLogs",
		json!([{
			"address": rollup,
			"fromBlock": "0x0",
			"toBlock": "latest",
			"topics": [
				format!("0x{}", hex::encode(topic)),
				format!("0x{:064x}", batch),
			],
		}]),
	)?;
	Ok(logs.as_array().cloned().unwrap_or_default())
}

fn le_hex(v: &Value) -> Result<[u8; 32]> {
	let s = v.as_str().ok_or_else(|| Error(format!("not hex: {v}")))?;
	let mut out = [0u8; 32];
	hex::decode_to_slice(s.trim_start_matches("0x"), &mut out)
		.map_err(|e| Error(format!("{s}: {e}")))?;
	Ok(out)
}

#[test]
fn proven_batches_settle_on_ethereum_exactly_once_across_restarts() -> Result<()> {
	let keys = dev_prover_keys()?;
	let dir = TempDir::new("settlement")?;
	let mut config = NodeConfig::new("dev", &dir.path().join("dev"))?;
	config.dev = true;
	config.extra = vec!["--prover".into(), "--prover-keys".into(), keys.display().to_string()];
	let mut node = Node::start(config)?;
	node.wait_rpc_ready(Duration::from_secs(60))?;
	let mut anvil = Anvil::start(&dir.path().join("l1"))?;

	// Deploy from the chain's finalized state and record the addresses by sudo.
	node.wait_finalized(1, Duration::from_secs(60))?;
	let deployer = emr_tests::l1::key_file(dir.path(), "deployer.key", DEV_L1_KEY)?;
	let sudo = emr_tests::l1::key_file(dir.path(), "sudo.key", "//Alice")?;
	let out = std::process::Command::new(prover_binary())
		.args(["l1-deploy", "--rpc", &node.rpc_url(), "--l1", &anvil.url()])
		.arg("--l1-key")
		.arg(&deployer)
		.arg("--sudo")
		.arg(&sudo)
		.output()
		.map_err(|e| Error(format!("emr-prover l1-deploy: {e}")))?;
	let printed =
		format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	assert!(out.status.success(), "l1-deploy failed:\n{printed}");
	assert!(printed.contains("recorded on the chain"), "{printed}");
	let status = node.rpc("bridge_status", json!([]))?;
	let rollup_address = status["contracts"]["rollup"].as_str().expect("contracts set").to_string();
	assert_eq!(status["contracts"]["firstBatch"], json!(0), "{status}");
	assert_eq!(status["contracts"]["chainId"], json!(31337), "{status}");
	// A fresh client for each look (a pooled connection would not survive anvil's restart).
	let l1_url = anvil.url();
	let reader = || L1::with_key(&l1_url, &[1u8; 32]).map_err(|e| Error(e.to_string()));
	let rollup_addr: l1::Address = rollup_address.parse().map_err(|e| Error(format!("{e}")))?;

	// Batch 0 (the genesis admissions) is proven by the node. The relayer settles it on L1 and
	// waits 30 confirmations (30 s of one-second L1 blocks) before confirming: kill it there.
	let mut relay = relayer(&node, &anvil, dir.path(), 30)?;
	node.wait_for("batch 0 settled on L1", WAIT, |_| {
		(reader().ok()?.rollup(rollup_addr).next_batch().ok()? >= 1).then_some(())
	})
	.map_err(|e| Error(format!("{e}\n--- relayer ---\n{}", relay.log_tail(30))))?;
	assert_eq!(
		node.rpc("bridge_anchor", json!([0]))?,
		Value::Null,
		"the relayer confirmed before its 30 confirmations"
	);
	relay.kill();

	// Restarted, it finds the settlement on L1 instead of paying again, and confirms it.
	let relay = relayer(&node, &anvil, dir.path(), 2)?;
	let anchor = node
		.wait_for("batch 0 confirmed on the chain", WAIT, |n| {
			n.rpc("bridge_anchor", json!([0])).ok().filter(|a| !a.is_null())
		})
		.map_err(|e| Error(format!("{e}\n--- relayer ---\n{}", relay.log_tail(30))))?;
	let events = settled_events(&anvil, &rollup_address, 0)?;
	assert_eq!(events.len(), 1, "batch 0 settled {} times on L1", events.len());
	assert_eq!(anchor["l1Tx"], events[0]["transactionHash"], "{anchor}");
	let batch0 = node.rpc("rollup_batch", json!([0]))?;
	assert_eq!(
		reader()?
			.rollup(rollup_addr)
			.latest_root()
			.map_err(|e| Error(format!("latestRoot: {e}")))?,
		le_hex(&batch0["newRoot"])?,
		"the contract's root is not the chain's proven root of batch 0"
	);
	// It says it found the settlement instead of sending the batch again.
	node.wait_for("the relayer to report the earlier settlement", Duration::from_secs(30), |_| {
		relay.log().contains("batch 0 had settled in L1 block").then_some(())
	})
	.map_err(|e| Error(format!("{e}\n--- relayer ---\n{}", relay.log_tail(20))))?;

	// Batch 1: four patients register (a full batch). Ethereum goes down meanwhile.
	anvil.stop();
	let mut ops = Vec::new();
	for seed in 900..904 {
		let mut patient = new_actor(&node, seed)?;
		submit_op(&node, &patient.register(0).op)?;
		ops.push(patient);
	}
	let ops = ops
		.into_iter()
		.map(|mut p| registered(&node, &mut p).map(|()| (p.id, 0u32)))
		.collect::<Result<Vec<_>>>()?;
	node.wait_for("batch 1 proven", WAIT, |n| {
		let st = n.rpc("rollup_status", json!([])).ok()?;
		(st["lastProven"].as_u64()? >= 1).then_some(())
	})?;
	node.wait_for("the relayer to report Ethereum unreachable", WAIT, |_| {
		relay.log().contains("Ethereum: the L1 node is unreachable").then_some(())
	})
	.map_err(|e| Error(format!("{e}\n--- relayer ---\n{}", relay.log_tail(30))))?;
	let (actor, nonce) = ops[0];
	let op = node.rpc("rollup_operationStatus", json!([actor, nonce]))?;
	assert_eq!(op["batch"], json!(1), "{op}");
	assert_ne!(op["status"], json!("settled"), "{op}");

	// Back up: settling resumes (through any BEEFY set handoffs missed meanwhile).
	anvil.restart()?;
	node.wait_for("batch 1 confirmed on the chain", WAIT, |n| {
		n.rpc("bridge_anchor", json!([1])).ok().filter(|a| !a.is_null())
	})
	.map_err(|e| Error(format!("{e}\n--- relayer ---\n{}", relay.log_tail(40))))?;
	assert_eq!(settled_events(&anvil, &rollup_address, 1)?.len(), 1);
	let batch1 = node.rpc("rollup_batch", json!([1]))?;
	assert_eq!(
		reader()?
			.rollup(rollup_addr)
			.latest_root()
			.map_err(|e| Error(format!("latestRoot: {e}")))?,
		le_hex(&batch1["newRoot"])?,
		"the contract's root is not the chain's proven root of batch 1"
	);
	let op = node.wait_for("the operation to read settled", Duration::from_secs(60), |n| {
		let op = n.rpc("rollup_operationStatus", json!([actor, nonce])).ok()?;
		(op["status"] == json!("settled")).then_some(op)
	})?;
	assert_eq!(op["settlement"]["batch"], json!(1), "{op}");
	let status = node.rpc("bridge_status", json!([]))?;
	assert_eq!(status["nextToSettle"].as_u64(), Some(2), "{status}");

	// The auditor's view: `emr audit --l1` finds the same roots in each batch's BatchSettled
	// event; the saved evidence with one byte of the L1 root altered is refused.
	let emr = emr_tests::node_binary().with_file_name("emr");
	let evidence = dir.path().join("evidence.json");
	let out = std::process::Command::new(&emr)
		.args(["--node", &node.rpc_url(), "audit", "--batch", "0", "--batch", "1"])
		.args(["--l1", &anvil.url(), "--save", &evidence.display().to_string()])
		.output()
		.map_err(|e| Error(format!("emr: {e}")))?;
	let stdout = String::from_utf8_lossy(&out.stdout);
	assert!(
		out.status.success() && stdout.matches("same roots on Ethereum").count() == 2,
		"{stdout}\n{}",
		String::from_utf8_lossy(&out.stderr)
	);
	let mut altered: Value = serde_json::from_str(
		&std::fs::read_to_string(&evidence).map_err(|e| Error(format!("evidence: {e}")))?,
	)
	.map_err(|e| Error(format!("evidence: {e}")))?;
	let data = altered
		.pointer_mut("/batches/1/l1/data")
		.ok_or_else(|| Error("no L1 data in the evidence".into()))?;
	let mut bytes = hex::decode(data.as_str().unwrap_or_default().trim_start_matches("0x"))
		.map_err(|e| Error(format!("L1 data: {e}")))?;
	bytes[63] ^= 1; // the last byte of the new root's word
	*data = json!(format!("0x{}", hex::encode(bytes)));
	let altered_path = dir.path().join("altered.json");
	std::fs::write(&altered_path, altered.to_string()).map_err(|e| Error(e.to_string()))?;
	let out = std::process::Command::new(&emr)
		.args(["audit", "--evidence", &altered_path.display().to_string()])
		.output()
		.map_err(|e| Error(format!("emr: {e}")))?;
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(
		!out.status.success() && stderr.contains("AUDIT FAILED: batch 1: Ethereum's contract"),
		"{stderr}"
	);
	Ok(())
}
