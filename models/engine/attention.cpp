#include "models/engine/attention.h"

#include <algorithm>
#include <string>

#include "models/core/error.h"
#include "models/functional/subarray_block.h"

namespace cim::engine {

matmul_dims matmul_dims_of(const network::graph& g, int layer) {
    const network::layer& l = g.layers.at(static_cast<std::size_t>(layer));
    if (l.kind != network::op::matmul || l.input_ids.size() != 2)
        throw model_error("layers." + l.name, "not an activation matmul");
    const network::shape& b = g.layers.at(static_cast<std::size_t>(l.input_ids[1])).out;
    const int r = l.in.rank();
    matmul_dims d;
    d.batch = r == 3 ? l.in.dims[0] : 1;
    d.m = l.in.dims[static_cast<std::size_t>(r - 2)];
    d.k = l.in.dims[static_cast<std::size_t>(r - 1)];
    d.n = b.dims[static_cast<std::size_t>(r - 1)];
    return d;
}

hardware_options attention_options(const hardware_options& o) {
    hardware_options a = o;
    a.quant.weight_bits = o.quant.input_bits + 1;  // an activation in [-A, A] as a signed weight
    return a;
}

int attention_channels(const hardware_options& o) {
    const hardware_options a = attention_options(o);
    const int cpw = static_cast<int>(func::columns_per_weight(a.quant, a.cell_bits));
    const int chans = static_cast<int>(o.cols) / cpw;
    if (chans < 1)
        throw model_error("chip.attention", "a subarray of " + std::to_string(o.cols) + " columns cannot hold one " +
                                                std::to_string(a.quant.weight_bits) + "-bit operand of " +
                                                std::to_string(cpw) + " cells");
    return chans;
}

std::vector<attention_block> attention_blocks(int layer, const matmul_dims& d, const hardware_options& o) {
    if (o.attention_subarrays < 1) throw model_error("chip.attention.subarrays", "the pool needs at least one subarray");
    const int rows = static_cast<int>(o.rows), chans = attention_channels(o);
    std::vector<attention_block> blocks;
    int j = 0;
    for (int h = 0; h < d.batch; ++h)
        for (int r0 = 0; r0 < d.k; r0 += rows)
            for (int c0 = 0; c0 < d.n; c0 += chans, ++j) {
                attention_block b;
                b.head = h;
                b.where.layer = layer;
                b.where.copy = 0;
                b.where.row_begin = r0;
                b.where.row_end = std::min(d.k, r0 + rows);
                b.where.ch_begin = c0;
                b.where.ch_end = std::min(d.n, c0 + chans);
                b.pool = j % static_cast<int>(o.attention_subarrays);
                b.wave = j / static_cast<int>(o.attention_subarrays);
                blocks.push_back(b);
            }
    return blocks;
}

void attention_weights(const std::int32_t* b, const matmul_dims& d, int head, std::vector<std::int32_t>& w) {
    w.resize(static_cast<std::size_t>(d.n) * static_cast<std::size_t>(d.k));
    const std::int32_t* bh = b + static_cast<std::int64_t>(head) * d.k * d.n;
    for (int r = 0; r < d.k; ++r)
        for (int c = 0; c < d.n; ++c)
            w[static_cast<std::size_t>(c) * static_cast<std::size_t>(d.k) + static_cast<std::size_t>(r)] =
                bh[static_cast<std::size_t>(r) * static_cast<std::size_t>(d.n) + static_cast<std::size_t>(c)];
}

void cim_matmul(const network::graph& g, int layer, const std::int32_t* a, const std::int32_t* b,
                const hardware_options& o, std::int64_t image_id, std::vector<std::int64_t>& acc) {
    const matmul_dims d = matmul_dims_of(g, layer);
    const hardware_options ao = attention_options(o);
    const network::layer& l = g.layers[static_cast<std::size_t>(layer)];
    const bool a_signed = g.layers[static_cast<std::size_t>(l.input_ids[0])].may_be_negative;
    acc.assign(static_cast<std::size_t>(d.batch) * d.m * d.n, 0);
    std::vector<std::int32_t> w;
    std::vector<std::int64_t> psums;
    int head = -1;
    for (const attention_block& blk : attention_blocks(layer, d, o)) {
        if (blk.head != head) attention_weights(b, d, head = blk.head, w);
        programmed_slot s;
        s.where = blk.where;
        s.block_id = attention_block_id(o, blk.pool);
        s.signed_input = a_signed;
        s.block = program_slot(w.data(), d.k, blk.where, s.block_id, ao);
        const func::adc_transfer adc = default_adc(s.block, ao);
        const int chans = blk.where.ch_end - blk.where.ch_begin;
        psums.assign(static_cast<std::size_t>(d.m) * chans, 0);
        const std::int32_t* ah = a + static_cast<std::int64_t>(blk.head) * d.m * d.k;
        read_block(s, adc, ao, ah, d.m, d.k, 1, image_id, psums.data(), nullptr);
        std::int64_t* out = acc.data() + static_cast<std::int64_t>(blk.head) * d.m * d.n;
        for (int i = 0; i < d.m; ++i)
            for (int c = 0; c < chans; ++c)
                out[static_cast<std::size_t>(i) * d.n + blk.where.ch_begin + c] += psums[static_cast<std::size_t>(i) * chans + c];
    }
}

}  // namespace cim::engine
