//! How far an operation got on the chain: the levels `rollup_operationStatus` and `--wait` name.

use core::{fmt, str::FromStr};
use emr_primitives::ops::ParticipantId;
use std::time::Duration;

/// How far an operation got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
	/// Not (or no longer) known to the chain's best block.
	Unknown,
	/// In a block of the best chain.
	Included,
	/// In a block GRANDPA finalized.
	Finalized,
	/// Finalized, and its batch's Groth16 proof verified on chain.
	Proven,
	/// Its proven batch settled on Ethereum.
	Settled,
}

impl Level {
	/// The name `rollup_operationStatus` and `--wait` use.
	pub fn name(self) -> &'static str {
		match self {
			Level::Unknown => "unknown",
			Level::Included => "included",
			Level::Finalized => "finalized",
			Level::Proven => "proven",
			Level::Settled => "settled",
		}
	}

	/// How long a wait for this level may reasonably take on a healthy network (blocks every
	/// 6 s, batches sealed every few blocks and proven in seconds to minutes).
	pub fn default_timeout(self) -> Duration {
		Duration::from_secs(match self {
			Level::Unknown | Level::Included => 60,
			Level::Finalized => 120,
			Level::Proven => 900,
			Level::Settled => 1200,
		})
	}
}

impl fmt::Display for Level {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.name())
	}
}

impl FromStr for Level {
	type Err = String;
	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s {
			"included" => Ok(Level::Included),
			"finalized" => Ok(Level::Finalized),
			"proven" => Ok(Level::Proven),
			"settled" => Ok(Level::Settled),
			_ => Err(format!("{s:?}: expected included, finalized, proven or settled")),
		}
	}
}

/// Where an operation stands (`rollup_operationStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpStatus {
	/// The acting participant.
	pub actor: ParticipantId,
	/// The actor's nonce the operation used.
	pub nonce: u32,
	/// The level reached.
	pub level: Level,
	/// The block that included it.
	pub block: Option<u64>,
	/// Its batch.
	pub batch: Option<u64>,
	/// Once settled: the Ethereum block and transaction.
	pub l1: Option<(u64, String)>,
}

impl fmt::Display for OpStatus {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{}", self.level)?;
		if let Some(b) = self.block {
			write!(f, " in block #{b}")?;
		}
		if let Some(b) = self.batch {
			write!(f, ", batch {b}")?;
		}
		if let Some((block, tx)) = &self.l1 {
			write!(f, ", Ethereum block {block}, transaction {tx}")?;
		}
		Ok(())
	}
}
