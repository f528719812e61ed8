//! `emr-prover`: set up, prove and verify emr-chain batch proofs by hand; `run` is the
//! standalone prover worker (follows a node over JSON-RPC, proves every sealed batch, submits the
//! proofs) and `status` reads a worker's metrics; `l1-deploy`, `relay` and `beefy` settle on
//! Ethereum. Each sub-command is a module of [`cmd`]; this file parses and dispatches.

mod cmd;
mod io;

use clap::{Parser, Subcommand};
use cmd::{
	beefy::BeefyCmd, constraints::ConstraintsCmd, example_batch::ExampleBatchCmd,
	l1_deploy::L1DeployCmd, profile::ProfileCmd, prove::ProveCmd, relay::RelayCmd, run::RunCmd,
	setup::SetupCmd, status::StatusCmd, verify::VerifyCmd,
};
use std::{fmt::Display, process::ExitCode};

#[derive(Parser)]
#[command(name = "emr-prover", version, about = "emr-chain batch prover (Groth16, BLS12-381)")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Circuit-specific setup: writes proving and verifying keys and prints their fingerprints.
	Setup(SetupCmd),
	/// Writes an example batch of the test deployment (`DeploymentId::named("test")`; the
	/// emr-chain story: admissions, a patient, consent, records,
	/// access, emergency, a claim).
	ExampleBatch(ExampleBatchCmd),
	/// Prints the constraints of one slot for each operation kind of the example story.
	Constraints(ConstraintsCmd),
	/// Proves a batch file against the state directory and advances the state.
	Prove(ProveCmd),
	/// Times each phase of proving one batch (fresh state) and reports the peak memory of
	/// each: key loading, constraint matrices, witness, synthesis, QAP witness map and every
	/// multi-scalar multiplication, and the reference `ark-groth16` path beside the cached one.
	Profile(ProfileCmd),
	/// Verifies a proof file; with `--batch`, also that it proves exactly that batch file's
	/// entries (number and inbox commitment); with `--prev`, that it continues that earlier
	/// proof (verified too): the next batch number, starting from its new root.
	Verify(VerifyCmd),
	/// The standalone prover worker: follows the node's finalized blocks over JSON-RPC, proves
	/// every sealed batch in order and submits `rollup.submit_proof` signed by the prover
	/// account. Runs until stopped (any moment is safe: see `emr_worker`).
	Run(RunCmd),
	/// Prints a running worker's progress from its Prometheus metrics (standalone worker:
	/// port 9616; a node with `--prover`: its Prometheus port, 9615 by default).
	Status(StatusCmd),
	/// Checks, the way the Ethereum contracts will, the node's latest BEEFY justification
	/// (signatures of more than two thirds of the validator set, the set's keyset commitment)
	/// and that a proven batch's rollup digest is in the MMR root it signed. Exits non-zero,
	/// with the reason, when anything disagrees.
	Beefy(BeefyCmd),
	/// Deploys the settlement contracts on Ethereum (a BEEFY light client trusting the chain's
	/// current and next validator sets, and `EmrRollup` with the chain's verifying key,
	/// continuing from its last proven batch), all read at the chain's finalized head; with
	/// `--sudo`, also records them on the chain (`ethBridge.setContracts`, development chains).
	/// Without it, prints the call for a council motion.
	L1Deploy(L1DeployCmd),
	/// The relayer: settles every proven batch on Ethereum in order and reports where each
	/// settled (`ethBridge.confirm`). Reads the contracts' addresses from the chain; safe to
	/// stop and restart at any point.
	Relay(RelayCmd),
}

/// The exit code of a command's result; an error is printed as `error: …`.
fn exit(result: Result<(), impl Display>) -> ExitCode {
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e}");
			ExitCode::FAILURE
		},
	}
}

fn main() -> ExitCode {
	match Cli::parse().command {
		Command::Setup(cmd) => exit(cmd.execute()),
		Command::ExampleBatch(cmd) => exit(cmd.execute()),
		Command::Constraints(cmd) => exit(cmd.execute()),
		Command::Prove(cmd) => exit(cmd.execute()),
		Command::Profile(cmd) => exit(cmd.execute()),
		Command::Verify(cmd) => exit(cmd.execute()),
		Command::Run(cmd) => exit(cmd.execute()),
		Command::Status(cmd) => exit(cmd.execute()),
		Command::Beefy(cmd) => exit(cmd.execute()),
		Command::L1Deploy(cmd) => exit(cmd.execute()),
		Command::Relay(cmd) => exit(cmd.execute()),
	}
}
