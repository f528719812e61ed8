//! # emr-circuit
//!
//! Proves that a batch of emr-chain L2 operations obeyed the rules: the batch circuit and its
//! Groth16 prover on BLS12-381. This crate owns the circuit, the witness builder, the keys and
//! proofs and the binary's batch and proof files; it does no network or database I/O (the
//! state it reads comes through [`witness::ProvableState`], which `emr_state_store::Store`
//! implements).
//!
//! ```text
//!  batch of InboxEntry ──▶ witness::build ──▶ BatchWitness + PublicInputs
//!        │                      │  reads paths from / applies the rules to
//!        │                      ▼
//!        │                witness::ProvableState  (emr_state_store::Store: Poseidon sparse
//!        │                                         Merkle trees in redb; crash-safe)
//!        ▼
//!  circuit::BatchCircuit (one uniform slot per operation, padding to the batch size)
//!        │
//!        ▼
//!  groth16::{setup, prove, verify}  ──▶ 192-byte proof, 4 public inputs
//! ```
//!
//! * [`circuit`] documents the slot: two participant leaves, one grant slot, one Schnorr check
//!   and every rule as a conditional constraint. Its gadgets ([`circuit::poseidon`],
//!   [`circuit::merkle`], [`circuit::schnorr`]) mirror the native code and are tested against
//!   it. The state layout the slot opens is documented in `emr_state_store`.
//! * [`witness`] turns the state and a batch into the circuit's witness; [`groth16`] wraps
//!   arkworks' Groth16 with checked encodings and holds the [`groth16::BatchProver`] (key and
//!   constraint matrices kept in memory, multi-scalar multiplications on `blst` through
//!   [`msm`]); [`files`] defines the binary's batch and proof files.
//!
//! The other prover crates build on this one: `emr_state_store` (the state), `emr_worker` (the
//! prover worker that follows a chain and proves every sealed batch), `emr_settlement` (BEEFY
//! checks, Ethereum settlement and the relayer) and the `emr-prover` binary.

pub mod circuit;
pub mod files;
pub mod groth16;
pub mod msm;
pub mod witness;
