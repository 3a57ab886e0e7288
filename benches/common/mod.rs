//! Shared by the benches: every stated target is evaluated, and the misses are listed at the
//! end (a miss is printed, not a panic: these are benchmarks, not tests).

/// The targets of one bench and how each came out.
#[derive(Default)]
pub struct Targets {
    rows: Vec<(String, bool)>,
}

impl Targets {
    /// Record one target: what it states (with the measured figure) and whether it was met.
    pub fn check(&mut self, statement: String, met: bool) {
        self.rows.push((statement, met));
    }

    /// The target lines, then a summary line naming the misses.
    pub fn print(&self, bench: &str) {
        println!();
        for (statement, met) in &self.rows {
            println!("{:<7} {statement}", if *met { "met" } else { "MISSED" });
        }
        let missed = self.rows.iter().filter(|(_, met)| !met).count();
        if missed == 0 {
            println!("{bench} targets: all {} met", self.rows.len());
        } else {
            println!("{bench} targets: {missed} of {} MISSED", self.rows.len());
        }
    }
}
