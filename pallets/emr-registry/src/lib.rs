//! # Registry pallet
//!
//! ## Overview
//!
//! The consortium's participants as the rollup rules see them, and each patient's record index:
//!
//! * [`Participants`]: one [`StoredParticipant`] per participant id (role, rollup key, nonce,
//!   index version and digest, the doctor's hospital and emergency key, the head of the
//!   access-log hash chain);
//! * [`EncryptionKeys`]: each participant's X25519 key, so that a writer can wrap a record key
//!   for a reader without exchanging files;
//! * [`IndexHeads`]: each patient's record-index head (the CID of the newest encrypted index
//!   entry on IPFS, its version, who wrote it and when).
//!
//! Every item is keyed by the participant id alone, so a light client proves one patient's entry
//! with one storage proof, without iterating a map.
//!
//! This pallet has no calls: every change arrives as an L2 operation through
//! `pallet_rollup::Call::submit` (or a council motion through the rollup's governance calls),
//! whose rules (`emr_primitives::rules::apply`) read and write [`Participants`] through the
//! runtime's state adapter; the rollup pallet records encryption keys and index heads from the
//! operations it applied.
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
	ops::{BlockNumber, Cid, ParticipantId},
	stored::StoredParticipant,
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};

/// A patient's record-index head: the newest entry of the hash-linked encrypted index.
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
pub struct IndexHead {
	/// CID of the newest index entry.
	pub cid: Cid,
	/// Index version after this append (number of appends).
	pub version: u32,
	/// Who appended it (the patient or a grantee).
	pub author: ParticipantId,
	/// The block in which it was appended.
	pub block: BlockNumber,
}

// The pallet macros expand to fully qualified paths (and want the supertrait spelled through
// the umbrella crate), which the workspace's `unused_qualifications` lint would flag.
#[allow(unused_qualifications)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::TryRuntimeError;

	/// The pallet.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration: nothing beyond the system.
	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {}

	/// Participants by id (the rollup rules' state).
	#[pallet::storage]
	pub type Participants<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, StoredParticipant, OptionQuery>;

	/// Each participant's X25519 encryption key (its digest is in the participant entry).
	#[pallet::storage]
	pub type EncryptionKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, [u8; 32], OptionQuery>;

	/// The id of each registered rollup key (compressed, canonical): a key registers once.
	/// Ids are assigned in registration order by the rules, which cannot see other
	/// participants' keys; this index is how the chain refuses a second registration of a key
	/// and how a client finds its id.
	#[pallet::storage]
	pub type KeyIds<T: Config> =
		StorageMap<_, Blake2_128Concat, [u8; 32], ParticipantId, OptionQuery>;

	/// Each patient's record-index head.
	#[pallet::storage]
	pub type IndexHeads<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, IndexHead, OptionQuery>;

	/// Number of participant entries (for invariants and status).
	#[pallet::storage]
	pub type ParticipantCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		/// The participant `id`.
		pub fn participant(id: ParticipantId) -> Option<StoredParticipant> {
			Participants::<T>::get(id)
		}

		/// Writes participant `id` (counting new entries).
		pub fn set_participant(id: ParticipantId, participant: StoredParticipant) {
			if !Participants::<T>::contains_key(id) {
				ParticipantCount::<T>::mutate(|n| *n = n.saturating_add(1));
			}
			Participants::<T>::insert(id, participant);
		}

		/// Invariants:
		/// * [`ParticipantCount`] equals the number of [`Participants`];
		/// * every [`IndexHead`] belongs to a participant whose index version equals the head's;
		/// * every [`EncryptionKeys`] entry belongs to a participant;
		/// * every [`KeyIds`] entry names the participant holding that key.
		/// (Always compiled: the rollup pallet's tests and `try_state` call it.)
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			ensure!(
				Participants::<T>::iter().count() as u32 == ParticipantCount::<T>::get(),
				"ParticipantCount differs from the number of participants"
			);
			for (id, head) in IndexHeads::<T>::iter() {
				let p = Participants::<T>::get(id).ok_or("index head of an unknown participant")?;
				ensure!(
					p.index_version == head.version,
					"index head version differs from the participant's"
				);
			}
			for (key, id) in KeyIds::<T>::iter() {
				let p = Participants::<T>::get(id).ok_or("key id of an unknown participant")?;
				ensure!(p.compressed_key() == key, "key id names another key's participant");
			}
			for (id, _) in EncryptionKeys::<T>::iter() {
				ensure!(
					Participants::<T>::contains_key(id),
					"encryption key of an unknown participant"
				);
			}
			Ok(())
		}
	}
}
