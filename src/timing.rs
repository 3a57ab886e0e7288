//! The ARITHMETIC.md §5 timing model lives beside the RTL (the pipeline planner of
//! `qmulgen_rtl::pipeline` uses it); synth and the dot planner use it from here.
pub use qmulgen_rtl::timing::*;
