//! Names of the chain's codes as people read them: `emr`, the node's JSON-RPC and the access
//! log show these (display only; the rules work on the codes).

use crate::ops::{kind, permission, purpose};

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
}
