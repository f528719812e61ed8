//! Names of the chain's codes as `emr` and the node's JSON-RPC show them.

use emr_primitives::ops::{kind, permission, purpose};

/// Permission bits by name (`emr consent grant --permissions`).
pub const PERMISSIONS: [(&str, u8); 3] =
	[("read", permission::READ), ("write", permission::WRITE), ("claim", permission::CLAIM)];

/// Purpose bits by name (`--purposes`, `--purpose`).
pub const PURPOSES: [(&str, u8); 5] = [
	("treatment", purpose::TREATMENT),
	("research", purpose::RESEARCH),
	("insurance", purpose::INSURANCE),
	("emergency", purpose::EMERGENCY),
	("audit", purpose::AUDIT),
];

/// The name of an operation kind (`emr_primitives::ops::kind`), as the access log shows it.
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
