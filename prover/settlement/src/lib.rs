//! # emr-settlement
//!
//! Settlement of proven batches on Ethereum. This crate owns:
//!
//! * [`beefy`]: checks of BEEFY commitments, validator-set roots and MMR proofs the way the
//!   Ethereum contracts do them (keccak, `ecrecover`);
//! * [`evidence`]: what a relayer will send Ethereum, read from a node and checked with
//!   [`beefy`] (the latest BEEFY justification, the validator set that signed it, the MMR leaf
//!   and proof that carry a proven batch's rollup digest); `emr-prover beefy` prints it;
//! * [`l1`]: the EIP-2537 encodings of proofs and keys for the `EmrRollup` contract, and the
//!   blocking client of the `BeefyClient`, `EmrRollup` and `EmrL1Baseline` contracts
//!   (`contracts/`);
//! * [`relay`]: the relayer, which settles the chain's proven batches on Ethereum in order and
//!   reports where each settled (`emr-prover relay`).
//!
//! Node calls go through a JSON-RPC function ([`evidence::Rpc`]; `emr_worker::http::caller`
//! makes one over HTTP), and transactions to the chain through `emr_worker::rpc::RpcChain`.

pub mod beefy;
pub mod evidence;
pub mod l1;
pub mod relay;
