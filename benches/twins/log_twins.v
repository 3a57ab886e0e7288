// Behavioural twins of `mitchell` (ARITHMETIC.md §3.1, the formula as written) and `adam`
// (§3.2: adaptive adder and checker, kept apart through synthesis like the unit's), in more
// than one style, so that the bench's yardstick is the smallest of honest descriptions.
// Operands and antilog (ALT bit 0):
// - 0, plain: LODs as "the last one seen wins", normalise by a left shift so that the leading
//   one sits at bit n-1 and take the t bits below it, then one left shift of {1, s} by
//   kA + kB + c and drop the t low bits;
// - 1: priority encoders from the MSB, fractions by a right shift of {x, t zeros} by k (the
//   leading one lands on bit t), and the antilog as one right shift of the top-aligned
//   mantissa {1, s} by 2n-1 - (kA + kB + c).
// AdAM's adder and checker (ALT bit 1): as §3.2 words them (shifts by d), or over the fixed
// window of the top floor(t/2) positions.
// Positions are KW = clog2(n) bits wide, exponent sums KW + 1. Unsigned, n <= 16. Benchmark
// fixtures for `make bench`, never unit RTL.

module log_twin_operands #(parameter N = 8, parameter T = 7, parameter ALT = 0,
                           parameter KW = $clog2(N)) (
  input           [N-1:0] a,
  input           [N-1:0] b,
  output reg     [KW-1:0] ka,
  output reg     [KW-1:0] kb,
  output     [T-1:0] fa,
  output     [T-1:0] fb
);
  integer i;
  reg found_a, found_b;
  always @* begin
    ka = 0;
    kb = 0;
    found_a = 0;
    found_b = 0;
    if (ALT)
      for (i = N - 1; i >= 0; i = i - 1) begin
        if (!found_a && a[i]) begin ka = i; found_a = 1; end
        if (!found_b && b[i]) begin kb = i; found_b = 1; end
      end
    else
      for (i = 0; i < N; i = i + 1) begin
        if (a[i]) ka = i;
        if (b[i]) kb = i;
      end
  end
  generate
    if (ALT) begin : right
      wire [N+T-1:0] sa = {a, {T{1'b0}}} >> ka;
      wire [N+T-1:0] sb = {b, {T{1'b0}}} >> kb;
      assign fa = sa[T-1:0];
      assign fb = sb[T-1:0];
    end else begin : left
      wire [N-1:0] na = a << (N - 1 - ka);
      wire [N-1:0] nb = b << (N - 1 - kb);
      assign fa = na[N-2 -: T];
      assign fb = nb[N-2 -: T];
    end
  endgenerate
endmodule

// P = ((2^t + s) << (kA + kB + c)) >> t, 0 when an operand is 0, in the style ALT selects.
module log_twin_antilog #(parameter N = 8, parameter T = 7, parameter ALT = 0,
                          parameter KW = $clog2(N)) (
  input  [KW-1:0]  ka,
  input  [KW-1:0]  kb,
  input  [T-1:0]   s,
  input            c,
  input            nonzero,
  output [2*N-1:0] p
);
  generate
    if (ALT) begin : right
      wire [2*N-1:0] mantissa = {1'b1, s, {(2*N-1-T){1'b0}}};
      wire [KW:0] distance = 2 * N - 1 - (ka + kb + c);
      assign p = nonzero ? mantissa >> distance : 0;
    end else begin : left
      wire [KW:0] e = ka + kb + c;
      wire [2*N+T-1:0] wide = {1'b1, s} << e;
      assign p = nonzero ? wide[2*N+T-1:T] : 0;
    end
  endgenerate
endmodule

module mitchell_twin #(parameter N = 8, parameter T = 7, parameter ALT = 0) (
  input  [N-1:0]   a,
  input  [N-1:0]   b,
  output [2*N-1:0] p
);
  localparam KW = $clog2(N);
  wire [KW-1:0] ka, kb;
  wire [T-1:0] fa, fb;
  log_twin_operands #(.N(N), .T(T), .ALT(ALT)) operands (
    .a(a), .b(b), .ka(ka), .kb(kb), .fa(fa), .fb(fb));
  wire [T:0] sum = fa + fb;
  log_twin_antilog #(.N(N), .T(T), .ALT(ALT)) antilog (
    .ka(ka), .kb(kb), .s(sum[T-1:0]), .c(sum[T]), .nonzero(a != 0 && b != 0), .p(p));
endmodule

// Primary lane FA + FB (both 0 below t-q); duplicate lane: the top d bit pairs again with the
// primary carry into t-d as carry-in. sums = {c', c, positions}. ALT = 0 as §3.2 says it
// (shifts by d); ALT = 1 recomputes the fixed window of the top dmax = floor(t/2) positions
// from the primary carry into t - dmax (every d lies in it; fault-free, its carry into t-d is
// the primary one) and moves its top d bits down by dmax - d.
(* keep_hierarchy = "yes" *)
module adam_twin_adder #(parameter T = 7, parameter ALT = 0) (
  input  [T-1:0] fa,
  input  [T-1:0] fb,
  input  [4:0]   d,
  output [T+1:0] sums
);
  localparam DM = T / 2;
  wire [T:0]   primary = fa + fb;
  // The primary carry into each position: sum ^ FA ^ FB.
  wire [T:0]   carries = primary ^ fa ^ fb;
  wire [T-1:0] dmask = ~({T{1'b1}} << d);
  generate
    if (ALT && DM > 0) begin : window
      wire [DM:0]  dup = fa[T-1 -: DM] + fb[T-1 -: DM] + carries[T - DM];
      wire [T-1:0] copies = dup[DM-1:0] >> (DM - d);
      assign sums = {dup[DM] & (d != 0), primary[T], primary[T-1:0] | (copies & dmask)};
    end else begin : shifts
      wire [T:0] dup = ((fa >> (T - d)) & dmask) + ((fb >> (T - d)) & dmask) + carries[T - d];
      assign sums = {dup[d] & (d != 0), primary[T], primary[T-1:0] | (dup[T-1:0] & dmask)};
    end
  endgenerate
endmodule

// Zero every primary bit (and c) that disagrees with its copy; mask bits [0, t-q). ALT = 0
// compares at the positions §3.2 names (shifts by d); ALT = 1 moves the d copies up into the
// window of the top dmax positions and compares there.
(* keep_hierarchy = "yes" *)
module adam_twin_checker #(parameter T = 7, parameter ALT = 0) (
  input  [T+1:0] sums,
  input  [4:0]   q,
  input  [4:0]   d,
  output [T-1:0] s,
  output         c,
  output         mismatch
);
  localparam DM = T / 2;
  wire [T-1:0] primary = sums[T-1:0] & ({T{1'b1}} << (T - q));
  wire         carry_differs = (sums[T] ^ sums[T+1]) & (d != 0);
  wire [T-1:0] differ;
  generate
    if (ALT && DM > 0) begin : window
      wire [DM-1:0] wmask = {DM{1'b1}} << (DM - d);
      wire [DM-1:0] copies = sums[DM-1:0] << (DM - d);
      wire [DM-1:0] wdiffer = (primary[T-1 -: DM] ^ copies) & wmask;
      assign differ = wdiffer;
      assign s = primary & ~({wdiffer, {(T - DM){1'b0}}});
    end else begin : shifts
      wire [T-1:0] dmask = ~({T{1'b1}} << d);
      assign differ = ((primary >> (T - d)) ^ sums[T-1:0]) & dmask;
      assign s = primary & ~(differ << (T - d));
    end
  endgenerate
  assign c = sums[T] & ~carry_differs;
  assign mismatch = (differ != 0) | carry_differs;
endmodule

// ALT bit 0: the operand and antilog style (as for mitchell_twin); bit 1: the adder and
// checker style.
module adam_twin #(parameter N = 8, parameter T = 7, parameter ALT = 0) (
  input  [N-1:0]   a,
  input  [N-1:0]   b,
  output [2*N-1:0] p,
  output           err
);
  localparam KW = $clog2(N);
  wire [KW-1:0] ka, kb;
  wire [T-1:0] fa, fb, s;
  wire [T+1:0] sums;
  wire c, mismatch;
  log_twin_operands #(.N(N), .T(T), .ALT(ALT % 2)) operands (
    .a(a), .b(b), .ka(ka), .kb(kb), .fa(fa), .fb(fb));
  wire [KW-1:0] kmax = (ka > kb) ? ka : kb;
  wire [4:0] q = (kmax > T) ? T : kmax;
  wire [4:0] d = (T - q < q) ? T - q : q;
  adam_twin_adder #(.T(T), .ALT(ALT / 2)) adder (.fa(fa), .fb(fb), .d(d), .sums(sums));
  adam_twin_checker #(.T(T), .ALT(ALT / 2)) duplicate_checker (
    .sums(sums), .q(q), .d(d), .s(s), .c(c), .mismatch(mismatch));
  wire nonzero = a != 0 && b != 0;
  log_twin_antilog #(.N(N), .T(T), .ALT(ALT % 2)) antilog (
    .ka(ka), .kb(kb), .s(s), .c(c), .nonzero(nonzero), .p(p));
  assign err = mismatch & nonzero;
endmodule
