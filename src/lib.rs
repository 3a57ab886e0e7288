//! qmulgen: Verilog generator for quantized-DNN multipliers, verified in Verilator against
//! bit-exact golden models. See README.md for the flow.

pub mod cli;
pub mod metrics;
pub mod rtl;
pub mod sim;
pub mod spec;
pub mod units;
pub mod vivado;
