//! FRAME benchmarks of the bridge's calls. The relayer set is bounded by
//! [`Config::MaxRelayers`]: `change_relayers` adds to a set one short of full (the duplicate
//! check scans it all; `remove_relayer` reads and writes the same one value), and `confirm` is
//! sent by the last relayer of a full set for a proven batch, with the contracts set.
#![cfg(feature = "runtime-benchmarks")]

use super::*;
use polkadot_sdk::{frame_benchmarking::v2::*, frame_system::RawOrigin};

fn contracts(first_batch: u64) -> Contracts {
	Contracts { chain_id: 1, light_client: [1; 20], rollup: [2; 20], first_batch }
}

/// `n` benchmark accounts, as the bounded set.
fn relayers<T: Config>(n: u32) -> BoundedVec<T::AccountId, T::MaxRelayers> {
	let accounts: Vec<T::AccountId> = (0..n).map(|i| account("relayer", i, 0)).collect();
	accounts.try_into().expect("at most MaxRelayers accounts")
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_contracts() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		ContractsOnL1::<T>::put(contracts(0));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, contracts(5));

		assert_eq!(NextToSettle::<T>::get(), 5);
		Ok(())
	}

	#[benchmark]
	fn change_relayers() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let max = T::MaxRelayers::get();
		Relayers::<T>::put(relayers::<T>(max.saturating_sub(1)));
		let who: T::AccountId = account("relayer", max, 0);

		#[extrinsic_call]
		add_relayer(origin as T::RuntimeOrigin, who.clone());

		assert!(Relayers::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn set_halted() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, true);

		assert!(Halted::<T>::get());
		Ok(())
	}

	#[benchmark]
	fn confirm() {
		let max = T::MaxRelayers::get();
		Relayers::<T>::put(relayers::<T>(max));
		let relayer: T::AccountId = account("relayer", max.saturating_sub(1), 0);
		ContractsOnL1::<T>::put(contracts(0));
		NextToSettle::<T>::put(0);
		Halted::<T>::put(false);
		T::BenchmarkHelper::set_last_proven(0);

		#[extrinsic_call]
		_(RawOrigin::Signed(relayer), 0, 1, [0xab; 32]);

		assert_eq!(LastSettled::<T>::get(), Some(0));
	}

	impl_benchmark_test_suite!(Pallet, tests::ext(None), tests::Test);
}
