// Behavioural twin of `tmr` (ARITHMETIC.md §3.4 Pro-TMR): three `a * b` copies kept apart
// through synthesis, a bitwise majority voter, err = any disagreement. Benchmark fixture.
(* keep_hierarchy = "yes" *)
module tmr_twin_copy #(parameter A = 8, parameter B = 8) (
  input  [A-1:0]   a,
  input  [B-1:0]   b,
  output [A+B-1:0] p
);
  assign p = a * b;
endmodule

module tmr_twin #(parameter A = 8, parameter B = 8) (
  input  [A-1:0]   a,
  input  [B-1:0]   b,
  output [A+B-1:0] p,
  output           err
);
  wire [A+B-1:0] p0, p1, p2;
  tmr_twin_copy #(.A(A), .B(B)) copy0 (.a(a), .b(b), .p(p0));
  tmr_twin_copy #(.A(A), .B(B)) copy1 (.a(a), .b(b), .p(p1));
  tmr_twin_copy #(.A(A), .B(B)) copy2 (.a(a), .b(b), .p(p2));
  assign p = (p0 & p1) | (p0 & p2) | (p1 & p2);
  assign err = (p0 != p1) | (p0 != p2);
endmodule
