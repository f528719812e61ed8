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
