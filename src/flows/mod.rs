//! Flows: what the commands do, as library code over [`crate::spec::UnitSpec`], the emitted
//! files and the simulator. The CLI parses, calls one flow and prints; tests call the same
//! functions.

pub mod dnn;
pub mod doctor;
pub mod eval;
pub mod explore;
pub mod export;
pub mod faults;
pub mod metrics;
pub mod plot;
pub mod quantize;
pub mod synth;
pub mod testbench;
pub mod verify;

pub use crate::base::Failure;
