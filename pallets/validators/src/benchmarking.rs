//! FRAME benchmarks of the validator-set calls. Each reads and writes the one bounded set
//! ([`Validators`]); the worst cases are a set one short of [`Config::MaxValidators`] for
//! `add_validator` (the duplicate check scans it all) and a full set for `remove_validator`
//! (the first validator removed, so every other one moves).
#![cfg(feature = "runtime-benchmarks")]

use super::*;
use polkadot_sdk::frame_benchmarking::v2::*;

/// `n` benchmark accounts, as the bounded set.
fn set_of<T: Config>(n: u32) -> BoundedVec<T::AccountId, T::MaxValidators> {
	let accounts: Vec<T::AccountId> = (0..n).map(|i| account("validator", i, 0)).collect();
	accounts.try_into().expect("at most MaxValidators accounts")
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let max = T::MaxValidators::get();
		Validators::<T>::put(set_of::<T>(max.saturating_sub(1)));
		let who: T::AccountId = account("validator", max, 0);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Validators::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let max = T::MaxValidators::get();
		Validators::<T>::put(set_of::<T>(max));
		let who: T::AccountId = account("validator", 0, 0);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Validators::<T>::get().contains(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, tests::new_test_ext(), tests::Test);
}
