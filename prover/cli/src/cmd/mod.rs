//! One module per sub-command: its arguments (a clap `Args` struct), its `execute` and its
//! error type.

pub mod beefy;
pub mod constraints;
pub mod example_batch;
pub mod l1_deploy;
pub mod profile;
pub mod prove;
pub mod relay;
pub mod run;
pub mod setup;
pub mod status;
pub mod verify;
