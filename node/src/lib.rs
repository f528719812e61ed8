//! Library side of `emr-node`: command line, chain specs, the service (Aura + GRANDPA) and the
//! JSON-RPC extensions.
//!
//! The executor registers the BLS12-381 and Ed-on-BLS12-381-Bandersnatch host functions of
//! `sp-crypto-ec-utils` ([`service::HostFunctions`]) so that runtime code (the Groth16 verifier
//! of `pallet-rollup`) can hand elliptic-curve arithmetic to native code.

// The error types of the Substrate client (`sc_cli::Error`, `sc_service::Error`) are large
// enums defined upstream; every function here returns them, so clippy's size lint only
// restates that choice.
#![allow(clippy::result_large_err)]

pub mod chain_spec;
pub mod cli;
pub mod command;
pub mod prover;
pub mod rpc;
pub mod service;
