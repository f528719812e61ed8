//! emr-chain client library: keystore, client-side encryption, the encrypted patient index and
//! content-addressed storage (an embedded block store or a daemon speaking the Kubo RPC API).
//!
//! * [`keys`] — key sets (sr25519 account, rollup key, X25519) in passphrase-encrypted files;
//! * [`endpoint`] — plain-HTTP addresses of the IPFS daemon and the node;
//! * [`crypto`] — record encryption (XChaCha20-Poly1305 STREAM) and HPKE key wrapping;
//! * [`index`] — the hash-linked, encrypted patient index;
//! * [`storage`] — the [`storage::Storage`] trait, the embedded store and the Kubo RPC client;
//! * [`client`] — the operations behind the CLI;
//! * [`audit`] — `emr audit`: proven batches checked against their operations, proof and L1;
//! * [`chain`] — a full node: signed operations submitted, finality levels, reads through [`state`];
//! * [`state`] — the chain's state through subxt (generated types), from a node or an
//!   in-process smoldot light client;
//! * [`cli`] — the `emr` command line.

// Tests may unwrap; library code may not (workspace lint `clippy::unwrap_used`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod audit;
pub mod chain;
pub mod cli;
pub mod client;
pub mod crypto;
pub mod endpoint;
pub mod ids;
pub mod index;
pub mod keys;
pub mod state;
pub mod storage;
