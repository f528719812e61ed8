//! # Consent pallet
//!
//! ## Overview
//!
//! What each patient allowed, and who used it:
//!
//! * [`Grants`]: the patient's consent slots, keyed by (patient, slot): grantee, permissions,
//!   purposes, scope, expiry, the emergency flag, and the claim filed under a CLAIM grant (its
//!   status, record digest, amount and settlement);
//! * [`SlotsUsed`]: one past the highest slot each patient's grants ever took (new grants name
//!   their slot and reuse freed ones, so slots below it may be empty);
//! * [`EmergencyGrants`]: the reason and block of a grant opened by emergency access, kept for
//!   review after the grant itself expires, until a new grant takes its slot (the access log
//!   keeps the emergency for good, and the `EmergencyAccessOpened` event its reason);
//! * [`AccessLog`] and [`LogLength`]: the patient's access log, one [`LogEntry`] per logged
//!   operation (records appended, consent granted or revoked, accesses GRANTED and DENIED,
//!   emergencies, claims), in the order of the hash chain whose head is in the participant entry.
//!
//! Every item is keyed by the patient first, and the keys under a patient are bounded (slots
//! below [`SlotsUsed`], log indices below [`LogLength`]), so a light client proves a patient's
//! grants and log key by key without iterating a map.
//!
//! This pallet has no calls: grants change only through L2 operations applied by
//! `pallet_rollup` with `emr_primitives::rules::apply`, which reads and writes [`Grants`] through
//! the runtime's state adapter; the rollup pallet appends the log entries of the operations it
//! applied. Its storage is private to this crate: every write goes through one of its
//! intent-named functions ([`Pallet::set_grant`], [`Pallet::open_emergency`],
//! [`Pallet::append_log`]), which keep the invariants of [`Pallet::do_try_state`], and other
//! pallets reach them through the [`ConsentRecords`] trait their `Config` names.
//!
//! With no calls it has no benchmarks or weights of its own: its reads and writes are measured
//! inside `pallet_rollup`'s `submit` benchmark, whose worst case (emergency access) touches the
//! registry, consent and rollup storage together (`pallets/rollup/src/weights.rs`).
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use emr_primitives::{
	ops::{BlockNumber, GrantId, ParticipantId},
	stored::StoredGrant,
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use sp_runtime::TryRuntimeError;

/// The consent records as another pallet sees them (the rollup names them in its
/// `Config::Consent`): reads, and writes by intent, each keeping this pallet's invariants.
/// Implemented by [`Pallet`].
pub trait ConsentRecords {
	/// Grant slot `slot` of `patient`.
	fn grant(patient: ParticipantId, slot: GrantId) -> Option<StoredGrant>;
	/// Writes (or with `None` empties) a grant slot (the rules' state).
	fn set_grant(patient: ParticipantId, slot: GrantId, grant: Option<StoredGrant>);
	/// Grant slots of `patient` that may hold a grant: `0..slots_used`.
	fn slots_used(patient: ParticipantId) -> GrantId;
	/// The emergency review of grant slot `slot` of `patient`.
	fn emergency(patient: ParticipantId, slot: GrantId) -> Option<EmergencyGrant>;
	/// Records why and when the emergency grant in `patient`'s slot `slot` was opened.
	fn open_emergency(patient: ParticipantId, slot: GrantId, review: EmergencyGrant);
	/// Appends `entry` to `patient`'s access log; returns its index.
	fn append_log(patient: ParticipantId, entry: LogEntry) -> u32;
	/// This pallet's invariants ([`Pallet::do_try_state`]).
	fn do_try_state() -> Result<(), TryRuntimeError>;
}

/// The storage version: the layout has never been migrated.
pub const STORAGE_VERSION: frame_support::traits::StorageVersion =
	frame_support::traits::StorageVersion::new(0);

/// The outcome recorded in a log entry.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	codec::MaxEncodedLen,
)]
pub enum LogOutcome {
	/// Not an access (a record, consent, emergency or claim operation).
	Recorded,
	/// An access the rules allowed.
	Granted,
	/// An access the rules refused (logged all the same).
	Denied,
}

/// One entry of a patient's access log.
#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	codec::MaxEncodedLen,
)]
pub struct LogEntry {
	/// Who acted.
	pub actor: ParticipantId,
	/// The operation kind (`emr_primitives::ops::kind`).
	pub kind: u8,
	/// The grant slot relied on or written, if any.
	pub grant: Option<GrantId>,
	/// The purpose bit of an access (0 for other operations).
	pub purpose: u8,
	/// The outcome.
	pub outcome: LogOutcome,
	/// The block in which it happened.
	pub block: BlockNumber,
	/// The rollup batch that holds the operation.
	pub batch: u64,
	/// The operation's message (field bytes): with `block` and the outcome it recomputes the
	/// next link of the hash chain.
	pub message: [u8; 32],
}

/// Why and when an emergency grant was opened.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	codec::MaxEncodedLen,
)]
pub struct EmergencyGrant {
	/// The doctor.
	pub doctor: ParticipantId,
	/// Its hospital (the co-signer).
	pub hospital: ParticipantId,
	/// The reason code.
	pub reason: u16,
	/// The block in which it was opened.
	pub opened_at: BlockNumber,
}

// The pallet macros expand to fully qualified paths (and want the supertrait spelled through
// the umbrella crate), which the workspace's `unused_qualifications` lint would flag.
#[allow(unused_qualifications)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	/// The pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration: nothing beyond the system.
	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {}

	/// Grant slots by (patient, slot).
	#[pallet::storage]
	pub(crate) type Grants<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ParticipantId,
		Twox64Concat,
		GrantId,
		StoredGrant,
		OptionQuery,
	>;

	/// One past the highest grant slot each patient ever used (0: none).
	#[pallet::storage]
	pub(crate) type SlotsUsed<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, u32, ValueQuery>;

	/// Emergency grants by (patient, slot), kept for review until a new grant takes the slot.
	#[pallet::storage]
	pub(crate) type EmergencyGrants<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ParticipantId,
		Twox64Concat,
		GrantId,
		EmergencyGrant,
		OptionQuery,
	>;

	/// Access-log entries by (patient, index).
	#[pallet::storage]
	pub(crate) type AccessLog<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ParticipantId,
		Twox64Concat,
		u32,
		LogEntry,
		OptionQuery,
	>;

	/// Number of entries of each patient's access log.
	#[pallet::storage]
	pub(crate) type LogLength<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, u32, ValueQuery>;

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Grant slot `slot` of `patient`.
		pub fn grant(patient: ParticipantId, slot: GrantId) -> Option<StoredGrant> {
			Grants::<T>::get(patient, slot)
		}

		/// Writes (or with `None` empties) a grant slot. A new grant in a slot drops the
		/// emergency review of the grant it replaces unless it is that grant (an emergency grant
		/// writes its own review after this, and a claim rewrites its grant in place).
		pub fn set_grant(patient: ParticipantId, slot: GrantId, grant: Option<StoredGrant>) {
			match grant {
				Some(g) => {
					if !g.emergency {
						EmergencyGrants::<T>::remove(patient, slot);
					}
					Grants::<T>::insert(patient, slot, g);
					SlotsUsed::<T>::mutate(patient, |n| *n = (*n).max(slot.saturating_add(1)));
				},
				None => Grants::<T>::remove(patient, slot),
			}
		}

		/// Grant slots of `patient` that may hold a grant: `0..SlotsUsed`.
		pub fn slots_used(patient: ParticipantId) -> GrantId {
			SlotsUsed::<T>::get(patient)
		}

		/// The emergency review of grant slot `slot` of `patient`.
		pub fn emergency(patient: ParticipantId, slot: GrantId) -> Option<EmergencyGrant> {
			EmergencyGrants::<T>::get(patient, slot)
		}

		/// Records why and when the emergency grant in `patient`'s slot `slot` was opened (after
		/// [`Pallet::set_grant`] wrote the grant); it stays for review until a new grant takes
		/// the slot.
		pub fn open_emergency(patient: ParticipantId, slot: GrantId, review: EmergencyGrant) {
			EmergencyGrants::<T>::insert(patient, slot, review);
		}

		/// Appends `entry` to `patient`'s access log; returns its index.
		pub fn append_log(patient: ParticipantId, entry: LogEntry) -> u32 {
			let index = LogLength::<T>::get(patient);
			AccessLog::<T>::insert(patient, index, entry);
			LogLength::<T>::insert(patient, index.saturating_add(1));
			index
		}

		/// Up to `count` log entries of `patient` from index `from`, with the log's length.
		pub fn log_page(patient: ParticipantId, from: u32, count: u32) -> (u32, Vec<LogEntry>) {
			let len = LogLength::<T>::get(patient);
			let end = from.saturating_add(count).min(len);
			let entries = (from..end).filter_map(|i| AccessLog::<T>::get(patient, i)).collect();
			(len, entries)
		}

		/// Invariants:
		/// * the log of every patient is dense: indices `0..LogLength` present, none beyond;
		/// * every emergency review entry points at a grant that was opened as an emergency or
		///   has since been freed (it is never attached to an ordinary grant);
		/// * block numbers in a patient's log never decrease.
		/// (Always compiled: the rollup pallet's tests and `try_state` call it.)
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			for (patient, len) in LogLength::<T>::iter() {
				let mut last = 0;
				for i in 0..len {
					let e = AccessLog::<T>::get(patient, i).ok_or("a hole in an access log")?;
					ensure!(e.block >= last, "access-log blocks decrease");
					last = e.block;
				}
				ensure!(
					AccessLog::<T>::iter_prefix(patient).count() as u32 == len,
					"access-log entries beyond its length"
				);
			}
			for (patient, slot, _) in EmergencyGrants::<T>::iter() {
				if let Some(g) = Grants::<T>::get(patient, slot) {
					ensure!(g.emergency, "emergency review entry on an ordinary grant");
				}
			}
			for (patient, slot, _) in Grants::<T>::iter() {
				ensure!(slot < SlotsUsed::<T>::get(patient), "a grant at or beyond SlotsUsed");
			}
			Ok(())
		}
	}
}

impl<T: Config> ConsentRecords for Pallet<T> {
	fn grant(patient: ParticipantId, slot: GrantId) -> Option<StoredGrant> {
		Pallet::<T>::grant(patient, slot)
	}

	fn set_grant(patient: ParticipantId, slot: GrantId, grant: Option<StoredGrant>) {
		Pallet::<T>::set_grant(patient, slot, grant)
	}

	fn slots_used(patient: ParticipantId) -> GrantId {
		Pallet::<T>::slots_used(patient)
	}

	fn emergency(patient: ParticipantId, slot: GrantId) -> Option<EmergencyGrant> {
		Pallet::<T>::emergency(patient, slot)
	}

	fn open_emergency(patient: ParticipantId, slot: GrantId, review: EmergencyGrant) {
		Pallet::<T>::open_emergency(patient, slot, review)
	}

	fn append_log(patient: ParticipantId, entry: LogEntry) -> u32 {
		Pallet::<T>::append_log(patient, entry)
	}

	fn do_try_state() -> Result<(), TryRuntimeError> {
		Pallet::<T>::do_try_state()
	}
}

extern crate alloc;
