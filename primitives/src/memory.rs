//! An in-memory [`RollupState`] (ordered maps): the reference state for tests and for replaying
//! the rules without Merkle trees.

use crate::{
	ops::{DeploymentId, GrantId, ParticipantId},
	state::{Grant, Header, Participant, RollupState},
};
use alloc::collections::BTreeMap;

/// Participants and grant slots in ordered maps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
	/// The deployment (signatures are checked against it).
	pub deployment: DeploymentId,
	/// Participants by id.
	pub participants: BTreeMap<ParticipantId, Participant>,
	/// Grant slots by (patient, slot).
	pub grants: BTreeMap<(ParticipantId, GrantId), Grant>,
	/// The header.
	pub header: Header,
}

impl MemoryState {
	/// An empty state of `deployment`.
	pub fn new(deployment: DeploymentId) -> Self {
		Self { deployment, ..Default::default() }
	}
}

impl RollupState for MemoryState {
	fn deployment(&self) -> DeploymentId {
		self.deployment
	}

	fn header(&self) -> Header {
		self.header
	}

	fn set_header(&mut self, header: Header) {
		self.header = header;
	}

	fn participant(&self, id: ParticipantId) -> Option<Participant> {
		self.participants.get(&id).cloned()
	}

	fn set_participant(&mut self, id: ParticipantId, participant: Participant) {
		self.participants.insert(id, participant);
	}

	fn grant(&self, patient: ParticipantId, grant: GrantId) -> Option<Grant> {
		self.grants.get(&(patient, grant)).cloned()
	}

	fn set_grant(&mut self, patient: ParticipantId, grant: GrantId, value: Option<Grant>) {
		match value {
			Some(g) => self.grants.insert((patient, grant), g),
			None => self.grants.remove(&(patient, grant)),
		};
	}
}
