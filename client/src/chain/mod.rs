//! The chain: [`read`] its state through subxt (from a node or a light client), [`submit`]
//! signed operations to a node and follow their levels, and the [`error`]s of both. Reads
//! return what the runtime returns (`StoredParticipant`, `StoredGrant`, `LogEntry`, …); words
//! are chosen only where things are printed.

pub mod error;
pub mod read;
pub mod status;
pub mod submit;

pub use error::ChainError;
pub use read::{At, ChainState, LogPage, ParticipantView};
pub use status::{Level, OpStatus};
pub use submit::{NodeClient, DEFAULT_NODE};
