// Behavioural twin of `apot` (ARITHMETIC.md §2.3), in two styles (the bench takes the smaller):
// ALT = 0: a `case` per index field picks the term's shifted activation, the terms are added,
// then the sign as `-m`; ALT = 1: a `case` per field picks the shift amount, the term is
// `x << amount` gated by idx != 0, and the sign is (m ^ s...s) + s. Exponents by the §2.1
// general rule: term t of NN two-bit terms has exponents t+1, t+1+NN, t+1+2NN+ODD; the one-bit
// term of an odd B has 2NN+1. WP = exact magnitude width + 1. Benchmark fixture.
module apot_twin #(parameter B = 4, parameter A = 8, parameter WP = 16, parameter ALT = 0) (
  input  [B:0]    w,
  input  [A-1:0]  x,
  output [WP-1:0] p
);
  localparam NN = B / 2, ODD = B % 2, EMAX = 3 * NN + ODD;
  reg [WP-1:0] magnitude;
  reg [4:0] amount;
  integer t;
  always @* begin
    magnitude = 0;
    for (t = 0; t < NN; t = t + 1)
      if (ALT) begin
        case (w[B-1-2*t -: 2])
          2'd1: amount = EMAX - (t + 1);
          2'd2: amount = EMAX - (t + 1 + NN);
          default: amount = EMAX - (t + 1 + 2 * NN + ODD);
        endcase
        if (w[B-1-2*t -: 2] != 0) magnitude = magnitude + (x << amount);
      end else
        case (w[B-1-2*t -: 2])
          2'd1: magnitude = magnitude + (x << (EMAX - (t + 1)));
          2'd2: magnitude = magnitude + (x << (EMAX - (t + 1 + NN)));
          2'd3: magnitude = magnitude + (x << (EMAX - (t + 1 + 2 * NN + ODD)));
          default: ;
        endcase
    if (ODD && w[0]) magnitude = magnitude + (x << (EMAX - (2 * NN + 1)));
  end
  assign p = ALT ? (magnitude ^ {WP{w[B]}}) + w[B] : w[B] ? -magnitude : magnitude;
endmodule
