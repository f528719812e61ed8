//! # pallet-emr-eth-bridge
//!
//! Where each proven batch of the rollup settled on Ethereum. The consortium's contracts on
//! Ethereum (a BEEFY light client and `EmrRollup`) accept a batch only with a valid Groth16
//! proof over an inbox BEEFY finalized; a relayer sends it there and reports back here with
//! [`Call::confirm`], so that the chain, its RPC and its users can show an operation as
//! *settled*, with the L1 block and transaction that settled it.
//!
//! * The council (root or a council majority) sets the contract addresses
//!   ([`Call::set_contracts`]), chooses the relayers ([`Call::add_relayer`],
//!   [`Call::remove_relayer`]) and can halt the bridge ([`Call::set_halted`]): a halted bridge
//!   takes no confirmation and relayers stop sending.
//! * [`Call::confirm`] records an [`Anchor`] for a batch the chain has proven, once: batches
//!   settle in order (the contract accepts only the next batch), so a confirmation must be for
//!   [`NextToSettle`]; a second confirmation of a batch is refused as a replay. A successful
//!   confirmation is free for the relayer.
//! * Nothing here is trusted by Ethereum: the contracts check everything themselves. An anchor
//!   is the relayers' report of where that happened, which anyone can check against the L1
//!   transaction (`emr audit`).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{self, pallet_prelude::*, traits::Get},
	frame_system::{self, pallet_prelude::*},
};
use scale_info::TypeInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

/// A 20-byte Ethereum address.
pub type EthAddress = [u8; 20];

/// The consortium's contracts on Ethereum.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct Contracts {
	/// The EIP-155 chain id of the Ethereum network.
	pub chain_id: u64,
	/// The BEEFY light-client contract.
	pub light_client: EthAddress,
	/// The `EmrRollup` contract.
	pub rollup: EthAddress,
	/// The first batch the rollup contract takes (its initial root is the chain's proven root
	/// before that batch).
	pub first_batch: u64,
}

/// Where a batch settled, as a relayer of the set reported it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Anchor<AccountId, BlockNumber> {
	/// The L1 block that includes the settling transaction.
	pub l1_block: u64,
	/// The settling transaction's hash.
	pub l1_tx: [u8; 32],
	/// The relayer that reported it.
	pub relayer: AccountId,
	/// The chain's block that recorded the report.
	pub confirmed_at: BlockNumber,
}

/// The bridge as the `bridge_status` RPC shows it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct BridgeStatus<AccountId> {
	/// The contracts, once the council set them.
	pub contracts: Option<Contracts>,
	/// The relayers the council chose.
	pub relayers: Vec<AccountId>,
	/// Whether the council halted the bridge.
	pub halted: bool,
	/// The batch the next confirmation must be for.
	pub next_to_settle: u64,
	/// The last batch confirmed, if any.
	pub last_settled: Option<u64>,
	/// The last batch the chain proved, if any.
	pub last_proven: Option<u64>,
}

/// The storage version: the layout has never been migrated.
pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

/// What the benchmarks need of the runtime: a batch the rollup has proven ([`Config::LastProven`]
/// is read-only here).
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Makes `batch` the rollup's last proven batch.
	fn set_last_proven(batch: u64);
}

// The pallet macros expand to fully qualified paths.
#[allow(unused_qualifications)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the bridge pallet.
	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Who may set the contracts, the relayers and the halt switch (root or a council
		/// majority).
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The last batch the rollup proved (`None` before the first proof).
		type LastProven: Get<Option<u64>>;
		/// The most relayers.
		#[pallet::constant]
		type MaxRelayers: Get<u32>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
		/// Sets up what the benchmarks need (a proven batch).
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// The contracts on Ethereum.
	#[pallet::storage]
	pub type ContractsOnL1<T: Config> = StorageValue<_, Contracts, OptionQuery>;

	/// The relayers the council chose.
	#[pallet::storage]
	pub type Relayers<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxRelayers>, ValueQuery>;

	/// Whether the bridge is halted.
	#[pallet::storage]
	pub type Halted<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// The batch the next confirmation must be for.
	#[pallet::storage]
	pub type NextToSettle<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// The last batch confirmed.
	#[pallet::storage]
	pub type LastSettled<T: Config> = StorageValue<_, u64, OptionQuery>;

	/// Where each settled batch settled.
	#[pallet::storage]
	pub type Anchors<T: Config> =
		StorageMap<_, Twox64Concat, u64, Anchor<T::AccountId, BlockNumberFor<T>>, OptionQuery>;

	/// Genesis: the first relayers and, on a network whose contracts are already deployed,
	/// the contracts.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The relayers.
		pub relayers: Vec<T::AccountId>,
		/// The contracts.
		pub contracts: Option<Contracts>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut set = Vec::new();
			for r in &self.relayers {
				assert!(!set.contains(r), "a relayer appears twice in the genesis set");
				set.push(r.clone());
			}
			let set: BoundedVec<_, T::MaxRelayers> =
				set.try_into().expect("the genesis relayers fit MaxRelayers");
			Relayers::<T>::put(set);
			if let Some(c) = self.contracts {
				ContractsOnL1::<T>::put(c);
				NextToSettle::<T>::put(c.first_batch);
			}
		}
	}

	/// Events of the bridge.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The council set the contracts; settlement continues from `contracts.first_batch`.
		ContractsSet {
			/// The new contracts.
			contracts: Contracts,
		},
		/// The council added a relayer.
		RelayerAdded {
			/// Its account.
			who: T::AccountId,
		},
		/// The council removed a relayer.
		RelayerRemoved {
			/// Its account.
			who: T::AccountId,
		},
		/// The council halted (`true`) or resumed (`false`) the bridge.
		HaltSet {
			/// The new state.
			halted: bool,
		},
		/// A batch settled on Ethereum.
		BatchSettled {
			/// The batch.
			batch: u64,
			/// The L1 block.
			l1_block: u64,
			/// The L1 transaction.
			l1_tx: [u8; 32],
			/// The relayer that reported it.
			relayer: T::AccountId,
		},
	}

	/// Errors of the bridge.
	#[pallet::error]
	pub enum Error<T> {
		/// The sender is not one of the relayers the council chose.
		NotARelayer,
		/// The council halted the bridge.
		BridgeHalted,
		/// The council has not set the contracts yet.
		NoContracts,
		/// The chain has not proven that batch.
		NotProven,
		/// The batch's settlement was already confirmed (a replay).
		AlreadyConfirmed,
		/// Batches settle in order: this is not the next one.
		OutOfOrder,
		/// The account is already a relayer.
		AlreadyARelayer,
		/// There are already [`Config::MaxRelayers`] relayers.
		TooManyRelayers,
		/// New contracts must start at or after the next batch to settle (a settled batch is
		/// never settled again).
		FirstBatchAlreadySettled,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Sets the contracts on Ethereum; confirmations continue from
		/// `contracts.first_batch`.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::set_contracts())]
		pub fn set_contracts(origin: OriginFor<T>, contracts: Contracts) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(
				contracts.first_batch >= NextToSettle::<T>::get(),
				Error::<T>::FirstBatchAlreadySettled
			);
			ContractsOnL1::<T>::put(contracts);
			NextToSettle::<T>::put(contracts.first_batch);
			Self::deposit_event(Event::ContractsSet { contracts });
			Ok(())
		}

		/// Adds `who` to the relayers.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::change_relayers())]
		pub fn add_relayer(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Relayers::<T>::try_mutate(|set| {
				ensure!(!set.contains(&who), Error::<T>::AlreadyARelayer);
				set.try_push(who.clone()).map_err(|_| Error::<T>::TooManyRelayers)
			})?;
			Self::deposit_event(Event::RelayerAdded { who });
			Ok(())
		}

		/// Removes `who` from the relayers.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::change_relayers())]
		pub fn remove_relayer(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Relayers::<T>::try_mutate(|set| {
				let i = set.iter().position(|r| r == &who).ok_or(Error::<T>::NotARelayer)?;
				set.remove(i);
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::RelayerRemoved { who });
			Ok(())
		}

		/// Halts (`true`) or resumes (`false`) the bridge.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::set_halted())]
		pub fn set_halted(origin: OriginFor<T>, halted: bool) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Halted::<T>::put(halted);
			Self::deposit_event(Event::HaltSet { halted });
			Ok(())
		}

		/// Reports that `batch` settled on Ethereum in transaction `l1_tx` of block
		/// `l1_block`. Only a relayer of the set; only the next batch to settle, once; free
		/// when accepted.
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::confirm())]
		pub fn confirm(
			origin: OriginFor<T>,
			batch: u64,
			l1_block: u64,
			l1_tx: [u8; 32],
		) -> DispatchResultWithPostInfo {
			let relayer = ensure_signed(origin)?;
			ensure!(Relayers::<T>::get().contains(&relayer), Error::<T>::NotARelayer);
			ensure!(!Halted::<T>::get(), Error::<T>::BridgeHalted);
			ensure!(ContractsOnL1::<T>::get().is_some(), Error::<T>::NoContracts);
			ensure!(T::LastProven::get().is_some_and(|p| batch <= p), Error::<T>::NotProven);
			ensure!(!Anchors::<T>::contains_key(batch), Error::<T>::AlreadyConfirmed);
			ensure!(batch == NextToSettle::<T>::get(), Error::<T>::OutOfOrder);
			let confirmed_at = frame_system::Pallet::<T>::block_number();
			Anchors::<T>::insert(
				batch,
				Anchor { l1_block, l1_tx, relayer: relayer.clone(), confirmed_at },
			);
			NextToSettle::<T>::put(batch.saturating_add(1));
			LastSettled::<T>::put(batch);
			Self::deposit_event(Event::BatchSettled { batch, l1_block, l1_tx, relayer });
			Ok(Pays::No.into())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The bridge's state.
	pub fn status() -> BridgeStatus<T::AccountId> {
		BridgeStatus {
			contracts: ContractsOnL1::<T>::get(),
			relayers: Relayers::<T>::get().into_inner(),
			halted: Halted::<T>::get(),
			next_to_settle: NextToSettle::<T>::get(),
			last_settled: LastSettled::<T>::get(),
			last_proven: T::LastProven::get(),
		}
	}

	/// Where `batch` settled, if it did.
	pub fn anchor(batch: u64) -> Option<Anchor<T::AccountId, BlockNumberFor<T>>> {
		Anchors::<T>::get(batch)
	}
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// The bridge's state (the node's `bridge_*` RPC).
	pub trait EthBridgeApi<AccountId, BlockNumber> where
		AccountId: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// The contracts, relayers, halt switch and settlement progress.
		fn bridge_status() -> BridgeStatus<AccountId>;
		/// Where a batch settled.
		fn bridge_anchor(batch: u64) -> Option<Anchor<AccountId, BlockNumber>>;
	}
}
