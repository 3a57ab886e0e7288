// Behavioural twins of `mitchell` (ARITHMETIC.md §3.1, the formula as written) and `adam`
// (§3.2: adaptive adder and checker as described, kept apart through synthesis like the
// unit's). Unsigned, n <= 16. Benchmark fixtures for `make bench`, never unit RTL.

// kA, kB (LODs) and the t-bit left-aligned fractions FA, FB.
module log_twin_operands #(parameter N = 8, parameter T = 7) (
  input      [N-1:0] a,
  input      [N-1:0] b,
  output reg [4:0]   ka,
  output reg [4:0]   kb,
  output reg [T-1:0] fa,
  output reg [T-1:0] fb
);
  integer i;
  always @* begin
    ka = 0;
    kb = 0;
    for (i = 0; i < N; i = i + 1) begin
      if (a[i]) ka = i;
      if (b[i]) kb = i;
    end
    fa = ((a - (1 << ka)) << (N - 1 - ka)) >> (N - 1 - T);
    fb = ((b - (1 << kb)) << (N - 1 - kb)) >> (N - 1 - T);
  end
endmodule

// P = ((2^t + s) << (kA + kB + c)) >> t, 0 when an operand is 0.
module log_twin_antilog #(parameter N = 8, parameter T = 7) (
  input  [4:0]     ka,
  input  [4:0]     kb,
  input  [T-1:0]   s,
  input            c,
  input            nonzero,
  output [2*N-1:0] p
);
  wire [2*N+T:0] wide = ({1'b1, s} << (ka + kb + c)) >> T;
  assign p = nonzero ? wide[2*N-1:0] : 0;
endmodule

module mitchell_twin #(parameter N = 8, parameter T = 7) (
  input  [N-1:0]   a,
  input  [N-1:0]   b,
  output [2*N-1:0] p
);
  wire [4:0] ka, kb;
  wire [T-1:0] fa, fb;
  log_twin_operands #(.N(N), .T(T)) operands (.a(a), .b(b), .ka(ka), .kb(kb), .fa(fa), .fb(fb));
  wire [T:0] sum = fa + fb;
  log_twin_antilog #(.N(N), .T(T)) antilog (
    .ka(ka), .kb(kb), .s(sum[T-1:0]), .c(sum[T]), .nonzero(a != 0 && b != 0), .p(p));
endmodule

// Primary lane FA + FB (both 0 below t-q); duplicate lane: the top d bit pairs again with the
// primary carry into t-d as carry-in. sums = {c', c, positions}.
(* keep_hierarchy = "yes" *)
module adam_twin_adder #(parameter T = 7) (
  input  [T-1:0] fa,
  input  [T-1:0] fb,
  input  [4:0]   d,
  output [T+1:0] sums
);
  wire [T:0]   primary = fa + fb;
  wire [T-1:0] low = (1 << (T - d)) - 1;
  wire [T:0]   below = (fa & low) + (fb & low);
  wire [T-1:0] dmask = (1 << d) - 1;
  wire [T:0]   dup = ((fa >> (T - d)) & dmask) + ((fb >> (T - d)) & dmask) + (below >> (T - d));
  assign sums = {(dup >> d) & (d != 0), primary[T], primary[T-1:0] | (dup[T-1:0] & dmask)};
endmodule

// Zero every primary bit (and c) that disagrees with its copy; mask bits [0, t-q).
(* keep_hierarchy = "yes" *)
module adam_twin_checker #(parameter T = 7) (
  input  [T+1:0] sums,
  input  [4:0]   q,
  input  [4:0]   d,
  output [T-1:0] s,
  output         c,
  output         mismatch
);
  wire [T-1:0] dmask = (1 << d) - 1;
  wire [T-1:0] primary = sums[T-1:0] & ~((1 << (T - q)) - 1);
  wire [T-1:0] differ = ((primary >> (T - d)) ^ sums[T-1:0]) & dmask;
  wire         carry_differs = (sums[T] ^ sums[T+1]) & (d != 0);
  assign s = primary & ~(differ << (T - d));
  assign c = sums[T] & ~carry_differs;
  assign mismatch = (differ != 0) | carry_differs;
endmodule

module adam_twin #(parameter N = 8, parameter T = 7) (
  input  [N-1:0]   a,
  input  [N-1:0]   b,
  output [2*N-1:0] p,
  output           err
);
  wire [4:0] ka, kb;
  wire [T-1:0] fa, fb, s;
  wire [T+1:0] sums;
  wire c, mismatch;
  log_twin_operands #(.N(N), .T(T)) operands (.a(a), .b(b), .ka(ka), .kb(kb), .fa(fa), .fb(fb));
  wire [4:0] kmax = (ka > kb) ? ka : kb;
  wire [4:0] q = (kmax > T) ? T : kmax;
  wire [4:0] d = (T - q < q) ? T - q : q;
  adam_twin_adder #(.T(T)) adder (.fa(fa), .fb(fb), .d(d), .sums(sums));
  adam_twin_checker #(.T(T)) duplicate_checker (
    .sums(sums), .q(q), .d(d), .s(s), .c(c), .mismatch(mismatch));
  wire nonzero = a != 0 && b != 0;
  log_twin_antilog #(.N(N), .T(T)) antilog (
    .ka(ka), .kb(kb), .s(s), .c(c), .nonzero(nonzero), .p(p));
  assign err = mismatch & nonzero;
endmodule
