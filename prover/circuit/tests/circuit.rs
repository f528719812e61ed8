//! The batch circuit against the native rules.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use emr_circuit::{circuit::BatchCircuit, witness};
use emr_primitives::{
	inbox::InboxEntry,
	ops::{permission, purpose, scope, Cid, Operation, Role},
	testing::{emergency, Actor},
	F,
};
use emr_state_store::Store;

fn satisfied(circuit: &BatchCircuit) -> (bool, usize, Option<String>) {
	let cs = ConstraintSystem::<F>::new_ref();
	circuit.generate_constraints(cs.clone()).expect("synthesis");
	let ok = cs.is_satisfied().expect("satisfiable check");
	let which = if ok { None } else { cs.which_is_unsatisfied().ok().flatten() };
	(ok, cs.num_constraints(), which)
}

struct Cast {
	hospital: Actor,
	insurer: Actor,
	researcher: Actor,
	patient: Actor,
	doctor: Actor,
}

fn cast() -> Cast {
	let hospital = Actor::new(1, 1);
	let insurer = Actor::new(2, 2);
	let researcher = Actor::new(3, 3);
	let patient = Actor::new(4, 4);
	let doctor = Actor::new(5, 5);
	Cast { hospital, insurer, researcher, patient, doctor }
}

fn story(c: &mut Cast) -> Vec<InboxEntry> {
	let mut e = vec![
		c.hospital.admit(Role::Hospital, 1),
		c.insurer.admit(Role::Insurer, 1),
		c.researcher.admit(Role::Researcher, 1),
		c.patient.register(2),
	];
	e.push(c.doctor.register_as(Role::Doctor, 2));
	e.push(c.hospital.sign(Operation::CredentialDoctor { doctor: c.doctor.id }, 2));
	e.push(c.patient.sign(
		Operation::GrantConsent {
			grantee: c.hospital.id,
			permissions: permission::READ | permission::WRITE,
			purposes: purpose::TREATMENT,
			scope: scope::ALL,
			expires_at: 1000,
			slot: 0,
		},
		3,
	));
	e.push(c.patient.sign(
		Operation::GrantConsent {
			grantee: c.insurer.id,
			permissions: permission::CLAIM,
			purposes: purpose::INSURANCE,
			scope: 1,
			expires_at: 1000,
			slot: 1,
		},
		3,
	));
	e.push(c.doctor.sign(
		Operation::AppendRecord {
			patient: c.patient.id,
			grant: 0,
			expected_version: 0,
			index_head: Cid(b"bafy-index-1".to_vec()),
		},
		4,
	));
	e.push(c.doctor.sign(
		Operation::AccessRecord {
			patient: c.patient.id,
			grant: 0,
			purpose: purpose::TREATMENT,
			scope: 6,
		},
		4,
	));
	e.push(c.researcher.sign(
		Operation::AccessRecord {
			patient: c.patient.id,
			grant: 0,
			purpose: purpose::RESEARCH,
			scope: 1,
		},
		4,
	));
	e.push(emergency(&mut c.doctor, &c.hospital, c.patient.id, 2, 7, 5));
	e.push(c.insurer.sign(
		Operation::SubmitClaim { patient: c.patient.id, grant: 1, record: [9; 32], amount: 500 },
		5,
	));
	e.push(c.insurer.sign(
		Operation::DecideClaim { patient: c.patient.id, grant: 1, approve: true, settled: 400 },
		6,
	));
	e.push(c.patient.sign(
		Operation::AppendRecord {
			patient: c.patient.id,
			grant: 0,
			expected_version: 1,
			index_head: Cid(b"bafy-index-2".to_vec()),
		},
		6,
	));
	e.push(c.patient.sign(Operation::RevokeConsent { grant: 0 }, 7));
	e.push(c.hospital.sign(Operation::RevokeCredential { doctor: c.doctor.id }, 7));
	e
}

#[test]
fn whole_story_satisfies_the_circuit() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store =
		Store::open(dir.path().join("state.redb"), emr_primitives::testing::deployment())
			.expect("open");
	let mut c = cast();
	let entries = story(&mut c);
	let n = entries.len() + 1;
	let (w, public, fx) = witness::build(&mut store, 1, &entries, n).expect("witness");
	assert_eq!(fx[9].outcome, Some(emr_primitives::rules::AccessOutcome::Granted));
	assert_eq!(fx[10].outcome, Some(emr_primitives::rules::AccessOutcome::Denied));
	let circuit = BatchCircuit::new(w, Some(public));
	let (ok, constraints, which) = satisfied(&circuit);
	println!("{n} slots: {constraints} constraints ({} per slot)", constraints / n);
	assert!(ok, "unsatisfied: {which:?}");
}
