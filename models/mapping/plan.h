#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/core/units.h"
#include "models/network/graph.h"

namespace cim::mapping {

/// Mapping options (the `mapping:` section of a run config).
struct config {
    bool novel_mapping = true;  // Peng et al., ISCAS 2019: one PE per kernel position for large convs
    bool duplication = true;    // copy small layers into idle subarrays of their tiles to process pixels in parallel
    unsigned tiles = 0;         // 0: the chip is sized by the network; N: fixed chip of N tiles (error if too small)

    template <class V>
    void visit(V& v) {
        v("novel_mapping", novel_mapping,
          "map conv layers of the most common kernel size with one PE per kernel position (novel mapping)");
        v("duplication", duplication, "duplicate small layers into otherwise idle subarrays to speed them up");
        v("tiles", tiles, range{0, 1000000}, "number of tiles of a fixed chip; 0 sizes the chip from the network");
    }
};

/// What the mapper needs to know about the hardware and the number format.
struct geometry {
    unsigned rows = 128;             // subarray word lines
    unsigned cols = 128;             // subarray bit lines holding weights (reference columns excluded)
    unsigned columns_per_weight = 2; // cells per weight: ceil(weight_bits / cell_bits) for offset encoding
};

/// One subarray's content: a block of one copy of one layer's unrolled weight matrix.
/// Rows are unrolled input rows [row_begin, row_end); channels are output channels [ch_begin, ch_end),
/// each taking columns_per_weight adjacent columns. layer < 0 marks an idle subarray.
struct subarray_slot {
    int layer = -1;  // index into graph::layers
    int copy = 0;    // which duplicate of the layer's matrix
    int row_begin = 0, row_end = 0;
    int ch_begin = 0, ch_end = 0;
    bool used() const { return layer >= 0; }
};

struct pe_plan {
    std::vector<subarray_slot> subarrays;  // fixed count per PE; idle slots have layer < 0
};

struct tile_plan {
    int layer = -1;  // tiles are never shared between layers (layer-by-layer dataflow)
    bool novel = false;
    std::vector<pe_plan> pes;
};

/// Per weight layer results of the floorplan.
struct layer_plan {
    int layer = -1;  // index into graph::layers
    std::string name;
    std::int64_t rows = 0;     // unrolled weight rows (k*k*C_in)
    std::int64_t columns = 0;  // C_out * columns_per_weight
    bool novel = false;
    int duplication = 1;       // copies of the matrix; input vectors are dealt round-robin over copies
    int first_tile = 0, num_tiles = 0;
    std::int64_t used_cells = 0;       // weight cells, duplicates included
    std::int64_t allocated_cells = 0;  // cells of every subarray in this layer's tiles
    double utilization() const { return allocated_cells ? double(used_cells) / double(allocated_cells) : 0.0; }
};

/// The floorplan: which tile, PE and subarray holds which block of which layer.
/// Tile and PE sizes follow DNN+NeuroSim's floorplan search (V1.x Chip.cpp, ChipFloorPlan): the sizes
/// (powers of two, at least 4x / 2x the subarray) that maximise memory utilisation, separately for
/// conventionally mapped (CM) and novel-mapped (NM) layers. See docs/mapping.md.
struct plan {
    geometry geo;
    int tile_size_cm = 0;  // cells per side of a CM tile
    int pe_size_cm = 0;    // cells per side of a CM PE
    int pe_size_nm = 0;    // cells per side of an NM PE
    int pes_per_tile_nm = 0;  // kernel positions of the most common kernel (e.g. 9 for 3x3)
    std::vector<tile_plan> tiles;
    std::vector<layer_plan> layers;  // one per weight layer, in network order

    std::int64_t used_cells() const;
    std::int64_t allocated_cells() const;
    /// Memory utilisation: weight cells (duplicates included) / cells of all allocated subarrays.
    double utilization() const;
    std::int64_t num_subarrays() const;
    int num_pes() const;
    const layer_plan* find_layer(int graph_index) const;
};

/// Distinct weight rows a tile holds (its copy-0 blocks): the input bytes per vector it needs.
int tile_input_rows(const tile_plan& t);

/// Build the floorplan. Throws model_error when the geometry is impossible or a fixed chip is too small.
plan build(const network::graph& g, const config& cfg, const geometry& geo);

/// A human-readable floorplan (for `cimtlm map`).
std::string describe(const plan& p, const network::graph& g);

}  // namespace cim::mapping
