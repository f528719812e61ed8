//! Registry tests: the storage the rollup's state adapter relies on.

use crate::{mock::*, *};
use emr_primitives::{
	ops::{Cid, Role},
	schnorr::SecretKey,
	state::Participant,
	F,
};

fn patient(seed: u8) -> StoredParticipant {
	let key = SecretKey::from_seed(&[seed; 32]).public();
	StoredParticipant::from(&Participant::new(Role::Patient, key, F::from(seed as u64)))
}

#[test]
fn set_participant_counts_new_entries_once() {
	new_test_ext().execute_with(|| {
		Registry::set_participant(5, patient(1));
		let mut p = patient(1);
		p.nonce = 3;
		Registry::set_participant(5, p.clone());
		Registry::set_participant(6, patient(2));
		assert_eq!(ParticipantCount::<Test>::get(), 2);
		assert_eq!(Registry::participant(5), Some(p));
		assert_eq!(Registry::participant(7), None);
		Registry::do_try_state().expect("invariants hold");
	});
}

#[test]
fn try_state_catches_an_index_head_of_another_version() {
	new_test_ext().execute_with(|| {
		let mut p = patient(1);
		p.index_version = 1;
		Registry::set_participant(5, p);
		let head = IndexHead { cid: Cid(b"bafy".to_vec()), version: 1, author: 5, block: 1 };
		IndexHeads::<Test>::insert(5, head.clone());
		Registry::do_try_state().expect("consistent");
		IndexHeads::<Test>::insert(5, IndexHead { version: 2, ..head });
		assert!(Registry::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_an_orphan_encryption_key() {
	new_test_ext().execute_with(|| {
		EncryptionKeys::<Test>::insert(9, [1u8; 32]);
		assert!(Registry::do_try_state().is_err());
		Registry::set_participant(9, patient(3));
		Registry::do_try_state().expect("consistent");
	});
}

#[test]
fn register_key_records_the_key_id_and_encryption_key() {
	new_test_ext().execute_with(|| {
		let p = patient(4);
		let key = p.compressed_key();
		Registry::set_participant(5, p);
		Registry::register_key(5, key, [7u8; 32]);
		assert_eq!(Registry::key_id(&key), Some(5));
		assert_eq!(Registry::encryption_key(5), Some([7u8; 32]));
		assert_eq!(<Registry as ParticipantRegistry>::key_id(&[0u8; 32]), None);
		Registry::do_try_state().expect("invariants hold");
	});
}

#[test]
fn set_index_head_takes_the_participants_version_and_skips_unknown_ones() {
	new_test_ext().execute_with(|| {
		let mut p = patient(1);
		p.index_version = 3;
		Registry::set_participant(5, p);
		Registry::set_index_head(5, Cid(b"bafy".to_vec()), 8, 2);
		assert_eq!(
			Registry::index_head(5),
			Some(IndexHead { cid: Cid(b"bafy".to_vec()), version: 3, author: 8, block: 2 })
		);
		Registry::set_index_head(6, Cid(b"bafy".to_vec()), 8, 2);
		assert_eq!(Registry::index_head(6), None);
		Registry::do_try_state().expect("invariants hold");
	});
}

#[test]
fn a_fresh_genesis_is_at_the_storage_version() {
	use polkadot_sdk::frame_support::traits::{GetStorageVersion, StorageVersion};
	new_test_ext().execute_with(|| {
		assert_eq!(Registry::on_chain_storage_version(), STORAGE_VERSION);
		assert_eq!(Registry::in_code_storage_version(), StorageVersion::new(0));
	});
}
