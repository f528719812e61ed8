//! emr-chain client library: what talks to the chain and to storage, beside the I/O-free core
//! ([`emr_client_core`], re-exported here), for the `emr` command line and any other front end.
//!
//! * [`chain`] — the chain: [`chain::read`] (its state through subxt, typed as the runtime
//!   returns it, from a node or an in-process smoldot light client), [`chain::submit`] (a node
//!   that takes signed operations and reports their levels), [`chain::error`];
//! * [`records_on_chain`] — the consent-gated workflows: a logged access attempt, adopting the
//!   chain's index head, appending a head with its expected version, choosing a grant slot;
//! * [`client`] — records on content-addressed storage: encrypt, store, append to the index,
//!   walk, fetch and decrypt, share, rotate;
//! * [`storage`] — the [`storage::Storage`] trait, the embedded store and the Kubo RPC client;
//! * [`keystore`] — the directory of passphrase-encrypted key-set files;
//! * [`endpoint`] — plain-HTTP addresses of the IPFS daemon and the node;
//! * [`audit`] — proven batches checked against their operations, proof and L1, and a patient's
//!   log and grants against a storage proof;
//! * from the core: [`keys`], [`crypto`], [`index`], [`ids`], [`unixfs`], [`signing`],
//!   [`consent`].

// Tests may unwrap; library code may not (workspace lint `clippy::unwrap_used`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub use emr_client_core::{consent, crypto, ids, index, keys, signing, unixfs};

pub mod audit;
pub mod chain;
pub mod client;
pub mod endpoint;
pub mod keystore;
pub mod records_on_chain;
pub mod storage;
