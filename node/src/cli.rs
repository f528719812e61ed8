//! Command-line interface of `emr-node`.

use polkadot_sdk::*;

/// Sub-commands beside running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect, and `insert` validator keys into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Write a chain specification (`--raw` for the storage-level form nodes share).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a chain specification without starting a client (also `--raw`).
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmarks (`pallet`, `storage`, `machine`, `block`, `overhead`); only in a node built
	/// with `--features runtime-benchmarks` (`scripts/bench.sh` builds one).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// `emr-node [SUBCOMMAND] [OPTIONS]`: without a sub-command, runs the node.
#[derive(Debug, clap::Parser)]
#[command(
	propagate_version = true,
	args_conflicts_with_subcommands = true,
	subcommand_negates_reqs = true
)]
pub struct Cli {
	/// What to do instead of running the node.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of the node itself (`--dev`, `--chain`, `--validator`, ports, ...).
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Run the prover worker in this node: follow finalized blocks, prove every sealed batch and
	/// submit the proofs signed by the keystore's prover key (`--key-type emrp`; on a
	/// development node, the development seed's key).
	#[arg(long, requires = "prover_keys")]
	pub prover: bool,

	/// The prover's key directory (`emr-prover setup` output for the chain's current circuit;
	/// `scripts/dev-keys.sh` makes the development chains' keys).
	#[arg(long, value_name = "DIR")]
	pub prover_keys: Option<std::path::PathBuf>,

	/// The prover's state directory (default: `prover` in the node's base path).
	#[arg(long, value_name = "DIR")]
	pub prover_state: Option<std::path::PathBuf>,
}
