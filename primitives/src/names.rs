//! Names of the chain's codes as people read them: `emr`, the node's JSON-RPC and the access
//! log show these (display only; the rules work on the codes).

use crate::{
	ops::{kind, permission, purpose},
	rules::RuleError,
};

/// Permission bits by name.
pub const PERMISSIONS: [(&str, u8); 3] =
	[("READ", permission::READ), ("WRITE", permission::WRITE), ("CLAIM", permission::CLAIM)];

/// Purpose bits by name.
pub const PURPOSES: [(&str, u8); 5] = [
	("TREATMENT", purpose::TREATMENT),
	("RESEARCH", purpose::RESEARCH),
	("INSURANCE", purpose::INSURANCE),
	("EMERGENCY", purpose::EMERGENCY),
	("AUDIT", purpose::AUDIT),
];

/// The names of the bits of `bits` set in `table` ([`PERMISSIONS`], [`PURPOSES`]), in the
/// table's order.
pub fn bit_names<'a>(
	bits: u8,
	table: &'a [(&'static str, u8)],
) -> impl Iterator<Item = &'static str> + 'a {
	table.iter().filter(move |(_, bit)| bits & bit != 0).map(|(name, _)| *name)
}

/// The name of an operation kind ([`crate::ops::kind`]).
pub fn kind_name(k: u8) -> &'static str {
	match k {
		kind::ADMIT_MEMBER => "AdmitMember",
		kind::REMOVE_MEMBER => "RemoveMember",
		kind::REGISTER => "Register",
		kind::CREDENTIAL_DOCTOR => "CredentialDoctor",
		kind::REVOKE_CREDENTIAL => "RevokeCredential",
		kind::APPEND_RECORD => "AppendRecord",
		kind::GRANT_CONSENT => "GrantConsent",
		kind::REVOKE_CONSENT => "RevokeConsent",
		kind::ACCESS_RECORD => "AccessRecord",
		kind::EMERGENCY_ACCESS => "EmergencyAccess",
		kind::SUBMIT_CLAIM => "SubmitClaim",
		kind::DECIDE_CLAIM => "DecideClaim",
		_ => "Unknown",
	}
}

/// What a rule's refusal means for the person whose operation it refused, in one sentence.
/// Exhaustive on purpose: a new [`RuleError`] does not compile until it is given its sentence.
pub fn explain(rule: RuleError) -> &'static str {
	match rule {
		RuleError::GovernanceOnly => "only the consortium's governance may admit or remove members",
		RuleError::NotAGovernanceOperation => "governance may only admit or remove members, not act as a participant",
		RuleError::UnknownActor => "this key set is not registered on this chain",
		RuleError::ActorInactive => "this participant was removed by the consortium and can no longer act",
		RuleError::BadNonce => "another operation of this key set was submitted at the same time; run the command again",
		RuleError::CounterOverflow => "a counter of this participant cannot advance further",
		RuleError::MalformedSignature => "the signature does not verify: it is not a well-formed signature (a corrupted file?)",
		RuleError::BadSignature => "the signature does not verify (a key set of another chain, or a corrupted file?)",
		RuleError::InvalidKey => "a public key in the operation is not a valid rollup key (a corrupted key set?)",
		RuleError::IdCollision => "the chain's next participant id is already taken (a state the rules did not build): tell the consortium's operators",
		RuleError::AlreadyRegistered => "this key is already registered on this chain",
		RuleError::InvalidRole => "a person registers only as a patient or a doctor; organisations are admitted by governance",
		RuleError::NotAHospital => "only an admitted hospital may do this (use the hospital's key set)",
		RuleError::NotADoctor => "that participant is not a registered doctor",
		RuleError::NotAPatient => "only a patient may do this",
		RuleError::NotAnInsurer => "only an admitted insurer may do this",
		RuleError::UnknownParticipant => "there is no such participant",
		RuleError::NotYourDoctor => "that doctor is not credentialed by your hospital",
		RuleError::UnknownPatient => "there is no such patient",
		RuleError::VersionMismatch => "the record index changed since you read it (someone wrote first): read it again and retry",
		RuleError::GrantOutOfRange => "there is no such consent (the slot number is beyond the patient's consent slots)",
		RuleError::IdOutOfRange => "the chain's participant registry is full",
		RuleError::NoWriteGrant => "the patient has not shared write access with you or your hospital, or that consent expired",
		RuleError::GranteeNotRegistered => "the person or organisation you share with is not registered on this chain",
		RuleError::InvalidPermissions => "choose at least one of read, write, claim",
		RuleError::InvalidPurposes => "choose at least one purpose (treatment, research, insurance, emergency, audit); a request names exactly one",
		RuleError::InvalidScope => "the scope is empty",
		RuleError::ExpiryInPast => "that expiry has already passed",
		RuleError::SlotTaken => "that consent slot is still in use (another command took it at the same time?); run the command again",
		RuleError::GrantNotFound => "there is no such consent",
		RuleError::NotCredentialed => "the doctor holds no credential of a member hospital",
		RuleError::ReasonMissing => "emergency access needs a reason code",
		RuleError::NoClaimGrant => "the patient has not given you claim consent, or it expired",
		RuleError::ClaimAlreadyOpen => "a claim under this consent is still open",
		RuleError::ZeroAmount => "a claim must be for a positive amount",
		RuleError::ClaimNotOpen => "there is no open claim under this consent",
		RuleError::NotYourClaim => "that claim belongs to another insurer",
		RuleError::SettlementExceedsClaim => "the settled amount exceeds the claim (a rejection settles nothing)",
		RuleError::ParticipantInactive => "that participant was removed",
		RuleError::MalformedEncoding => "the operation is not encoded the one way the chain accepts (a client of another version?)",
		RuleError::BlockDecreased => "the operation's block is earlier than the previous one in its batch (a fault of the node, not of the operation)",
		RuleError::AlreadyCredentialed => "that doctor is already credentialed by a member hospital (it must be revoked first)",
		RuleError::TooManyOrganisations => "the consortium has admitted as many organisations as it ever can",
	}
}

/// Every [`RuleError`], in code order (the codes the pool and `PalletError` carry).
pub fn rule_errors() -> impl Iterator<Item = RuleError> {
	use codec::Decode;
	(0..=u8::MAX).map_while(|code| RuleError::decode(&mut &[code][..]).ok())
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec::Vec;

	#[test]
	fn every_bit_has_one_name_and_every_kind_a_name() {
		for table in [&PERMISSIONS[..], &PURPOSES[..]] {
			let all = table.iter().fold(0u8, |acc, (_, b)| {
				assert_eq!(acc & b, 0, "a bit named twice");
				acc | b
			});
			assert_eq!(bit_names(all, table).count(), table.len());
		}
		assert_eq!(bit_names(permission::ALL, &PERMISSIONS).count(), PERMISSIONS.len());
		assert_eq!(bit_names(purpose::ALL, &PURPOSES).count(), PURPOSES.len());
		assert_eq!(
			bit_names(permission::READ | permission::CLAIM, &PERMISSIONS).collect::<Vec<_>>(),
			["READ", "CLAIM"]
		);
		for k in kind::ADMIT_MEMBER..=kind::DECIDE_CLAIM {
			assert_ne!(kind_name(k), "Unknown", "kind {k}");
		}
	}

	#[test]
	fn every_rule_has_its_own_sentence() {
		let all: Vec<RuleError> = rule_errors().collect();
		assert_eq!(all.len(), 43);
		let mut sentences: Vec<&str> = all.iter().map(|r| explain(*r)).collect();
		assert!(sentences.iter().all(|s| !s.is_empty()));
		sentences.sort();
		sentences.dedup();
		assert_eq!(sentences.len(), all.len(), "two rules share a sentence");
	}
}
