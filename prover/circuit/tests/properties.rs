//! Property test: random operation sequences of every kind (governance admissions and removals,
//! registrations and credentials of fresh or existing keys included) — the native rules and the
//! circuit agree on every operation (accepted ⇔ satisfiable, with the outcome the rules give),
//! and the accepted ones, proven together as one batch, satisfy the batch circuit with the native
//! public inputs.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use emr_circuit::{
	circuit::{BatchCircuit, BatchWitness},
	witness,
};
use emr_primitives::{
	inbox::InboxEntry,
	ops::{Cid, Operation, Origin, Role, SignedOp},
	rules::{self, AccessOutcome},
	state::RollupState,
	testing::{emergency, Actor},
	F,
};
use emr_state_store::Store;
use proptest::prelude::*;

fn satisfied(w: BatchWitness, public: Option<emr_primitives::inbox::PublicInputs>) -> bool {
	let circuit = BatchCircuit::new(w, public);
	let cs = ConstraintSystem::<F>::new_ref();
	circuit.generate_constraints(cs.clone()).expect("synthesis");
	cs.is_satisfied().expect("check")
}

#[derive(Clone, Debug)]
struct Spec {
	kind: u8,
	actor: usize,
	target: usize,
	grant: u32,
	bits: u8,
	amount: u64,
	block: u32,
	bad_nonce: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
	(
		0u8..14,
		0usize..6,
		0usize..6,
		0u32..4,
		any::<u8>(),
		0u64..3,
		1u32..30,
		prop::bool::weighted(0.1),
	)
		.prop_map(|(kind, actor, target, grant, bits, amount, block, bad_nonce)| Spec {
			kind,
			actor,
			target,
			grant,
			bits,
			amount,
			block,
			bad_nonce,
		})
}

fn op(s: &Spec, cast: &[Actor]) -> Operation {
	let target = cast[s.target].id;
	match s.kind {
		0 => Operation::GrantConsent {
			grantee: target,
			permissions: s.bits & 7,
			purposes: (s.bits >> 3) & 31,
			scope: (s.bits as u32) | 1,
			expires_at: s.block + (s.bits as u32 % 40),
			slot: s.grant,
		},
		1 => Operation::RevokeConsent { grant: s.grant },
		2 => Operation::AccessRecord {
			patient: target,
			grant: s.grant,
			purpose: 1 << (s.bits % 5),
			scope: 1 << (s.bits % 3),
		},
		3 => Operation::AppendRecord {
			patient: target,
			grant: s.grant,
			expected_version: (s.bits % 3) as u32,
			index_head: Cid(vec![s.bits; 8]),
		},
		4 => Operation::SubmitClaim {
			patient: target,
			grant: s.grant,
			record: [s.bits; 32],
			amount: s.amount,
		},
		5 => Operation::DecideClaim {
			patient: target,
			grant: s.grant,
			approve: s.bits & 1 == 1,
			settled: s.amount,
		},
		6 => Operation::RevokeCredential { doctor: target },
		_ => Operation::AccessRecord { patient: target, grant: s.grant, purpose: 1, scope: 1 },
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

	#[test]
	fn native_rules_and_circuit_agree(mut specs in prop::collection::vec(spec(), 4)) {
		// The entries form one batch below, whose blocks never decrease.
		specs.sort_by_key(|s| s.block);
		let dir = tempfile::tempdir().expect("tempdir");
		let mut store = Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment()).expect("open");
		let mut taken = vec![];
		let mut cast: Vec<Actor> = (0..6u64)
			.map(|i| {
				let a = Actor::new(100 + i, taken.len() as u32 + 1);
				taken.push(a.id);
				a
			})
			.collect();
		// 0 hospital, 1 insurer, 2 researcher, 3 and 4 patients, 5 doctor.
		let mut setup: Vec<InboxEntry> = vec![
			cast[0].admit(Role::Hospital, 1),
			cast[1].admit(Role::Insurer, 1),
			cast[2].admit(Role::Researcher, 1),
		];
		setup.push(cast[3].register(1));
		setup.push(cast[4].register(1));
		setup.push(cast[5].register_as(Role::Doctor, 1));
		let doctor = cast[5].id;
		setup.push(cast[0].sign(Operation::CredentialDoctor { doctor }, 1));
		for e in &setup {
			rules::apply_entry(&mut store, e).expect("setup applies");
		}
		let start_root = store.root();
		let mut accepted = vec![];
		for s in &specs {
			let actor = s.actor;
			cast[actor].nonce = store.participant(cast[actor].id).map(|p| p.nonce).unwrap_or(0)
				+ s.bad_nonce as u32;
			// A fresh key, the same for the same spec (so a sequence may register it twice).
			// Ids are assigned in order: a new participant gets the next one.
			let next = store.header().participants + 1;
			let fresh = |base: u64| Actor::new(base + s.bits as u64 + 256 * s.grant as u64, next);
			let roles =
				[Role::Hospital, Role::Insurer, Role::Researcher, Role::Auditor, Role::Patient, Role::Doctor];
			let entry = match s.kind {
				9 => {
					let hospital = cast[0].clone();
					let patient = cast[s.target].id;
					emergency(&mut cast[actor], &hospital, patient, s.grant, s.bits as u16, s.block)
				},
				// A new participant with any role (only patients and doctors register), or an
				// existing participant registering again.
				10 if s.bits & 1 == 0 => {
					let role = roles[(s.bits as usize >> 1) % roles.len()];
					fresh(1_000).register_as(role, s.block)
				},
				10 => {
					let mut again = cast[s.target].clone();
					again.nonce = 0;
					again.register(s.block)
				},
				// Governance admits a new member or an existing one, with any role, with the
				// admitted key's proof of possession or a signature by another key.
				11 => {
					let role = roles[s.bits as usize % roles.len()];
					let mut e = if s.bits & 8 == 0 {
						fresh(2_000).admit(role, s.block)
					} else {
						cast[s.target].admit(role, s.block)
					};
					if s.bits & 16 != 0 {
						e.op = e.op.sign(&cast[actor].key, &emr_primitives::testing::deployment());
					}
					e
				},
				// Governance removes anyone.
				12 => InboxEntry {
					op: SignedOp {
						actor: cast[s.target].id,
						nonce: 0,
						op: Operation::RemoveMember,
						signature: [0; 64],
					},
					origin: Origin::Governance,
					block: s.block,
				},
				// Anyone credentials anyone of the cast, or the participant a registration of
				// kind 10 with the same spec bits would make.
				13 => {
					let doctor =
						if s.bits & 1 == 0 { fresh(1_000).id } else { cast[s.target].id };
					cast[actor].sign(Operation::CredentialDoctor { doctor }, s.block)
				},
				_ => {
					let o = op(s, &cast);
					cast[actor].sign(o, s.block)
				},
			};
			let root = witness::BatchStart::of(&store);
			let probe = witness::slot_witness(&mut store, &entry, false);
			let native = rules::apply_entry(&mut store, &entry);
			let granted = matches!(&native, Ok(fx) if fx.outcome == Some(AccessOutcome::Granted));
			let ok = match probe {
				Ok(mut slot) => {
					slot.granted = granted;
					satisfied(
						root.witness(1, vec![slot]),
						None,
					)
				},
				// No witness at all: the rules must refuse it for the same reason.
				Err(e) => {
					prop_assert_eq!(native.clone().err(), Some(e), "{:?}", s);
					false
				},
			};
			prop_assert_eq!(ok, native.is_ok(), "{:?} → native {:?}", s, native);
			if native.is_ok() {
				accepted.push(entry);
			}
		}
		// The accepted operations as one batch from the start state.
		let dir2 = tempfile::tempdir().expect("tempdir");
		let mut replay = Store::open(dir2.path().join("s.redb"), emr_primitives::testing::deployment()).expect("open");
		for e in &setup {
			rules::apply_entry(&mut replay, e).expect("setup applies");
		}
		prop_assert_eq!(replay.root(), start_root);
		let (w, public, _) = witness::build(&mut replay, 2, &accepted, accepted.len() + 1)
			.expect("accepted entries replay");
		prop_assert_eq!(public.new_root, store.root());
		prop_assert!(satisfied(w, Some(public)));
	}
}
