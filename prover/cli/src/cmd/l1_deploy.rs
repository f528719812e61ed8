//! `emr-prover l1-deploy`: the settlement contracts on Ethereum, recorded on the chain.

use crate::io::{self, FileError};
use clap::Args;
use codec::Encode;
use emr_settlement::{
	l1::{self, L1Error, L1},
	relay::{self, RelayError},
};
use emr_worker::{http, rpc::RpcChain, SubmitError};
use std::{path::PathBuf, time::Instant};

/// Deploys the settlement contracts on Ethereum (a BEEFY light client trusting the chain's
/// current and next validator sets, and `EmrRollup` with the chain's verifying key,
/// continuing from its last proven batch), all read at the chain's finalized head; with
/// `--sudo`, also records them on the chain (`ethBridge.setContracts`, development chains).
/// Without it, prints the call for a council motion.
#[derive(Debug, Args)]
pub struct L1DeployCmd {
	/// The node's JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	rpc: String,
	/// The Ethereum node's JSON-RPC endpoint.
	#[arg(long, default_value = "http://127.0.0.1:8545")]
	l1: String,
	/// A file with the deployer's Ethereum private key (hex).
	#[arg(long)]
	l1_key: PathBuf,
	/// Who may replace the verifying key on Ethereum (default: the deployer).
	#[arg(long)]
	governor: Option<String>,
	/// A file with the sudo key's secret URI (`//Alice` on the development chains).
	#[arg(long)]
	sudo: Option<PathBuf>,
}

/// Why the contracts were not deployed or recorded.
#[derive(Debug, thiserror::Error)]
pub enum L1DeployError {
	/// The sudo key file.
	#[error(transparent)]
	File(#[from] FileError),
	/// The node's URL or the sudo key.
	#[error("{0}")]
	Node(String),
	/// Reading the chain failed.
	#[error(transparent)]
	Chain(#[from] RelayError),
	/// Ethereum refused or could not be reached.
	#[error(transparent)]
	L1(#[from] L1Error),
	/// `--governor` is not an address.
	#[error("--governor: {0}")]
	Governor(String),
	/// The chain refused `ethBridge.setContracts`.
	#[error(transparent)]
	Submit(#[from] SubmitError),
	/// `ethBridge.setContracts` was not included in time.
	#[error("ethBridge.setContracts was not included within 2 minutes")]
	NotIncluded,
}

impl L1DeployCmd {
	/// Deploys the contracts and records them (with `--sudo`) or prints the call.
	pub fn execute(self) -> Result<(), L1DeployError> {
		let Self { rpc: rpc_url, l1: l1_url, l1_key, governor, sudo } = self;
		let rpc = http::caller(http::authority(&rpc_url).map_err(L1DeployError::Node)?);
		let d = relay::deployment(&rpc)?;
		let eth = L1::connect(&l1_url, &l1_key)?;
		let chain_id = eth.chain_id()?;
		let governor = match governor {
			Some(g) => {
				g.parse::<l1::Address>().map_err(|e| L1DeployError::Governor(e.to_string()))?
			},
			None => eth.sender(),
		};
		println!(
			"chain at finalized block {}: BEEFY set {} ({} validators), next set {}; next batch to \
			 settle {}",
			d.at_block, d.current.id, d.current.len, d.next.id, d.first_batch
		);
		let set = |s: relay::SetInfo| l1::ValidatorSet { id: s.id, len: s.len, root: s.root };
		let lc = eth.deploy_beefy_client(set(d.current), set(d.next))?;
		println!("BeefyClient deployed at {} (L1 block {})", lc.address, lc.tx.block);
		let rollup = eth.deploy_rollup(&l1::RollupConfig {
			light_client: lc.address,
			vk: d.verifying_key.clone(),
			governor,
			first_batch: d.first_batch,
			initial_root: d.initial_root,
		})?;
		println!(
			"EmrRollup deployed at {} (L1 block {}, {} gas), governor {governor}",
			rollup.address, rollup.tx.block, rollup.tx.gas_used
		);
		let contracts = pallet_emr_eth_bridge::Contracts {
			chain_id,
			light_client: lc.address.into_array(),
			rollup: rollup.address.into_array(),
			first_batch: d.first_batch,
		};
		let call =
			emr_runtime::RuntimeCall::EthBridge(pallet_emr_eth_bridge::Call::set_contracts {
				contracts,
			});
		let Some(sudo) = sudo else {
			println!(
				"the council records them with this call (a motion of a majority):\n0x{}",
				hex::encode(call.encode())
			);
			return Ok(());
		};
		let chain = RpcChain::new(&rpc_url, &io::read_suri(&sudo)?).map_err(L1DeployError::Node)?;
		let sudo_call = emr_runtime::RuntimeCall::Sudo(polkadot_sdk::pallet_sudo::Call::sudo {
			call: Box::new(call),
		});
		chain.submit_call(sudo_call)?;
		let deadline = Instant::now() + std::time::Duration::from_secs(120);
		loop {
			let status = relay::bridge_status(&rpc)?;
			if status.contracts == Some(contracts) {
				println!("recorded on the chain (ethBridge.setContracts, by sudo)");
				return Ok(());
			}
			if Instant::now() > deadline {
				return Err(L1DeployError::NotIncluded);
			}
			std::thread::sleep(std::time::Duration::from_secs(1));
		}
	}
}
