//! The prover worker against a real `--dev` node (batch size 4, real Groth16 proofs with the
//! seeded development keys): operations submitted over RPC end up in proven batches with the
//! worker inside the node (`--prover`) and with the standalone `emr-prover run`; the standalone
//! worker killed while proving and after submitting loses no batch and submits none twice; two
//! workers of two prover accounts prove every batch once between them and both move on; a
//! worker holding the keys of another circuit refuses to start. Every wait is bounded and a
//! failure prints the node's and the workers' log tails.

use emr_tests::{
	dev_prover_keys, http_get, metric, new_actor, prover_binary, registered, submit_op, Error,
	Node, NodeConfig, Result, TempDir, Worker,
};
use serde_json::{json, Value};
use std::{collections::BTreeMap, path::Path, time::Duration};

/// Batch 0 (the genesis admissions) seals by timeout after 10 blocks (60 s); proofs of 4 slots
/// take seconds each on two cores, submissions wait for a block, finality two more.
const WAIT: Duration = Duration::from_secs(300);

fn dev_node(name: &str, dir: &TempDir, extra: &[&str]) -> Result<Node> {
	let mut config = NodeConfig::new(name, &dir.path().join(name))?;
	config.dev = true;
	config.extra = extra.iter().map(|s| s.to_string()).collect();
	let mut node = Node::start(config)?;
	node.wait_rpc_ready(Duration::from_secs(60))?;
	Ok(node)
}

/// Registers `count` new patients (four fill a batch); returns their (id, nonce) pairs once
/// the registrations are applied.
fn register(node: &Node, seed: u64, count: u64) -> Result<Vec<(u32, u32)>> {
	let mut patients = Vec::new();
	for s in seed..seed + count {
		let mut patient = new_actor(node, s)?;
		submit_op(node, &patient.register(0).op)?;
		patients.push(patient);
	}
	let mut ops = Vec::new();
	for mut patient in patients {
		registered(node, &mut patient)?;
		ops.push((patient.id, 0));
	}
	Ok(ops)
}

fn field(v: &Value, name: &str) -> Option<u64> {
	v[name].as_u64()
}

/// Waits until at least `batches` batches after batch 0 are sealed and every sealed batch is
/// proven; returns the last proven batch. `logs` adds the workers' log tails to a failure.
fn wait_all_proven(node: &mut Node, batches: u64, logs: impl Fn() -> String) -> Result<u64> {
	node.wait_for(&format!("batches 0..={batches} sealed and proven"), WAIT, |n| {
		let st = n.rpc("rollup_status", json!([])).ok()?;
		let (sealed, proven) = (field(&st, "lastSealed")?, field(&st, "lastProven")?);
		(sealed >= batches && proven == sealed).then_some(proven)
	})
	.map_err(|e| Error(format!("{e}\n{}", logs())))
}

/// How many times each batch's proof was submitted, from a worker's log.
fn submissions(log: &str) -> BTreeMap<u64, usize> {
	let mut count = BTreeMap::new();
	for line in log.lines().filter(|l| l.contains(": proof submitted in transaction")) {
		if let Some(batch) = line
			.split("batch ")
			.nth(1)
			.and_then(|r| r.split(':').next())
			.and_then(|b| b.parse::<u64>().ok())
		{
			*count.entry(batch).or_insert(0) += 1;
		}
	}
	count
}

fn tails(workers: &[&Worker]) -> String {
	workers
		.iter()
		.enumerate()
		.map(|(i, w)| format!("--- worker {i} log ---\n{}", w.log_tail(40)))
		.collect::<Vec<_>>()
		.join("\n")
}

#[test]
fn operations_reach_proven_with_the_prover_inside_the_node() -> Result<()> {
	let keys = dev_prover_keys()?;
	let dir = TempDir::new("prover-in-node")?;
	let keys_arg = keys.display().to_string();
	let mut node = dev_node("in-node", &dir, &["--prover", "--prover-keys", &keys_arg])?;
	let ops = register(&node, 500, 8)?;
	let last = wait_all_proven(&mut node, 2, String::new)?;
	for (actor, nonce) in ops {
		let st = node.rpc("rollup_operationStatus", json!([actor, nonce]))?;
		let batch = field(&st, "batch").ok_or_else(|| Error(format!("no batch: {st}")))?;
		assert!(batch <= last, "{st}");
	}
	for b in 0..=last {
		let batch = node.rpc("rollup_batch", json!([b]))?;
		assert!(batch["prover"].is_string(), "batch {b} has no prover: {batch}");
	}
	// The node's Prometheus endpoint carries the worker's metrics, and `emr-prover status`
	// reads them.
	let url = format!("http://127.0.0.1:{}/metrics", node.prometheus_port());
	let accepted = node.wait_for("the worker to commit the last batch", WAIT, |n| {
		let page = http_get(n.prometheus_port(), "/metrics").ok()?;
		(metric(&page, "emr_prover_last_committed_batch")? >= last as f64)
			.then(|| metric(&page, "emr_prover_batches_accepted_total"))
			.flatten()
	})?;
	assert_eq!(accepted, (last + 1) as f64, "every batch proven by the node's own worker");
	let out = std::process::Command::new(prover_binary())
		.args(["status", "--metrics", &url])
		.output()
		.map_err(|e| Error(format!("emr-prover status: {e}")))?;
	let text = String::from_utf8_lossy(&out.stdout);
	assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
	let row = format!("{:<34} {}\n", "our proofs final on chain", last + 1);
	assert!(text.contains(&row), "{text}");
	Ok(())
}

#[test]
fn the_standalone_worker_survives_kills_and_submits_no_batch_twice() -> Result<()> {
	let keys = dev_prover_keys()?;
	let dir = TempDir::new("prover-standalone")?;
	let mut node = dev_node("standalone", &dir, &[])?;
	let mut worker = Worker::start(&node, &keys, &dir.path().join("worker"), "//Alice")?;
	register(&node, 600, 8)?;
	// Killed while proving: as soon as it starts the first proof.
	node.wait_for("the worker to start proving", WAIT, |_| {
		worker.log().contains(": proving (").then_some(())
	})
	.map_err(|e| Error(format!("{e}\n{}", tails(&[&worker]))))?;
	worker.kill();
	worker.restart()?;
	// Killed again right after a submission, before the batch is final and committed.
	node.wait_for("a submission after the restart", WAIT, |_| {
		let log = worker.log();
		let second_run = log.matches("prover ready").count() >= 2;
		let after = log.rsplit_once("prover ready").map_or("", |(_, a)| a);
		(second_run && after.contains(": proof submitted in transaction")).then_some(())
	})
	.map_err(|e| Error(format!("{e}\n{}", tails(&[&worker]))))?;
	worker.kill();
	worker.restart()?;
	let last = wait_all_proven(&mut node, 2, || tails(&[&worker]))?;
	// The third run may start after the second one's proofs made everything proven: wait until
	// it is up and has committed the last batch before reading the logs.
	node.wait_for("the third run to commit the last batch", WAIT, |_| {
		let committed = worker.metric("emr_prover_last_committed_batch")? >= last as f64;
		(committed && worker.log().matches("prover ready").count() == 3).then_some(())
	})
	.map_err(|e| Error(format!("{e}\n{}", tails(&[&worker]))))?;
	let log = worker.log();
	let sent = submissions(&log);
	assert!(sent.values().all(|&n| n == 1), "a batch was submitted twice: {sent:?}\n{log}");
	// Every batch was proven by this worker's account (it is the only prover running).
	for b in 0..=last {
		assert!(sent.contains_key(&b), "batch {b} proven without a logged submission: {sent:?}");
	}
	Ok(())
}

#[test]
fn two_workers_prove_every_batch_once_between_them() -> Result<()> {
	let keys = dev_prover_keys()?;
	let dir = TempDir::new("prover-two")?;
	let mut node = dev_node("two", &dir, &[])?;
	let a = Worker::start(&node, &keys, &dir.path().join("alice"), "//Alice")?;
	let b = Worker::start(&node, &keys, &dir.path().join("bob"), "//Bob")?;
	register(&node, 700, 12)?;
	let last = wait_all_proven(&mut node, 3, || tails(&[&a, &b]))?;
	// Both move on to the end, and between them each batch was accepted exactly once.
	let (ca, cb) = node
		.wait_for("both workers to commit the last batch", WAIT, |_| {
			let done = |w: &Worker| {
				(w.metric("emr_prover_last_committed_batch")? >= last as f64)
					.then(|| w.metric("emr_prover_batches_accepted_total"))
					.flatten()
			};
			Some((done(&a)?, done(&b)?))
		})
		.map_err(|e| Error(format!("{e}\n{}", tails(&[&a, &b]))))?;
	assert_eq!(ca + cb, (last + 1) as f64, "accepted: alice {ca}, bob {cb}");
	for batch in 0..=last {
		let v = node.rpc("rollup_batch", json!([batch]))?;
		assert!(v["prover"].is_string(), "batch {batch} has no prover: {v}");
	}
	for w in [&a, &b] {
		assert!(!w.log().contains("worker stopped"), "{}", tails(&[w]));
	}
	Ok(())
}

fn setup(dir: &Path, batch_size: &str, seed: &str) -> Result<()> {
	let out = std::process::Command::new(prover_binary())
		.args(["setup", "--batch-size", batch_size, "--seed", seed, "--out"])
		.arg(dir)
		.output()
		.map_err(|e| Error(format!("emr-prover setup: {e}")))?;
	if !out.status.success() {
		return Err(Error(format!("setup failed: {}", String::from_utf8_lossy(&out.stderr))));
	}
	Ok(())
}

#[test]
fn a_worker_with_keys_of_another_circuit_refuses_to_start() -> Result<()> {
	let dir = TempDir::new("prover-wrong-keys")?;
	let other = dir.path().join("other-keys");
	setup(&other, "2", &"ab".repeat(32))?;
	let mut node = dev_node("wrong-keys", &dir, &[])?;
	let chain_key = node.rpc("rollup_status", json!([]))?["verifyingKey"]["hash"]
		.as_str()
		.map(str::to_string)
		.ok_or_else(|| Error("no verifying key on chain".into()))?;
	let mut worker = Worker::start(&node, &other, &dir.path().join("worker"), "//Alice")?;
	let status = worker.wait_exit(Duration::from_secs(120));
	let log = worker.log();
	assert!(status.is_some_and(|s| !s.success()), "the worker did not stop: {status:?}\n{log}");
	assert!(log.contains("proving key mismatch"), "{log}");
	assert!(log.contains(chain_key.trim_start_matches("0x")), "names the chain's key:\n{log}");
	assert!(!log.contains("proof submitted"), "{log}");
	let _ = node.stop(Duration::from_secs(10));
	Ok(())
}
