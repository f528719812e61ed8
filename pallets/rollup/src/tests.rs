//! Rollup tests: every call, one `assert_noop!` per error, pool validity, sealing, and Groth16
//! proofs accepted or refused on chain. The proofs are simulated
//! (`emr_primitives::groth16::simulated`: a valid proof of any public inputs under the mock's
//! key), so these tests need no prover; the tests that replay the chain's inbox through the real
//! prover are in `tests/tests/pallet_proofs.rs`. Each test ends with the pallets'
//! `do_try_state`.
// The pool entry point is `ValidateUnsigned` (deprecated upstream, see lib.rs).
#![allow(deprecated)]

use crate::{extension::*, mock::*, *};
use emr_primitives::{
	groth16::{simulated, VerifierError},
	inbox::{self, InboxEntry},
	ops::{kind, permission, purpose, scope, Cid, Operation, Role, EMERGENCY_WINDOW},
	rules::RuleError,
	stored::field_bytes,
	testing::Actor,
};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, dispatch::DispatchInfo, pallet_prelude::*},
	frame_system,
	sp_runtime::{
		traits::{DispatchTransaction, ValidateUnsigned},
		transaction_validity::{InvalidTransaction, TransactionSource},
		BuildStorage, DispatchError,
	},
};

/// Id 1: admitted at genesis.
fn hospital() -> Actor {
	Actor::new(1, 1)
}

/// Id 3: each test registers the patient first.
fn patient() -> Actor {
	Actor::new(2, 3)
}

/// Id 2: admitted at genesis.
fn insurer() -> Actor {
	Actor::new(3, 2)
}

/// Genesis with the hospital and the insurer admitted (batch 0 holds both admissions, ids 1 and
/// 2).
fn ext() -> polkadot_sdk::sp_io::TestExternalities {
	let (h, i) = (hospital(), insurer());
	new_test_ext(vec![(Role::Hospital, h), (Role::Insurer, i)])
}

fn submit(entry: InboxEntry) -> DispatchResult {
	Rollup::submit(RuntimeOrigin::none(), entry.op)
}

fn refused(e: RuleError) -> DispatchError {
	Error::<Test>::Refused(RuleFailure(e)).into()
}

fn check() {
	Rollup::do_try_state().expect("invariants hold");
}

fn grant_read(p: &mut Actor, grantee: u32, slot: u32, expires_at: u32) -> InboxEntry {
	p.sign(
		Operation::GrantConsent {
			grantee,
			permissions: permission::READ | permission::WRITE | permission::CLAIM,
			purposes: purpose::TREATMENT | purpose::INSURANCE,
			scope: scope::ALL,
			expires_at,
			slot,
		},
		0,
	)
}

fn access(a: &mut Actor, patient: u32) -> InboxEntry {
	a.sign(Operation::AccessRecord { patient, grant: 0, purpose: purpose::TREATMENT, scope: 1 }, 0)
}

/// A proof of `batch` over `old_root` as the chain checks it: the mock's key is simulated, so
/// any new root has a valid proof; each batch gets its own (`1000 + batch`).
fn prove(old_root: [u8; 32], batch: u64) -> ([u8; 32], BoundedVec<u8, ConstU32<MAX_PROOF_LEN>>) {
	let info = Batches::<Test>::get(batch).expect("batch exists");
	let new_root = emr_primitives::F::from(1_000 + batch);
	let public = PublicInputs {
		old_root: field_from_bytes(&old_root).expect("canonical"),
		new_root,
		inbox_commitment: field_le(&info.commitment),
		batch,
	};
	(field_bytes(&new_root), simulated::proof_bytes(&public).try_into().expect("fits"))
}

#[test]
fn genesis_admits_members_into_batch_zero() {
	ext().execute_with(|| {
		let h = Registry::participant(hospital().id).expect("hospital");
		assert_eq!(h.role, Role::Hospital);
		assert_eq!(Registry::encryption_key(hospital().id), Some(hospital().enc));
		let b0 = Batches::<Test>::get(0).expect("batch 0");
		assert_eq!(b0.len, 2);
		assert_eq!(Inbox::<Test>::get(0, 0).expect("entry").origin, Origin::Governance);
		assert_eq!(ProvenRoot::<Test>::get(), empty_state_root());
		check();
	});
}

#[test]
fn submit_applies_an_operation_and_extends_the_commitment() {
	ext().execute_with(|| {
		let mut p = patient();
		let e = p.register(1);
		let before = Batches::<Test>::get(0).expect("batch 0").commitment;
		assert_ok!(submit(e.clone()));
		// Batch 0 (the two genesis admissions) was full, so sealed at genesis: the
		// registration opens batch 1.
		let sealed = Batches::<Test>::get(0).expect("batch 0");
		assert_eq!(sealed.commitment, before);
		assert!(sealed.sealed_at.is_some());
		let b1 = Batches::<Test>::get(1).expect("batch 1");
		assert_eq!(b1.len, 1);
		// The chain starts from the deployment id.
		let start = inbox::start(&emr_primitives::testing::deployment());
		let expected = inbox::chain(start, &InboxEntry { block: 1, ..e.clone() });
		assert_eq!(b1.commitment, field_bytes(&expected));
		assert_eq!(Rollup::operation(p.id, 0), Some(OperationRef { batch: 1, index: 0, block: 1 }));
		// The registration named no id: it got the next one after the genesis members (ids in
		// order), and the registry indexes its key.
		assert_eq!(e.op.actor, 0);
		assert_eq!(StateHeader::<Test>::get().participants, 3);
		assert_eq!(Registry::key_id(&p.public()), Some(p.id));
		assert_eq!(Registry::key_id(&hospital().public()), Some(hospital().id));
		System::assert_last_event(
			Event::OperationApplied {
				batch: 1,
				index: 0,
				actor: p.id,
				nonce: 0,
				kind: kind::REGISTER,
				subject: p.id,
				outcome: None,
			}
			.into(),
		);
		check();
	});
}

#[test]
fn submit_refuses_each_rule_by_name_and_changes_nothing() {
	ext().execute_with(|| {
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		// A bad signature.
		let mut bad = p.sign(Operation::RevokeConsent { grant: 0 }, 1);
		// A flipped low bit of `s` (bytes 32..64): still canonical, no longer valid.
		bad.op.signature[32] ^= 1;
		p.nonce -= 1;
		assert_noop!(submit(bad.clone()), refused(RuleError::BadSignature));
		// A valid signature for another deployment.
		let mut elsewhere = p.clone();
		elsewhere.deployment = DeploymentId::named("elsewhere");
		assert_noop!(
			submit(elsewhere.sign(Operation::RevokeConsent { grant: 0 }, 1)),
			refused(RuleError::BadSignature)
		);
		// A replayed nonce: the registration again.
		let mut p2 = patient();
		assert_noop!(submit(p2.register(1)), refused(RuleError::AlreadyRegistered));
		// A rule of §4: revoking a grant that does not exist.
		assert_noop!(
			submit(p.sign(Operation::RevokeConsent { grant: 0 }, 1)),
			refused(RuleError::GrantNotFound)
		);
		// Sponsored, same rules.
		assert_noop!(
			Rollup::submit_sponsored(RuntimeOrigin::signed(9), bad.op),
			refused(RuleError::BadSignature)
		);
		check();
	});
}

#[test]
fn access_without_consent_is_logged_denied_and_with_consent_granted() {
	ext().execute_with(|| {
		let (mut p, mut h) = (patient(), hospital());
		assert_ok!(submit(p.register(1)));
		assert_ok!(submit(access(&mut h, p.id)));
		let (len, log) = Consent::log_page(p.id, 0, 10);
		assert_eq!(len, 1);
		assert_eq!(log[0].outcome, LogOutcome::Denied);
		assert_eq!(log[0].actor, h.id);
		assert!(frame_system::Pallet::<Test>::events().iter().any(|r| r.event
			== Event::OperationApplied {
				batch: 1,
				index: 1,
				actor: h.id,
				nonce: 0,
				kind: kind::ACCESS_RECORD,
				subject: p.id,
				outcome: Some(LogOutcome::Denied),
			}
			.into()));
		run_to(2);
		assert_ok!(submit(grant_read(&mut p, h.id, 0, 100)));
		assert_ok!(submit(access(&mut h, p.id)));
		let (len, log) = Consent::log_page(p.id, 0, 10);
		assert_eq!(len, 3);
		assert_eq!(log[1].outcome, LogOutcome::Recorded);
		assert_eq!(log[2].outcome, LogOutcome::Granted);
		assert_eq!(Rollup::grants_of(p.id).len(), 1);
		check();
	});
}

#[test]
fn append_record_sets_the_index_head_with_version_check() {
	ext().execute_with(|| {
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		let append = |p: &mut Actor, v: u32| {
			p.sign(
				Operation::AppendRecord {
					patient: p.id,
					grant: 0,
					expected_version: v,
					index_head: Cid(b"bafyhead".to_vec()),
				},
				1,
			)
		};
		assert_ok!(submit(append(&mut p, 0)));
		let head = Registry::index_head(p.id).expect("head");
		assert_eq!((head.version, head.author, head.cid.0.as_slice()), (1, p.id, &b"bafyhead"[..]));
		let stale = append(&mut p, 0);
		assert_noop!(submit(stale), refused(RuleError::VersionMismatch));
		check();
	});
}

/// Registers `p` and a new doctor, whom `h` then credentials, at block 1; returns the doctor.
fn registered_with_doctor(p: &mut Actor, h: &mut Actor) -> Actor {
	let mut d = Actor::new(4, 4);
	assert_ok!(submit(p.register(1)));
	assert_ok!(submit(d.register_as(Role::Doctor, 1)));
	assert_ok!(submit(h.sign(Operation::CredentialDoctor { doctor: d.id }, 1)));
	d
}

#[test]
fn emergency_access_is_recorded_for_review_and_notified() {
	ext().execute_with(|| {
		let (mut p, mut h) = (patient(), hospital());
		let mut d = registered_with_doctor(&mut p, &mut h);
		let e = emr_primitives::testing::emergency(&mut d, &h, p.id, 0, 7, 1);
		assert_ok!(submit(e));
		let review = Consent::emergency(p.id, 0).expect("review");
		assert_eq!((review.doctor, review.hospital, review.reason), (d.id, h.id, 7));
		System::assert_has_event(
			Event::EmergencyAccessOpened { patient: p.id, doctor: d.id, grant: 0, reason: 7 }
				.into(),
		);
		assert!(Rollup::grants_of(p.id)[0].emergency.is_some());
		check();
	});
}

#[test]
fn a_grant_slot_is_reused_once_freed_and_refused_while_taken() {
	ext().execute_with(|| {
		let (mut p, mut h) = (patient(), hospital());
		let mut d = registered_with_doctor(&mut p, &mut h);
		// Slot 0: an emergency grant, which lasts EMERGENCY_WINDOW blocks.
		assert_ok!(submit(emr_primitives::testing::emergency(&mut d, &h, p.id, 0, 7, 1)));
		// While it holds, neither a consent nor another emergency may take slot 0.
		let taken = grant_read(&mut p, h.id, 0, 1_000_000);
		p.nonce -= 1;
		assert_noop!(submit(taken), refused(RuleError::SlotTaken));
		let again = emr_primitives::testing::emergency(&mut d, &h, p.id, 0, 8, 1);
		assert_noop!(submit(again), refused(RuleError::SlotTaken));
		// Slot 1: a consent grant that expires at block 5; slot 2 is untouched.
		assert_ok!(submit(grant_read(&mut p, h.id, 1, 5)));
		assert_eq!(Consent::slots_used(p.id), 2);
		let early = grant_read(&mut p, h.id, 1, 100);
		p.nonce -= 1;
		run_to(4);
		assert_noop!(submit(early), refused(RuleError::SlotTaken));
		// From block 5 the expired grant's slot takes a new grant.
		run_to(5);
		assert_ok!(submit(grant_read(&mut p, h.id, 1, 100)));
		assert_eq!(Consent::grant(p.id, 1).map(|g| g.expires_at), Some(100));
		// A revoked slot is free at once.
		assert_ok!(submit(p.sign(Operation::RevokeConsent { grant: 1 }, 5)));
		assert_ok!(submit(grant_read(&mut p, h.id, 1, 200)));
		assert_eq!(Consent::grant(p.id, 1).map(|g| g.expires_at), Some(200));
		// After the emergency window, an ordinary grant replaces the emergency one and its review
		// entry goes (the log keeps the emergency).
		run_to(1 + EMERGENCY_WINDOW as u64);
		assert!(Consent::emergency(p.id, 0).is_some());
		assert_ok!(submit(grant_read(&mut p, h.id, 0, 1_000_000)));
		assert!(Consent::emergency(p.id, 0).is_none());
		assert!(Rollup::grants_of(p.id).iter().all(|g| g.emergency.is_none()));
		assert_eq!(Rollup::grants_of(p.id).len(), 2);
		check();
	});
}

#[test]
fn batches_seal_by_size_and_by_timeout() {
	ext().execute_with(|| {
		let mut p = patient();
		// Batch 0 (genesis admissions) is full: sealed.
		assert_eq!(LastSealed::<Test>::get(), Some(0));
		assert_ok!(submit(p.register(1)));
		assert_eq!(OpenBatch::<Test>::get(), 1);
		// seal_after = 3: still open at block 3, sealed at block 4.
		run_to(3);
		assert_eq!(LastSealed::<Test>::get(), Some(0));
		run_to(4);
		assert_eq!(LastSealed::<Test>::get(), Some(1));
		System::assert_last_event(
			Event::BatchSealed {
				batch: 1,
				entries: 1,
				commitment: Batches::<Test>::get(1).expect("b1").commitment,
			}
			.into(),
		);
		// An empty open batch never seals.
		run_to(20);
		assert_eq!(LastSealed::<Test>::get(), Some(1));
		assert_eq!(Batches::<Test>::get(2), None);
		check();
	});
}

#[test]
fn proofs_are_accepted_in_order_and_bad_ones_refused() {
	ext().execute_with(|| {
		let (mut p, mut h) = (patient(), hospital());
		assert_ok!(submit(p.register(1)));
		assert_ok!(submit(access(&mut h, p.id)));
		assert_eq!(LastSealed::<Test>::get(), Some(1));

		// Batch 1 cannot be proven before batch 0.
		let (root0, proof0) = prove(empty_state_root(), 0);
		let (root1, proof1) = prove(root0, 1);
		let prover = RuntimeOrigin::signed(PROVER);
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 1, root1, proof1.clone()),
			Error::<Test>::BatchOutOfOrder
		);
		// An unregistered prover.
		assert_noop!(
			Rollup::submit_proof(RuntimeOrigin::signed(99), 0, root0, proof0.clone()),
			Error::<Test>::NotAProver
		);
		// A wrong new root.
		let mut wrong = root0;
		wrong[0] ^= 1;
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, wrong, proof0.clone()),
			Error::<Test>::ProofRejected
		);
		// The proof of another batch.
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, root0, proof1.clone()),
			Error::<Test>::ProofRejected
		);
		// A tampered proof: a flipped bit either no longer decodes or no longer verifies.
		let mut tampered = proof0.clone();
		tampered[100] ^= 0x01;
		let r = Rollup::submit_proof(prover.clone(), 0, root0, tampered);
		assert!(
			r == Err(Error::<Test>::ProofRejected.into())
				|| r == Err(Error::<Test>::ProofMalformed.into()),
			"{r:?}"
		);
		// Bytes that are no proof.
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, root0, vec![0u8; 10].try_into().expect("fits")),
			Error::<Test>::ProofMalformed
		);
		// A root that is not a field element.
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, [0xff; 32], proof0.clone()),
			Error::<Test>::RootNotCanonical
		);
		check();
		assert_eq!(
			Rollup::settlement_digest(),
			emr_primitives::settlement::NOTHING_PROVEN,
			"nothing proven, nothing to settle"
		);

		assert_ok!(Rollup::submit_proof(prover.clone(), 0, root0, proof0.clone()));
		let commitment0 = Batches::<Test>::get(0).expect("batch 0 exists").commitment;
		assert_eq!(
			Rollup::settlement_digest(),
			emr_primitives::settlement::digest(0, &root0, &commitment0),
			"the digest of the MMR leaves follows the last proven batch"
		);
		System::assert_last_event(
			Event::BatchProven { batch: 0, new_root: root0, prover: PROVER }.into(),
		);
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, root0, proof0),
			Error::<Test>::BatchAlreadyProven
		);
		assert_ok!(Rollup::submit_proof(prover, 1, root1, proof1));
		let commitment1 = Batches::<Test>::get(1).expect("batch 1 exists").commitment;
		assert_eq!(
			Rollup::settlement_digest(),
			emr_primitives::settlement::digest(1, &root1, &commitment1)
		);
		assert_eq!(LastProven::<Test>::get(), Some(1));
		assert_eq!(ProvenRoot::<Test>::get(), root1);
		check();
	});
}

#[test]
fn a_proof_over_another_old_root_is_refused() {
	ext().execute_with(|| {
		// Batch 0 is proven; batch 1 is then proven by a prover whose state skipped batch 0
		// (its old root is the empty root): the chain supplies batch 0's root as the old root,
		// so the proof is refused.
		let (root0, proof0) = prove(empty_state_root(), 0);
		assert_ok!(Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 0, root0, proof0));
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		run_to(5);
		// The wrong prover's state: only the registration (it never saw the admissions).
		let (root1, proof1) = prove(empty_state_root(), 1);
		assert_noop!(
			Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 1, root1, proof1),
			Error::<Test>::ProofRejected
		);
		check();
	});
}

#[test]
fn proof_errors_before_a_batch_exists_or_is_sealed() {
	new_test_ext(vec![]).execute_with(|| {
		let prover = RuntimeOrigin::signed(PROVER);
		let no_proof: BoundedVec<u8, ConstU32<MAX_PROOF_LEN>> = Default::default();
		assert_noop!(
			Rollup::submit_proof(prover.clone(), 0, [0; 32], no_proof.clone()),
			Error::<Test>::UnknownBatch
		);
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		assert_noop!(
			Rollup::submit_proof(prover, 0, [0; 32], no_proof),
			Error::<Test>::BatchNotSealed
		);
		check();
	});
}

#[test]
fn a_batch_without_a_key_cannot_be_proven() {
	let mut storage =
		frame_system::GenesisConfig::<Test>::default().build_storage().expect("system genesis");
	GenesisConfig::<Test> {
		deployment: emr_primitives::testing::deployment().0,
		params: Some(params()),
		verifying_key: None,
		provers: vec![PROVER],
		members: vec![],
	}
	.assimilate_storage(&mut storage)
	.expect("genesis");
	let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
	ext.execute_with(|| {
		System::set_block_number(1);
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		run_to(5);
		assert_noop!(
			Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 0, [0; 32], Default::default()),
			Error::<Test>::NoVerifyingKey
		);
		check();
	});
}

#[test]
fn governance_admits_and_removes_members() {
	ext().execute_with(|| {
		let r = Actor::new(5, 3);
		let pop = |role| r.admit(role, 1).op.signature;
		let admit = |origin, role, key, signature| {
			Rollup::admit_member(origin, role, key, r.enc, signature)
		};
		assert_noop!(
			admit(RuntimeOrigin::signed(1), Role::Researcher, r.public(), pop(Role::Researcher)),
			DispatchError::BadOrigin
		);
		assert_noop!(
			admit(RuntimeOrigin::root(), Role::Researcher, [0xff; 32], pop(Role::Researcher)),
			refused(RuleError::InvalidKey)
		);
		assert_noop!(
			admit(RuntimeOrigin::root(), Role::Patient, r.public(), pop(Role::Patient)),
			refused(RuleError::InvalidRole)
		);
		// No proof of possession: the key's holder never signed this admission (a signature
		// of another role's admission, of another key, or none).
		assert_noop!(
			admit(RuntimeOrigin::root(), Role::Researcher, r.public(), pop(Role::Auditor)),
			refused(RuleError::BadSignature)
		);
		let other = hospital().admit(Role::Researcher, 1).op.signature;
		assert_noop!(
			admit(RuntimeOrigin::root(), Role::Researcher, r.public(), other),
			refused(RuleError::BadSignature)
		);
		assert_noop!(
			admit(RuntimeOrigin::root(), Role::Researcher, r.public(), [0; 64]),
			refused(RuleError::MalformedSignature)
		);
		assert_ok!(admit(
			RuntimeOrigin::root(),
			Role::Researcher,
			r.public(),
			pop(Role::Researcher)
		));
		System::assert_has_event(Event::MemberAdmitted { id: r.id, role: Role::Researcher }.into());
		let entry = Inbox::<Test>::get(1, 0).expect("governance entry");
		assert_eq!(entry.origin, Origin::Governance);
		assert_ok!(Rollup::remove_member(RuntimeOrigin::root(), r.id));
		System::assert_has_event(Event::MemberRemoved { id: r.id }.into());
		assert!(!Registry::participant(r.id).expect("kept").active);
		assert_noop!(
			Rollup::remove_member(RuntimeOrigin::root(), r.id),
			refused(RuleError::ParticipantInactive)
		);
		check();
	});
}

/// `vk` with α replaced by an x-coordinate that has no point on the curve, and by a point of
/// the curve outside the prime-order subgroup (both compressed).
fn bad_keys(
	vk: &emr_primitives::groth16::VerifyingKey<ark_bls12_381::Bls12_381>,
) -> (Vec<u8>, Vec<u8>) {
	use ark_bls12_381::{Fq, G1Affine};
	use ark_serialize::CanonicalSerialize;
	let encode = |vk: &emr_primitives::groth16::VerifyingKey<ark_bls12_381::Bls12_381>| {
		let mut out = Vec::new();
		vk.serialize_compressed(&mut out).expect("serializes");
		out
	};
	let outside = (1u64..)
		.filter_map(|x| G1Affine::get_point_from_x_unchecked(Fq::from(x), false))
		.find(|p| !p.is_in_correct_subgroup_assuming_on_curve())
		.expect("most curve points are outside the subgroup");
	let no_point = (1u64..)
		.find(|x| G1Affine::get_point_from_x_unchecked(Fq::from(*x), false).is_none())
		.expect("half of all x have no point");
	let mut off_curve = encode(vk);
	let mut x = Vec::new();
	Fq::from(no_point).serialize_compressed(&mut x).expect("serializes");
	// Compressed G1: big-endian x with the three flag bits in the first byte (0x80 = compressed).
	x.reverse();
	x[0] |= 0x80;
	off_curve[..48].copy_from_slice(&x);
	let mut with_outside = vk.clone();
	with_outside.alpha_g1 = outside;
	(off_curve, encode(&with_outside))
}

#[test]
fn verifying_keys_are_validated_when_registered() {
	ext().execute_with(|| {
		let good = simulated::key_bytes();
		assert_noop!(
			Rollup::set_verifying_key(RuntimeOrigin::root(), good.clone(), 0),
			Error::<Test>::InvalidBatchSize
		);
		assert_noop!(
			Rollup::set_verifying_key(RuntimeOrigin::root(), vec![0; MAX_VK_LEN as usize + 1], 2),
			Error::<Test>::VerifyingKeyTooLong
		);
		// A point that is not on the curve, and one on the curve outside the subgroup, each
		// with its own error.
		let key_error = |e| Error::<Test>::InvalidVerifyingKey(KeyFailure(e));
		let (off_curve, outside) =
			bad_keys(&simulated::key(&simulated::trapdoor(PublicInputs::LEN)));
		assert_noop!(
			Rollup::set_verifying_key(RuntimeOrigin::root(), off_curve, 2),
			key_error(VerifierError::VkMalformed)
		);
		assert_noop!(
			Rollup::set_verifying_key(RuntimeOrigin::root(), outside, 2),
			key_error(VerifierError::VkPointNotInSubgroup)
		);
		assert_noop!(
			Rollup::set_verifying_key(RuntimeOrigin::root(), good[..good.len() - 1].to_vec(), 2),
			Error::<Test>::InvalidVerifyingKey(KeyFailure(VerifierError::VkMalformed))
		);
		assert_ok!(Rollup::set_verifying_key(RuntimeOrigin::root(), good.clone(), 4));
		System::assert_last_event(
			Event::VerifyingKeySet {
				id: 1,
				hash: emr_primitives::groth16::vk_hash(&good),
				batch_size: 4,
			}
			.into(),
		);
		assert_eq!(Rollup::status().verifying_key.map(|k| k.2), Some(4));
		check();
	});
}

#[test]
fn a_new_key_seals_the_open_batch() {
	ext().execute_with(|| {
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		assert_eq!(LastSealed::<Test>::get(), Some(0));
		assert_ok!(Rollup::set_verifying_key(
			RuntimeOrigin::root(),
			simulated::key_bytes(),
			SLOTS as u32
		));
		assert_eq!(LastSealed::<Test>::get(), Some(1));
		check();
	});
}

#[test]
fn batch_params_and_provers_are_governed() {
	ext().execute_with(|| {
		let p = BatchParams { seal_after: 0, ..params() };
		assert_noop!(
			Rollup::set_batch_params(RuntimeOrigin::root(), p),
			Error::<Test>::InvalidBatchParams
		);
		let p = BatchParams { seal_after: 9, ..params() };
		assert_ok!(Rollup::set_batch_params(RuntimeOrigin::root(), p));
		System::assert_last_event(Event::BatchParamsSet { params: p }.into());
		assert_noop!(
			Rollup::add_prover(RuntimeOrigin::root(), PROVER),
			Error::<Test>::AlreadyAProver
		);
		assert_ok!(Rollup::add_prover(RuntimeOrigin::root(), 8));
		System::assert_last_event(Event::ProverAdded { who: 8 }.into());
		assert_noop!(Rollup::add_prover(RuntimeOrigin::root(), 9), Error::<Test>::TooManyProvers);
		assert_ok!(Rollup::remove_prover(RuntimeOrigin::root(), 8));
		System::assert_last_event(Event::ProverRemoved { who: 8 }.into());
		assert_noop!(Rollup::remove_prover(RuntimeOrigin::root(), 8), Error::<Test>::NotAProver);
		assert_noop!(Rollup::add_prover(RuntimeOrigin::signed(1), 8), DispatchError::BadOrigin);
		check();
	});
}

#[test]
fn the_block_cap_refuses_operations_beyond_it() {
	ext().execute_with(|| {
		assert_ok!(Rollup::set_batch_params(
			RuntimeOrigin::root(),
			BatchParams { max_ops_per_block: 1, ..params() }
		));
		let mut p = patient();
		let mut q = Actor::new(6, 4);
		assert_ok!(submit(p.register(1)));
		let e = q.register(1);
		assert_noop!(submit(e.clone()), Error::<Test>::BlockFull);
		let call = Call::<Test>::submit { op: e.op.clone() };
		assert_eq!(
			<Rollup as ValidateUnsigned>::pre_dispatch(&call),
			Err(InvalidTransaction::ExhaustsResources.into())
		);
		run_to(2);
		assert_ok!(submit(e));
		check();
	});
}

#[test]
fn the_pool_checks_signatures_nonces_and_queues() {
	ext().execute_with(|| {
		let mut p = patient();
		let validate = |e: &InboxEntry| {
			Rollup::validate_unsigned(
				TransactionSource::External,
				&Call::submit { op: e.op.clone() },
			)
		};
		let reg = p.register(1);
		let v = validate(&reg).expect("valid");
		assert!(v.requires.is_empty());
		// Queued behind the registration: signature checked, requires the previous nonce. The
		// actor does not exist yet, so its operations cannot be queued.
		let queued = grant_read(&mut p, hospital().id, 0, 100);
		assert_eq!(
			validate(&queued),
			Err(InvalidTransaction::Custom(rule_code(RuleError::UnknownActor)).into())
		);
		assert_ok!(submit(reg.clone()));
		let v = validate(&queued).expect("next nonce is valid");
		assert_eq!(v.provides, vec![("EmrL2Op", (p.id, 1u32)).encode()]);
		assert!(v.requires.is_empty());
		// Three queued ahead are allowed (max_queued_per_actor = 3), the fourth is not.
		let q2 = grant_read(&mut p, hospital().id, 1, 100);
		let q3 = grant_read(&mut p, hospital().id, 2, 100);
		let q4 = grant_read(&mut p, hospital().id, 3, 100);
		let q5 = grant_read(&mut p, hospital().id, 4, 100);
		for q in [&q2, &q3, &q4] {
			let v = validate(q).expect("queued");
			assert_eq!(v.requires.len(), 1);
		}
		assert_eq!(validate(&q5), Err(InvalidTransaction::Custom(TOO_MANY_QUEUED).into()));
		// In a block only the next nonce is valid.
		assert_eq!(
			<Rollup as ValidateUnsigned>::pre_dispatch(&Call::submit { op: q2.op.clone() }),
			Err(InvalidTransaction::Future.into())
		);
		// A queued operation with a bad signature.
		let mut bad = q2.clone();
		bad.op.signature[32] ^= 1;
		assert_eq!(
			validate(&bad),
			Err(InvalidTransaction::Custom(rule_code(RuleError::BadSignature)).into())
		);
		// A replayed nonce is stale.
		assert_eq!(
			validate(&reg),
			Err(InvalidTransaction::Custom(rule_code(RuleError::AlreadyRegistered)).into())
		);
		assert_ok!(submit(queued.clone()));
		assert_eq!(validate(&queued), Err(InvalidTransaction::Stale.into()));
		// The dry run said nothing to storage.
		assert_eq!(Consent::grant(p.id, 1), None);
		// Other calls are not unsigned.
		assert_eq!(
			Rollup::validate_unsigned(TransactionSource::External, &Call::add_prover { who: 1 }),
			Err(InvalidTransaction::Call.into())
		);
		check();
	});
}

#[test]
fn the_pool_refuses_proofs_that_cannot_be_accepted() {
	ext().execute_with(|| {
		let (root0, proof0) = prove(empty_state_root(), 0);
		let ext = CheckProofSubmission::<Test>::new();
		let call: RuntimeCall =
			Call::<Test>::submit_proof { batch: 0, new_root: root0, proof: proof0.clone() }.into();
		let info = DispatchInfo::default();
		let validate = |who: u64, call: &RuntimeCall| {
			ext.validate_only(Some(who).into(), call, &info, 0, TransactionSource::External, 0)
				.map(|(v, _, _)| v)
		};
		assert!(validate(PROVER, &call).is_ok());
		assert_eq!(validate(99, &call), Err(InvalidTransaction::Custom(NOT_A_PROVER).into()));
		let later: RuntimeCall =
			Call::<Test>::submit_proof { batch: 3, new_root: root0, proof: proof0.clone() }.into();
		assert_eq!(
			validate(PROVER, &later),
			Err(InvalidTransaction::Custom(PROOF_NOT_NEXT).into())
		);
		assert_ok!(Rollup::submit_proof(RuntimeOrigin::signed(PROVER), 0, root0, proof0));
		assert_eq!(validate(PROVER, &call), Err(InvalidTransaction::Stale.into()));
		// Other calls pass untouched.
		let other: RuntimeCall = Call::<Test>::add_prover { who: 3 }.into();
		assert!(validate(99, &other).is_ok());
		check();
	});
}

#[test]
fn try_state_catches_a_tampered_commitment() {
	ext().execute_with(|| {
		let mut p = patient();
		assert_ok!(submit(p.register(1)));
		check();
		Batches::<Test>::mutate(1, |b| b.as_mut().expect("b1").commitment[0] ^= 1);
		assert!(Rollup::do_try_state().is_err());
	});
}

/// The committed benchmark fixture verifies with the pallet's verifier (`tests/tests/
/// pallet_proofs.rs` remakes it with the prover and checks it is fresh).
#[test]
fn the_bench_fixture_verifies() {
	let committed = fixture::fixture();
	let public = PublicInputs {
		old_root: field_from_bytes(&committed.old_root).expect("canonical"),
		new_root: field_from_bytes(&committed.new_root).expect("canonical"),
		inbox_commitment: field_from_bytes(&committed.commitment).expect("canonical"),
		batch: committed.batch,
	};
	assert_eq!(committed.old_root, empty_state_root());
	assert_eq!(
		<Test as Config>::Verifier::verify(&committed.vk, &public, &committed.proof),
		Ok(true)
	);
}

/// The all-zero deployment id is the inert default genesis's only: a genesis that could take
/// operations (here, with batch parameters and a founding member) and no id of its own is
/// refused when it is built.
#[test]
#[should_panic(expected = "needs a deployment id")]
fn a_genesis_that_takes_operations_refuses_the_all_zero_deployment_id() {
	let h = hospital();
	let pop = h.admit(Role::Hospital, 0).op.signature.to_vec();
	let _ = GenesisConfig::<Test> {
		deployment: [0; 32],
		params: Some(params()),
		verifying_key: None,
		provers: vec![PROVER],
		members: vec![(Role::Hospital.code(), h.public(), h.enc, pop)],
	}
	.build_storage();
}

/// The inert default genesis (no parameters, key or members) keeps the all-zero id, as the
/// runtime's default genesis does.
#[test]
fn the_default_genesis_keeps_the_all_zero_deployment_id() {
	let storage = GenesisConfig::<Test>::default().build_storage().expect("default genesis");
	let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
	ext.execute_with(|| assert_eq!(Deployment::<Test>::get(), DeploymentId([0; 32])));
}

#[test]
fn removing_a_hospital_ends_its_doctors_credentials() {
	ext().execute_with(|| {
		let (mut p, mut h) = (patient(), hospital());
		let mut d = registered_with_doctor(&mut p, &mut h);
		let org = Registry::participant(h.id).expect("hospital").org;
		assert!(StateHeader::<Test>::get().orgs.contains(org));
		assert_eq!(Rollup::participant_view(d.id).expect("doctor").live_affiliation, h.id);
		assert_ok!(Rollup::remove_member(RuntimeOrigin::root(), h.id));
		assert!(!StateHeader::<Test>::get().orgs.contains(org));
		// The doctor's leaf still names the hospital; the credential has lapsed all the same.
		assert_eq!(Registry::participant(d.id).expect("d").affiliation, h.id);
		assert_eq!(Rollup::participant_view(d.id).expect("doctor").live_affiliation, 0);
		let e = emr_primitives::testing::emergency(&mut d, &h, p.id, 0, 7, 1);
		assert_noop!(submit(e), refused(RuleError::NotCredentialed));
		check();
	});
}

#[test]
fn the_empty_root_constant_is_the_computed_one() {
	assert_eq!(EMPTY_STATE_ROOT, empty_state_root());
}
