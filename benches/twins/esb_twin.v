// Behavioural twin of `esb` (ARITHMETIC.md §1.3, nonlinear mode): sig * x << (E - 1), then
// the sign. WP = exact magnitude width + 1. Benchmark fixture.
module esb_twin #(parameter E = 2, parameter K = 2, parameter A = 8, parameter WP = 16) (
  input  [E+K:0]  w,
  input  [A-1:0]  x,
  output [WP-1:0] p
);
  wire         s   = w[E+K];
  wire [E-1:0] ex  = w[E+K-1:K];
  wire [K:0]   sig = (w[K:0] & ((1 << K) - 1)) | ((ex != 0) << K);
  wire [WP-1:0] magnitude = (sig * x) << ((ex == 0) ? 0 : ex - 1);
  assign p = s ? -magnitude : magnitude;
endmodule
