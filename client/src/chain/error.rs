//! What can go wrong talking to the chain, in words a clinic's IT staff can act on.

use emr_primitives::{
	names::{explain, rule_errors},
	ops::ParticipantId,
	rules::RuleError,
};

use super::status::{Level, OpStatus};

/// What can go wrong talking to the chain, in words a clinic's IT staff can act on.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
	/// The address is not one this client can use.
	#[error("bad node address {url:?}: {reason}")]
	BadEndpoint {
		/// The address given.
		url: String,
		/// Why.
		reason: String,
	},
	/// Nothing answers at the address.
	#[error(
		"no node reachable at {endpoint} ({reason}): is the node running? Pass its address with \
		 --node URL or EMR_NODE"
	)]
	Unreachable {
		/// The node's address.
		endpoint: String,
		/// The operating system's reason.
		reason: String,
	},
	/// The node did not answer in time.
	#[error("the node at {endpoint} did not answer {method} within {seconds} s")]
	Timeout {
		/// The node's address.
		endpoint: String,
		/// The JSON-RPC method.
		method: String,
		/// The time allowed.
		seconds: u64,
	},
	/// The answer is not what this client expects (another program on the port, or a node of
	/// another version).
	#[error("the node at {endpoint} answered {method} unexpectedly: {detail}")]
	BadAnswer {
		/// The node's address.
		endpoint: String,
		/// The JSON-RPC method.
		method: String,
		/// What was wrong.
		detail: String,
	},
	/// The chain's rules refuse the operation.
	#[error("refused: {} ({rule:?})", explain(*rule))]
	Refused {
		/// The rule.
		rule: RuleError,
	},
	/// The chain's rules refuse the operation for a reason this client does not know (a node
	/// of a newer release).
	#[error("refused: the chain's rules refuse the operation ({0})")]
	UnknownRule(String),
	/// The node's transaction pool refuses the operation.
	#[error("the node refused the operation: {0}")]
	Pool(String),
	/// Any other JSON-RPC error.
	#[error("the node answered {method} with error {code}: {message}")]
	Rpc {
		/// The JSON-RPC method.
		method: String,
		/// The error code.
		code: i64,
		/// The node's message.
		message: String,
	},
	/// The key set has no participant id on this chain.
	#[error("key set {name:?} is not registered on this chain: run `emr register` first (a hospital or another organisation is admitted by the consortium's governance)")]
	NotRegistered {
		/// The key set.
		name: String,
	},
	/// No participant has this id.
	#[error("there is no participant {0} on this chain")]
	UnknownParticipant(ParticipantId),
	/// The operation did not reach the level asked for in time.
	#[error(
		"gave up after {seconds} s waiting for the operation to be {wanted}: it is {reached}{hint}"
	)]
	WaitTimeout {
		/// The level asked for.
		wanted: Level,
		/// The level reached.
		reached: OpStatus,
		/// The time allowed.
		seconds: u64,
		/// What may be wrong.
		hint: &'static str,
	},
	/// The operation left the pool without being included.
	#[error("the operation was dropped before it reached a block (another operation of this key set took its nonce?); run the command again")]
	Dropped,
	/// The light client could not start or follow the chain.
	#[error("light client: {reason}")]
	Light {
		/// Why.
		reason: String,
	},
	/// A read of the chain's state (through subxt) failed.
	#[error("reading the {what} through {via} failed: {detail}")]
	State {
		/// The node or the light client.
		via: String,
		/// What was read.
		what: String,
		/// The error.
		detail: String,
	},
}

impl ChainError {
	/// The refusal of the rule the node names (`RuleError`'s variant name, as the node's
	/// `rollup_submit` error data carries it), typed when this client knows the rule.
	pub fn refused(name: &str) -> Self {
		match rule_errors().find(|r| format!("{r:?}") == name) {
			Some(rule) => ChainError::Refused { rule },
			None => ChainError::UnknownRule(name.to_owned()),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_rule_a_user_can_meet_is_said_in_words() {
		for rule in [
			RuleError::NoWriteGrant,
			RuleError::VersionMismatch,
			RuleError::NoClaimGrant,
			RuleError::ExpiryInPast,
			RuleError::BadNonce,
		] {
			let said = ChainError::refused(&format!("{rule:?}")).to_string();
			assert_eq!(said, format!("refused: {} ({rule:?})", explain(rule)));
		}
		let e = ChainError::refused("SomethingNew").to_string();
		assert!(e.contains("SomethingNew") && e.contains("the chain's rules"), "{e}");
		assert_eq!(
			ChainError::refused("ExpiryInPast").to_string(),
			"refused: that expiry has already passed (ExpiryInPast)"
		);
	}
}
