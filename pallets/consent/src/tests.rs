//! Consent tests: grant slots and the dense, paged access log.

use crate::{mock::*, *};
use emr_primitives::stored::StoredClaimStatus;

fn grant(grantee: u32, emergency: bool) -> StoredGrant {
	StoredGrant {
		grantee,
		permissions: 1,
		purposes: 1,
		scope: u32::MAX,
		expires_at: 100,
		emergency,
		claim_status: StoredClaimStatus::None,
		claim_record: [0; 32],
		claim_amount: 0,
		settled: 0,
	}
}

fn entry(block: u32) -> LogEntry {
	LogEntry {
		actor: 2,
		kind: 9,
		grant: Some(0),
		purpose: 1,
		outcome: LogOutcome::Denied,
		block,
		batch: 0,
		message: [1; 32],
	}
}

#[test]
fn grants_are_written_and_emptied() {
	new_test_ext().execute_with(|| {
		Consent::set_grant(1, 0, Some(grant(2, false)));
		assert_eq!(Consent::grant(1, 0), Some(grant(2, false)));
		Consent::set_grant(1, 0, None);
		assert_eq!(Consent::grant(1, 0), None);
		Consent::do_try_state().expect("invariants hold");
	});
}

#[test]
fn log_is_dense_and_paged() {
	new_test_ext().execute_with(|| {
		for b in 1..=5 {
			assert_eq!(Consent::append_log(7, entry(b)), b - 1);
		}
		let (len, page) = Consent::log_page(7, 3, 10);
		assert_eq!(len, 5);
		assert_eq!(page, vec![entry(4), entry(5)]);
		assert_eq!(Consent::log_page(7, 9, 2), (5, vec![]));
		assert_eq!(Consent::log_page(8, 0, 2), (0, vec![]));
		Consent::do_try_state().expect("invariants hold");
	});
}

#[test]
fn try_state_catches_a_hole_and_decreasing_blocks() {
	new_test_ext().execute_with(|| {
		Consent::append_log(7, entry(3));
		Consent::append_log(7, entry(2));
		assert!(Consent::do_try_state().is_err());
	});
	new_test_ext().execute_with(|| {
		Consent::append_log(7, entry(3));
		AccessLog::<Test>::remove(7, 0);
		assert!(Consent::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_an_emergency_entry_on_an_ordinary_grant() {
	new_test_ext().execute_with(|| {
		let review = EmergencyGrant { doctor: 3, hospital: 4, reason: 1, opened_at: 1 };
		EmergencyGrants::<Test>::insert(1, 0, review);
		Consent::set_grant(1, 0, Some(grant(3, true)));
		Consent::do_try_state().expect("consistent");
		// Written past `set_grant`, which would have dropped the review.
		Grants::<Test>::insert(1, 0, grant(3, false));
		assert!(Consent::do_try_state().is_err());
	});
}

#[test]
fn a_new_grant_in_a_slot_drops_the_old_emergency_review_and_extends_slots_used() {
	new_test_ext().execute_with(|| {
		let review = EmergencyGrant { doctor: 3, hospital: 4, reason: 1, opened_at: 1 };
		Consent::set_grant(1, 2, Some(grant(3, true)));
		Consent::open_emergency(1, 2, review);
		assert_eq!(Consent::slots_used(1), 3);
		// An emergency grant keeps it (the rollup writes the new review after it) ...
		Consent::set_grant(1, 2, Some(grant(5, true)));
		assert_eq!(Consent::emergency(1, 2), Some(review));
		// ... an ordinary grant in the same slot drops it.
		Consent::set_grant(1, 2, Some(grant(5, false)));
		assert!(EmergencyGrants::<Test>::get(1, 2).is_none());
		// Emptying a slot leaves SlotsUsed; a lower slot does not lower it.
		Consent::set_grant(1, 2, None);
		Consent::set_grant(1, 0, Some(grant(6, false)));
		assert_eq!(Consent::slots_used(1), 3);
		Consent::do_try_state().expect("consistent");
		// A grant at or beyond SlotsUsed (written past `set_grant`) breaks the invariant.
		Grants::<Test>::insert(1, 3, grant(6, false));
		assert!(Consent::do_try_state().is_err());
	});
}

#[test]
fn a_fresh_genesis_is_at_the_storage_version() {
	use polkadot_sdk::frame_support::traits::{GetStorageVersion, StorageVersion};
	new_test_ext().execute_with(|| {
		assert_eq!(Consent::on_chain_storage_version(), STORAGE_VERSION);
		assert_eq!(Consent::in_code_storage_version(), StorageVersion::new(0));
	});
}
