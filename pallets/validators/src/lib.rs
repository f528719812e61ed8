//! # pallet-emr-validators
//!
//! The validator set of emr-chain: the hospitals the consortium council chose. It is the
//! [`pallet_session::SessionManager`] of the runtime, so the Aura, GRANDPA and BEEFY
//! authority sets follow the council's decisions one session rotation later.
//!
//! * [`Call::add_validator`] and [`Call::remove_validator`] need the governance origin (a
//!   council majority). A hospital is added to the set the council wants; it starts to validate
//!   once its session keys are set (`session.setKeys`) and the next session is planned. Removing
//!   one takes it out at the next planning.
//! * At each rotation pallet-session asks for the set of the session after next: the manager
//!   answers with the chosen hospitals that have session keys, in the council's order, or `None`
//!   when that is the set already queued (so GRANDPA does not change its set for nothing).
//! * The set never becomes empty, and the council cannot shrink it below
//!   [`Config::MinValidators`].
//!
//! Sessions last [`SessionLength`] blocks, fixed at genesis ([`SessionPeriod`] feeds
//! `pallet_session::PeriodicSessions`): short on the development chains so that tests see
//! changes within a minute, an hour on a production network.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::Get},
	frame_system::{self, pallet_prelude::*},
	pallet_session, sp_runtime, sp_staking,
};

type AccountIdOf<T> = <T as frame_system::Config>::AccountId;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

/// The storage version: the layout has never been migrated.
pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

/// The set the manager hands to pallet-session: the `chosen` validators that `has_keys`, in
/// order; `None` when that equals `queued` (nothing to change) or is empty (never leave the
/// chain without validators).
pub fn plan<A: PartialEq + Clone>(
	chosen: &[A],
	has_keys: impl Fn(&A) -> bool,
	queued: &[A],
) -> Option<Vec<A>> {
	let next: Vec<A> = chosen.iter().filter(|v| has_keys(v)).cloned().collect();
	if next.is_empty() || next.as_slice() == queued {
		None
	} else {
		Some(next)
	}
}

// The pallet macros expand to fully qualified paths.
#[allow(unused_qualifications)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use sp_runtime::traits::Zero;

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the validator-set pallet.
	#[pallet::config]
	pub trait Config:
		polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ pallet_session::Config<ValidatorId = <Self as frame_system::Config>::AccountId>
	{
		/// Who may change the set (root or a council majority).
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The largest set (the authority pallets' maximum).
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// The council cannot remove a validator when this many or fewer are chosen.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// The validators the council chose, in the order they were added.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Blocks per session (set at genesis only: changing it would break the rotation schedule).
	#[pallet::storage]
	pub type SessionLength<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Genesis: the first validators (their keys go in pallet-session's genesis) and the
	/// session length.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The validators at genesis.
		pub validators: Vec<T::AccountId>,
		/// Blocks per session (must be positive).
		pub session_length: BlockNumberFor<T>,
	}

	/// No validators (pallet-session's genesis keys then make the set) and hour-long sessions
	/// of 6-second blocks.
	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self { validators: Vec::new(), session_length: 600u32.into() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(!self.session_length.is_zero(), "the session length must be positive");
			let mut set = Vec::new();
			for v in &self.validators {
				assert!(!set.contains(v), "a validator appears twice in the genesis set");
				set.push(v.clone());
			}
			let set: BoundedVec<_, T::MaxValidators> =
				set.try_into().expect("the genesis set fits MaxValidators");
			Validators::<T>::put(set);
			SessionLength::<T>::put(self.session_length);
		}
	}

	/// Events of the validator set.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The council added a validator; it validates from the session after its keys are set.
		ValidatorAdded {
			/// The hospital's account.
			who: T::AccountId,
		},
		/// The council removed a validator; it leaves at the next session planning.
		ValidatorRemoved {
			/// The hospital's account.
			who: T::AccountId,
		},
		/// A new validator set was handed to pallet-session (active one session later).
		SetPlanned {
			/// The session it is planned for.
			session: sp_staking::SessionIndex,
			/// Its members.
			validators: Vec<T::AccountId>,
		},
	}

	/// Errors of the validator set.
	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a validator.
		AlreadyAValidator,
		/// The account is not a validator.
		NotAValidator,
		/// The set is full ([`Config::MaxValidators`]).
		TooManyValidators,
		/// Removing the validator would leave fewer than [`Config::MinValidators`].
		TooFewValidators,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Adds `who` to the validator set.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::add_validator())]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Validators::<T>::try_mutate(|set| {
				ensure!(!set.contains(&who), Error::<T>::AlreadyAValidator);
				set.try_push(who.clone()).map_err(|_| Error::<T>::TooManyValidators)
			})?;
			Self::deposit_event(Event::ValidatorAdded { who });
			Ok(())
		}

		/// Removes `who` from the validator set.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::remove_validator())]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Validators::<T>::try_mutate(|set| {
				let i = set.iter().position(|v| v == &who).ok_or(Error::<T>::NotAValidator)?;
				ensure!(set.len() as u32 > T::MinValidators::get(), Error::<T>::TooFewValidators);
				set.remove(i);
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ValidatorRemoved { who });
			Ok(())
		}
	}
}

/// Blocks per session, read from [`SessionLength`]: the period of
/// `pallet_session::PeriodicSessions`.
pub struct SessionPeriod<T>(PhantomData<T>);

impl<T: Config> Get<BlockNumberFor<T>> for SessionPeriod<T> {
	fn get() -> BlockNumberFor<T> {
		SessionLength::<T>::get()
	}
}

impl<T: Config> pallet_session::SessionManager<AccountIdOf<T>> for Pallet<T> {
	fn new_session(index: sp_staking::SessionIndex) -> Option<Vec<AccountIdOf<T>>> {
		let queued: Vec<AccountIdOf<T>> =
			pallet_session::QueuedKeys::<T>::get().into_iter().map(|(v, _)| v).collect();
		let next = plan(
			&Validators::<T>::get(),
			|v| pallet_session::NextKeys::<T>::contains_key(v),
			&queued,
		)?;
		Self::deposit_event(Event::SetPlanned { session: index, validators: next.clone() });
		Some(next)
	}

	fn new_session_genesis(_index: sp_staking::SessionIndex) -> Option<Vec<AccountIdOf<T>>> {
		// At genesis pallet-session's own key list is the set (its keys are set there).
		let set = Validators::<T>::get().into_inner();
		(!set.is_empty()).then_some(set)
	}

	fn end_session(_: sp_staking::SessionIndex) {}

	fn start_session(_: sp_staking::SessionIndex) {}
}
