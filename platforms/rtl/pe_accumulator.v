// cimtlm PE accumulation block (the RTL co-simulation example, see docs/rtl-cosim.md).
//
// Pin-level interface, one word per clock, fully pipelined with a latency of one cycle:
//   on a rising edge with in_valid = 1:  sum <= a + sign_extend(b);  out_valid <= 1
//   on a rising edge with in_valid = 0:  out_valid <= 0 (sum holds)
// a is the current 64-bit accumulator word, b a signed PSUM_W-bit partial sum from one subarray (ADC output
// after shift-add). rst is synchronous and active high. cycles counts the valid words since reset.
module pe_accumulator #(
    parameter ACC_W  = 64,
    parameter PSUM_W = 40
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     in_valid,
    input  wire signed [ACC_W-1:0]  a,
    input  wire signed [PSUM_W-1:0] b,
    output reg                      out_valid,
    output reg  signed [ACC_W-1:0]  sum,
    output reg  [31:0]              cycles
);
    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            sum       <= {ACC_W{1'b0}};
            cycles    <= 32'd0;
        end else begin
            out_valid <= in_valid;
            if (in_valid) begin
                sum    <= a + {{(ACC_W - PSUM_W){b[PSUM_W-1]}}, b};
                cycles <= cycles + 32'd1;
            end
        end
    end
endmodule
