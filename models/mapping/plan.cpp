#include "models/mapping/plan.h"

#include <algorithm>
#include <set>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "models/core/error.h"

namespace cim::mapping {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t pow2_ceil(std::int64_t x) {
    std::int64_t p = 1;
    while (p < x) p *= 2;
    return p;
}

/// The layer as NeuroSim's floorplan sees it.
struct shape_info {
    int index;
    std::int64_t c_in, k_area, c_out;
    std::int64_t rows() const { return c_in * k_area; }
};

/// Fill a Gr x Gc grid of units (PEs in a tile, or subarrays in a PE) with `dup_r x dup_c` copies of a
/// block of `rows x chans`, each unit taking up to unit_rows x unit_chans. Returns per grid cell
/// (row-major) the copy and the sub-block, or copy -1 for an idle unit.
struct grid_cell {
    int copy = -1;
    std::int64_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
};
std::vector<grid_cell> fill_grid(std::int64_t rows, std::int64_t chans, std::int64_t unit_rows,
                                 std::int64_t unit_chans, int gr, int gc, int dup_r, int dup_c) {
    std::vector<grid_cell> out(static_cast<std::size_t>(gr) * gc);
    const std::int64_t a = ceil_div(rows, unit_rows);
    const std::int64_t b = ceil_div(chans, unit_chans);
    // One copy must fit the grid, or the units beyond it would be silently left out of the plan.
    if (a > gr || b > gc)
        throw model_error("mapping", "internal: a block of " + std::to_string(rows) + " rows x " + std::to_string(chans) +
                                         " channels needs " + std::to_string(a) + "x" + std::to_string(b) +
                                         " units but the grid has " + std::to_string(gr) + "x" + std::to_string(gc));
    for (int i = 0; i < gr; ++i) {
        for (int j = 0; j < gc; ++j) {
            const std::int64_t copy_r = i / a, blk_r = i % a;
            const std::int64_t copy_c = j / b, blk_c = j % b;
            if (copy_r >= dup_r || copy_c >= dup_c) continue;
            grid_cell& g = out[static_cast<std::size_t>(i) * gc + j];
            g.copy = static_cast<int>(copy_r * dup_c + copy_c);
            g.r0 = blk_r * unit_rows;
            g.r1 = std::min(rows, g.r0 + unit_rows);
            g.c0 = blk_c * unit_chans;
            g.c1 = std::min(chans, g.c0 + unit_chans);
        }
    }
    return out;
}

/// Copies along one dimension: NeuroSim's floor(units / units_for_one_matrix), at least 1.
int dup_along(std::int64_t grid, std::int64_t need) { return static_cast<int>(std::max<std::int64_t>(1, grid / need)); }

}  // namespace

std::int64_t plan::used_cells() const {
    std::int64_t s = 0;
    for (const auto& l : layers) s += l.used_cells;
    return s;
}

std::int64_t plan::allocated_cells() const { return num_subarrays() * std::int64_t{geo.rows} * geo.cols; }

double plan::utilization() const {
    const std::int64_t a = allocated_cells();
    return a ? double(used_cells()) / double(a) : 0.0;
}

std::int64_t plan::num_subarrays() const {
    std::int64_t n = 0;
    for (const auto& t : tiles)
        for (const auto& p : t.pes) n += static_cast<std::int64_t>(p.subarrays.size());
    return n;
}

int plan::num_pes() const {
    int n = 0;
    for (const auto& t : tiles) n += static_cast<int>(t.pes.size());
    return n;
}

const layer_plan* plan::find_layer(int graph_index) const {
    for (const auto& l : layers)
        if (l.layer == graph_index) return &l;
    return nullptr;
}

plan build(const network::graph& g, const config& cfg, const geometry& geo) {
    if (geo.rows < 2 || geo.cols < 2) throw model_error("subarray", "a subarray needs at least 2 rows and 2 columns");
    if (geo.columns_per_weight == 0 || geo.columns_per_weight > geo.cols)
        throw model_error("subarray.cols", "a subarray of " + std::to_string(geo.cols) + " columns cannot hold one weight of " +
                                               std::to_string(geo.columns_per_weight) + " cells");
    const std::int64_t S = geo.rows, Sc = geo.cols, cps = geo.columns_per_weight;

    std::vector<shape_info> net;
    for (int i : g.weight_layers()) {
        const auto& L = g.layers[static_cast<std::size_t>(i)];
        if (L.kind == network::op::conv2d)
            net.push_back({i, L.in.c(), std::int64_t{L.kernel_h} * L.kernel_w, L.out_channels});
        else
            net.push_back({i, L.weight_rows(), 1, L.out_channels});
    }
    if (net.empty()) throw model_error("network", "the network has no conv2d or linear layer to map");

    // NeuroSim: the kernel area (!= 1) shared by the most layers gets one PE per kernel position.
    std::map<std::int64_t, int> count;
    for (const auto& l : net)
        if (l.k_area != 1) ++count[l.k_area];
    std::int64_t npe_nm = 0;
    int most = 0;
    for (const auto& [area, n] : count)
        if (n > most) { most = n; npe_nm = area; }

    std::vector<bool> novel(net.size(), false);
    std::int64_t max_pe_nm = 0, max_tile_cm = 0;
    for (std::size_t i = 0; i < net.size(); ++i) {
        const std::int64_t cube = pow2_ceil(net[i].c_out * cps);
        novel[i] = cfg.novel_mapping && npe_nm > 0 && net[i].k_area == npe_nm && net[i].rows() >= S;
        (novel[i] ? max_pe_nm : max_tile_cm) = std::max(novel[i] ? max_pe_nm : max_tile_cm, cube);
    }

    // Tile/PE size search: the power-of-two size with the highest utilisation (ties keep the larger).
    auto nm_util = [&](std::int64_t ps) {
        double tiles = 0, cells = 0;
        for (std::size_t i = 0; i < net.size(); ++i)
            if (novel[i]) {
                tiles += double(ceil_div(net[i].c_in, ps) * ceil_div(net[i].c_out * cps, ps));
                cells += double(net[i].rows() * net[i].c_out * cps);
            }
        return tiles > 0 ? cells / (tiles * double(ps * ps * npe_nm)) : 0.0;
    };
    auto cm_util = [&](std::int64_t ts) {
        double tiles = 0, cells = 0;
        for (std::size_t i = 0; i < net.size(); ++i)
            if (!novel[i]) {
                tiles += double(ceil_div(net[i].rows(), ts) * ceil_div(net[i].c_out * cps, ts));
                cells += double(net[i].rows() * net[i].c_out * cps);
            }
        return tiles > 0 ? cells / (tiles * double(ts * ts)) : 0.0;
    };
    std::int64_t pe_nm = std::max(max_pe_nm, 2 * S);
    double best = 0;
    for (std::int64_t ps = pe_nm; ps > 2 * S; ps /= 2)
        if (const double u = nm_util(ps); u > best) { best = u; pe_nm = ps; }
    std::int64_t tile_cm = std::max(max_tile_cm, 4 * S);
    double best_cm = 0;
    for (std::int64_t ts = tile_cm; ts > 4 * S; ts /= 2)
        if (const double u = cm_util(ts); u > best_cm) { best_cm = u; tile_cm = ts; }

    // What a PE of `side` cells per side really holds: its grid of (side/S) x (side/Sc) subarrays, each holding
    // S weight rows and Sc/cps whole output channels (a weight's cells never straddle two subarrays). This is
    // less than side rows or side/cps channels when S or Sc does not divide side or cps does not divide Sc (e.g.
    // 64 columns / 14 cells per weight = 4 channels, 16 per 256-wide PE, not 256/14 = 18). Blocks, tile counts
    // and copies are sized by these capacities, so fill_grid never gets a block larger than its grid.
    const std::int64_t ch_s = Sc / cps;  // output channels per subarray
    auto pe_rows = [&](std::int64_t side) { return (side / S) * S; };
    auto pe_chans = [&](std::int64_t side) { return (side / Sc) * ch_s; };

    // Copies of a CM layer in a tile (PE level) and in a PE (subarray level), as NeuroSim's PEDesign/SubArrayDup;
    // NeuroSim's ceil(columns/pe) and ceil(columns/Sc) are counted in whole channels (equal when cps divides Sc).
    auto pe_dup = [&](const shape_info& l, std::int64_t pe, int& dr, int& dc) {
        dr = dc = 1;
        if (!cfg.duplication) return;
        if (l.rows() <= tile_cm || l.c_out * cps <= tile_cm) {
            dr = dup_along(tile_cm / pe, ceil_div(l.rows(), pe_rows(pe)));
            dc = dup_along(tile_cm / pe, ceil_div(l.c_out, pe_chans(pe)));
        }
    };
    auto sub_dup = [&](std::int64_t rows, std::int64_t c_out, std::int64_t pe, int& dr, int& dc) {
        dr = dc = 1;
        if (!cfg.duplication) return;
        if (rows <= pe || c_out * cps <= pe) {
            dr = dup_along(pe / S, ceil_div(rows, S));
            dc = dup_along(pe / Sc, ceil_div(c_out, ch_s));
        }
    };
    std::int64_t pe_cm = tile_cm / 2;
    for (std::int64_t ps = tile_cm / 2; ps > 2 * S && ps >= Sc; ps /= 2) {  // a PE holds at least one subarray
        double cells = 0, tiles = 0;
        for (std::size_t i = 0; i < net.size(); ++i) {
            if (novel[i]) continue;
            int dr, dc;
            pe_dup(net[i], ps, dr, dc);
            cells += double(dr) * dc * double(net[i].rows() * net[i].c_out * cps);
            tiles += double(ceil_div(net[i].rows(), tile_cm) * ceil_div(net[i].c_out * cps, tile_cm));
        }
        if (const double u = tiles > 0 ? cells / (tiles * double(tile_cm * tile_cm)) : 0.0; u > best_cm) {
            best_cm = u;
            pe_cm = ps;
        }
    }
    if (pe_cm < S || pe_nm < S)
        throw model_error("subarray.rows", "subarrays larger than the PE the floorplan allows");
    // PE sizes follow the row count (at least 2S), so a subarray much wider than tall may not fit in one; its
    // PE would hold no subarray column and its weights would be silently dropped.
    const bool any_novel = std::find(novel.begin(), novel.end(), true) != novel.end();
    if (pe_cm < Sc || (any_novel && pe_nm < Sc)) {
        // The PE side is what the rows allow, so name the rows (the usual change) and the columns it meets.
        const std::int64_t pe = any_novel ? std::min(pe_cm, pe_nm) : pe_cm;
        throw model_error("subarray.rows", std::to_string(S) + " rows give PEs of at most " + std::to_string(pe) +
                                               " cells per side (PE sizes follow subarray.rows), narrower than one "
                                               "subarray of subarray.cols = " + std::to_string(Sc) +
                                               " columns: use more rows or fewer columns");
    }

    plan p;
    p.geo = geo;
    p.tile_size_cm = static_cast<int>(tile_cm);
    p.pe_size_cm = static_cast<int>(pe_cm);
    p.pe_size_nm = static_cast<int>(pe_nm);
    p.pes_per_tile_nm = static_cast<int>(npe_nm);

    // Cells a tile allocates: its subarrays, idle ones included (the chip total counts the same way; a PE side that
    // S or Sc does not divide leaves cells outside its subarray grid, which are not memory).
    auto tile_cells = [&](const tile_plan& t) {
        std::int64_t n = 0;
        for (const auto& pe : t.pes) n += static_cast<std::int64_t>(pe.subarrays.size());
        return n * S * Sc;
    };
    for (std::size_t i = 0; i < net.size(); ++i) {
        const shape_info& l = net[i];
        layer_plan lp;
        lp.layer = l.index;
        lp.name = g.layers[static_cast<std::size_t>(l.index)].name;
        lp.rows = l.rows();
        lp.columns = l.c_out * cps;
        lp.novel = novel[i];
        lp.first_tile = static_cast<int>(p.tiles.size());

        // Place one PE's block [r0,r1) x [c0,c1) (channels) into its subarrays with sub-level copies.
        auto place_pe = [&](pe_plan& pe, std::int64_t pe_size, std::int64_t r0, std::int64_t r1, std::int64_t c0,
                            std::int64_t c1, int pe_copy, int sdr, int sdc) {
            const int gr = static_cast<int>(pe_size / S), gc = static_cast<int>(pe_size / Sc);
            pe.subarrays.assign(static_cast<std::size_t>(gr) * gc, subarray_slot{});
            if (pe_copy < 0) return;
            const auto cells = fill_grid(r1 - r0, c1 - c0, S, ch_s, gr, gc, sdr, sdc);
            for (std::size_t k = 0; k < cells.size(); ++k) {
                if (cells[k].copy < 0) continue;
                subarray_slot& s = pe.subarrays[k];
                s.layer = l.index;
                s.copy = pe_copy * sdr * sdc + cells[k].copy;
                s.row_begin = static_cast<int>(r0 + cells[k].r0);
                s.row_end = static_cast<int>(r0 + cells[k].r1);
                s.ch_begin = static_cast<int>(c0 + cells[k].c0);
                s.ch_end = static_cast<int>(c0 + cells[k].c1);
                lp.used_cells += std::int64_t{s.row_end - s.row_begin} * (s.ch_end - s.ch_begin) * cps;
            }
        };

        if (novel[i]) {
            const std::int64_t rows_pe = pe_rows(pe_nm), ch_pe = pe_chans(pe_nm);
            const std::int64_t tr = ceil_div(l.c_in, rows_pe), tc = ceil_div(l.c_out, ch_pe);
            int sdr, sdc;
            sub_dup(l.c_in, l.c_out, pe_nm, sdr, sdc);
            lp.duplication = sdr * sdc;
            for (std::int64_t ti = 0; ti < tr; ++ti)
                for (std::int64_t tj = 0; tj < tc; ++tj) {
                    tile_plan t;
                    t.layer = l.index;
                    t.novel = true;
                    t.pes.resize(static_cast<std::size_t>(npe_nm));
                    const std::int64_t r0 = ti * rows_pe, r1 = std::min(l.c_in, r0 + rows_pe);
                    const std::int64_t c0 = tj * ch_pe, c1 = std::min(l.c_out, c0 + ch_pe);
                    for (std::int64_t k = 0; k < npe_nm; ++k)
                        place_pe(t.pes[static_cast<std::size_t>(k)], pe_nm, k * l.c_in + r0, k * l.c_in + r1, c0, c1, 0,
                                 sdr, sdc);
                    lp.allocated_cells += tile_cells(t);
                    p.tiles.push_back(std::move(t));
                }
        } else {
            const int gpe = static_cast<int>(tile_cm / pe_cm);
            const std::int64_t rows_pe = pe_rows(pe_cm), ch_pe = pe_chans(pe_cm);
            const std::int64_t rows_tile = gpe * rows_pe, ch_tile = gpe * ch_pe;
            const std::int64_t tr = ceil_div(l.rows(), rows_tile), tc = ceil_div(l.c_out, ch_tile);
            int pdr, pdc, sdr, sdc;
            pe_dup(l, pe_cm, pdr, pdc);
            sub_dup(l.rows(), l.c_out, pe_cm, sdr, sdc);
            lp.duplication = pdr * pdc * sdr * sdc;
            for (std::int64_t ti = 0; ti < tr; ++ti)
                for (std::int64_t tj = 0; tj < tc; ++tj) {
                    tile_plan t;
                    t.layer = l.index;
                    const std::int64_t r0 = ti * rows_tile, r1 = std::min(l.rows(), r0 + rows_tile);
                    const std::int64_t c0 = tj * ch_tile, c1 = std::min(l.c_out, c0 + ch_tile);
                    const auto pes = fill_grid(r1 - r0, c1 - c0, rows_pe, ch_pe, gpe, gpe, pdr, pdc);
                    t.pes.resize(pes.size());
                    for (std::size_t k = 0; k < pes.size(); ++k)
                        place_pe(t.pes[k], pe_cm, r0 + pes[k].r0, r0 + pes[k].r1, c0 + pes[k].c0, c0 + pes[k].c1,
                                 pes[k].copy, sdr, sdc);
                    lp.allocated_cells += tile_cells(t);
                    p.tiles.push_back(std::move(t));
                }
        }
        lp.num_tiles = static_cast<int>(p.tiles.size()) - lp.first_tile;
        p.layers.push_back(lp);
    }

    if (cfg.tiles > 0) {
        if (p.tiles.size() > cfg.tiles)
            throw model_error("mapping.tiles", "the network needs " + std::to_string(p.tiles.size()) +
                                                   " tiles but the chip is fixed at " + std::to_string(cfg.tiles) +
                                                   "; raise mapping.tiles or set it to 0 to size the chip from the network");
        while (p.tiles.size() < cfg.tiles) {  // idle tiles of a fixed chip still cost area and leakage
            tile_plan t;
            const int gpe = static_cast<int>(tile_cm / pe_cm);
            t.pes.resize(static_cast<std::size_t>(gpe) * gpe);
            for (auto& pe : t.pes)
                pe.subarrays.assign(static_cast<std::size_t>(pe_cm / S) * (pe_cm / Sc), subarray_slot{});
            p.tiles.push_back(std::move(t));
        }
    }
    return p;
}

std::string describe(const plan& p, const network::graph& g) {
    std::ostringstream os;
    os << "floorplan of " << g.name << ": " << p.tiles.size() << " tiles, " << p.num_pes() << " PEs, "
       << p.num_subarrays() << " subarrays of " << p.geo.rows << "x" << p.geo.cols << " ("
       << p.geo.columns_per_weight << " cells per weight)\n";
    os << "  conventional tile " << p.tile_size_cm << "x" << p.tile_size_cm << " cells, PE " << p.pe_size_cm << "x"
       << p.pe_size_cm;
    if (p.pes_per_tile_nm > 0)
        os << "; novel-mapped tile " << p.pes_per_tile_nm << " PEs of " << p.pe_size_nm << "x" << p.pe_size_nm;
    os << "\n";
    os << fmt::format("  {:<14} {:>8} {:>8} {:>7} {:>6} {:>6} {:>9}\n", "layer", "rows", "columns", "mapping", "tiles",
                      "dup", "util %");
    for (const auto& l : p.layers)
        os << fmt::format("  {:<14} {:>8} {:>8} {:>7} {:>6} {:>6} {:>9.2f}\n", l.name, static_cast<long long>(l.rows),
                          static_cast<long long>(l.columns), l.novel ? "novel" : "conv", l.num_tiles, l.duplication,
                          100.0 * l.utilization());
    os << fmt::format("  memory utilization {:.2f} % (weight cells incl. duplicates / allocated cells)\n",
                      100.0 * p.utilization());
    return os.str();
}

int tile_input_rows(const tile_plan& t) {
    std::set<int> seen;
    int rows = 0;
    for (const pe_plan& p : t.pes)
        for (const subarray_slot& s : p.subarrays)
            if (s.used() && s.copy == 0 && seen.insert(s.row_begin).second) rows += s.row_end - s.row_begin;
    return rows;
}

}  // namespace cim::mapping
