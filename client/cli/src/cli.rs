//! The global options, the command list, the passphrase and the shared context; [`run`]
//! parses and hands each command to its file in [`crate::commands`].

use std::{
	ffi::OsString,
	fs,
	path::{Path, PathBuf},
	time::Duration,
};

use clap::{Args, Parser, Subcommand};
use emr_client::{
	chain::{ChainState, Level, NodeClient, DEFAULT_NODE},
	client::Client,
	keystore::Keystore,
	records_on_chain::Wait,
	storage::{EmbeddedStore, KuboClient, KuboConfig, Store},
};

use crate::commands::{
	access::AccessCmd, audit::AuditCmd, claim::ClaimCmd, consent::ConsentCmd, doctor::DoctorCmd,
	emergency::EmergencyCmd, index::IndexCmd, keys::KeysCmd, log::LogCmd, record::RecordCmd,
	register::RegisterCmd, status::StatusCmd, store::StoreCmd, whoami::WhoamiCmd,
};
use crate::context::{default_data_dir, io_err, CliError, Context};

/// How far a submitting command waits (global options).
#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
	/// Wait until the operation is included, finalized (GRANDPA), proven (its batch's proof
	/// verified on chain) or settled (on Ethereum).
	#[arg(long, global = true, value_name = "LEVEL", default_value = "finalized")]
	pub wait: Level,
	/// Give up waiting after this many seconds (default: 60 for included, 120 finalized,
	/// 900 proven, 1200 settled).
	#[arg(long, global = true, value_name = "SECS")]
	pub wait_timeout: Option<u64>,
}

impl WaitArgs {
	/// The wait these options ask for.
	pub fn wait(&self) -> Wait {
		Wait::new(self.wait, self.wait_timeout.map(Duration::from_secs))
	}
}

/// emr-chain client: encrypted medical records on IPFS behind a per-patient index.
#[derive(Parser, Debug)]
#[command(name = "emr", version, about, long_about = None)]
pub struct Cli {
	/// Data directory (embedded block store, index heads, default keystore).
	/// Default: $EMR_DATA_DIR, else $XDG_DATA_HOME/emr, else ~/.local/share/emr.
	#[arg(long, global = true, value_name = "DIR")]
	pub data_dir: Option<PathBuf>,
	/// Keystore directory. Default: <data-dir>/keystore.
	#[arg(long, global = true, value_name = "DIR")]
	pub keystore: Option<PathBuf>,
	/// Key set to use. Default: $EMR_KEY, else "default".
	#[arg(long, global = true, value_name = "NAME")]
	pub key: Option<String>,
	/// Read the keystore passphrase from this file (first line). Otherwise $EMR_PASSPHRASE, else a
	/// prompt on the terminal.
	#[arg(long, global = true, value_name = "FILE")]
	pub passphrase_file: Option<PathBuf>,
	/// Use the IPFS daemon with this RPC API address (Kubo or js-ipfs) instead of the embedded
	/// store, e.g. http://127.0.0.1:5001.
	#[arg(long, global = true, value_name = "URL")]
	pub ipfs_api: Option<String>,
	/// Seconds to wait for the IPFS daemon (connect, answer, each pause while streaming).
	#[arg(long, global = true, value_name = "SECS", default_value_t = 10)]
	pub ipfs_timeout: u64,
	/// The emr-chain node to talk to (a full node you trust; its JSON-RPC address).
	/// Default: $EMR_NODE, else http://127.0.0.1:9944.
	#[arg(long, global = true, value_name = "URL")]
	pub node: Option<String>,
	/// Seconds to wait for each answer of the node.
	#[arg(long, global = true, value_name = "SECS", default_value_t = 30)]
	pub node_timeout: u64,
	/// Read the chain through a light client in this process (smoldot: GRANDPA finality,
	/// storage proofs; no node trusted), started from this raw chain spec. Operations are still
	/// submitted through --node. Default: $EMR_CHAIN_SPEC (set it empty to read from the node).
	#[arg(long, global = true, value_name = "CHAIN_SPEC")]
	pub light: Option<PathBuf>,
	/// A node the light client connects to first (a libp2p multiaddress ending in /p2p/PEER_ID;
	/// repeatable). Default: $EMR_BOOTNODES (space-separated), else the chain spec's boot nodes.
	#[arg(long, global = true, value_name = "MULTIADDR")]
	pub bootnode: Vec<String>,
	/// Seconds the light client may take to join the network and follow finality.
	#[arg(long, global = true, value_name = "SECS", default_value_t = 120)]
	pub light_timeout: u64,
	/// How long commands that submit an operation wait.
	#[command(flatten)]
	pub wait: WaitArgs,
	/// What to do.
	#[command(subcommand)]
	pub command: Command,
}

/// Top-level commands.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Key sets: chain account (sr25519), rollup key, encryption key (X25519).
	#[command(subcommand)]
	Keys(KeysCmd),
	/// Encrypted records.
	#[command(subcommand)]
	Record(RecordCmd),
	/// Plain content-addressed storage (for operators; CIDs match `ipfs add --cid-version=1 --raw-leaves`).
	#[command(subcommand)]
	Store(StoreCmd),
	/// Patient indexes.
	#[command(subcommand)]
	Index(IndexCmd),
	/// Register this key set on the chain as a patient or a doctor (no tokens needed).
	Register(RegisterCmd),
	/// Show this key set's participant on the chain.
	Whoami(WhoamiCmd),
	/// Hospitals: credential and revoke doctors.
	#[command(subcommand)]
	Doctor(DoctorCmd),
	/// Patients: share access to your records, withdraw it, list it.
	#[command(subcommand)]
	Consent(ConsentCmd),
	/// Ask to read a patient's records: the attempt is logged on chain, GRANTED or DENIED.
	Access(AccessCmd),
	/// Doctors: open emergency access to a patient, co-signed by your hospital (this command
	/// holds both key sets: yours and the hospital's, named by --hospital-key).
	Emergency(EmergencyCmd),
	/// Insurers: file, decide and list claims.
	#[command(subcommand)]
	Claim(ClaimCmd),
	/// A patient's access log: who did what, when, why, and the outcome (default: yours).
	Log(LogCmd),
	/// Auditors and patients: check proven batches (their operations, their Groth16 proof with
	/// the verifying key from the chain, the chain of roots) and, with --l1, that Ethereum
	/// settled the same roots. Exits non-zero with the reason when anything disagrees.
	Audit(AuditCmd),
	/// Where an earlier operation stands (included, finalized, proven, settled).
	Status(StatusCmd),
}

/// Runs `emr` with the given arguments (the first is the program name). Results go to standard
/// output, progress to standard error.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<(), CliError> {
	let cli = match Cli::try_parse_from(args) {
		Ok(c) => c,
		Err(e) => e.exit(),
	};
	let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
	let keystore = Keystore::new(cli.keystore.clone().unwrap_or_else(|| data_dir.join("keystore")));
	let cli_key = cli
		.key
		.clone()
		.or_else(|| std::env::var("EMR_KEY").ok().filter(|k| !k.is_empty()))
		.unwrap_or_else(|| "default".to_owned());
	let ctx = Context {
		cli_key,
		keystore,
		data_dir,
		passphrase_file: cli.passphrase_file.clone(),
		wait: cli.wait.wait(),
		wait_timeout: cli.wait.wait_timeout.map(Duration::from_secs),
	};

	if let Command::Keys(cmd) = cli.command {
		return cmd.execute(&ctx);
	}
	let rt = || {
		tokio::runtime::Builder::new_current_thread()
			.enable_all()
			.build()
			.map_err(CliError::Runtime)
	};
	let url = cli
		.node
		.clone()
		.or_else(|| std::env::var("EMR_NODE").ok().filter(|n| !n.is_empty()))
		.unwrap_or_else(|| DEFAULT_NODE.to_owned());
	let node = NodeClient::new(&url, Duration::from_secs(cli.node_timeout.max(1)))?;
	let light = cli.light.clone().or_else(|| {
		std::env::var_os("EMR_CHAIN_SPEC").filter(|s| !s.is_empty()).map(PathBuf::from)
	});
	let mut bootnodes = cli.bootnode.clone();
	if bootnodes.is_empty() {
		if let Ok(list) = std::env::var("EMR_BOOTNODES") {
			bootnodes = list.split_whitespace().map(str::to_owned).collect();
		}
	}
	if let Ok(level) = std::env::var("EMR_LOG") {
		log_to_stderr(&level);
	}
	let runtime = rt()?;
	// The light client's tasks run on this runtime: it lives as long as the command.
	let node = match light {
		Some(spec) => runtime.block_on(start_light(node, &spec, &bootnodes, cli.light_timeout))?,
		None => node,
	};
	let store = || -> Result<Store, CliError> {
		Ok(match &cli.ipfs_api {
			Some(url) => Store::Kubo(KuboClient::new(
				url,
				KuboConfig {
					timeout: Duration::from_secs(cli.ipfs_timeout.max(1)),
					..KuboConfig::default()
				},
			)?),
			None => Store::Embedded(EmbeddedStore::open(ctx.data_dir.join("ipfs"))?),
		})
	};
	let client = || Ok::<_, CliError>(Client::new(store()?, &ctx.data_dir));
	let node = &node;
	runtime.block_on(async {
		match cli.command {
			Command::Keys(_) => Ok(()),
			Command::Record(cmd) => cmd.execute(&ctx, &client()?, node).await,
			Command::Store(cmd) => cmd.execute(&client()?).await,
			Command::Index(cmd) => cmd.execute(&ctx, &client()?, node).await,
			Command::Register(cmd) => cmd.execute(&ctx, node).await,
			Command::Whoami(cmd) => cmd.execute(&ctx, node).await,
			Command::Doctor(cmd) => cmd.execute(&ctx, node).await,
			Command::Consent(cmd) => cmd.execute(&ctx, node).await,
			Command::Access(cmd) => cmd.execute(&ctx, node).await,
			Command::Emergency(cmd) => cmd.execute(&ctx, node).await,
			Command::Claim(cmd) => cmd.execute(&ctx, node).await,
			Command::Log(cmd) => cmd.execute(&ctx, node).await,
			Command::Audit(cmd) => cmd.execute(node).await,
			Command::Status(cmd) => cmd.execute(node).await,
		}
	})
}

/// Starts the light client from the raw chain spec at `spec` and makes `node` read through it.
async fn start_light(
	node: NodeClient,
	spec: &Path,
	bootnodes: &[String],
	timeout_secs: u64,
) -> Result<NodeClient, CliError> {
	let text = fs::read_to_string(spec).map_err(io_err("reading the chain spec", spec))?;
	eprintln!(
		"… light client: joining the chain of {} (GRANDPA finality, storage proofs)",
		spec.display()
	);
	let state =
		ChainState::light(&text, bootnodes, Duration::from_secs(timeout_secs.max(1))).await?;
	let at = state.finalized().await?;
	eprintln!("… light client: following the chain, finalized block #{}", at.number);
	Ok(node.with_light(state))
}

/// Sends the light client's log (smoldot logs through the `log` facade) to standard error at
/// `level` (`error`, `warn`, `info`, `debug`, `trace`; `EMR_LOG`). Without it nothing is
/// logged.
fn log_to_stderr(level: &str) {
	struct Stderr;
	impl log::Log for Stderr {
		fn enabled(&self, _: &log::Metadata<'_>) -> bool {
			true
		}
		fn log(&self, record: &log::Record<'_>) {
			if self.enabled(record.metadata()) {
				eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
			}
		}
		fn flush(&self) {}
	}
	static LOGGER: Stderr = Stderr;
	if let Ok(filter) = level.parse::<log::LevelFilter>() {
		if log::set_logger(&LOGGER).is_ok() {
			log::set_max_level(filter);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn cli_parses() {
		use clap::CommandFactory;
		Cli::command().debug_assert();
	}
}
