//! (c) Bad input gets a clear error and changes nothing: a missing chain spec, and malformed
//! or invalid extrinsics submitted over RPC.

use emr_tests::{run_node_command, Node, NodeConfig, Result, TempDir};
use serde_json::json;
use std::time::Duration;

#[test]
fn missing_chain_spec_is_a_readable_error() -> Result<()> {
	let dir = TempDir::new("missing")?;
	let base = dir.path().display().to_string();
	let output = run_node_command(&["--chain", "missing.json", "--base-path", &base])?;
	assert!(!output.status.success(), "emr-node must fail on a missing chain spec");
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(
		stderr.contains("missing.json")
			&& stderr
				.contains("neither a built-in chain (dev, consortium-local) nor a readable file"),
		"stderr explains the problem in words; got:\n{stderr}"
	);
	assert!(!stderr.contains("panicked"), "no panic for bad input; got:\n{stderr}");
	Ok(())
}

#[test]
fn malformed_chain_spec_is_a_readable_error() -> Result<()> {
	let dir = TempDir::new("malformed")?;
	let spec = dir.path().join("broken.json");
	std::fs::write(&spec, "{ this is not json").map_err(|e| emr_tests::Error(e.to_string()))?;
	let spec = spec.display().to_string();
	let output = run_node_command(&["build-spec", "--chain", &spec])?;
	assert!(!output.status.success(), "a broken chain spec must be refused");
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(
		stderr.contains("could not be loaded"),
		"stderr names the file and the reason; got:\n{stderr}"
	);
	Ok(())
}

/// SCALE compact encoding of a small integer (< 2^14), enough for the lengths used here.
fn compact(n: usize) -> Vec<u8> {
	if n < 64 {
		vec![(n as u8) << 2]
	} else {
		let v = ((n as u16) << 2) | 0b01;
		v.to_le_bytes().to_vec()
	}
}

fn hex(bytes: &[u8]) -> String {
	let mut s = String::from("0x");
	for b in bytes {
		s.push_str(&format!("{b:02x}"));
	}
	s
}

#[test]
fn malformed_extrinsics_are_rejected_and_blocks_continue() -> Result<()> {
	let dir = TempDir::new("badxt")?;
	let mut config = NodeConfig::new("badxt-alice", &dir.path().join("alice"))?;
	config.dev = true;
	let mut node = Node::start(config)?;
	node.wait_rpc_ready(Duration::from_secs(60))?;
	node.wait_for("block #1", Duration::from_secs(60), |n| {
		n.best_number().ok().filter(|b| *b >= 1)
	})?;

	// Not SCALE at all.
	let garbage = node.rpc("author_submitExtrinsic", json!(["0xdeadbeef"]));
	let message = garbage.expect_err("garbage bytes must be refused").0;
	assert!(
		message.contains("Could not decode"),
		"the error says the bytes do not decode: {message}"
	);

	// Not even hex.
	let not_hex = node.rpc("author_submitExtrinsic", json!(["hello"]));
	assert!(not_hex.is_err(), "a non-hex payload must be refused");

	// Well-formed SCALE, but an unsigned balance transfer: the runtime must refuse it.
	// Extrinsic v4, bare: [compact len][0x04][call]; call = Balances(4).transfer_allow_death(0)
	// to MultiAddress::Id(0x01..) of value 1.
	let mut call = vec![4u8, 0u8, 0u8];
	call.extend_from_slice(&[1u8; 32]);
	call.extend_from_slice(&compact(1));
	let mut xt = vec![0x04u8];
	xt.extend_from_slice(&call);
	let mut encoded = compact(xt.len());
	encoded.extend_from_slice(&xt);
	let unsigned = node.rpc("author_submitExtrinsic", json!([hex(&encoded)]));
	let message = unsigned.expect_err("an unsigned transfer must be refused").0;
	assert!(
		message.contains("NoUnsignedValidator"),
		"the pool says no unsigned validator accepts a transfer: {message}"
	);

	// Nothing entered the pool, and the chain goes on.
	let pending = node.rpc("author_pendingExtrinsics", json!([]))?;
	assert_eq!(pending, json!([]), "rejected extrinsics must not linger in the pool");
	let best = node.best_number()?;
	node.wait_for("two more blocks after the rejections", Duration::from_secs(60), |n| {
		n.best_number().ok().filter(|b| *b >= best + 2)
	})?;
	let (_, finalized) = node.finalized()?;
	node.wait_finalized(finalized + 1, Duration::from_secs(60))?;
	Ok(())
}
