#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "models/core/error.h"
#include "models/mapping/plan.h"
#include "models/network/loader.h"

namespace {

cim::network::graph vgg8() { return cim::network::load(CIM_SOURCE_DIR "/configs/networks/vgg8_cifar10.yaml"); }

cim::mapping::plan map_vgg8(unsigned cell_bits) {
    cim::mapping::geometry geo;
    geo.rows = 128;
    geo.cols = 128;
    geo.columns_per_weight = (8 + cell_bits - 1) / cell_bits;
    return cim::mapping::build(vgg8(), {}, geo);
}

}  // namespace

// Source: Peng et al., "DNN+NeuroSim", IEDM 2019, Table 1 (memory utilization row): VGG-8 on CIFAR-10,
// 8-bit weights, 128x128 subarrays: 99.29 % (1-bit cells), 98.69 % (2-bit cells), 97.05 % (4-bit cells).
// cimtlm follows NeuroSim's floorplan search (tile/PE sizes, novel mapping, duplication; DNN+NeuroSim V1.0-V1.4
// Chip.cpp share it) and counts utilisation by cells (docs/mapping.md). With 1-bit cells this lands within 1 pp
// of the paper. With 2- and 4-bit cells it gives 97.67 % and 95.27 %: conv1 (27 rows) and fc2 (1024 x 10 weights)
// leave ~1.5 M cells idle in their 1024x1024 tiles whatever the cell precision. The released NeuroSim code, run on
// the same network by its own (tile-averaged) formula, gives 96.86 % and 93.47 %, so the paper's 98.69 % and
// 97.05 % are not reproducible from the published algorithm. The test pins each value between the released
// algorithm's figure and the paper's, and keeps the remaining gap visible (see docs/mapping.md).
TEST(Mapping, Vgg8UtilizationMatchesPaperTable1) {
    EXPECT_NEAR(100.0 * map_vgg8(1).utilization(), 99.29, 1.0);
    const double u2 = 100.0 * map_vgg8(2).utilization();
    EXPECT_GT(u2, 96.86);
    EXPECT_LT(u2, 98.69);
    EXPECT_NEAR(u2, 98.69, 1.1);
    const double u4 = 100.0 * map_vgg8(4).utilization();
    EXPECT_GT(u4, 93.47);
    EXPECT_LT(u4, 97.05);
}

TEST(Mapping, EveryWeightIsPlacedOncePerCopy) {
    const auto g = vgg8();
    const auto p = map_vgg8(4);
    for (const auto& l : p.layers) {
        const auto& L = g.layers[static_cast<std::size_t>(l.layer)];
        // For each copy, the union of blocks must tile rows x channels exactly once.
        std::map<int, std::int64_t> area;
        std::set<std::tuple<int, int, int>> seen;  // (copy, row_begin, ch_begin) must be unique
        for (const auto& t : p.tiles)
            for (const auto& pe : t.pes)
                for (const auto& s : pe.subarrays) {
                    if (s.layer != l.layer) continue;
                    EXPECT_LE(s.row_end - s.row_begin, 128);
                    EXPECT_LE((s.ch_end - s.ch_begin) * 2, 128);
                    EXPECT_TRUE(seen.insert({s.copy, s.row_begin, s.ch_begin}).second) << l.name;
                    area[s.copy] += std::int64_t{s.row_end - s.row_begin} * (s.ch_end - s.ch_begin);
                }
        ASSERT_EQ(static_cast<int>(area.size()), l.duplication) << l.name;
        for (const auto& [copy, a] : area) EXPECT_EQ(a, L.weight_rows() * L.out_channels) << l.name << " copy " << copy;
    }
}

TEST(Mapping, DuplicationSpeedsUpSmallLayersOnly) {
    const auto p = map_vgg8(4);
    EXPECT_GT(p.layers.front().duplication, 1);  // conv1: 27 rows
    int fc1 = -1;
    for (std::size_t i = 0; i < p.layers.size(); ++i)
        if (p.layers[i].name == "fc1") fc1 = static_cast<int>(i);
    ASSERT_GE(fc1, 0);
    EXPECT_EQ(p.layers[static_cast<std::size_t>(fc1)].duplication, 1);
    cim::mapping::config nodup;
    nodup.duplication = false;
    const auto q = cim::mapping::build(vgg8(), nodup, p.geo);
    for (const auto& l : q.layers) EXPECT_EQ(l.duplication, 1);
    EXPECT_LT(q.utilization(), p.utilization());
}

TEST(Mapping, FixedChipTooSmallIsClearError) {
    cim::mapping::config c;
    c.tiles = 3;
    try {
        cim::mapping::build(vgg8(), c, map_vgg8(4).geo);
        FAIL();
    } catch (const cim::model_error& e) {
        EXPECT_EQ(e.key(), "mapping.tiles");
        EXPECT_NE(std::string(e.what()).find("needs"), std::string::npos);
    }
    c.tiles = 40;
    const auto p = cim::mapping::build(vgg8(), c, map_vgg8(4).geo);
    EXPECT_EQ(p.tiles.size(), 40u);
}

TEST(Mapping, ResNet18Maps) {
    const auto g = cim::network::load(CIM_SOURCE_DIR "/configs/networks/resnet18_imagenet.yaml");
    cim::mapping::geometry geo;
    const auto p = cim::mapping::build(g, {}, geo);
    EXPECT_EQ(p.layers.size(), 21u);
    EXPECT_GT(p.utilization(), 0.8);
    EXPECT_LE(p.utilization(), 1.0);
}

// Every weight must be placed exactly once per copy whatever the geometry, not only when S, Sc and
// columns_per_weight are powers of two. A subarray holds Sc/cpw whole channels, so a PE of side P holds
// (P/Sc)*(Sc/cpw) channels, fewer than P/cpw when cpw does not divide Sc (1-bit cells with differential 8-bit
// weights: cpw = 14, 64 columns -> 4 channels per subarray, 16 per 256-wide PE, not 18) or Sc or S does not
// divide P (56, 70, 112 columns; 100 rows). The mapper used to size blocks by P/cpw and P, and fill_grid
// silently dropped what did not fit, so those channels (and rows) were never computed.
TEST(Mapping, EveryWeightIsPlacedOnceForAnyGeometry) {
    const auto g = vgg8();
    struct case_t { unsigned rows, cols, cpw; };
    const case_t cases[] = {{64, 64, 14}, {32, 32, 14}, {64, 56, 14}, {64, 70, 14}, {64, 112, 14},
                            {128, 128, 6}, {64, 64, 6},  {100, 100, 8}, {96, 128, 2}};
    for (const auto& c : cases) {
        for (const bool novel : {true, false}) {
            for (const bool dup : {true, false}) {
                cim::mapping::geometry geo;
                geo.rows = c.rows;
                geo.cols = c.cols;
                geo.columns_per_weight = c.cpw;
                cim::mapping::config cfg;
                cfg.novel_mapping = novel;
                cfg.duplication = dup;
                const auto p = cim::mapping::build(g, cfg, geo);
                const std::string where = std::to_string(c.rows) + "x" + std::to_string(c.cols) + " cpw " +
                                          std::to_string(c.cpw) + (novel ? " novel" : "") + (dup ? " dup" : "");
                for (const auto& l : p.layers) {
                    const auto& L = g.layers[static_cast<std::size_t>(l.layer)];
                    const std::int64_t rows = L.weight_rows();
                    // times[copy][channel * rows + row]: how often that weight is stored in that copy
                    std::vector<std::vector<std::uint8_t>> times(static_cast<std::size_t>(l.duplication),
                                                                 std::vector<std::uint8_t>(rows * L.out_channels, 0));
                    for (const auto& t : p.tiles)
                        for (const auto& pe : t.pes)
                            for (const auto& s : pe.subarrays) {
                                if (s.layer != l.layer) continue;
                                ASSERT_GE(s.copy, 0);
                                ASSERT_LT(s.copy, l.duplication) << where << " " << l.name;
                                EXPECT_LE(s.row_end - s.row_begin, static_cast<int>(c.rows)) << where << " " << l.name;
                                EXPECT_LE((s.ch_end - s.ch_begin) * static_cast<int>(c.cpw), static_cast<int>(c.cols))
                                    << where << " " << l.name;
                                for (int ch = s.ch_begin; ch < s.ch_end; ++ch)
                                    for (int r = s.row_begin; r < s.row_end; ++r)
                                        ++times[static_cast<std::size_t>(s.copy)][static_cast<std::size_t>(ch * rows + r)];
                            }
                    for (std::size_t k = 0; k < times.size(); ++k) {
                        const auto once = std::count(times[k].begin(), times[k].end(), std::uint8_t{1});
                        EXPECT_EQ(once, static_cast<std::ptrdiff_t>(times[k].size()))
                            << where << " " << l.name << " copy " << k << ": "
                            << static_cast<std::ptrdiff_t>(times[k].size()) - once << " weights not stored exactly once";
                    }
                }
                // The layers' allocated cells add up to the chip's, so per-layer and chip utilisation agree.
                std::int64_t allocated = 0;
                for (const auto& l : p.layers) allocated += l.allocated_cells;
                EXPECT_EQ(allocated, p.allocated_cells()) << where;
            }
        }
    }
}

// A subarray wider than every PE the floorplan allows (PE sizes follow subarray.rows) would leave the PE grid
// without a subarray column and drop the whole layer; that is an error naming subarray.rows, which sets the PE
// size (`--set subarray.rows=3` was once blamed on subarray.cols), and the columns it meets.
TEST(Mapping, SubarrayWiderThanThePeIsClearError) {
    for (unsigned rows : {32u, 3u}) {
        cim::mapping::geometry geo;
        geo.rows = rows;
        geo.cols = rows == 3 ? 128 : 256;
        geo.columns_per_weight = 1;
        try {
            cim::mapping::build(vgg8(), {}, geo);
            ADD_FAILURE() << rows << " rows accepted";
        } catch (const cim::model_error& e) {
            EXPECT_EQ(e.key(), "subarray.rows");
            EXPECT_NE(std::string(e.what()).find("subarray.cols = " + std::to_string(geo.cols)), std::string::npos) << e.what();
        }
    }
}
