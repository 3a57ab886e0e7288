//! RTL of `tmr` (model side: `src/units/tmr.rs`): Pro-TMR (ARITHMETIC.md §3.4), three exact
//! multipliers and a bitwise majority voter, `err` = any disagreement. With fault ports, a
//! [`FaultInjector`] on each copy's output forces one fault selected by `fault_site` and
//! `fault_kind` (encoding below, shared with every unit that has fault ports).

use crate::exact::{ExactMultiplier, Signedness};
use rust_hdl::prelude::*;

/// Width of `fault_site`: enough for 1 + 3·P sites with P <= 32.
pub const SITE_BITS: usize = 8;
/// The three copies: each must survive synthesis as its own logic.
pub const REDUNDANT_BLOCKS: [&str; 3] = ["copies$0", "copies$1", "copies$2"];

/// `fault_kind` values: flip, stuck-at-0, stuck-at-1 (3: no fault).
pub const KIND_FLIP: u64 = 0;
pub const KIND_STUCK0: u64 = 1;
pub const KIND_STUCK1: u64 = 2;

/// Bitwise 2-of-3 majority and a disagreement flag.
#[derive(LogicBlock, Default)]
pub struct MajorityVoter<const P: usize> {
    pub x0: Signal<In, Bits<P>>,
    pub x1: Signal<In, Bits<P>>,
    pub x2: Signal<In, Bits<P>>,
    pub y: Signal<Out, Bits<P>>,
    pub disagree: Signal<Out, Bit>,
}

impl<const P: usize> Logic for MajorityVoter<P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.y.next = (self.x0.val() & self.x1.val())
            | (self.x0.val() & self.x2.val())
            | (self.x1.val() & self.x2.val());
        self.disagree.next =
            ((self.x0.val() ^ self.x1.val()) | (self.x0.val() ^ self.x2.val())).any();
    }
}

/// Forces a fault on one bit of `x` when `site` selects one of its bits (see module doc).
#[derive(LogicBlock)]
pub struct FaultInjector<const P: usize> {
    pub x: Signal<In, Bits<P>>,
    pub site: Signal<In, Bits<SITE_BITS>>,
    pub kind: Signal<In, Bits<2>>,
    pub y: Signal<Out, Bits<P>>,
    /// One-hot mask of the faulty bit (zero when the site lies outside this word: the
    /// wrapped-around shift amount is then >= P).
    hit: Signal<Local, Bits<P>>,
    first_site: Constant<Bits<SITE_BITS>>,
    one: Constant<Bits<P>>,
    kind_flip: Constant<Bits<2>>,
    kind_stuck0: Constant<Bits<2>>,
    kind_stuck1: Constant<Bits<2>>,
}

impl<const P: usize> FaultInjector<P> {
    /// An injector for the word whose bit 0 is site `first_site`.
    pub fn new(first_site: u64) -> Self {
        Self {
            x: Default::default(),
            site: Default::default(),
            kind: Default::default(),
            y: Default::default(),
            hit: Default::default(),
            first_site: Constant::new(first_site.into()),
            one: Constant::new(1u64.into()),
            kind_flip: Constant::new(KIND_FLIP.into()),
            kind_stuck0: Constant::new(KIND_STUCK0.into()),
            kind_stuck1: Constant::new(KIND_STUCK1.into()),
        }
    }
}

impl<const P: usize> Logic for FaultInjector<P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.hit.next = self.one.val() << (self.site.val() - self.first_site.val());
        self.y.next = self.x.val();
        if self.kind.val() == self.kind_flip.val() {
            self.y.next = self.x.val() ^ self.hit.val();
        }
        if self.kind.val() == self.kind_stuck0.val() {
            self.y.next = self.x.val() & !self.hit.val();
        }
        if self.kind.val() == self.kind_stuck1.val() {
            self.y.next = self.x.val() | self.hit.val();
        }
    }
}

/// Three exact copies and the voter.
#[derive(LogicBlock)]
pub struct TmrMultiplier<const A: usize, const B: usize, const P: usize, const S: usize> {
    pub a: Signal<In, Bits<A>>,
    pub b: Signal<In, Bits<B>>,
    pub p: Signal<Out, Bits<P>>,
    pub err: Signal<Out, Bit>,
    copies: [ExactMultiplier<A, B, P, S>; 3],
    voter: MajorityVoter<P>,
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> TmrMultiplier<A, B, P, S> {
    pub fn new(signed: Signedness) -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            err: Default::default(),
            copies: std::array::from_fn(|_| ExactMultiplier::new(signed)),
            voter: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> Logic
    for TmrMultiplier<A, B, P, S>
{
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..3 {
            self.copies[k].a.next = self.a.val();
            self.copies[k].b.next = self.b.val();
        }
        self.voter.x0.next = self.copies[0].p.val();
        self.voter.x1.next = self.copies[1].p.val();
        self.voter.x2.next = self.copies[2].p.val();
        self.p.next = self.voter.y.val();
        self.err.next = self.voter.disagree.val();
    }
}

/// TMR with a fault injector on each copy's output.
#[derive(LogicBlock)]
pub struct TmrMultiplierFaultPorts<const A: usize, const B: usize, const P: usize, const S: usize> {
    pub a: Signal<In, Bits<A>>,
    pub b: Signal<In, Bits<B>>,
    pub fault_site: Signal<In, Bits<SITE_BITS>>,
    pub fault_kind: Signal<In, Bits<2>>,
    pub p: Signal<Out, Bits<P>>,
    pub err: Signal<Out, Bit>,
    copies: [ExactMultiplier<A, B, P, S>; 3],
    injectors: [FaultInjector<P>; 3],
    voter: MajorityVoter<P>,
}

impl<const A: usize, const B: usize, const P: usize, const S: usize>
    TmrMultiplierFaultPorts<A, B, P, S>
{
    pub fn new(signed: Signedness) -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            fault_site: Default::default(),
            fault_kind: Default::default(),
            p: Default::default(),
            err: Default::default(),
            copies: std::array::from_fn(|_| ExactMultiplier::new(signed)),
            // Copy k's bit i is site 1 + k·P + i.
            injectors: std::array::from_fn(|k| FaultInjector::new(1 + (k * P) as u64)),
            voter: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> Logic
    for TmrMultiplierFaultPorts<A, B, P, S>
{
    #[hdl_gen]
    fn update(&mut self) {
        for k in 0..3 {
            self.copies[k].a.next = self.a.val();
            self.copies[k].b.next = self.b.val();
            self.injectors[k].x.next = self.copies[k].p.val();
            self.injectors[k].site.next = self.fault_site.val();
            self.injectors[k].kind.next = self.fault_kind.val();
        }
        self.voter.x0.next = self.injectors[0].y.val();
        self.voter.x1.next = self.injectors[1].y.val();
        self.voter.x2.next = self.injectors[2].y.val();
        self.p.next = self.voter.y.val();
        self.err.next = self.voter.disagree.val();
    }
}

/// The rust-hdl block of `tmr` (top module `top`).
pub fn block(a_bits: u32, b_bits: u32, signed: Signedness, fault_ports: bool) -> crate::AnyBlock {
    crate::dispatch_wxp!(
        a_bits,
        2..=16,
        b_bits,
        W = (BB),
        P = (BB + AA),
        block_for(signed, fault_ports),
        S = (crate::exact::selector_width(BB, AA))
    )
}

#[inline(never)]
fn block_for<const A: usize, const B: usize, const P: usize, const S: usize>(
    signed: Signedness,
    fault_ports: bool,
) -> crate::AnyBlock {
    match fault_ports {
        false => crate::AnyBlock::new(TmrMultiplier::<A, B, P, S>::new(signed)),
        true => crate::AnyBlock::new(TmrMultiplierFaultPorts::<A, B, P, S>::new(signed)),
    }
}
