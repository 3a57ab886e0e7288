//! qmulgen: Verilog generator for quantized-DNN multipliers, verified in Verilator against
//! bit-exact golden models. See README.md for the flow.
//!
//! Layers, each using only those before it: [`base`] (ports, parameters, errors) and
//! [`timing`] (the §5 timing model) ->
//! [`units`] (one file per family: parameters, golden model, tests; the RTL is in the
//! `qmulgen-rtl` crate) -> [`net`] (networks through a unit's golden model) -> [`spec`] (units from flags or YAML) -> [`emit`] and [`vivado`]
//! (files; Vivado reports read back) -> [`sim`] (Verilator) and [`synth`] (Yosys, netlist
//! instrumentation) -> [`flows`] (verify, metrics, quantize, eval, synth, faults, explore,
//! export) -> [`cli`].

pub mod base;
pub mod cli;
pub mod emit;
pub mod flows;
pub mod net;
pub mod sim;
pub mod spec;
pub mod synth;
pub mod timing;
pub mod tools;
pub mod units;
pub mod vivado;
