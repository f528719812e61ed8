//! The full-node service: client, database, transaction pool, networking, Aura block
//! production, GRANDPA finality, the BEEFY voter and MMR gadget (finality Ethereum can check)
//! and the JSON-RPC server.

use emr_runtime::{apis::RuntimeApi, opaque::Block};
use futures::FutureExt;
use polkadot_sdk::{
	sc_client_api::{Backend, BlockBackend},
	sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams},
	sc_consensus_beefy::{BeefyRPCLinks, BeefyVoterLinks},
	sc_consensus_grandpa::SharedVoterState,
	sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig},
	sc_telemetry::{Telemetry, TelemetryWorker},
	sc_transaction_pool_api::OffchainTransactionPoolFactory,
	sp_consensus_aura::sr25519::{AuthorityId as AuraId, AuthorityPair as AuraPair},
	sp_consensus_beefy::ecdsa_crypto::AuthorityId as BeefyId,
	*,
};
use std::{sync::Arc, time::Duration};

/// Host functions the node offers beyond Substrate's standard set: BLS12-381 pairing/MSM and
/// Ed-on-BLS12-381-Bandersnatch MSM, used by the on-chain Groth16 verifier and the rollup
/// signature checks, and the rollup's Poseidon permutation (`emr_primitives::poseidon`), used by
/// every message, challenge and inbox hash. They are also used to build genesis from the runtime.
pub type ExtraHostFunctions = (
	sp_crypto_ec_utils::bls12_381::host_calls::HostFunctions,
	sp_crypto_ec_utils::ed_on_bls12_381_bandersnatch::host_calls::HostFunctions,
	emr_primitives::poseidon::emr_poseidon::HostFunctions,
);

/// All host functions of the executor (plus the benchmarking ones in benchmark builds).
#[cfg(not(feature = "runtime-benchmarks"))]
pub type HostFunctions = (sp_io::SubstrateHostFunctions, ExtraHostFunctions);
/// All host functions of the executor (plus the benchmarking ones in benchmark builds).
#[cfg(feature = "runtime-benchmarks")]
pub type HostFunctions = (
	sp_io::SubstrateHostFunctions,
	ExtraHostFunctions,
	frame_benchmarking::benchmarking::HostFunctions,
);

/// The wasm executor with emr-chain's host functions.
pub type RuntimeExecutor = sc_executor::WasmExecutor<HostFunctions>;
/// The full client.
pub type FullClient = sc_service::TFullClient<Block, RuntimeApi, RuntimeExecutor>;
/// The full database backend.
pub type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type GrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
/// Block import: BEEFY (checks BEEFY justifications carried by blocks) around GRANDPA.
type BlockImport = sc_consensus_beefy::import::BeefyBlockImport<
	Block,
	FullBackend,
	FullClient,
	GrandpaBlockImport,
	BeefyId,
>;

/// BEEFY votes on at least every this many blocks beyond the mandatory first block of each
/// session (a power of two at most this far from the last BEEFY-finalized block).
const BEEFY_MIN_BLOCK_DELTA: u32 = 4;

/// GRANDPA produces and imports a justification at least every this many blocks (and at every
/// authority-set change), so that light clients and syncing nodes can prove finality.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The parts of the service that commands other than `run` (import, export, revert, ...) need.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	sc_transaction_pool::TransactionPoolHandle<Block, FullClient>,
	(
		BlockImport,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		BeefyVoterLinks<Block, BeefyId>,
		BeefyRPCLinks<Block, BeefyId>,
		Option<Telemetry>,
	),
>;

/// Builds the client, database, transaction pool and import queue.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			vec![Arc::new(sc_consensus_grandpa::GrandpaPruningFilter)],
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let (block_import, beefy_voter_links, beefy_rpc_links) =
		sc_consensus_beefy::beefy_block_import_and_links(
			grandpa_block_import.clone(),
			backend.clone(),
			client.clone(),
			config.prometheus_registry().cloned(),
		);

	let cidp_client = client.clone();
	let import_queue =
		sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
			block_import: block_import.clone(),
			justification_import: Some(Box::new(grandpa_block_import.clone())),
			client: client.clone(),
			create_inherent_data_providers: move |parent_hash, _| {
				let cidp_client = cidp_client.clone();
				async move {
					let slot_duration = sc_consensus_aura::standalone::slot_duration_at::<
						AuraId,
						_,
						_,
					>(&*cidp_client, parent_hash)?;
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot =
						sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
					Ok((slot, timestamp))
				}
			},
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			check_for_equivocation: Default::default(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			compatibility_mode: Default::default(),
		})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, beefy_voter_links, beefy_rpc_links, telemetry),
	})
}

/// Builds and starts a full node: networking, RPC, and — on validators — Aura authoring and
/// the GRANDPA voter.
pub fn new_full<
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
>(
	config: Configuration,
	prover: Option<crate::prover::ProverOptions>,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, beefy_voter_links, beefy_rpc_links, mut telemetry),
	} = new_partial(&config)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let peer_store_handle = net_config.peer_store_handle();
	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the database holds no genesis block".into()))?;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			peer_store_handle,
		);
	net_config.add_notification_protocol(grandpa_protocol_config);

	let beefy_gossip_protocol_name =
		sc_consensus_beefy::gossip_protocol_name(genesis_hash, config.chain_spec.fork_id());
	let (beefy_protocol_config, beefy_notification_service) =
		sc_consensus_beefy::communication::beefy_peers_set_config::<_, N>(
			beefy_gossip_protocol_name.clone(),
			metrics.clone(),
			net_config.peer_store_handle(),
		);
	net_config.add_notification_protocol(beefy_protocol_config);
	let (beefy_justifications_handler, beefy_request_config) =
		sc_consensus_beefy::communication::request_response::BeefyJustifsRequestHandler::new::<_, N>(
			genesis_hash,
			config.chain_spec.fork_id(),
			client.clone(),
			config.prometheus_registry().cloned(),
		);
	net_config.add_request_response_protocol(beefy_request_config);

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	if let Some(options) = prover {
		crate::prover::start(
			options,
			client.clone(),
			transaction_pool.clone(),
			keystore_container.keystore(),
			config.dev_key_seed.clone(),
			config.prometheus_registry(),
			&task_manager,
		)
		.map_err(ServiceError::Other)?;
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let backoff_authoring_blocks: Option<()> = None;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let offchain = backend.offchain_storage();

		Box::new(move |executor| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				offchain: offchain.clone(),
				beefy: crate::rpc::BeefyDeps {
					finality_proofs: beefy_rpc_links.from_voter_justif_stream.clone(),
					best_blocks: beefy_rpc_links.from_voter_best_beefy_stream.clone(),
					executor,
				},
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend: backend.clone(),
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	// The MMR gadget keeps the offchain database's MMR nodes in step with finality (canonical
	// nodes stay, stale forks are pruned), so `mmr_generateProof` works for finalized blocks.
	task_manager.spawn_essential_handle().spawn_blocking(
		"mmr-gadget",
		None,
		mmr_gadget::MmrGadget::start(
			client.clone(),
			backend.clone(),
			sp_mmr_primitives::INDEXING_PREFIX.to_vec(),
		),
	);

	// The BEEFY voter: validators sign the MMR root of GRANDPA-finalized blocks with their
	// ECDSA keys; every node follows the signed commitments (for the `beefy_*` RPC).
	{
		let network_params = sc_consensus_beefy::BeefyNetworkParams {
			network: Arc::new(network.clone()),
			sync: sync_service.clone(),
			gossip_protocol_name: beefy_gossip_protocol_name,
			justifications_protocol_name: beefy_justifications_handler.protocol_name(),
			notification_service: beefy_notification_service,
			_phantom: core::marker::PhantomData::<Block>,
		};
		let beefy_params = sc_consensus_beefy::BeefyParams {
			client: client.clone(),
			backend: backend.clone(),
			payload_provider: sp_consensus_beefy::mmr::MmrRootProvider::new(client.clone()),
			runtime: client.clone(),
			key_store: role.is_authority().then(|| keystore_container.keystore()),
			network_params,
			min_block_delta: BEEFY_MIN_BLOCK_DELTA,
			prometheus_registry: prometheus_registry.clone(),
			links: beefy_voter_links,
			on_demand_justifications_handler: beefy_justifications_handler,
			is_authority: role.is_authority(),
		};
		let gadget =
			sc_consensus_beefy::start_beefy_gadget::<_, _, _, _, _, _, _, BeefyId>(beefy_params);
		// Essential: a validator that stops signing must not keep running unnoticed.
		task_manager.spawn_essential_handle().spawn_blocking("beefy-gadget", None, gadget);
	}

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let slot_duration = sc_consensus_aura::slot_duration::<AuraId, _, _>(&*client)?;

		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
			StartAuraParams {
				slot_duration,
				client,
				select_chain,
				block_import,
				proposer_factory,
				create_inherent_data_providers: move |_, ()| async move {
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot =
						sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
					Ok((slot, timestamp))
				},
				force_authoring,
				backoff_authoring_blocks,
				keystore: keystore_container.keystore(),
				sync_oracle: sync_service.clone(),
				justification_sync_link: sync_service.clone(),
				block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
				max_block_proposal_slot_portion: None,
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			},
		)?;

		// Block authoring is essential: if it fails, the node shuts down rather than idling.
		task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	}

	if enable_grandpa {
		// A node that does not validate needs no keystore for GRANDPA.
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };

		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};

		// Every node runs the full voter (non-authorities only observe through it): the
		// observer-only mode is less tested and can stall finality propagation.
		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};

		// The voter is essential: without it the node cannot take part in finality.
		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}

#[cfg(test)]
mod tests {
	use super::HostFunctions;
	use polkadot_sdk::sc_executor::HostFunctions as _;

	#[test]
	fn executor_offers_the_curve_host_calls_the_rollup_verifier_needs() {
		let names: Vec<&str> = HostFunctions::host_functions().iter().map(|f| f.name()).collect();
		for needed in [
			"ext_storage_get",
			"bls12_381_multi_miller_loop",
			"bls12_381_final_exponentiation",
			"bls12_381_msm_g1",
			"bls12_381_msm_g2",
			"ed_on_bls12_381_bandersnatch_msm",
		] {
			assert!(
				names.iter().any(|name| name.contains(needed)),
				"no host function named like {needed} among {names:?}"
			);
		}
		let mut unique = names.clone();
		unique.sort_unstable();
		unique.dedup();
		assert_eq!(unique.len(), names.len(), "host function names must be unique");
	}
}
