//! RTL of `exact` (model side: `src/units/exact.rs`): the exact A×B multiplier baseline
//! (ARITHMETIC.md §0, §3.4 "Unp-exact"). A shift-add array (rust-hdl only multiplies
//! `Bits<16>`), with the MSB of a signed `b` weighted -2^(B-1).

use crate::mask;
use rust_hdl::prelude::*;

/// Shift-add multiplier core: `p = a * b` over A+B = P bits.
#[derive(LogicBlock)]
pub struct ExactMultiplier<const A: usize, const B: usize, const P: usize> {
    pub a: Signal<In, Bits<A>>,
    pub b: Signal<In, Bits<B>>,
    pub p: Signal<Out, Bits<P>>,
    /// `a` sign- or zero-extended to P bits, then shifted left once per bit of `b`.
    a_shifted: Signal<Local, Bits<P>>,
    acc: Signal<Local, Bits<P>>,
    is_signed: Constant<Bit>,
    /// Only the MSB set: `a & a_msb` is non-zero when a signed `a` is negative.
    a_msb: Constant<Bits<A>>,
    b_msb: Constant<Bits<B>>,
    /// Ones in bits P-1..A: or-ed into the extended `a` when it is negative.
    a_sign_fill: Constant<Bits<P>>,
    zero: Constant<Bits<P>>,
}

impl<const A: usize, const B: usize, const P: usize> ExactMultiplier<A, B, P> {
    pub fn new(signed: bool) -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            a_shifted: Default::default(),
            acc: Default::default(),
            is_signed: Constant::new(signed),
            a_msb: Constant::new((1u64 << (A - 1)).into()),
            b_msb: Constant::new((1u64 << (B - 1)).into()),
            a_sign_fill: Constant::new((mask(P) & !mask(A)).into()),
            zero: Constant::new(0u64.into()),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize> Logic for ExactMultiplier<A, B, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.a_shifted.next = bit_cast::<P, A>(self.a.val());
        if self.is_signed.val() & (self.a.val() & self.a_msb.val()).any() {
            self.a_shifted.next = self.a_shifted.val() | self.a_sign_fill.val();
        }
        self.acc.next = self.zero.val();
        for i in 0..B {
            if self.b.val().get_bit(i) {
                self.acc.next = self.acc.val() + self.a_shifted.val();
            }
            self.a_shifted.next = self.a_shifted.val() << 1;
        }
        // A set MSB of a signed b weighs -2^(B-1): it was added once, so take a << B away.
        if self.is_signed.val() & (self.b.val() & self.b_msb.val()).any() {
            self.acc.next = self.acc.val() - self.a_shifted.val();
        }
        self.p.next = self.acc.val();
    }
}

crate::registered_wrapper!(
    RegisteredExact<A, B, P>,
    ExactMultiplier<A, B, P>,
    inputs [a / a_reg: Bits<A>, b / b_reg: Bits<B>],
    outputs [p / p_reg: Bits<P>]
);

/// Verilog of `exact` (top module `top`): an `a_bits` × `b_bits` multiplier, optionally signed,
/// optionally inside input and output registers.
pub fn verilog(a_bits: u32, b_bits: u32, signed: bool, registered: bool) -> String {
    crate::dispatch_wxp!(
        a_bits,
        2..=16,
        b_bits,
        W = (BB),
        P = (BB + AA),
        verilog_for(signed, registered)
    )
}

#[inline(never)]
fn verilog_for<const A: usize, const B: usize, const P: usize>(
    signed: bool,
    registered: bool,
) -> String {
    let core = ExactMultiplier::<A, B, P>::new(signed);
    if registered {
        crate::verilog_of(RegisteredExact::<A, B, P>::new(core))
    } else {
        crate::verilog_of(core)
    }
}
