// Behavioural twin of `exact` (ARITHMETIC.md §0): what a user writes by hand. A benchmark
// fixture for `make bench` (area ratio unit / twin), never unit RTL.
module exact_twin #(parameter A = 8, parameter B = 8) (
  input  [A-1:0]   a,
  input  [B-1:0]   b,
  output [A+B-1:0] p
);
  assign p = a * b;
endmodule
