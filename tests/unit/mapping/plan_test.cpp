#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

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
