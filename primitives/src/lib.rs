//! # emr-primitives
//!
//! The single source of truth shared by the runtime, the prover and the client: what an L2
//! operation is, the rules that decide whether it applies, and the cryptography the circuit
//! re-checks.
//!
//! ```text
//!  ops ──────────▶ SignedOp (actor, nonce, Operation, Schnorr signature)
//!  inbox ────────▶ InboxEntry (op, origin, block) → Poseidon hash chain = inbox commitment
//!  rules::apply ─▶ RollupState (participants, grant slots) → Effects | RuleError
//!  state ────────▶ leaf encodings of the Poseidon sparse Merkle state
//!  stored ───────▶ SCALE forms of participants and grants in the runtime's storage
//!  poseidon ─────▶ width-3 Poseidon over the BLS12-381 scalar field (Grain LFSR constants),
//!                  and a width-9 twin for tree nodes
//!  tree ─────────▶ the 8-ary sparse Merkle trees of the state: nodes, paths, empty roots
//!  schnorr ──────▶ Schnorr on Bandersnatch with a Poseidon challenge; two-party co-signing
//!  groth16 ──────▶ BatchVerifier: strict key/proof decoding, Groth16 check generic over Pairing
//! ```
//!
//! * [`rules::apply`] is one pure function over any [`state::RollupState`]: the runtime
//!   implements the trait over its storage, the prover over its Merkle store, tests over
//!   [`memory::MemoryState`]. Every rejection reason of DESIGN.md §4 is its own
//!   [`rules::RuleError`]; access attempts are never errors but are logged GRANTED or DENIED.
//! * [`inbox`] fixes the inbox commitment and the public inputs of a batch proof
//!   (`old_root, new_root, inbox_commitment, batch`).
//! * [`groth16`] verifies batch proofs from the prover's bytes, generic over the pairing so the
//!   runtime can run it on BLS12-381 host calls; the pallet sees it as
//!   [`groth16::BatchVerifier`].
//! * [`settlement`] fixes the rollup digest every MMR leaf carries for Ethereum.
//! * The crate is `no_std` (with `alloc`) so the runtime can use it in wasm; arkworks 0.6 is
//!   the only cryptographic dependency besides Blake2 and Keccak (the Ethereum digest).
//! * [`dev`] holds the INSECURE development identities of the dev chain specs and the client's
//!   `--dev`; `testing` (feature `test-utils`) builds correctly signed entries for tests of every
//!   crate, and `groth16::simulated` makes valid proofs for any public inputs without a prover.
#![cfg_attr(not(feature = "std"), no_std)]
extern crate alloc;

pub use field::F;

pub mod dev;
pub mod field;
pub mod groth16;
pub mod inbox;
pub mod memory;
pub mod names;
pub mod ops;
pub mod poseidon;
pub mod rules;
pub mod schnorr;
pub mod settlement;
pub mod state;
pub mod stored;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;
pub mod tree;
