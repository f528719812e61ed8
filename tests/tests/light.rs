//! (h) The light client: `emr --light CHAIN_SPEC` runs smoldot inside the process, joins a real
//! `--dev` node from the committed raw chain spec, follows GRANDPA finality and reads through
//! storage and call proofs. What it reads equals the full node's answer; operations go through
//! the node; `emr audit --patient` checks a patient's access log and grants against a storage
//! proof and refuses evidence whose proof or header was altered by one byte.

use std::time::Duration;

use emr_tests::{
	cli::{alter_one_byte, field, Emr},
	devnet::{node_key, peer_id},
	repo_root, Node, NodeConfig, Result, TempDir,
};

/// Lines of `output` after its first (which names the block it was read at).
fn body(output: &str) -> Vec<&str> {
	output.lines().skip(1).collect()
}

#[test]
fn the_light_client_reads_what_the_node_says_and_audits_a_patient_by_storage_proof() -> Result<()> {
	let dir = TempDir::new("emr-light")?;
	let key = node_key(0);
	let mut config = NodeConfig::new("light", &dir.path().join("node"))?;
	config.dev = true;
	config.node_key = Some(key.clone());
	let mut node = Node::start(config)?;
	node.wait_rpc_ready(Duration::from_secs(60))?;
	assert_eq!(node.peer_id(), peer_id(dir.path(), &key)?, "the node's peer id is its key's");
	let bootnode = node.p2p_address();
	let spec = repo_root().join("chain-specs/dev-raw.json");

	let full = Emr::new(&dir.path().join("emr"), &node.rpc_url());
	let light = full.light(&spec, &bootnode);
	full.ok("insurer", &["keys", "new", "--dev", "Eve"]);
	full.ok("patient", &["keys", "new"]);
	full.ok("outsider", &["keys", "new"]);

	// The patient registers from the light client: submitted through the node, the id read
	// through the light client once finalized.
	let out =
		light.run("patient", &["register", "--wait", "finalized"], emr_tests::cli::PASSPHRASE);
	let (stdout, stderr) =
		(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	assert!(out.status.success(), "light register failed:\n{stdout}\n{stderr}");
	assert!(stderr.contains("light client: following the chain, finalized block #"), "{stderr}");
	assert!(stdout.contains("registration: finalized in block #"), "{stdout}");
	let patient = field(&stdout, "participant");
	let insurer = field(&full.ok("insurer", &["whoami"]), "participant");
	full.ok("outsider", &["register", "--wait", "finalized"]);

	// A grant, an access under it, a refused access: three log entries, one grant.
	full.ok(
		"patient",
		&[
			"consent",
			"grant",
			"--to",
			&insurer,
			"--permissions",
			"read,claim",
			"--purposes",
			"insurance",
			"--expires",
			"1d",
			"--wait",
			"finalized",
		],
	);
	full.ok(
		"insurer",
		&["access", "--patient", &patient, "--purpose", "insurance", "--wait", "finalized"],
	);
	let refused = full.fails("outsider", &["access", "--patient", &patient, "--wait", "finalized"]);
	assert!(refused.contains("access refused"), "{refused}");
	// The node answers at its best block, the light client at its finalized one, which follows
	// a few blocks behind: the log is read through both until they agree (nothing is submitted
	// meanwhile), for at most 90 s; then what the light client reads equals the node's answer.
	let deadline = std::time::Instant::now() + Duration::from_secs(90);
	let (by_node, by_light) = loop {
		let by_node = full.ok("patient", &["log"]);
		let by_light = light.ok("patient", &["log"]);
		if by_light == by_node || std::time::Instant::now() > deadline {
			break (by_node, by_light);
		}
		std::thread::sleep(Duration::from_secs(2));
	};
	assert_eq!(by_light, by_node, "the access log through the light client and the node");
	assert!(by_node.contains("3 entries"), "{by_node}");
	assert!(by_node.contains("DENIED") && by_node.contains("GRANTED"), "{by_node}");
	let by_node = full.ok("patient", &["consent", "list"]);
	let by_light = light.ok("patient", &["consent", "list"]);
	assert_eq!(body(&by_light), body(&by_node), "grants:\n{by_light}\n{by_node}");
	assert!(by_node.contains("READ,CLAIM"), "{by_node}");
	for who in ["patient", "insurer"] {
		assert_eq!(light.ok(who, &["whoami"]), full.ok(who, &["whoami"]), "whoami of {who}");
	}
	// The registration's level: the light client reads it from its own finalized block (the
	// operation's place there), not from the node's word.
	let by_node = full.ok("patient", &["status", &patient, "0"]);
	let by_light = light.ok("patient", &["status", &patient, "0"]);
	assert_eq!(by_light, by_node, "the registration's level");
	assert!(by_node.contains(&format!("operation {patient} 0: finalized")), "{by_node}");

	// The audit of the patient's log and grants: a storage proof against the state root of the
	// block the light client saw finalized, and the chain's own answer at that block.
	let evidence = dir.path().join("patient-evidence.json");
	let evidence_arg = evidence.display().to_string();
	let out = light.ok("patient", &["audit", "--patient", &patient, "--save", &evidence_arg]);
	assert!(out.contains("access log: 3 entries, every one in the proof"), "{out}");
	assert!(out.contains("grants:     1 held in 1 slot(s)"), "{out}");
	assert!(out.contains("agree with the storage proof (and with the light client)"), "{out}");
	let out = full.ok("patient", &["audit", "--patient", &patient]);
	assert!(out.contains("agree with the storage proof (and with the node at ws://"), "{out}");
	// The saved evidence checks again with no chain at all.
	let offline = Emr::new(&dir.path().join("emr"), "127.0.0.1:9");
	let out = offline.ok("patient", &["audit", "--evidence", &evidence_arg]);
	assert!(out.contains("agree with the storage proof"), "{out}");

	// One byte altered in the storage proof, then in the header: refused, with the reason.
	let text = std::fs::read_to_string(&evidence).map_err(|e| emr_tests::Error(e.to_string()))?;
	let original: serde_json::Value =
		serde_json::from_str(&text).map_err(|e| emr_tests::Error(e.to_string()))?;
	for (path, why) in [
		("/proof/0", "the storage proof does not hold against block #"),
		("/header", "the header does not hash to block"),
	] {
		let mut altered = original.clone();
		let value = altered.pointer_mut(path).expect("the evidence has the field");
		*value = serde_json::Value::String(alter_one_byte(value.as_str().expect("hex")));
		let file = dir.path().join("altered.json");
		std::fs::write(&file, altered.to_string()).map_err(|e| emr_tests::Error(e.to_string()))?;
		let stderr =
			offline.fails("patient", &["audit", "--evidence", &file.display().to_string()]);
		assert!(stderr.contains("AUDIT FAILED") && stderr.contains(why), "{path}: {stderr}");
	}

	// Two operations from the light client in quick succession: the second is signed while the
	// first is in a block not yet final (the light client still sees the finalized nonce), and
	// takes the next nonce all the same.
	let outsider = field(&full.ok("outsider", &["whoami"]), "participant");
	let out = light.ok(
		"patient",
		&[
			"consent",
			"grant",
			"--to",
			&outsider,
			"--permissions",
			"read",
			"--purposes",
			"research",
			"--expires",
			"1h",
			"--wait",
			"included",
		],
	);
	assert!(out.contains("slot:        1"), "{out}");
	let out = light.ok("patient", &["consent", "revoke", "1", "--wait", "included"]);
	assert!(out.contains(" in block #"), "{out}");

	// A light client that reaches no node says so in words.
	let absent = format!("/ip4/127.0.0.1/tcp/9/p2p/{}", peer_id(dir.path(), &node_key(7))?);
	let nowhere = full.light(&spec, &absent);
	let out = nowhere.run("patient", &["log", "--light-timeout", "10"], emr_tests::cli::PASSPHRASE);
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(
		!out.status.success() && stderr.contains("no finalized block from the network"),
		"{stderr}"
	);
	drop(node);
	Ok(())
}
