// Behavioural twin of `esb` (ARITHMETIC.md §1.3, nonlinear mode), in two styles (the bench
// takes the smaller): ALT = 0: sig * x << (E - 1), then the sign as `-m`; ALT = 1: the k+1
// rows `x << i` of sig's set bits added, shifted, and the sign as (m ^ s...s) + s.
// WP = exact magnitude width + 1. Benchmark fixture.
module esb_twin #(parameter E = 2, parameter K = 2, parameter A = 8, parameter WP = 16,
                  parameter ALT = 0) (
  input  [E+K:0]  w,
  input  [A-1:0]  x,
  output [WP-1:0] p
);
  wire          s   = w[E+K];
  wire [E-1:0]  ex  = w[E+K-1:K];
  wire [K:0]    sig = (w[K:0] & ((1 << K) - 1)) | ((ex != 0) << K);
  wire [E-1:0]  sh  = (ex == 0) ? 0 : ex - 1;
  reg  [WP-1:0] rows;
  integer i;
  always @* begin
    rows = 0;
    for (i = 0; i <= K; i = i + 1)
      if (sig[i]) rows = rows + (x << i);
  end
  wire [WP-1:0] magnitude = ALT ? rows << sh : (sig * x) << sh;
  assign p = ALT ? (magnitude ^ {WP{s}}) + s : s ? -magnitude : magnitude;
endmodule
