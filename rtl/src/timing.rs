//! The ARITHMETIC.md §5 timing model, shared by `synth` (the worst path of a mapped netlist)
//! and by the planners that place pipeline registers before synthesis (FloPoCo's way: each
//! operator estimates its own delay). An estimate, not Vivado timing.

/// The §5 timing model (an estimate; FloPoCo's UltraScale+ figures and routed xczu3eg
/// reports): ns from any input of a LUT or MUXF7/F8 to its output (0.15 logic + 0.30 net).
pub const LUT_NS: f64 = 0.45;
/// From an S, DI (or CYINIT) input of a carry cell to any of its outputs.
pub const CARRY_ENTRY_NS: f64 = 0.25;
/// From a carry cell's CI to any of its outputs (one step along the chain).
pub const CARRY_CHAIN_NS: f64 = 0.02;
/// Added once per path: clock-to-Q, setup, uncertainty.
pub const PATH_OVERHEAD_NS: f64 = 0.25;
/// The -2 speed grade's global clock limit, MHz.
pub const FMAX_LIMIT_MHZ: f64 = 775.0;

/// fmax under the §5 model for a worst path of `path_ns`.
pub fn fmax_est_mhz(path_ns: f64) -> f64 {
    FMAX_LIMIT_MHZ.min(1000.0 / path_ns)
}

/// One ripple adder level of `width` bits: a LUT into a carry chain of ceil(width/4) CARRY4
/// cells, entered at S and left at the last cell.
pub fn adder_ns(width: usize) -> f64 {
    LUT_NS + CARRY_ENTRY_NS + CARRY_CHAIN_NS * (width.div_ceil(4).max(1) - 1) as f64
}

/// A mux selected by `select_bits` bits (a shifter by a `select_bits`-bit amount): one LUT6
/// level per 4:1 stage.
pub fn mux_ns(select_bits: u32) -> f64 {
    select_bits.div_ceil(2) as f64 * LUT_NS
}

/// A reduction (AND/OR/XOR) of `inputs` bits: a tree of 6-input LUTs.
pub fn reduce_ns(inputs: usize) -> f64 {
    let (mut levels, mut width) = (0, inputs.max(1));
    while width > 1 {
        width = width.div_ceil(6);
        levels += 1;
    }
    levels.max(1) as f64 * LUT_NS
}
