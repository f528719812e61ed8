//! Which consent slot a request names. The chain decides; the client only picks the slot, with
//! the rules' own functions over the grants as the chain stores them: a grant that
//! [`covers`](emr_primitives::rules::covers) the caller for a permission and purpose, or the
//! lowest [`free_slot`](emr_primitives::rules::free_slot) for a new grant.

use emr_primitives::{
	ops::{BlockNumber, DeploymentId, GrantId, ParticipantId},
	rules,
	state::{Grant, Header, Participant, RollupState},
	stored::{StoredGrant, StoredParticipant},
};

/// One of a patient's grant slots as the chain stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotGrant {
	/// Its slot in the patient's consent subtree.
	pub slot: GrantId,
	/// The grant.
	pub grant: StoredGrant,
	/// Opened by emergency access (the chain's record of the emergency).
	pub emergency: bool,
}

/// The participant making a request, as the chain shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
	/// Its id.
	pub id: ParticipantId,
	/// Its participant record.
	pub participant: StoredParticipant,
	/// A doctor's hospital while that hospital is a member (0: none).
	pub live_affiliation: ParticipantId,
}

impl Caller {
	/// The slot of the first grant in `grants` that gives the caller `permission` for
	/// `purpose` over `scope` at block `now` (the grant names the caller, or its hospital while
	/// the caller holds that hospital's live credential).
	pub fn covering_grant(
		&self,
		grants: &[SlotGrant],
		permission: u8,
		purpose: u8,
		scope: u32,
		now: BlockNumber,
	) -> Option<GrantId> {
		let actor = Participant::from(&self.participant);
		// The one organisation `covers` asks about: the caller's hospital, while it is a member.
		let mut header = Header::default();
		if self.live_affiliation != 0 {
			header.orgs.insert(actor.affiliation_org);
		}
		grants
			.iter()
			.find(|g| {
				rules::covers(
					&Grant::from(&g.grant),
					self.id,
					&actor,
					&header,
					permission,
					purpose,
					scope,
					now,
				)
			})
			.map(|g| g.slot)
	}
}

/// The grants of one patient as a [`RollupState`], so that [`rules::free_slot`] reads them.
struct GrantsView<'a> {
	patient: ParticipantId,
	grants: &'a [SlotGrant],
}

impl RollupState for GrantsView<'_> {
	fn deployment(&self) -> DeploymentId {
		DeploymentId([0; 32])
	}
	fn header(&self) -> Header {
		Header::default()
	}
	fn set_header(&mut self, _: Header) {}
	fn participant(&self, _: ParticipantId) -> Option<Participant> {
		None
	}
	fn set_participant(&mut self, _: ParticipantId, _: Participant) {}
	fn grant(&self, patient: ParticipantId, slot: GrantId) -> Option<Grant> {
		if patient != self.patient {
			return None;
		}
		self.grants.iter().find(|g| g.slot == slot).map(|g| Grant::from(&g.grant))
	}
	fn set_grant(&mut self, _: ParticipantId, _: GrantId, _: Option<Grant>) {}
}

/// The lowest consent slot of `patient` a new grant may take at block `now`
/// ([`rules::free_slot`] over the patient's grants).
pub fn free_slot(
	patient: ParticipantId,
	grants: &[SlotGrant],
	now: BlockNumber,
) -> Option<GrantId> {
	rules::free_slot(&GrantsView { patient, grants }, patient, now)
}

#[cfg(test)]
mod tests {
	use super::*;
	use emr_primitives::{
		ops::{permission, purpose, scope, Role},
		state::ClaimStatus,
		stored::StoredClaimStatus,
		testing::dev_rollup_key,
	};

	fn grant(
		slot: GrantId,
		grantee: ParticipantId,
		expires_at: BlockNumber,
		claim: ClaimStatus,
	) -> SlotGrant {
		SlotGrant {
			slot,
			grant: StoredGrant {
				grantee,
				permissions: permission::READ,
				purposes: purpose::TREATMENT,
				scope: scope::ALL,
				expires_at,
				emergency: false,
				claim_status: StoredClaimStatus::from(claim),
				claim_record: [0; 32],
				claim_amount: 0,
				settled: 0,
			},
			emergency: false,
		}
	}

	#[test]
	fn a_free_slot_skips_live_grants_and_open_claims() {
		let grants = [
			grant(0, 9, 100, ClaimStatus::None),
			grant(1, 9, 10, ClaimStatus::Open),
			grant(2, 9, 10, ClaimStatus::Approved),
		];
		// Slot 0 holds until block 100, slot 1 has an open claim, slot 2 expired and is closed.
		assert_eq!(free_slot(5, &grants, 50), Some(2));
		assert_eq!(free_slot(5, &grants[..2], 50), Some(2));
		assert_eq!(free_slot(5, &grants, 100), Some(0));
		assert_eq!(free_slot(5, &[], 0), Some(0));
	}

	#[test]
	fn a_grant_covers_its_grantee_and_a_credentialed_doctor_of_its_hospital() {
		let key = dev_rollup_key("Alice").public();
		let mut doctor = Participant::new(Role::Doctor, key, Default::default());
		doctor.affiliation = 4;
		doctor.affiliation_org = 1;
		let mut caller =
			Caller { id: 7, participant: StoredParticipant::from(&doctor), live_affiliation: 4 };
		let grants = [grant(0, 9, 100, ClaimStatus::None), grant(3, 4, 100, ClaimStatus::None)];
		let (read, treat, all) = (permission::READ, purpose::TREATMENT, scope::ALL);
		assert_eq!(caller.covering_grant(&grants, read, treat, all, 50), Some(3));
		assert_eq!(caller.covering_grant(&grants, read, treat, all, 100), None);
		assert_eq!(caller.covering_grant(&grants, permission::WRITE, treat, 0, 50), None);
		assert_eq!(caller.covering_grant(&grants, read, purpose::RESEARCH, all, 50), None);
		// The hospital was removed: its grant no longer covers the doctor.
		caller.live_affiliation = 0;
		assert_eq!(caller.covering_grant(&grants, read, treat, all, 50), None);
		caller.id = 9;
		assert_eq!(caller.covering_grant(&grants, read, treat, all, 50), Some(0));
	}
}
