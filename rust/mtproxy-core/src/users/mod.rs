//! Named users (Rust-only, ARCHITECTURE.md "Rust-only features"): the users
//! file, per-user limits and quotas, and the persisted quota state. Sans-IO:
//! the runtime reads files, keeps time and counts bytes; this module decides.

pub mod file;
pub mod limits;
pub mod schedule;
pub mod state;

pub use file::{parse_users, Limits, User, UsersError};
pub use limits::{Fleet, Live, Refusal, Usage};
pub use schedule::Reset;
