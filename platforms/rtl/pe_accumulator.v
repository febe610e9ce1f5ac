// cimtlm PE accumulation block, one word per clock (the RTL co-simulation example, docs/rtl-cosim.md).
//
// The handshake every accumulation block of cimtlm has (the transactor in rtl_accumulator.h drives it):
//   input  beat: in_valid, in_count (lanes used, 1..LANES), a (LANES accumulator words), b (LANES partial sums);
//                accepted on a rising edge with in_valid = 1 and in_ready = 1
//   output beat: out_valid, out_count, sum (LANES words, sum = a + sign_extend(b) lane by lane);
//                taken on a rising edge with out_valid = 1 and out_ready = 1
// Beats come out in the order they went in, any number of cycles later. rst is synchronous and active high.
// This block: LANES = 1, a latency of one cycle, and back-pressure through in_ready when its output is not taken.
module pe_accumulator #(
    parameter LANES  = 1,
    parameter ACC_W  = 64,
    parameter PSUM_W = 40
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      in_valid,
    output wire                      in_ready,
    input  wire [7:0]                in_count,
    input  wire [LANES*ACC_W-1:0]    a,
    input  wire [LANES*PSUM_W-1:0]   b,
    output reg                       out_valid,
    input  wire                      out_ready,
    output reg  [7:0]                out_count,
    output reg  [LANES*ACC_W-1:0]    sum
);
    assign in_ready = !out_valid || out_ready;
    integer i;
    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            out_count <= 8'd0;
            sum       <= {(LANES*ACC_W){1'b0}};
        end else if (in_ready) begin
            out_valid <= in_valid;
            if (in_valid) begin
                out_count <= in_count;
                for (i = 0; i < LANES; i = i + 1)
                    sum[i*ACC_W +: ACC_W] <= a[i*ACC_W +: ACC_W] +
                                             {{(ACC_W - PSUM_W){b[i*PSUM_W + PSUM_W - 1]}}, b[i*PSUM_W +: PSUM_W]};
            end
        end
    end
endmodule
