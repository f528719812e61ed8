//! A local consortium on the committed `consortium-local` chain spec, and signed calls of its
//! hospitals: what the multi-node tests share.
//!
//! Each hospital's node has its own data directory, a fixed libp2p key (so its peer id stays
//! the same across restarts) and its session keys (Aura, GRANDPA, BEEFY) put in its keystore
//! with `emr-node key insert`, as an operator would. Nodes start one after another, each with
//! the addresses the ones before it listen on as its bootnodes (every port is the node's own
//! choice, read back once it listens).

use crate::{repo_root, run_node_command, Error, Node, NodeConfig, Result};
use codec::{Decode, Encode};
use emr_runtime::RuntimeCall;
use emr_worker::extrinsic::{self, ChainInfo};
use polkadot_sdk::{
	sp_core::{crypto::Pair as _, ecdsa, ed25519, sr25519, H256},
	sp_keyring::Sr25519Keyring,
};
use serde_json::{json, Value};
use std::{path::Path, time::Duration};

/// Dev identities of the four hospitals, in the order of the `consortium_local` preset.
pub const HOSPITALS: [&str; 4] = ["Alice", "Bob", "Charlie", "Dave"];

/// The raw `consortium-local` chain spec.
pub fn spec() -> String {
	repo_root().join("chain-specs/consortium-local-raw.json").display().to_string()
}

/// The libp2p secret of hospital `index` (0-based): the number `index + 1`.
pub fn node_key(index: usize) -> String {
	format!("{:064x}", index + 1)
}

/// The peer id of the libp2p secret `key` (written to a file under `dir` for the node CLI).
pub fn peer_id(dir: &Path, key: &str) -> Result<String> {
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

/// Puts the `scheme` key of `suri` with `key_type` into the keystore under `base_path`.
pub fn insert_key(
	spec: &str,
	base_path: &str,
	key_type: &str,
	scheme: &str,
	suri: &str,
) -> Result<()> {
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
		suri,
		"--key-type",
		key_type,
	])?;
	if !out.status.success() {
		return Err(Error(format!(
			"key insert {key_type} for {suri} failed: {}",
			String::from_utf8_lossy(&out.stderr)
		)));
	}
	Ok(())
}

/// Puts `//who`'s Aura (sr25519), GRANDPA (ed25519) and BEEFY (ecdsa) keys into the keystore
/// under `base_path`.
pub fn insert_keys(spec: &str, base_path: &str, who: &str) -> Result<()> {
	for (key_type, scheme) in [("aura", "sr25519"), ("gran", "ed25519"), ("beef", "ecdsa")] {
		insert_key(spec, base_path, key_type, scheme, &format!("//{who}"))?;
	}
	Ok(())
}

/// The configuration of hospital `index` named `name` under `dir`, without keys.
pub fn hospital_config(dir: &Path, index: usize, name: &str) -> Result<NodeConfig> {
	let base = dir.join(format!("hospital-{}", index + 1));
	let mut config = NodeConfig::new(&format!("hospital-{}-{}", index + 1, name), &base)?;
	config.chain = Some(spec());
	config.validator = true;
	config.node_key = Some(node_key(index));
	Ok(config)
}

/// The configuration of hospital `index` run by `//who` under `dir`, its keys inserted.
pub fn hospital(dir: &Path, index: usize, who: &str) -> Result<NodeConfig> {
	let config = hospital_config(dir, index, who)?;
	insert_keys(&spec(), &config.base_path.display().to_string(), who)?;
	Ok(config)
}

/// Starts `configs` as one network, one node after another: each one's bootnodes are the
/// addresses of those already running (read from them, so every port is the node's own
/// choice); returns once every node answers RPC as itself. A node's configured node key, if
/// any, must give the peer id it reports.
pub fn start(dir: &Path, configs: Vec<NodeConfig>) -> Result<Vec<Node>> {
	let mut nodes: Vec<Node> = Vec::with_capacity(configs.len());
	for mut config in configs {
		config.bootnodes.extend(nodes.iter().map(Node::p2p_address));
		let expected = config.node_key.as_ref().map(|key| peer_id(dir, key)).transpose()?;
		let mut node = Node::start(config)?;
		node.wait_rpc_ready(Duration::from_secs(60))?;
		if let Some(expected) = expected {
			if node.peer_id() != expected {
				return Err(Error(format!(
					"{} reports peer id {}, its node key gives {expected}",
					node.config.name,
					node.peer_id()
				)));
			}
		}
		nodes.push(node);
	}
	Ok(nodes)
}

/// The session keys of `//who` (as `emr-node key insert --suri //who` puts them in a keystore).
pub fn session_keys(who: &str) -> emr_runtime::opaque::SessionKeys {
	let suri = format!("//{who}");
	let derive = "well-known development paths always derive";
	emr_runtime::opaque::SessionKeys {
		aura: sr25519::Pair::from_string(&suri, None).expect(derive).public().into(),
		grandpa: ed25519::Pair::from_string(&suri, None).expect(derive).public().into(),
		beefy: ecdsa::Pair::from_string(&suri, None).expect(derive).public().into(),
	}
}

/// `0x`-hex of a JSON value as bytes.
pub fn bytes_of(value: &Value) -> Result<Vec<u8>> {
	let s = value.as_str().ok_or_else(|| Error(format!("expected hex, got {value}")))?;
	hex::decode(s.trim_start_matches("0x")).map_err(|e| Error(format!("bad hex {s}: {e}")))
}

fn hash_of(value: &Value) -> Result<H256> {
	let bytes = bytes_of(value)?;
	if bytes.len() != 32 {
		return Err(Error(format!("expected a 32-byte hash, got {value}")));
	}
	Ok(H256::from_slice(&bytes))
}

/// Signs `call` as `who` (a development account) and submits it to `node`; returns the
/// nonce it used. The transaction is mortal from the node's best block.
pub fn submit_signed(node: &Node, who: Sr25519Keyring, call: RuntimeCall) -> Result<u32> {
	let account = who.to_account_id();
	let genesis = hash_of(&node.rpc("chain_getBlockHash", json!([0]))?)?;
	let version = node.rpc("state_getRuntimeVersion", json!([]))?;
	let info = ChainInfo {
		genesis,
		spec_version: version["specVersion"].as_u64().unwrap_or_default() as u32,
		transaction_version: version["transactionVersion"].as_u64().unwrap_or_default() as u32,
	};
	let best = node.best_number()? as u32;
	let best_hash = hash_of(&node.rpc("chain_getBlockHash", json!([best]))?)?;
	let nonce = node.rpc("system_accountNextIndex", json!([account.to_string()]))?;
	let nonce = nonce.as_u64().ok_or_else(|| Error(format!("nonce: {nonce}")))? as u32;
	let pair = who.pair();
	let (xt, _) = extrinsic::signed(call, &info, (best, best_hash), nonce, account, |payload| {
		Some(pair.sign(payload).into())
	})
	.map_err(Error)?;
	node.rpc("author_submitExtrinsic", json!([format!("0x{}", hex::encode(xt.encode()))]))?;
	Ok(nonce)
}

/// Waits until `who`'s transaction with `nonce` is in a block of `node` (its next nonce on
/// chain passed `nonce`).
pub fn wait_included(
	node: &mut Node,
	who: Sr25519Keyring,
	nonce: u32,
	timeout: Duration,
) -> Result<()> {
	let account = who.to_account_id().to_string();
	let key = system_account_key(&who.to_account_id());
	node.wait_for(&format!("{who:?}'s transaction {nonce} in a block"), timeout, |n| {
		let stored = n.rpc("state_getStorage", json!([key])).ok()?;
		let bytes = bytes_of(&stored).ok()?;
		// frame_system::AccountInfo starts with the account's nonce (u32).
		let on_chain = u32::decode(&mut &bytes[..]).ok()?;
		(on_chain > nonce).then_some(())
	})
	.map_err(|e| Error(format!("{e} (account {account})")))
}

/// The storage key of `System.Account(who)`.
fn system_account_key(who: &emr_runtime::AccountId) -> String {
	use polkadot_sdk::sp_io::hashing::{blake2_128, twox_128};
	let encoded = who.encode();
	let mut key = twox_128(b"System").to_vec();
	key.extend(twox_128(b"Account"));
	key.extend(blake2_128(&encoded));
	key.extend(encoded);
	format!("0x{}", hex::encode(key))
}

/// Runs `call` through the council: `ayes[0]` proposes it with the majority threshold, each
/// of `ayes` votes aye, and `ayes[0]` closes the motion. Waits for each step's inclusion.
pub fn council_motion(
	node: &mut Node,
	call: RuntimeCall,
	ayes: &[Sr25519Keyring],
	timeout: Duration,
) -> Result<()> {
	use polkadot_sdk::{
		frame_support::dispatch::GetDispatchInfo,
		pallet_collective,
		sp_runtime::traits::{BlakeTwo256, Hash},
	};
	let length = call.encoded_size() as u32;
	let weight = call.get_dispatch_info().call_weight;
	let hash = BlakeTwo256::hash_of(&call);
	let proposer = ayes[0];
	let index = proposal_count(node)?;
	let propose = RuntimeCall::Council(pallet_collective::Call::propose {
		threshold: ayes.len() as u32,
		proposal: Box::new(call),
		length_bound: length,
	});
	let nonce = submit_signed(node, proposer, propose)?;
	wait_included(node, proposer, nonce, timeout)?;
	for voter in ayes {
		let vote = RuntimeCall::Council(pallet_collective::Call::vote {
			proposal: hash,
			index,
			approve: true,
		});
		let nonce = submit_signed(node, *voter, vote)?;
		wait_included(node, *voter, nonce, timeout)?;
	}
	let close = RuntimeCall::Council(pallet_collective::Call::close {
		proposal_hash: hash,
		index,
		proposal_weight_bound: weight,
		length_bound: length,
	});
	let nonce = submit_signed(node, proposer, close)?;
	wait_included(node, proposer, nonce, timeout)
}

fn proposal_count(node: &Node) -> Result<u32> {
	use polkadot_sdk::sp_io::hashing::twox_128;
	let mut key = twox_128(b"Council").to_vec();
	key.extend(twox_128(b"ProposalCount"));
	let stored = node.rpc("state_getStorage", json!([format!("0x{}", hex::encode(key))]))?;
	if stored.is_null() {
		return Ok(0);
	}
	u32::decode(&mut &bytes_of(&stored)?[..]).map_err(|e| Error(format!("ProposalCount: {e}")))
}

/// Calls the runtime API function `method` with SCALE-encoded `args` at block `at` (or best).
pub fn state_call(node: &Node, method: &str, args: &[u8], at: Option<&str>) -> Result<Vec<u8>> {
	let args = format!("0x{}", hex::encode(args));
	let params = match at {
		Some(hash) => json!([method, args, hash]),
		None => json!([method, args]),
	};
	bytes_of(&node.rpc("state_call", params)?)
}

/// Decodes `T` from `bytes`, naming `what` on failure.
pub fn decode<T: Decode>(what: &str, bytes: &[u8]) -> Result<T> {
	T::decode(&mut &bytes[..]).map_err(|e| Error(format!("cannot decode {what}: {e}")))
}
