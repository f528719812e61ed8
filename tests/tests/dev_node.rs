//! (a) A `--dev` node produces and finalizes blocks, readable over JSON-RPC, and serves
//! Prometheus metrics.

use emr_tests::{http_get, Node, NodeConfig, Result, TempDir};
use serde_json::json;
use std::time::Duration;

#[test]
fn dev_node_produces_and_finalizes_blocks() -> Result<()> {
	let dir = TempDir::new("dev")?;
	let mut config = NodeConfig::new("dev-alice", &dir.path().join("alice"))?;
	config.dev = true;
	let mut node = Node::start(config)?;
	node.wait_rpc_ready(Duration::from_secs(60))?;

	let chain = node.rpc("system_chain", json!([]))?;
	assert_eq!(chain, json!("emr-chain development"), "the dev chain spec is loaded");
	let props = node.rpc("system_properties", json!([]))?;
	assert_eq!(props["tokenSymbol"], json!("EMR"));

	// Finality within the budget of the issue (first finalized block within 30 s of start);
	// the deadline here is generous so a loaded CI machine does not flake.
	let (hash, number) = node.wait_finalized(2, Duration::from_secs(90))?;
	assert!(number >= 2);
	assert_eq!(node.block_hash(number)?, Some(hash.clone()), "finalized block is canonical");

	let best = node.best_number()?;
	assert!(best >= number, "best #{best} is behind finalized #{number}");

	// Blocks keep coming: the best block advances past what we saw.
	node.wait_for("a new best block", Duration::from_secs(60), |n| {
		n.best_number().ok().filter(|b| *b > best)
	})?;

	let block = node.rpc("chain_getBlock", json!([hash]))?;
	let extrinsics = block["block"]["extrinsics"].as_array().map(Vec::len).unwrap_or_default();
	assert!(extrinsics >= 1, "every block carries at least the timestamp inherent");

	// Prometheus is refreshed on its own timer (every few seconds), not on each finality
	// notification, so it may lag the RPC answer above: poll until it reports height 2.
	let port = node.prometheus_port();
	let mut last = String::new();
	let finalized = node.wait_for(
		"prometheus to report finalized height >= 2",
		Duration::from_secs(30),
		|_| {
			last = http_get(port, "/metrics").ok()?;
			let line = last
				.lines()
				.find(|l| l.starts_with("substrate_block_height{status=\"finalized\""))?;
			line.rsplit(' ').next()?.parse::<f64>().ok().filter(|v| *v >= 2.0)
		},
	);
	assert!(
		last.contains("substrate_block_height{status=\"finalized\""),
		"prometheus exports substrate_block_height for finalized blocks"
	);
	let value = finalized?;
	assert!(value >= 2.0, "prometheus reports finalized height {value}, expected >= 2");
	Ok(())
}
