//! FRAME benchmarks of the rollup pallet.
//!
//! `submit` is measured with its most expensive operation kind, emergency access: a co-signed
//! Schnorr check under the joint key, two participants read and written, a grant slot and an
//! emergency review written, a log entry, the inbox entry and its Poseidon commitment.
//! `submit_proof` verifies a real Groth16 proof (a committed fixture made by `emr-prover`, see
//! [`crate::fixture::Fixture`]) with the runtime's verifier (host calls); `verify_without_host_calls` does the
//! same verification in pure wasm arkworks, for comparison.
#![cfg(feature = "runtime-benchmarks")]

use super::*;
use crate::fixture::fixture;
use alloc::vec;
use emr_primitives::testing::{emergency, Actor};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{traits::EnsureOrigin, BoundedVec},
	frame_system::RawOrigin,
};

fn setup_params<T: Config>() {
	Params::<T>::put(BatchParams {
		seal_after: 100,
		max_ops_per_block: 10_000,
		max_queued_per_actor: 16,
	});
}

fn admit<T: Config>(a: &Actor, role: Role) {
	let op = Pallet::<T>::governance_op(Operation::AdmitMember {
		role,
		public_key: a.public(),
		encryption_key: a.enc,
	})
	.expect("valid key");
	Pallet::<T>::apply(op, Origin::Governance).expect("admitted");
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit() {
		setup_params::<T>();
		let mut hospital = Actor::new(1, &[]);
		let mut patient = Actor::new(2, &[hospital.id]);
		let mut doctor = Actor::new(3, &[hospital.id, patient.id]);
		admit::<T>(&hospital, Role::Hospital);
		Pallet::<T>::apply(patient.register(0).op, Origin::User).expect("registered");
		let credential = hospital.sign(
			Operation::CredentialDoctor { doctor_key: doctor.public(), encryption_key: doctor.enc },
			0,
		);
		Pallet::<T>::apply(credential.op, Origin::User).expect("credentialed");
		let op = emergency(&mut doctor, &hospital, patient.id, 1, 0).op;

		#[extrinsic_call]
		_(RawOrigin::None, op);

		assert!(pallet_consent::EmergencyGrants::<T>::get(patient.id, 0).is_some());
	}

	#[benchmark]
	fn admit_member() -> Result<(), BenchmarkError> {
		setup_params::<T>();
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let a = Actor::new(1, &[]);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Role::Hospital, a.public(), a.enc);

		assert!(pallet_emr_registry::Participants::<T>::contains_key(a.id));
		Ok(())
	}

	#[benchmark]
	fn remove_member() -> Result<(), BenchmarkError> {
		setup_params::<T>();
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let a = Actor::new(1, &[]);
		admit::<T>(&a, Role::Hospital);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, a.id);

		assert!(!pallet_emr_registry::Participants::<T>::get(a.id).expect("kept").active);
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
		let ok;
		#[block]
		{
			ok = emr_primitives::groth16::Groth16::<ark_bls12_381::Bls12_381>::verify(
				&f.vk, &public, &f.proof,
			);
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
		for i in 1..T::MaxProvers::get() {
			let other: T::AccountId = account("prover", i, 0);
			Provers::<T>::mutate(|s| s.try_push(other).expect("below the maximum"));
		}

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
		for i in 0..T::MaxProvers::get() {
			let other: T::AccountId = account("prover", i, 0);
			Provers::<T>::mutate(|s| s.try_push(other).expect("below the maximum"));
		}

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Provers::<T>::get().contains(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(vec![]), crate::mock::Test);
}
