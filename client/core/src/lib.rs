//! emr-chain client core: what a participant's device computes, with no I/O, so that the `emr`
//! command line and a browser (`wasm32-unknown-unknown`) share one implementation.
//!
//! * [`keys`] — key sets (sr25519 account, rollup key, X25519) and the passphrase-encrypted
//!   key-file format (reading and writing files is `emr_client::keystore`'s);
//! * [`crypto`] — record encryption (XChaCha20-Poly1305 STREAM) and HPKE key wrapping;
//! * [`index`] — the hash-linked, encrypted patient index;
//! * [`ids`] — patient, record and reader identifiers;
//! * [`unixfs`] — content ids (CIDv1, raw leaves, UnixFS DAG) as IPFS computes them;
//! * [`signing`] — operations signed with the rollup key, alone or co-signed by a hospital;
//! * [`consent`] — which grant slot a request names, with the rules' own
//!   [`emr_primitives::rules::covers`] and [`emr_primitives::rules::free_slot`].

// Tests may unwrap; library code may not (workspace lint `clippy::unwrap_used`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod consent;
pub mod crypto;
pub mod ids;
pub mod index;
pub mod keys;
pub mod signing;
pub mod unixfs;
