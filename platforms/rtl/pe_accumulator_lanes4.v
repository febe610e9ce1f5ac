// cimtlm PE accumulation block, four words per clock in a three-stage pipeline (the second RTL co-simulation
// example, docs/rtl-cosim.md). Same handshake as pe_accumulator.v, with LANES = 4:
//   stage 1 registers the operands (the partial sums sign-extended), stage 2 adds the low 32 bits of each lane and
//   keeps the carry, stage 3 adds the high 32 bits with the carry. A beat comes out three cycles after it went in.
//   The stages advance together when the output is free or taken (a global stall: back-pressure holds the whole
//   pipeline while out_valid is set and out_ready is low).
module pe_accumulator_lanes4 #(
    parameter LANES  = 4,
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
    localparam H = ACC_W / 2;
    wire advance = !out_valid || out_ready;
    assign in_ready = advance;

    reg               v1, v2;
    reg [7:0]         c1, c2;
    reg [LANES*ACC_W-1:0] a1, b1;          // stage 1: operands, b sign-extended
    reg [LANES*ACC_W-1:0] a2, b2;          // stage 2: high halves kept, low halves summed
    reg [LANES*H-1:0]     low2;
    reg [LANES-1:0]       carry2;
    integer i;
    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
            out_valid <= 1'b0;
            c1 <= 8'd0;
            c2 <= 8'd0;
            out_count <= 8'd0;
            a1 <= {(LANES*ACC_W){1'b0}};
            b1 <= {(LANES*ACC_W){1'b0}};
            a2 <= {(LANES*ACC_W){1'b0}};
            b2 <= {(LANES*ACC_W){1'b0}};
            low2 <= {(LANES*H){1'b0}};
            carry2 <= {LANES{1'b0}};
            sum <= {(LANES*ACC_W){1'b0}};
        end else if (advance) begin
            // stage 3
            out_valid <= v2;
            out_count <= c2;
            for (i = 0; i < LANES; i = i + 1) begin
                sum[i*ACC_W +: H] <= low2[i*H +: H];
                sum[i*ACC_W + H +: H] <= a2[i*ACC_W + H +: H] + b2[i*ACC_W + H +: H] + {{(H - 1){1'b0}}, carry2[i]};
            end
            // stage 2
            v2 <= v1;
            c2 <= c1;
            a2 <= a1;
            b2 <= b1;
            for (i = 0; i < LANES; i = i + 1)
                {carry2[i], low2[i*H +: H]} <= {1'b0, a1[i*ACC_W +: H]} + {1'b0, b1[i*ACC_W +: H]};
            // stage 1
            v1 <= in_valid;
            c1 <= in_count;
            a1 <= a;
            for (i = 0; i < LANES; i = i + 1)
                b1[i*ACC_W +: ACC_W] <= {{(ACC_W - PSUM_W){b[i*PSUM_W + PSUM_W - 1]}}, b[i*PSUM_W +: PSUM_W]};
        end
    end
endmodule
