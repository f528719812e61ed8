//! `emr-node`: the emr-chain node that every hospital of the consortium runs.
//!
//! ```text
//!  cli ──► command ──► service ──► Aura (block production) + GRANDPA (finality)
//!                │          └────► JSON-RPC (rpc)
//!                └──► chain_spec (dev | consortium-local | PATH)
//! ```
//!
//! Most of the logic lives in the library target so that it can be documented and tested;
//! this binary only hands control to [`emr_node::command::run`].

#![allow(clippy::result_large_err)] // `sc_cli::Error` is an upstream type.

fn main() -> polkadot_sdk::sc_cli::Result<()> {
	emr_node::command::run()
}
