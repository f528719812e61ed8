//! FRAME benchmarks of the rollup pallet.
//!
//! `submit` is measured with its most expensive operation kind, emergency access: a co-signed
//! Schnorr check under the joint key, two participants read and written, a grant slot and an
//! emergency review written, a log entry, the inbox entry and its Poseidon commitment; and,
//! since grant slots are reused, with an ordinary grant into an expired emergency grant's slot
//! (`submit_grant_over_emergency`, which also removes the review). The call is charged the
//! larger of the two. Both are measured as the entry that seals its batch (the setup fills the
//! open batch up to one entry short of the verifying key's batch size), since sealing writes
//! once more than an entry that leaves the batch open. The governance calls (`admit_member`,
//! `remove_member`) are measured as sealing entries too.
//! `submit_proof` verifies a real Groth16 proof (a committed fixture made by `emr-prover`, see
//! [`crate::fixture::Fixture`]) with the runtime's verifier (host calls); `verify_without_host_calls` does the
//! same verification in pure wasm arkworks, for comparison.
#![cfg(feature = "runtime-benchmarks")]

use super::*;
use crate::fixture::fixture;
use alloc::{vec, vec::Vec};
use emr_primitives::{
	ops::{permission, purpose, scope, EMERGENCY_WINDOW},
	poseidon, rules,
	schnorr::{PublicKey, Signature},
	testing::{self, emergency, Actor},
	F,
};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		traits::{ConstU32, EnsureOrigin, Get},
		BoundedVec,
	},
	frame_system::RawOrigin,
};

/// Batch parameters, and the test deployment id that the `testing` actors sign for (the
/// benchmarks run on a chain's genesis, whose deployment is another).
fn setup_params<T: Config>() {
	Deployment::<T>::put(testing::deployment());
	Params::<T>::put(BatchParams {
		seal_after: 100,
		max_ops_per_block: 10_000,
		max_queued_per_actor: 16,
	});
}

/// The id the next registration or admission gets (ids are assigned in order).
fn next_id<T: Config>() -> ParticipantId {
	StateHeader::<T>::get().participants + 1
}

fn admit<T: Config>(a: &Actor, role: Role) {
	Pallet::<T>::apply(a.admit(role, 0).op, Origin::Governance).expect("admitted");
}

/// A hospital admitted, a patient registered and a doctor credentialed by the hospital.
fn credentialed<T: Config>() -> (Actor, Actor, Actor) {
	setup_params::<T>();
	let mut hospital = Actor::new(1, next_id::<T>());
	admit::<T>(&hospital, Role::Hospital);
	let mut patient = Actor::new(2, next_id::<T>());
	Pallet::<T>::apply(patient.register(0).op, Origin::User).expect("registered");
	let mut doctor = Actor::new(3, next_id::<T>());
	Pallet::<T>::apply(doctor.register_as(Role::Doctor, 0).op, Origin::User)
		.expect("doctor registered");
	let credential = hospital.sign(Operation::CredentialDoctor { doctor: doctor.id }, 0);
	Pallet::<T>::apply(credential.op, Origin::User).expect("credentialed");
	(hospital, patient, doctor)
}

/// Registers patients until the open batch is one entry short of the current verifying key's
/// batch size, so that the measured call is the entry that seals the batch: every kind's worst
/// case, since sealing writes once more than an entry that leaves the batch open.
fn fill_to_seal<T: Config>(block: BlockNumber) {
	let size = VerifyingKeys::<T>::get(CurrentKey::<T>::get().unwrap_or(0))
		.map(|k| k.batch_size)
		.unwrap_or(MAX_BATCH_SIZE);
	assert!(size <= 64, "the benchmark genesis has a verifying key with a small batch");
	for seed in 1_000u64.. {
		let len = Batches::<T>::get(OpenBatch::<T>::get()).map(|b| b.len).unwrap_or(0);
		if len + 1 >= size {
			break;
		}
		let mut filler = Actor::new(seed, next_id::<T>());
		Pallet::<T>::apply(filler.register(block).op, Origin::User).expect("registered");
	}
}

/// The most expensive operation, ready to submit: the doctor's co-signed emergency access to
/// the patient's record (after [`credentialed`]), as the entry that seals its batch. Returns
/// the operation and the patient's id.
fn emergency_setup<T: Config>() -> (SignedOp, ParticipantId) {
	let (hospital, patient, mut doctor) = credentialed::<T>();
	fill_to_seal::<T>(0);
	(emergency(&mut doctor, &hospital, patient.id, 0, 1, 0).op, patient.id)
}

/// `submit`'s other candidate for the worst case since grant slots are reused: the patient's
/// ordinary grant into the slot of an emergency grant that has expired, which also removes
/// the emergency review entry, as the entry that seals its batch. Returns the operation and the
/// patient's id.
fn grant_over_emergency_setup<T: Config>() -> (SignedOp, ParticipantId) {
	let (hospital, mut patient, mut doctor) = credentialed::<T>();
	let opened = emergency(&mut doctor, &hospital, patient.id, 0, 1, 0).op;
	Pallet::<T>::apply(opened, Origin::User).expect("emergency access");
	let now = EMERGENCY_WINDOW + 1;
	frame_system::Pallet::<T>::set_block_number(now.into());
	fill_to_seal::<T>(now);
	let grant = Operation::GrantConsent {
		grantee: doctor.id,
		permissions: permission::READ | permission::WRITE | permission::CLAIM,
		purposes: purpose::TREATMENT | purpose::INSURANCE,
		scope: scope::ALL,
		expires_at: now + EMERGENCY_WINDOW,
		slot: 0,
	};
	(patient.sign(grant, now).op, patient.id)
}

/// The joint key the emergency access of [`emergency_setup`] is signed under.
fn emergency_key<T: Config>(op: &SignedOp) -> PublicKey {
	ChainState::<T>::default()
		.participant(op.actor)
		.and_then(|doctor| doctor.emergency_key)
		.expect("the doctor is credentialed")
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit() {
		let (op, patient) = emergency_setup::<T>();
		let open = OpenBatch::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::None, op);

		assert!(T::Consent::emergency(patient, 0).is_some());
		assert!(Batches::<T>::get(open).is_some_and(|b| b.sealed_at.is_some()), "sealed");
	}

	/// `submit` with the patient's ordinary grant into an expired emergency grant's slot (see
	/// [`grant_over_emergency_setup`]); the call is charged the larger of this and `submit`.
	#[benchmark]
	fn submit_grant_over_emergency() {
		let (op, patient) = grant_over_emergency_setup::<T>();
		let open = OpenBatch::<T>::get();

		#[extrinsic_call]
		submit(RawOrigin::None, op);

		assert!(Batches::<T>::get(open).is_some_and(|b| b.sealed_at.is_some()), "sealed");
		assert!(T::Consent::emergency(patient, 0).is_none());
		assert!(T::Consent::grant(patient, 0).is_some_and(|g| !g.emergency));
	}

	/// Part of `submit`, for the split in `docs/benchmarks.md`: the Poseidon hash of the
	/// operation's fields that its signature signs. Not a call.
	#[benchmark]
	fn part_message_hash() {
		let (op, _) = emergency_setup::<T>();
		let message;
		#[block]
		{
			message = op.message();
		}
		assert_ne!(message, F::from(0u64));
	}

	/// Part of `submit`: the signature check of the operation above (its message hash
	/// included; for emergency access a Schnorr check under the doctor's and the hospital's
	/// joint key). Not a call.
	#[benchmark]
	fn part_signature_check() {
		let (op, _) = emergency_setup::<T>();
		let checked;
		#[block]
		{
			checked = rules::authenticate(&ChainState::<T>::default(), &op);
		}
		assert_eq!(checked, Ok(()));
	}

	/// Part of `submit`, side by side: the Schnorr check of the emergency access (message hash,
	/// signature decoding, `s·G − c·A = R` under the joint key) through the Bandersnatch host
	/// calls, as the runtime runs it. Not a call.
	#[benchmark]
	fn part_schnorr_host_calls() {
		let (op, _) = emergency_setup::<T>();
		let key = emergency_key::<T>(&op);
		let checked;
		#[block]
		{
			checked = Signature::from_bytes(&op.signature)
				.and_then(|sig| key.verify(op.signed_message(&testing::deployment()), &sig));
		}
		assert_eq!(checked, Ok(()));
	}

	/// The same check in pure wasm arkworks (no host calls), for comparison. Not a call.
	#[benchmark]
	fn part_schnorr_in_wasm() {
		let (op, _) = emergency_setup::<T>();
		let key = emergency_key::<T>(&op);
		let checked;
		#[block]
		{
			checked = Signature::from_bytes(&op.signature).and_then(|sig| {
				key.verify_arkworks(op.signed_message(&testing::deployment()), &sig)
			});
		}
		assert_eq!(checked, Ok(()));
	}

	/// Poseidon side by side: a hash of six inputs (three permutations, the size of a
	/// signature challenge) through the node's Poseidon host function, as the runtime runs it.
	/// Not a call.
	#[benchmark]
	fn part_poseidon_host_calls() {
		let inputs = [1u64, 2, 3, 4, 5, 6].map(F::from);
		let h;
		#[block]
		{
			h = poseidon::hash(poseidon::Domain::Challenge, &inputs);
		}
		assert_eq!(h, poseidon::hash_arkworks(poseidon::Domain::Challenge, &inputs));
	}

	/// The same hash in pure wasm arkworks. Not a call.
	#[benchmark]
	fn part_poseidon_in_wasm() {
		let inputs = [1u64, 2, 3, 4, 5, 6].map(F::from);
		let h;
		#[block]
		{
			h = poseidon::hash_arkworks(poseidon::Domain::Challenge, &inputs);
		}
		assert_eq!(h, poseidon::hash(poseidon::Domain::Challenge, &inputs));
	}

	/// Part of `submit`: the inbox entry's Poseidon hash and the commitment's next link, from
	/// the message hash. Not a call.
	#[benchmark]
	fn part_inbox_hash() {
		let (op, _) = emergency_setup::<T>();
		let message = op.message();
		let entry = InboxEntry { op, origin: Origin::User, block: 1 };
		let link;
		#[block]
		{
			link = inbox::chain_hash(F::from(7u64), entry.hash_with_message(message));
		}
		assert_ne!(link, F::from(0u64));
	}

	#[benchmark]
	fn admit_member() -> Result<(), BenchmarkError> {
		setup_params::<T>();
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		fill_to_seal::<T>(0);
		let a = Actor::new(1, next_id::<T>());
		let open = OpenBatch::<T>::get();

		let pop = a.admit(Role::Hospital, 0).op.signature;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Role::Hospital, a.public(), a.enc, pop);

		assert!(T::Registry::participant(a.id).is_some());
		assert!(Batches::<T>::get(open).is_some_and(|b| b.sealed_at.is_some()), "sealed");
		Ok(())
	}

	#[benchmark]
	fn remove_member() -> Result<(), BenchmarkError> {
		setup_params::<T>();
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let a = Actor::new(1, next_id::<T>());
		admit::<T>(&a, Role::Hospital);
		fill_to_seal::<T>(0);
		let open = OpenBatch::<T>::get();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, a.id);

		assert!(!T::Registry::participant(a.id).expect("kept").active);
		assert!(Batches::<T>::get(open).is_some_and(|b| b.sealed_at.is_some()), "sealed");
		Ok(())
	}

	#[benchmark]
	fn submit_proof() -> Result<(), BenchmarkError> {
		let f = fixture();
		let prover: T::AccountId = whitelisted_caller();
		Provers::<T>::put(BoundedVec::try_from(vec![prover.clone()]).expect("one fits"));
		Pallet::<T>::register_key(f.vk.clone(), f.batch_size).expect("fixture key is valid");
		if f.batch > 0 {
			LastProven::<T>::put(f.batch - 1);
		}
		LastSealed::<T>::put(f.batch);
		OpenBatch::<T>::put(f.batch + 1);
		ProvenRoot::<T>::put(f.old_root);
		Batches::<T>::insert(
			f.batch,
			BatchInfo {
				len: f.batch_size,
				commitment: f.commitment,
				vk: CurrentKey::<T>::get().expect("registered"),
				opened_at: 0,
				last_block: 0,
				sealed_at: Some(0),
				proven_at: None,
				old_root: None,
				new_root: None,
				prover: None,
			},
		);
		let proof: BoundedVec<u8, ConstU32<MAX_PROOF_LEN>> =
			f.proof.clone().try_into().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(prover), f.batch, f.new_root, proof);

		assert_eq!(LastProven::<T>::get(), Some(f.batch));
		Ok(())
	}

	/// The proof of `submit_proof` verified in pure wasm (arkworks, no host calls): not a call,
	/// a comparison for `docs/benchmarks.md`.
	#[benchmark]
	fn verify_without_host_calls() {
		let f = fixture();
		let public = PublicInputs {
			old_root: field_from_bytes(&f.old_root).expect("canonical"),
			new_root: field_from_bytes(&f.new_root).expect("canonical"),
			inbox_commitment: field_from_bytes(&f.commitment).expect("canonical"),
			batch: f.batch,
		};
		type Pure = emr_primitives::groth16::Groth16<ark_bls12_381::Bls12_381>;
		let prepared = Pure::prepare_vk(&f.vk).expect("fixture key is valid");
		let ok;
		#[block]
		{
			ok = Pure::verify_prepared(&prepared, &public, &f.proof);
		}
		assert_eq!(ok, Ok(true));
	}

	#[benchmark]
	fn set_verifying_key() -> Result<(), BenchmarkError> {
		let f = fixture();
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, f.vk, f.batch_size);

		assert!(CurrentKey::<T>::get().is_some());
		Ok(())
	}

	#[benchmark]
	fn set_batch_params() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let p = BatchParams { seal_after: 5, max_ops_per_block: 100, max_queued_per_actor: 4 };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, p);

		assert_eq!(Params::<T>::get(), Some(p));
		Ok(())
	}

	#[benchmark]
	fn add_prover() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let who: T::AccountId = account("prover", 0, 0);
		// The worst case: the set one short of full (genesis provers replaced).
		let others = (1..T::MaxProvers::get()).map(|i| account("prover", i, 0)).collect::<Vec<_>>();
		Provers::<T>::put(BoundedVec::try_from(others).expect("below the maximum"));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Provers::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_prover() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let who: T::AccountId = account("prover", 0, 0);
		// The worst case: a full set (genesis provers replaced).
		let all = (0..T::MaxProvers::get()).map(|i| account("prover", i, 0)).collect::<Vec<_>>();
		Provers::<T>::put(BoundedVec::try_from(all).expect("exactly the maximum"));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Provers::<T>::get().contains(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(vec![]), crate::mock::Test);
}
