//! Flows: what the commands do, as library code over [`crate::spec::UnitSpec`], the emitted
//! files and the simulator. The CLI parses, calls one flow and prints; tests call the same
//! functions.

pub mod doctor;
pub mod eval;
pub mod explore;
pub mod export;
pub mod faults;
pub mod metrics;
pub mod quantize;
pub mod synth;
pub mod testbench;
pub mod verify;

use crate::base::SpecError;

/// Failure of a flow: bad input (exit status 2) or a failed check or tool (exit status 1).
#[derive(Debug)]
pub enum Failure {
    BadInput(String),
    Failed(String),
}

impl From<SpecError> for Failure {
    fn from(e: SpecError) -> Self {
        Failure::BadInput(e.0)
    }
}
