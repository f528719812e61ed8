//! (g) Every actor through the `emr` command line against a real `--dev` node with the prover
//! inside: people register, a hospital credentials its doctor, a patient shares with the
//! hospital and an insurer, the doctor reads and writes a record whose index head is on chain,
//! an outsider is refused and logged, the insurer
//! files a claim and decides it, the doctor opens emergency access co-signed by the hospital,
//! the patient revokes and the doctor is refused, the patient reads the access log, and an
//! operation is followed to *proven*. Each refusal is checked for its words.

use std::{path::Path, time::Duration};

use emr_tests::{
	cli::{alter_one_byte, field, Emr, PASSPHRASE},
	dev_prover_keys, Node, NodeConfig, Result, TempDir,
};

fn start_node(dir: &Path) -> Result<Node> {
	let keys = dev_prover_keys()?;
	let mut config = NodeConfig::new("client", &dir.join("client"))?;
	config.dev = true;
	config.extra = vec!["--prover".into(), "--prover-keys".into(), keys.display().to_string()];
	let mut node = Node::start(config)?;
	node.wait_rpc_ready(Duration::from_secs(60))?;
	Ok(node)
}

#[test]
fn every_actor_works_through_emr_and_each_refusal_is_said_in_words() -> Result<()> {
	let dir = TempDir::new("emr-client")?;
	let node = start_node(dir.path())?;
	let emr = Emr::new(&dir.path().join("emr"), &node.rpc_url());

	// Key sets: the dev chain's hospital (Alice) and insurer (Eve) by their published dev keys;
	// three people with fresh keys.
	emr.ok("hospital", &["keys", "new", "--dev", "Alice"]);
	emr.ok("insurer", &["keys", "new", "--dev", "Eve"]);
	for person in ["patient", "doctor", "outsider"] {
		emr.ok(person, &["keys", "new"]);
	}

	// Before anything: words for an unreachable node and for an unregistered key set.
	let nowhere = emr_tests::CLOSED_ADDRESS;
	let elsewhere = Emr::new(&emr.data, nowhere);
	let out = elsewhere.run("patient", &["whoami"], PASSPHRASE);
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(!out.status.success() && stderr.contains("no node reachable"), "{stderr}");
	let stderr = emr.fails("patient", &["whoami"]);
	assert!(stderr.contains("is not registered on this chain"), "{stderr}");

	// People register themselves (no tokens) and learn their ids.
	let reg = emr.ok("patient", &["register", "--wait", "included"]);
	let patient = field(&reg, "participant");
	assert!(reg.contains("registration: included"), "{reg}");
	let doctor = field(&emr.ok("doctor", &["register", "--role", "doctor"]), "participant");
	let outsider = field(&emr.ok("outsider", &["register", "--wait", "included"]), "participant");
	let stderr = emr.fails("patient", &["register"]);
	assert!(stderr.contains("already registered"), "{stderr}");
	let hospital = field(&emr.ok("hospital", &["whoami"]), "participant");
	assert_eq!(field(&emr.ok("hospital", &["whoami"]), "role"), "Hospital");
	let insurer = field(&emr.ok("insurer", &["whoami"]), "participant");

	// The hospital credentials its doctor, waiting for GRANDPA finality.
	let out = emr.ok("hospital", &["doctor", "credential", &doctor, "--wait", "finalized"]);
	assert!(out.contains("credential: finalized in block #"), "{out}");
	assert_eq!(field(&emr.ok("doctor", &["whoami"]), "hospital"), hospital);
	let stderr = emr.fails("patient", &["doctor", "credential", &doctor]);
	assert!(stderr.contains("only an admitted hospital may do this"), "{stderr}");

	// The patient shares with the hospital; its doctor reads; the outsider is refused.
	let out = emr.ok(
		"patient",
		&["consent", "grant", "--to", &hospital, "--permissions", "read,write", "--expires", "1h"],
	);
	let hospital_slot = field(&out, "slot");
	let out = emr.ok("doctor", &["access", "--patient", &patient]);
	assert_eq!(field(&out, "outcome"), "GRANTED", "{out}");
	let stderr = emr.fails("outsider", &["access", "--patient", &patient]);
	assert!(stderr.contains("access refused") && stderr.contains("access log"), "{stderr}");

	// The doctor writes a record: encrypted for the patient (its key read from the registry),
	// stored, and the index head appended on chain under the hospital's WRITE consent. The
	// patient reads it starting from the chain's head; the outsider cannot open it.
	let file = dir.path().join("observation.json");
	let content = br#"{"resourceType":"Observation","valueQuantity":{"value":13.9,"unit":"g/dL"}}"#;
	std::fs::write(&file, content).expect("write the record");
	let file = file.display().to_string();
	let put = emr.ok(
		"doctor",
		&[
			"record",
			"put",
			&file,
			"--patient",
			&patient,
			"--chain",
			"--type",
			"Observation",
			"--wait",
			"finalized",
		],
	);
	assert!(put.contains("record index update: finalized"), "{put}");
	let record = field(&put, "record");
	let copy = dir.path().join("copy.json").display().to_string();
	emr.ok("patient", &["record", "get", &record, "--chain", "--out", &copy]);
	assert_eq!(std::fs::read(&copy).expect("read the copy"), content);
	// Someone else's record is read only after a logged access attempt: refused for the outsider.
	let stderr = emr.fails("outsider", &["record", "get", &record, "--chain", "--out", &copy]);
	assert!(stderr.contains("access refused"), "{stderr}");
	// The doctor's read performs its own GRANTED access attempt.
	emr.ok("doctor", &["record", "get", &record, "--chain", "--out", &copy]);
	// A second version of the index builds on the chain's head (version 1 → 2).
	let put = emr.ok("patient", &["record", "put", &file, "--patient", &patient, "--chain"]);
	assert!(put.contains("record index update: included"), "{put}");
	let index = emr.ok("patient", &["index", "show", "--patient", &patient, "--chain"]);
	assert!(index.contains("2 entries, 2 visible"), "{index}");
	// A write built on version 1 after version 2 was written: the chain's version check refuses
	// the lost update, in words, and the chain's index stays as it was.
	let stderr = emr.fails(
		"patient",
		&["record", "put", &file, "--patient", &patient, "--chain", "--if-version", "1"],
	);
	assert!(stderr.contains("the record index changed since you read it"), "{stderr}");
	let index = emr.ok("patient", &["index", "show", "--patient", &patient, "--chain"]);
	assert!(index.contains("2 entries, 2 visible"), "{index}");

	// A consent that would already be over is refused in words, and changes nothing.
	let stderr =
		emr.fails("patient", &["consent", "grant", "--to", &insurer, "--expires", "block:1"]);
	assert!(stderr.contains("that expiry has already passed"), "{stderr}");
	// A wrong passphrase is said as such.
	let stderr = emr.fails_with("patient", &["consent", "revoke", &hospital_slot], "wrong");
	assert!(stderr.contains("passphrase is wrong"), "{stderr}");

	// The insurer: time-limited CLAIM+READ consent, a claim, its decision.
	let stderr = emr.fails(
		"insurer",
		&[
			"claim",
			"submit",
			"--patient",
			&patient,
			"--amount",
			"500",
			"--record",
			&"ab".repeat(32),
		],
	);
	assert!(stderr.contains("has not given you claim consent"), "{stderr}");
	let out = emr.ok(
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
			"2h",
		],
	);
	let insurer_slot = field(&out, "slot");
	assert_ne!(insurer_slot, hospital_slot);
	let out = emr.ok(
		"insurer",
		&["access", "--patient", &patient, "--purpose", "insurance", "--wait", "included"],
	);
	assert_eq!(field(&out, "outcome"), "GRANTED", "{out}");
	emr.ok(
		"insurer",
		&[
			"claim",
			"submit",
			"--patient",
			&patient,
			"--amount",
			"500",
			"--record",
			&"ab".repeat(32),
		],
	);
	let out = emr.ok(
		"insurer",
		&["claim", "decide", "--patient", &patient, "--grant", &insurer_slot, "--approve", "450"],
	);
	assert!(out.contains("approved, 450 settled"), "{out}");
	let claims = emr.ok("insurer", &["claim", "list", "--patient", &patient]);
	assert!(claims.contains("Approved") && claims.contains("amount 500 settled 450"), "{claims}");

	// Emergency access, co-signed by the doctor's hospital.
	let out = emr.ok(
		"doctor",
		&[
			"emergency",
			"--patient",
			&patient,
			"--reason",
			"3",
			"--hospital-key",
			"hospital",
			"--wait",
			"finalized",
		],
	);
	assert!(out.contains("emergency access: finalized"), "{out}");
	let emergency_slot =
		field(&out, "slot").split_whitespace().next().unwrap_or_default().to_owned();
	let grants = emr.ok("patient", &["consent", "list"]);
	assert!(grants.contains("EMERGENCY"), "{grants}");

	// The patient reviews the emergency access and ends it, and revokes the hospital's consent:
	// the doctor is refused from then on. The revocation is followed until its batch's proof is
	// verified on chain.
	emr.ok("patient", &["consent", "revoke", &emergency_slot, "--wait", "included"]);
	let out = emr.ok("patient", &["consent", "revoke", &hospital_slot, "--wait", "proven"]);
	assert!(out.contains("consent revocation: proven"), "{out}");
	let stderr = emr.fails("doctor", &["access", "--patient", &patient, "--wait", "included"]);
	assert!(stderr.contains("access refused"), "{stderr}");

	// The auditor: every proven batch checked (operations, proof, roots), evidence saved; the
	// same evidence with one byte altered (a proof, an operation, a root) is refused.
	let saved = dir.path().join("evidence.json");
	let saved_arg = saved.display().to_string();
	let out = emr.ok("patient", &["audit", "--save", &saved_arg]);
	assert!(out.contains("agree") && out.contains("proof verified"), "{out}");
	let evidence: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(&saved).expect("evidence")).expect("json");
	for (field_path, what) in [
		("/batches/1/proof", "proof"),
		("/batches/1/entries/0", "operation"),
		("/batches/1/newRoot", "root"),
	] {
		let mut altered = evidence.clone();
		let value = altered.pointer_mut(field_path).expect("field present");
		*value = serde_json::Value::String(alter_one_byte(value.as_str().expect("hex")));
		let path = dir.path().join(format!("altered-{what}.json"));
		std::fs::write(&path, altered.to_string()).expect("write");
		let stderr = emr.fails("patient", &["audit", "--evidence", &path.display().to_string()]);
		assert!(stderr.contains("AUDIT FAILED: batch 1"), "{what}: {stderr}");
	}

	// The patient's access log: who, what, when, why, the outcome.
	let log = emr.ok("patient", &["log"]);
	// Columns: index, block, who, what, slot, purpose, outcome.
	let rows: Vec<Vec<&str>> = log
		.lines()
		.map(|l| l.split_whitespace().collect::<Vec<_>>())
		.filter(|c| c.len() == 7 && c[3] == "AccessRecord")
		.collect();
	let logged = |who: &str, outcome: &str| rows.iter().any(|c| c[2] == who && c[6] == outcome);
	assert!(logged(&doctor, "GRANTED"), "{log}");
	assert!(logged(&outsider, "DENIED"), "{log}");
	assert!(logged(&doctor, "DENIED"), "{log}");
	assert!(logged(&insurer, "GRANTED"), "{log}");
	assert!(log.contains("EmergencyAccess") && log.contains("SubmitClaim"), "{log}");

	// `emr status` shows an earlier operation's level: the doctor's registration is proven by
	// now (its batch preceded the revocation's).
	let status = emr.ok("patient", &["status", &doctor, "0"]);
	assert!(status.contains("proven") || status.contains("settled"), "{status}");
	Ok(())
}
