//! `emr-l2-load`: a load generator for L2 operations against a running node (`scripts/bench.sh
//! l2` starts a `--dev` node and runs it).
//!
//! It pre-signs, for `--actors` new patients, a registration and `--ops-per-actor - 1` consent
//! grants to the dev hospital (Alice's, admitted at genesis), submits the registrations from
//! `--threads` connections with `rollup_submit`, then the grants (each actor's queued behind
//! its registration, at most the chain's per-actor queue ahead), and waits until every
//! operation is applied. It then reads the blocks that hold them and prints how many L2
//! operations each block included and the rate over the blocks' timestamps: what one node
//! *includes* per second, not what its RPC accepts.
//!
//! `--skip N` skips the first `N` patients of the (deterministic) sequence, so that a second run
//! against the same chain registers new ones.
//!
//! With `--until-proven 1` it then waits until every batch holding them is proven (a prover
//! worker must be running) and prints the time from each operation's inclusion (its block's
//! timestamp) to the inclusion of its batch's proof (first seen at the best block, polled every
//! 250 ms): median and maximum over all operations, and the proven operations per second.
//!
//! ```text
//! emr-l2-load --rpc-port 9944 --actors 400 --ops-per-actor 5 --threads 8
//! emr-l2-load --rpc-port 9944 --actors 64 --ops-per-actor 1 --until-proven 1
//! ```

use codec::Encode;
use emr_primitives::{
	ops::{permission, purpose, scope, DeploymentId, Operation, ParticipantId, Role, SignedOp},
	schnorr::SecretKey,
	testing::dev_rollup_key,
};
use emr_tests::rpc_call;
use serde_json::{json, Value};
use std::{
	sync::atomic::{AtomicUsize, Ordering},
	time::{Duration, Instant},
};

struct Args {
	port: u16,
	actors: usize,
	ops_per_actor: usize,
	threads: usize,
	until_proven: bool,
	skip: usize,
}

fn parse_args() -> Result<Args, String> {
	let mut args = Args {
		port: 9944,
		actors: 200,
		ops_per_actor: 5,
		threads: 8,
		until_proven: false,
		skip: 0,
	};
	let mut it = std::env::args().skip(1);
	while let Some(flag) = it.next() {
		let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
		let n: usize = value.parse().map_err(|_| format!("{flag}: {value} is not a number"))?;
		match flag.as_str() {
			"--rpc-port" => args.port = n as u16,
			"--actors" => args.actors = n,
			"--ops-per-actor" => args.ops_per_actor = n.clamp(1, 17),
			"--threads" => args.threads = n.max(1),
			"--until-proven" => args.until_proven = n != 0,
			"--skip" => args.skip = n,
			other => return Err(format!("unknown flag {other}")),
		}
	}
	Ok(args)
}

/// The keys of `count` patients, after the first `skip` of the sequence (a later run with
/// `--skip` registers new keys: a key registers once).
fn patients(count: usize, skip: usize) -> Vec<SecretKey> {
	(skip..skip + count)
		.map(|i| {
			let mut bytes = [0u8; 32];
			bytes[..8].copy_from_slice(&(1_000_001 + i as u64).to_le_bytes());
			bytes[8..16].copy_from_slice(b"l2-load!");
			SecretKey::from_seed(&bytes)
		})
		.collect()
}

/// The id the chain gave `key`, once its registration is applied.
fn key_id(port: u16, key: &SecretKey) -> Option<ParticipantId> {
	let key = hex::encode(key.public().to_bytes());
	rpc_call(port, "emr_participantId", json!([key])).ok()?.as_u64().map(|id| id as ParticipantId)
}

fn sign(
	key: &SecretKey,
	deployment: &DeploymentId,
	actor: ParticipantId,
	nonce: u32,
	op: Operation,
) -> SignedOp {
	SignedOp { actor, nonce, op, signature: [0; 64] }.sign(key, deployment)
}

/// Submits `ops` from `threads` threads; returns the refusals (with their reasons).
fn submit_all(port: u16, ops: &[SignedOp], threads: usize) -> Vec<String> {
	let next = AtomicUsize::new(0);
	let errors = std::sync::Mutex::new(Vec::new());
	std::thread::scope(|s| {
		for _ in 0..threads {
			s.spawn(|| loop {
				let i = next.fetch_add(1, Ordering::Relaxed);
				let Some(op) = ops.get(i) else { break };
				let hex_op = format!("0x{}", hex::encode(op.encode()));
				if let Err(e) = rpc_call(port, "rollup_submit", json!([hex_op])) {
					errors.lock().map(|mut v| v.push(e.0)).ok();
				}
			});
		}
	});
	errors.into_inner().unwrap_or_default()
}

fn number(v: &Value) -> u64 {
	emr_tests::parse_number(v).unwrap_or(0)
}

fn main() -> std::process::ExitCode {
	match run() {
		Ok(()) => std::process::ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("emr-l2-load: {e}");
			std::process::ExitCode::FAILURE
		},
	}
}

fn run() -> Result<(), String> {
	let a = parse_args()?;
	let hospital = key_id(a.port, &dev_rollup_key("Alice"))
		.ok_or("Alice's hospital is not a member of this chain")?;
	let deployment = emr_tests::deployment(a.port).map_err(|e| e.0)?;
	let t = Instant::now();
	let keys = patients(a.actors, a.skip);
	// A registration names no actor: the chain gives ids in order.
	let registrations: Vec<SignedOp> = keys
		.iter()
		.map(|key| {
			let public_key = key.public().to_bytes();
			sign(
				key,
				&deployment,
				0,
				0,
				Operation::Register { role: Role::Patient, public_key, encryption_key: [1; 32] },
			)
		})
		.collect();
	println!("signed {} registrations in {:.1} s", registrations.len(), t.elapsed().as_secs_f64());

	// Start after block #1, so that the block before the first busy one has a timestamp
	// (genesis has none) and the rate is taken over whole block intervals.
	wait(a.port, Duration::from_secs(120), |port| {
		rpc_call(port, "chain_getHeader", json!([]))
			.is_ok_and(|h| emr_tests::parse_number(&h["number"]).unwrap_or(0) >= 1)
	})?;
	let start_block =
		number(&rpc_call(a.port, "chain_getHeader", json!([])).map_err(|e| e.0)?["number"]);
	let t = Instant::now();
	let mut refused = submit_all(a.port, &registrations, a.threads);
	// Grants are queued behind registrations: wait until every actor exists and learn its id.
	let mut actors: Vec<(SecretKey, ParticipantId)> = Vec::with_capacity(keys.len());
	wait(a.port, Duration::from_secs(600), |port| {
		while let Some(key) = keys.get(actors.len()) {
			match key_id(port, key) {
				Some(id) => actors.push((key.clone(), id)),
				None => return false,
			}
		}
		true
	})?;
	let signing = Instant::now();
	let grants: Vec<SignedOp> = (1..a.ops_per_actor as u32)
		.flat_map(|nonce| {
			actors.iter().map(move |(key, id)| {
				sign(
					key,
					&deployment,
					*id,
					nonce,
					Operation::GrantConsent {
						grantee: hospital,
						permissions: permission::READ,
						purposes: purpose::TREATMENT,
						scope: scope::ALL,
						expires_at: 1_000_000 + nonce,
						slot: nonce - 1,
					},
				)
			})
		})
		.collect();
	let total = registrations.len() + grants.len();
	println!(
		"signed {} grants of {} actors in {:.1} s (within the measured time)",
		grants.len(),
		a.actors,
		signing.elapsed().as_secs_f64()
	);
	refused.extend(submit_all(a.port, &grants, a.threads));
	let submitted = t.elapsed();
	println!(
		"submitted {} operations in {:.1} s ({:.0}/s accepted by the pool), {} refused",
		total - refused.len(),
		submitted.as_secs_f64(),
		(total - refused.len()) as f64 / submitted.as_secs_f64(),
		refused.len()
	);
	if let Some(e) = refused.first() {
		println!("first refusal: {e}");
	}
	// Wait until every actor's last operation is applied (the next poll resumes at the first
	// actor still waiting).
	let last_nonce = a.ops_per_actor as u32 - 1;
	let done = AtomicUsize::new(0);
	wait(a.port, Duration::from_secs(900), |port| {
		while let Some((_, id)) = actors.get(done.load(Ordering::Relaxed)) {
			let applied = rpc_call(port, "rollup_operationStatus", json!([id, last_nonce]))
				.ok()
				.is_some_and(|v| v["status"] != json!("unknown"));
			if !applied {
				return false;
			}
			done.fetch_add(1, Ordering::Relaxed);
		}
		true
	})?;
	let end_block =
		number(&rpc_call(a.port, "chain_getHeader", json!([])).map_err(|e| e.0)?["number"]);

	// Count the L2 operations (unsigned `Rollup.submit` extrinsics: all but the timestamp) per
	// block and time the blocks that held them.
	let mut per_block = Vec::new();
	for n in start_block + 1..=end_block {
		let hash = rpc_call(a.port, "chain_getBlockHash", json!([n])).map_err(|e| e.0)?;
		let block = rpc_call(a.port, "chain_getBlock", json!([hash])).map_err(|e| e.0)?;
		let xts = block["block"]["extrinsics"].as_array().map(Vec::len).unwrap_or(1);
		per_block.push((n, xts.saturating_sub(1)));
	}
	let busy: Vec<&(u64, usize)> = per_block.iter().filter(|(_, c)| *c > 0).collect();
	let included: usize = busy.iter().map(|(_, c)| c).sum();
	let max = busy.iter().map(|(_, c)| *c).max().unwrap_or(0);
	let (first, last) = (busy.first().map(|b| b.0), busy.last().map(|b| b.0));
	println!("blocks #{}..#{}: {per_block:?}", start_block + 1, end_block);
	if included != total - refused.len() {
		println!("note: {included} included, {} accepted", total - refused.len());
	}
	if let (Some(first), Some(last)) = (first, last) {
		let span = timestamp(a.port, last)?.saturating_sub(timestamp(a.port, first - 1)?);
		println!(
			"included {included} L2 operations in {} blocks (#{first}..#{last}), at most {max} per \
			 block: {:.0} operations/s over {:.0} s of block time",
			last - first + 1,
			included as f64 / (span as f64 / 1000.0),
			span as f64 / 1000.0
		);
	}
	if a.until_proven {
		let ops: Vec<(ParticipantId, u32)> = actors
			.iter()
			.flat_map(|(_, id)| (0..a.ops_per_actor as u32).map(move |nonce| (*id, nonce)))
			.collect();
		until_proven(a.port, &ops)?;
	}
	Ok(())
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_millis() as u64)
		.unwrap_or_default()
}

/// Waits until the batches of `ops` are proven; prints inclusion-to-proven times.
fn until_proven(port: u16, ops: &[(ParticipantId, u32)]) -> Result<(), String> {
	let mut placed = Vec::with_capacity(ops.len());
	for (actor, nonce) in ops {
		let st =
			rpc_call(port, "rollup_operationStatus", json!([actor, nonce])).map_err(|e| e.0)?;
		let (batch, block) = (st["batch"].as_u64(), st["block"].as_u64());
		placed.push((batch.ok_or(format!("no batch: {st}"))?, block.ok_or("no block")?));
	}
	let mut stamps = std::collections::BTreeMap::new();
	for (_, block) in &placed {
		if !stamps.contains_key(block) {
			stamps.insert(*block, timestamp(port, *block)?);
		}
	}
	let last_batch = placed.iter().map(|p| p.0).max().unwrap_or(0);
	let mut proven_at = std::collections::BTreeMap::new();
	let deadline = Instant::now() + Duration::from_secs(3_600);
	while proven_at.len() as u64 <= last_batch {
		if Instant::now() > deadline {
			return Err(format!("batch {last_batch} not proven within an hour"));
		}
		let st = rpc_call(port, "rollup_status", json!([])).map_err(|e| e.0)?;
		if let Some(p) = st["lastProven"].as_u64() {
			let t = now_ms();
			for b in 0..=p.min(last_batch) {
				proven_at.entry(b).or_insert(t);
			}
		}
		std::thread::sleep(Duration::from_millis(250));
	}
	let mut lat: Vec<f64> = placed
		.iter()
		.map(|(batch, block)| proven_at[batch].saturating_sub(stamps[block]) as f64 / 1000.0)
		.collect();
	lat.sort_by(|x, y| x.total_cmp(y));
	let first_inclusion = stamps.values().min().copied().unwrap_or_default();
	let last_proof = proven_at.values().max().copied().unwrap_or_default();
	let span = last_proof.saturating_sub(first_inclusion) as f64 / 1000.0;
	println!(
		"inclusion to proven over {} operations in batches up to {last_batch}: median {:.1} s, \
		 max {:.1} s; all proven {span:.0} s after the first inclusion ({:.2} operations/s)",
		lat.len(),
		lat[lat.len() / 2],
		lat[lat.len() - 1],
		lat.len() as f64 / span.max(0.001)
	);
	Ok(())
}

/// The timestamp (ms) of block `n`, from `Timestamp::Now` in its state.
fn timestamp(port: u16, n: u64) -> Result<u64, String> {
	let hash = rpc_call(port, "chain_getBlockHash", json!([n])).map_err(|e| e.0)?;
	// twox128("Timestamp") ++ twox128("Now")
	let key = "0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb";
	let v = rpc_call(port, "state_getStorage", json!([key, hash])).map_err(|e| e.0)?;
	let bytes = hex::decode(v.as_str().unwrap_or("0x").trim_start_matches("0x"))
		.map_err(|e| e.to_string())?;
	let mut le = [0u8; 8];
	le[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
	Ok(u64::from_le_bytes(le))
}

fn wait(port: u16, timeout: Duration, mut check: impl FnMut(u16) -> bool) -> Result<(), String> {
	let deadline = Instant::now() + timeout;
	while !check(port) {
		if Instant::now() > deadline {
			return Err(format!("timed out after {timeout:?}"));
		}
		std::thread::sleep(Duration::from_millis(500));
	}
	Ok(())
}
