//! The pallets whose FRAME benchmarks `emr-node benchmark pallet` can run
//! (build with `--features runtime-benchmarks`).

use crate::Runtime;
use polkadot_sdk::*;

impl frame_system_benchmarking::Config for Runtime {}

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_collective, Council]
	[pallet_membership, CouncilMembership]
	[pallet_rollup, Rollup]
	[pallet_emr_validators, Validators]
	[pallet_emr_eth_bridge, EthBridge]
);
