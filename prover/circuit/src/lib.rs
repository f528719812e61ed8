//! # emr-prover
//!
//! Proves that a batch of emr-chain L2 operations obeyed the rules: it keeps its own copy of the
//! rollup state, replays each sealed batch over it, and proves the transition with Groth16 on
//! BLS12-381.
//!
//! ```text
//!  batch of InboxEntry ──▶ witness::build ──▶ BatchWitness + PublicInputs
//!        │                      │  reads paths from / applies the rules to
//!        │                      ▼
//!        │                store::Store  (Poseidon sparse Merkle trees in redb; crash-safe)
//!        ▼
//!  circuit::BatchCircuit (one uniform slot per operation, padding to the batch size)
//!        │
//!        ▼
//!  groth16::{setup, prove, verify}  ──▶ 192-byte proof, 4 public inputs
//! ```
//!
//! * [`store`] documents the state layout: a participant tree of depth 24 whose leaves commit to
//!   each participant (role, keys, nonce, index head and version, access-log head, the root of
//!   its consent subtree of depth 12).
//! * [`circuit`] documents the slot: two participant leaves, one grant slot, one Schnorr check
//!   and every rule as a conditional constraint. Its gadgets ([`circuit::poseidon`],
//!   [`circuit::merkle`], [`circuit::schnorr`]) mirror the native code and are tested against
//!   it.
//! * [`witness`] turns the state and a batch into the circuit's witness; [`groth16`] wraps
//!   arkworks' Groth16 with checked encodings and holds the [`groth16::BatchProver`] (key and
//!   constraint matrices kept in memory, multi-scalar multiplications on `blst` through
//!   [`msm`]); [`files`] defines the binary's batch and proof files.
//! * [`worker`] is the prover worker: it follows finalized blocks through a [`worker::Chain`],
//!   replays and proves every sealed batch in order and submits the proofs; `emr-node --prover`
//!   and `emr-prover run` (package `emr-prover-cli`) both drive it.
//! * [`beefy`] checks BEEFY commitments, validator-set roots and MMR proofs the way the
//!   Ethereum contracts do (keccak, `ecrecover`), for the relayer and the tests.
//! * [`l1`] settles on Ethereum: it converts proofs and keys to the EIP-2537 encodings of the
//!   `EmrRollup` contract and is the relayer's blocking client of the `BeefyClient`,
//!   `EmrRollup` and `EmrL1Baseline` contracts (`contracts/`).
//! * The `emr-prover` binary (package `emr-prover-cli`) exposes `setup`, `prove`, `verify`,
//!   `example-batch`, `constraints`, `profile`, `run` and `status`.

pub mod beefy;
pub mod circuit;
pub mod files;
pub mod groth16;
pub mod http;
pub mod l1;
pub mod msm;
pub mod store;
pub mod witness;
pub mod worker;
