// Behavioural twin of `pot` (ARITHMETIC.md §2.1 plain PoT), in two styles (the bench takes the
// smaller): ALT = 0: code j -> x << (2^B - 1 - j), j = 0 -> 0, then the sign as `-m`;
// ALT = 1: {x, 2^B-1 zeros} >> j, and the sign as (m ^ s...s) + s. WP = exact magnitude
// width + 1. Benchmark fixture.
module pot_twin #(parameter B = 3, parameter A = 8, parameter WP = 16, parameter ALT = 0) (
  input  [B:0]    w,
  input  [A-1:0]  x,
  output [WP-1:0] p
);
  localparam M = (1 << B) - 1;
  wire [B-1:0]    j = w[B-1:0];
  wire [A+M-1:0]  right = {x, {M{1'b0}}} >> j;
  wire [WP-1:0]   magnitude = (j == 0) ? 0 : ALT ? right : (x << (M - j));
  assign p = ALT ? (magnitude ^ {WP{w[B]}}) + w[B] : w[B] ? -magnitude : magnitude;
endmodule
