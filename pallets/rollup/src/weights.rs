//! Weights of `pallet_rollup`.
//!
//! NOT YET GENERATED: the figures below are upper bounds chosen by hand until
//! `scripts/bench.sh weights` (FRAME benchmarks on this machine) replaces this file. Each
//! storage access is charged at RocksDB cost; the compute part is a deliberate over-estimate.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_rollup`.
pub trait WeightInfo {
	fn submit() -> Weight;
	fn admit_member() -> Weight;
	fn remove_member() -> Weight;
	fn submit_proof() -> Weight;
	fn set_verifying_key() -> Weight;
	fn set_batch_params() -> Weight;
	fn add_prover() -> Weight;
	fn remove_prover() -> Weight;
}

/// Weights for `pallet_rollup` with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit() -> Weight {
		Weight::from_parts(20_000_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(10))
			.saturating_add(T::DbWeight::get().writes(10))
	}
	fn admit_member() -> Weight {
		Weight::from_parts(10_000_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(6))
			.saturating_add(T::DbWeight::get().writes(6))
	}
	fn remove_member() -> Weight {
		Weight::from_parts(5_000_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(6))
			.saturating_add(T::DbWeight::get().writes(6))
	}
	fn submit_proof() -> Weight {
		Weight::from_parts(50_000_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads(6))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn set_verifying_key() -> Weight {
		Weight::from_parts(50_000_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads(4))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn set_batch_params() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
	fn add_prover() -> Weight {
		Weight::from_parts(10_000_000, 2_000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn remove_prover() -> Weight {
		Weight::from_parts(10_000_000, 2_000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
}

/// For tests.
impl WeightInfo for () {
	fn submit() -> Weight {
		Weight::from_parts(1_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(10, 10))
	}
	fn admit_member() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
	fn remove_member() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
	fn submit_proof() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
	fn set_verifying_key() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
	fn set_batch_params() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
	fn add_prover() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
	fn remove_prover() -> Weight {
		Weight::from_parts(1_000_000, 0)
	}
}
