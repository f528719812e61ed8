//! `emr-prover relay`: the relayer to Ethereum.

use crate::io::{self, FileError};
use clap::Args;
use emr_settlement::{
	l1::L1,
	relay::{self, Contracts, Progress, RelayError, Relayer},
};
use emr_worker::rpc::RpcChain;
use std::path::PathBuf;

/// The relayer: settles every proven batch on Ethereum in order and reports where each
/// settled (`ethBridge.confirm`). Reads the contracts' addresses from the chain; safe to
/// stop and restart at any point.
#[derive(Debug, Args)]
pub struct RelayCmd {
	/// The node's JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	rpc: String,
	/// The Ethereum node's JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:8545")]
	l1: String,
	/// A file with the relayer's Ethereum private key (hex; it pays the gas).
	#[arg(long)]
	l1_key: PathBuf,
	/// A file with the relayer account's secret URI on the chain (one of the relayers the
	/// council chose; `//Ferdie` on the development chains).
	#[arg(long)]
	account_key: PathBuf,
	/// L1 blocks on top of a settling transaction before it is reported.
	#[arg(long, default_value_t = 2)]
	confirmations: u64,
	/// The L1 block the contracts were deployed in (where to look for past settlements).
	#[arg(long, default_value_t = 0)]
	from_block: u64,
	/// Seconds between looks when there is nothing to do.
	#[arg(long, default_value_t = 2)]
	poll: u64,
}

/// Why the relayer did not start (once running, it retries or reports and goes on).
#[derive(Debug, thiserror::Error)]
pub enum RelayCmdError {
	/// The account key file.
	#[error(transparent)]
	File(#[from] FileError),
	/// The node's URL or the account key.
	#[error("{0}")]
	Node(String),
	/// The Ethereum node is another chain than the contracts'.
	#[error("{url} is Ethereum chain {id}, but the contracts are on chain {expected}")]
	OtherChain {
		/// The Ethereum node.
		url: String,
		/// Its chain id.
		id: u64,
		/// The contracts' chain id.
		expected: u64,
	},
}

impl RelayCmd {
	/// Relays until stopped.
	pub fn execute(self) -> Result<(), RelayCmdError> {
		let Self { rpc: rpc_url, l1: l1_url, l1_key, account_key, confirmations, from_block, poll } =
			self;
		let chain =
			RpcChain::new(&rpc_url, &io::read_suri(&account_key)?).map_err(RelayCmdError::Node)?;
		let call = chain.rpc_fn();
		let account = chain.account().clone();
		let mut backoff = 1u64;
		// The contracts come from the chain; wait until the council has set them.
		let contracts = loop {
			match relay::bridge_status(&call) {
				Ok(s) => match s.contracts {
					Some(c) => break c,
					None => eprintln!("relay: the council has not set the contracts yet; waiting"),
				},
				Err(e) => eprintln!("relay: {e}; retrying"),
			}
			std::thread::sleep(std::time::Duration::from_secs(poll.max(1)));
		};
		let eth = loop {
			match L1::connect(&l1_url, &l1_key).and_then(|l1| l1.chain_id().map(|id| (l1, id))) {
				Ok((l1, id)) if id == contracts.chain_id => break l1,
				Ok((_, id)) => {
					return Err(RelayCmdError::OtherChain {
						url: l1_url,
						id,
						expected: contracts.chain_id,
					})
				},
				Err(e) => {
					eprintln!("relay: {e}; retrying in {backoff} s");
					std::thread::sleep(std::time::Duration::from_secs(backoff));
					backoff = (backoff * 2).min(60);
				},
			}
		};
		eprintln!(
			"relay: relaying as {account} (chain) and {} (L1) to light client 0x{} and rollup 0x{}, \
			 {confirmations} confirmations",
			eth.sender(),
			hex::encode(contracts.light_client),
			hex::encode(contracts.rollup)
		);
		let eth =
			Contracts::new(eth, contracts.light_client.into(), contracts.rollup.into(), from_block);
		let mut relayer = Relayer::new(chain, eth, confirmations);
		let mut last_idle = String::new();
		backoff = 1;
		loop {
			match relayer.step() {
				Ok(Progress::Idle(why)) => {
					if why != last_idle {
						eprintln!("relay: {why}");
						last_idle = why;
					}
					backoff = 1;
					std::thread::sleep(std::time::Duration::from_secs(poll.max(1)));
				},
				Ok(p) => {
					last_idle.clear();
					backoff = 1;
					match p {
						Progress::LightClient { block, set_id, tx } => eprintln!(
							"relay: light client accepted the commitment of block {block} (set \
							 {set_id}) in L1 block {} ({} gas)",
							tx.block, tx.gas_used
						),
						Progress::Settled { batch, tx } => eprintln!(
							"relay: batch {batch} settled in L1 block {} tx {} ({} gas); confirmed on \
							 the chain",
							tx.block, tx.tx_hash, tx.gas_used
						),
						Progress::Confirmed { batch, tx } => eprintln!(
							"relay: batch {batch} had settled in L1 block {} tx {}; confirmed on the \
							 chain",
							tx.block, tx.tx_hash
						),
						Progress::Idle(_) => {},
					}
				},
				Err(RelayError::Unreachable(e)) => {
					eprintln!("relay: {e}; retrying in {backoff} s");
					std::thread::sleep(std::time::Duration::from_secs(backoff));
					backoff = (backoff * 2).min(30);
				},
				Err(e @ (RelayError::Refused(_) | RelayError::Stuck(_))) => {
					eprintln!("relay: error: {e}");
					std::thread::sleep(std::time::Duration::from_secs(poll.max(1) * 5));
				},
			}
		}
	}
}
