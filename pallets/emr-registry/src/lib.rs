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
//! operations it applied. Its storage is private to this crate: every write goes through one of
//! its intent-named functions ([`Pallet::set_participant`], [`Pallet::register_key`],
//! [`Pallet::set_index_head`]), which keep the invariants of [`Pallet::do_try_state`], and other
//! pallets reach them through the [`ParticipantRegistry`] trait their `Config` names.
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
use sp_runtime::TryRuntimeError;

/// The registry as another pallet sees it (the rollup names it in its `Config::Registry`): reads,
/// and writes by intent, each keeping the registry's invariants. Implemented by [`Pallet`].
pub trait ParticipantRegistry {
	/// The participant `id`.
	fn participant(id: ParticipantId) -> Option<StoredParticipant>;
	/// Writes participant `id` (the rules' state).
	fn set_participant(id: ParticipantId, participant: StoredParticipant);
	/// The id of the participant holding the rollup key `public_key` (compressed).
	fn key_id(public_key: &[u8; 32]) -> Option<ParticipantId>;
	/// The X25519 encryption key of participant `id`.
	fn encryption_key(id: ParticipantId) -> Option<[u8; 32]>;
	/// The record-index head of `patient`.
	fn index_head(patient: ParticipantId) -> Option<IndexHead>;
	/// Records the keys of participant `id`, just registered or admitted.
	fn register_key(id: ParticipantId, public_key: [u8; 32], encryption_key: [u8; 32]);
	/// Records `patient`'s new index head `cid`, appended by `author` in `block`, at the
	/// patient's current index version (nothing for an unknown patient).
	fn set_index_head(patient: ParticipantId, cid: Cid, author: ParticipantId, block: BlockNumber);
	/// The registry's invariants ([`Pallet::do_try_state`]).
	fn do_try_state() -> Result<(), TryRuntimeError>;
}

/// The storage version: the layout has never been migrated.
pub const STORAGE_VERSION: frame_support::traits::StorageVersion =
	frame_support::traits::StorageVersion::new(0);

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

	/// The pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration: nothing beyond the system.
	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {}

	/// Participants by id (the rollup rules' state).
	#[pallet::storage]
	pub(crate) type Participants<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, StoredParticipant, OptionQuery>;

	/// Each participant's X25519 encryption key (its digest is in the participant entry).
	#[pallet::storage]
	pub(crate) type EncryptionKeys<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, [u8; 32], OptionQuery>;

	/// The id of each registered rollup key (compressed, canonical): a key registers once.
	/// Ids are assigned in registration order by the rules, which cannot see other
	/// participants' keys; this index is how the chain refuses a second registration of a key
	/// and how a client finds its id.
	#[pallet::storage]
	pub(crate) type KeyIds<T: Config> =
		StorageMap<_, Blake2_128Concat, [u8; 32], ParticipantId, OptionQuery>;

	/// Each patient's record-index head.
	#[pallet::storage]
	pub(crate) type IndexHeads<T: Config> =
		StorageMap<_, Blake2_128Concat, ParticipantId, IndexHead, OptionQuery>;

	/// Number of participant entries (for invariants and status).
	#[pallet::storage]
	pub(crate) type ParticipantCount<T: Config> = StorageValue<_, u32, ValueQuery>;

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

		/// The id of the participant holding the rollup key `public_key`.
		pub fn key_id(public_key: &[u8; 32]) -> Option<ParticipantId> {
			KeyIds::<T>::get(public_key)
		}

		/// The X25519 encryption key of participant `id`.
		pub fn encryption_key(id: ParticipantId) -> Option<[u8; 32]> {
			EncryptionKeys::<T>::get(id)
		}

		/// The record-index head of `patient`.
		pub fn index_head(patient: ParticipantId) -> Option<IndexHead> {
			IndexHeads::<T>::get(patient)
		}

		/// Records the rollup and encryption keys of participant `id`, just registered or
		/// admitted: the key's id (a key registers once) and the X25519 key.
		pub fn register_key(id: ParticipantId, public_key: [u8; 32], encryption_key: [u8; 32]) {
			EncryptionKeys::<T>::insert(id, encryption_key);
			KeyIds::<T>::insert(public_key, id);
		}

		/// Records `patient`'s new index head `cid`, appended by `author` in `block`, under the
		/// patient's current index version (the rules advanced it); nothing for an unknown
		/// patient.
		pub fn set_index_head(
			patient: ParticipantId,
			cid: Cid,
			author: ParticipantId,
			block: BlockNumber,
		) {
			if let Some(p) = Participants::<T>::get(patient) {
				IndexHeads::<T>::insert(
					patient,
					IndexHead { cid, version: p.index_version, author, block },
				);
			}
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

impl<T: Config> ParticipantRegistry for Pallet<T> {
	fn participant(id: ParticipantId) -> Option<StoredParticipant> {
		Pallet::<T>::participant(id)
	}

	fn set_participant(id: ParticipantId, participant: StoredParticipant) {
		Pallet::<T>::set_participant(id, participant)
	}

	fn key_id(public_key: &[u8; 32]) -> Option<ParticipantId> {
		Pallet::<T>::key_id(public_key)
	}

	fn encryption_key(id: ParticipantId) -> Option<[u8; 32]> {
		Pallet::<T>::encryption_key(id)
	}

	fn index_head(patient: ParticipantId) -> Option<IndexHead> {
		Pallet::<T>::index_head(patient)
	}

	fn register_key(id: ParticipantId, public_key: [u8; 32], encryption_key: [u8; 32]) {
		Pallet::<T>::register_key(id, public_key, encryption_key)
	}

	fn set_index_head(patient: ParticipantId, cid: Cid, author: ParticipantId, block: BlockNumber) {
		Pallet::<T>::set_index_head(patient, cid, author, block)
	}

	fn do_try_state() -> Result<(), TryRuntimeError> {
		Pallet::<T>::do_try_state()
	}
}
