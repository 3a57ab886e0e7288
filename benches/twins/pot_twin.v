// Behavioural twin of `pot` (ARITHMETIC.md §2.1 plain PoT): code j -> x << (2^B - 1 - j),
// j = 0 -> 0, then the sign. WP = exact magnitude width + 1. Benchmark fixture.
module pot_twin #(parameter B = 3, parameter A = 8, parameter WP = 16) (
  input  [B:0]    w,
  input  [A-1:0]  x,
  output [WP-1:0] p
);
  wire [B-1:0]  j = w[B-1:0];
  wire [WP-1:0] magnitude = (j == 0) ? 0 : (x << ((1 << B) - 1 - j));
  assign p = w[B] ? -magnitude : magnitude;
endmodule
