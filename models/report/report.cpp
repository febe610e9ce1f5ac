#include "models/report/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "models/core/error.h"
#include "models/core/json_stream.h"

namespace cim::report {

namespace {

using J = nlohmann::ordered_json;

void walk(const sc_core::sc_object& obj, std::vector<const hw::component*>& out) {
    if (const auto* c = dynamic_cast<const hw::component*>(&obj)) out.push_back(c);
    for (const sc_core::sc_object* child : obj.get_child_objects()) walk(*child, out);
}

/// "chip.tile_12.pe_3.subarray_0" -> "chip.tile[*].pe[*].subarray[*]" (Accelergy-style instance collapse).
std::string collapse(const std::string& path) {
    static const std::regex idx("_([0-9]+)(?=\\.|$)");
    return std::regex_replace(path, idx, "[*]");
}

J category_split(const std::array<double, k_cat>& a) {
    J j = J::object();
    for (std::size_t k = 0; k < k_cat; ++k) j[circuit::k_category_names[k]] = a[k];
    return j;
}

}  // namespace

report_data collect(const hw::chip& chip, const hw::run_record& rec, const mapping::plan& plan,
                    const network::graph& graph, hw::run_mode mode) {
    report_data r;
    const auto& ctrl = chip.ctrl();
    r.images = std::max(1, ctrl.images());
    r.mode = mode == hw::run_mode::pipelined ? "pipelined" : "layer_by_layer";
    const double per_image = 1.0 / r.images;
    r.sim_time_s = ctrl.end_time().to_seconds();
    const std::size_t L = graph.layers.size();

    // The critical path of the run, from the activity that ended it.
    const hw::timeline& tl = rec.time;
    const int last = tl.last();
    const hw::timeline::path cp = tl.critical_path(last, L);
    for (std::size_t k = 0; k < k_cat; ++k) r.latency_by[k] = 1e-12 * static_cast<double>(cp.by_category[k]) * per_image;
    std::map<std::string, int> module_index;
    for (std::size_t i = 0; i < tl.modules().size(); ++i) module_index[tl.modules()[i]] = static_cast<int>(i);

    // Counts x tables: every energy figure from one product.
    std::vector<const hw::component*> comps;
    walk(chip, comps);
    std::vector<double> energy_by_layer(L, 0.0);
    for (const hw::component* c : comps) {
        component_row row;
        row.path = c->name();
        row.type = c->type();
        row.idle = c->idle();
        const circuit::action_table* t = c->table();
        if (t != nullptr) {
            row.table = t->kind() + " (" + t->variant() + ")";
            row.area = t->area_by_category();
            row.leakage_w = t->leakage();
            std::vector<double> total(t->size(), 0.0);
            const auto& counts = c->counts();
            for (std::size_t l = 0; l < counts.size(); ++l) {
                if (counts[l].empty()) continue;
                const auto e = t->energy_by_category(counts[l]);
                for (std::size_t k = 0; k < k_cat; ++k) {
                    row.energy_by[k] += e[k] * per_image;
                    if (l < L) energy_by_layer[l] += e[k] * per_image;
                }
                for (std::size_t a = 0; a < t->size() && a < counts[l].size(); ++a) total[a] += counts[l][a];
            }
            for (std::size_t a = 0; a < t->size(); ++a) {
                row.counts.emplace_back((*t)[a].name, total[a] * per_image);
                r.energy_by_class[static_cast<std::size_t>((*t)[a].cls)] += total[a] * (*t)[a].energy * per_image;
            }
            for (const auto& part : t->areas()) r.area_by_class[static_cast<std::size_t>(part.cls)] += part.area;
            for (const auto& part : t->leakages()) r.leakage_by_class[static_cast<std::size_t>(part.cls)] += part.power;
        }
        for (double e : row.energy_by) row.energy_j += e;
        for (const stats::entry* e : c->statistics().entries()) row.stats.emplace_back(e->name(), e->value());
        for (const auto& [name, v] : row.stats)
            if (name == "busy_time") row.busy_s = v;
        const auto it = module_index.find(row.path);
        if (it != module_index.end()) row.critical_s = 1e-12 * static_cast<double>(cp.by_module[static_cast<std::size_t>(it->second)]);
        for (std::size_t k = 0; k < k_cat; ++k) {
            r.area_by[k] += row.area[k];
            r.energy_by[k] += row.energy_by[k];
        }
        r.leakage_power_w += row.leakage_w;
        // Units and descriptions, once per type.
        J& type = r.statistics[row.type];
        if (type.is_null()) {
            type = J::object();
            J actions = J::object(), st = J::object();
            if (t != nullptr)
                for (const auto& a : t->actions())
                    actions[a.name] = {{"unit", a.unit}, {"category", circuit::name_of(a.cat)},
                                       {"class", circuit::name_of(a.cls)}, {"description", a.description}};
            for (const stats::entry* e : c->statistics().entries())
                st[e->name()] = {{"unit", e->unit()}, {"description", e->description()}};
            type["actions"] = std::move(actions);
            type["statistics"] = std::move(st);
        }
        r.components.push_back(std::move(row));
    }
    for (double a : r.area_by) r.area_m2 += a;
    for (double e : r.energy_by) r.dynamic_energy_j += e;
    for (const auto& c : r.components) {
        double a = 0;
        for (double v : c.area) a += v;
        r.area_by_operator[static_cast<std::size_t>(operator_kind_of_component(c.path))] += a;
    }

    // Layers (the input node is left out).
    for (const auto& lr : ctrl.results()) {
        if (lr.layer <= 0) continue;
        report_data::layer_row row;
        row.layer = lr.layer;
        row.name = lr.name;
        row.latency_s = lr.latency * per_image;
        row.dynamic_energy_j = energy_by_layer[static_cast<std::size_t>(lr.layer)];
        for (std::size_t k = 0; k < k_cat; ++k)
            row.latency_by[k] = 1e-12 * static_cast<double>(cp.by_layer_category[static_cast<std::size_t>(lr.layer)][k]) * per_image;
        const mapping::layer_plan* lp = plan.find_layer(lr.layer);
        row.utilization = lp ? lp->utilization() : -1.0;
        row.duplication = lp ? lp->duplication : 0;
        row.tiles = lp ? lp->num_tiles : 0;
        row.input_bits = lr.input_bits;
        row.input_ones = lr.input_ones;
        const auto kind = static_cast<std::size_t>(operator_kind_of(graph.layers[static_cast<std::size_t>(lr.layer)].kind));
        r.energy_by_operator[kind] += row.dynamic_energy_j;
        r.latency_by_operator[kind] += row.latency_s;
        r.layers.push_back(row);
    }
    {
        double attributed = 0;
        for (double e : r.energy_by_operator) attributed += e;
        r.energy_by_operator[static_cast<std::size_t>(operator_kind::other)] += std::max(0.0, r.dynamic_energy_j - attributed);
    }

    // Time: layer by layer, one inference is the whole run divided by the images; pipelined, images overlap, and
    // the throughput is the steady state between the first and the last image's completion.
    const auto& done = ctrl.image_done();
    r.first_image_latency_s = done.empty() ? 0.0 : done.front();
    if (mode == hw::run_mode::pipelined && done.size() >= 2) {
        r.latency_s = r.first_image_latency_s;
        r.fps = double(done.size() - 1) / (done.back() - done.front());
    } else {
        r.latency_s = r.sim_time_s * per_image;
        r.fps = r.latency_s > 0 ? 1.0 / r.latency_s : 0.0;
    }
    // The bound: no module can serve images faster than its busy time per image, nor a layer faster than its own
    // work per image.
    double slowest = 0;
    for (const auto& c : r.components) slowest = std::max(slowest, c.busy_s * per_image);
    const auto& finished = ctrl.done();
    for (std::size_t l = 1; l < L && l < finished.size(); ++l) {
        double own = 0;
        for (std::size_t i = 0; i < finished[l].size(); ++i)
            if (finished[l][i] >= 0)
                own += 1e-12 * static_cast<double>(tl.own_time(finished[l][i], static_cast<int>(l), static_cast<std::int64_t>(i)));
        slowest = std::max(slowest, own * per_image);
    }
    r.fps_bound = slowest > 0 ? 1.0 / slowest : 0.0;

    r.leakage_energy_j = r.leakage_power_w * r.sim_time_s * per_image;
    r.macs = static_cast<double>(graph.total_macs());
    const double ops = 2.0 * r.macs;
    const double energy = r.dynamic_energy_j + r.leakage_energy_j;
    r.tops = ops * r.fps / 1e12;
    r.tops_per_w = energy > 0 ? ops / energy / 1e12 : 0.0;
    r.tops_per_mm2 = r.area_m2 > 0 ? r.tops / (r.area_m2 * 1e6) : 0.0;
    r.memory_utilization = plan.utilization();
    r.network = graph.name;
    return r;
}

void write_json(std::ostream& os, const report_data& r, const J& warnings, const std::string& what) {
    json_stream s(os, 2, what);
    s.begin_object();
    s.member("schema", "cimtlm.report/2");
    J run = J::object();
    run["version"] = CIMTLM_VERSION;
    run["argv"] = r.argv;
    run["wall_time_s"] = r.wall_time_s;
    run["peak_memory_bytes"] = r.peak_memory_bytes;
    run["sources"] = r.sources;
    run["network_path"] = r.network_path;
    s.member("run", run);
    s.member("config", r.config);
    J sm = J::object();
    sm["network"] = r.network;
    sm["mode"] = r.mode;
    sm["images"] = r.images;
    sm["area_m2"] = r.area_m2;
    sm["latency_s"] = r.latency_s;
    sm["dynamic_energy_j"] = r.dynamic_energy_j;
    sm["leakage_power_w"] = r.leakage_power_w;
    sm["leakage_energy_j"] = r.leakage_energy_j;
    sm["tops_per_w"] = r.tops_per_w;
    sm["tops"] = r.tops;
    sm["fps"] = r.fps;
    sm["fps_bound"] = r.fps_bound;
    sm["first_image_latency_s"] = r.first_image_latency_s;
    sm["sim_time_s"] = r.sim_time_s;
    sm["tops_per_mm2"] = r.tops_per_mm2;
    sm["memory_utilization"] = r.memory_utilization;
    sm["macs"] = r.macs;
    if (r.has_accuracy) {
        sm["dataset"] = r.dataset;
        sm["accuracy_images"] = r.accuracy_images;
        sm["accuracy"] = r.accuracy;
        sm["accuracy_ideal"] = r.accuracy_ideal;
        sm["agreement"] = r.agreement;
    }
    if (r.activations_collapsed) sm["activations_collapsed"] = r.collapse_note;
    s.member("summary", sm);
    s.member("breakdown", J{{"area_m2", category_split(r.area_by)},
                            {"dynamic_energy_j", category_split(r.energy_by)},
                            {"latency_s", category_split(r.latency_by)}});
    J by_class = J::object(), area = J::object(), energy = J::object(), leakage = J::object();
    for (std::size_t k = 0; k < circuit::k_cost_classes; ++k) {
        area[circuit::k_cost_class_names[k]] = r.area_by_class[k];
        energy[circuit::k_cost_class_names[k]] = r.energy_by_class[k];
    }
    for (std::size_t k = 0; k < circuit::k_leakage_classes; ++k) leakage[circuit::k_leakage_class_names[k]] = r.leakage_by_class[k];
    by_class["area_m2"] = std::move(area);
    by_class["dynamic_energy_j"] = std::move(energy);
    by_class["leakage_power_w"] = std::move(leakage);
    s.member("by_class", by_class);
    J op_area = J::object(), op_energy = J::object(), op_latency = J::object();
    for (std::size_t k = 0; k < k_operator_kinds; ++k) {
        op_area[k_operator_kind_names[k]] = r.area_by_operator[k];
        op_energy[k_operator_kind_names[k]] = r.energy_by_operator[k];
        op_latency[k_operator_kind_names[k]] = r.latency_by_operator[k];
    }
    s.member("by_operator", J{{"area_m2", op_area}, {"dynamic_energy_j", op_energy}, {"latency_s", op_latency}});
    J layers = J::array();
    for (const auto& l : r.layers) {
        J o = J::object();
        o["name"] = l.name;
        o["latency_s"] = l.latency_s;
        o["dynamic_energy_j"] = l.dynamic_energy_j;
        o["critical_path_s"] = category_split(l.latency_by);
        o["memory_utilization"] = l.utilization < 0 ? J(nullptr) : J(l.utilization);
        o["duplication"] = l.duplication;
        o["tiles"] = l.tiles;
        o["input_bit_density"] = l.input_bits ? J(l.input_density()) : J(nullptr);
        layers.push_back(o);
    }
    s.member("layers", layers);
    // The components, thousands of them on a chip: streamed one member at a time.
    s.key("components");
    s.begin_array();
    double idle_area = 0, idle_energy = 0;
    std::int64_t idle_count = 0;
    for (const auto& c : r.components) {
        if (c.idle && c.type == "subarray") {  // idle subarrays: one line for all of them
            ++idle_count;
            for (double v : c.area) idle_area += v;
            idle_energy += c.energy_j;
            continue;
        }
        s.begin_object();
        s.member("path", c.path);
        s.member("type", c.type);
        if (!c.table.empty()) s.member("table", c.table);
        double a = 0;
        for (double v : c.area) a += v;
        s.member("area_m2", a);
        s.member("leakage_w", c.leakage_w);
        s.member("dynamic_energy_j", c.energy_j);
        s.member("busy_fraction", r.sim_time_s > 0 ? c.busy_s / r.sim_time_s : 0.0);
        s.member("critical_path_s", c.critical_s);
        s.key("counts");
        s.begin_object();
        for (const auto& [k, v] : c.counts) s.member(k, v);
        s.end_object();
        s.key("stats");
        s.begin_object();
        for (const auto& [k, v] : c.stats) s.member(k, v);
        s.end_object();
        s.end_object();
    }
    s.end_array();
    s.member("idle_subarrays", J{{"count", idle_count}, {"area_m2", idle_area}, {"dynamic_energy_j", idle_energy}});
    s.member("statistics", r.statistics);
    s.member("warnings", warnings);
    s.end_object();
}

const char* const k_operator_kind_names[k_operator_kinds] = {"weight_matmul", "attention", "softmax", "layernorm",
                                                           "gelu",          "data_movement", "other"};

operator_kind operator_kind_of(network::op o) {
    using network::op;
    switch (o) {
        case op::conv2d:
        case op::linear: return operator_kind::weight_matmul;
        case op::matmul: return operator_kind::attention;
        case op::softmax: return operator_kind::softmax;
        case op::layernorm: return operator_kind::layernorm;
        case op::gelu: return operator_kind::gelu;
        case op::transpose:
        case op::reshape:
        case op::slice:
        case op::concat:
        case op::flatten: return operator_kind::data_movement;
        default: return operator_kind::other;
    }
}

operator_kind operator_kind_of_component(const std::string& path) {
    const auto starts = [&](const char* p) { return path.rfind(p, 0) == 0; };
    if (starts("chip.tile_")) return operator_kind::weight_matmul;
    if (starts("chip.functions.attention")) return operator_kind::attention;
    if (starts("chip.functions.softmax")) return operator_kind::softmax;
    if (starts("chip.functions.layernorm")) return operator_kind::layernorm;
    if (starts("chip.functions.gelu")) return operator_kind::gelu;
    if (starts("chip.global_buffer") || starts("chip.interconnect")) return operator_kind::data_movement;
    return operator_kind::other;
}

std::string table(const report_data& r) {
    std::string o;
    o += fmt::format("cimtlm: {}, {} image(s), {}, per inference\n", r.network, r.images,
                     r.mode == "pipelined" ? "pipelined" : "layer by layer");
    o += fmt::format("  area            {:12.4f} mm^2\n", r.area_m2 * 1e6);
    o += fmt::format("  latency         {:12.4f} ms\n", r.latency_s * 1e3);
    o += fmt::format("  dynamic energy  {:12.4f} uJ\n", r.dynamic_energy_j * 1e6);
    o += fmt::format("  leakage power   {:12.4f} mW\n", r.leakage_power_w * 1e3);
    o += fmt::format("  leakage energy  {:12.4f} uJ\n", r.leakage_energy_j * 1e6);
    o += fmt::format("  energy eff.     {:12.4f} TOPS/W\n", r.tops_per_w);
    o += fmt::format("  throughput      {:12.2f} FPS  ({:.4f} TOPS){}\n", r.fps, r.tops,
                     r.mode == "pipelined" ? fmt::format(", bound {:.2f} FPS", r.fps_bound) : std::string());
    o += fmt::format("  compute density {:12.4f} TOPS/mm^2\n", r.tops_per_mm2);
    o += fmt::format("  memory util.    {:12.2f} %\n", 100.0 * r.memory_utilization);
    o += fmt::format("  MACs            {:12.4g}\n", r.macs);
    if (r.has_accuracy) {
        o += fmt::format("  accuracy        {:12.2f} %  (hardware-aware, {} images of {})\n", 100.0 * r.accuracy,
                         r.accuracy_images, r.dataset);
        o += fmt::format("  accuracy ideal  {:12.2f} %  (integer-exact quantised network; agreement {:.2f} %)\n",
                         100.0 * r.accuracy_ideal, 100.0 * r.agreement);
    }
    if (r.activations_collapsed) o += "  WARNING: " + r.collapse_note + "\n";
    o += "\nbreakdown       area mm^2  area %    dyn uJ  energy %   latency ms\n";
    for (std::size_t k = 0; k < k_cat; ++k)
        o += fmt::format("  {:<12} {:10.4f} {:7.1f} {:9.4f} {:9.1f} {:12.5f}\n", circuit::k_category_names[k],
                         r.area_by[k] * 1e6, r.area_m2 > 0 ? 100 * r.area_by[k] / r.area_m2 : 0.0, r.energy_by[k] * 1e6,
                         r.dynamic_energy_j > 0 ? 100 * r.energy_by[k] / r.dynamic_energy_j : 0.0, r.latency_by[k] * 1e3);
    {
        bool transformer = false;
        for (std::size_t k = 1; k < k_operator_kinds - 2; ++k) transformer |= r.latency_by_operator[k] > 0;
        if (transformer) {
            o += "\noperator        area mm^2  area %    dyn uJ  energy %   latency ms\n";
            for (std::size_t k = 0; k < k_operator_kinds; ++k)
                o += fmt::format("  {:<13} {:9.4f} {:7.1f} {:9.4f} {:9.1f} {:12.5f}\n", k_operator_kind_names[k],
                                 r.area_by_operator[k] * 1e6,
                                 r.area_m2 > 0 ? 100 * r.area_by_operator[k] / r.area_m2 : 0.0,
                                 r.energy_by_operator[k] * 1e6,
                                 r.dynamic_energy_j > 0 ? 100 * r.energy_by_operator[k] / r.dynamic_energy_j : 0.0,
                                 r.latency_by_operator[k] * 1e3);
        }
    }
    o += "\nlayer            latency ms    dyn uJ   util %   dup  tiles\n";
    for (const auto& l : r.layers) {
        if (l.utilization < 0 && l.latency_s == 0) continue;
        o += fmt::format("  {:<14} {:10.5f} {:9.4f} {:>8} {:5d} {:6d}\n", l.name, l.latency_s * 1e3, l.dynamic_energy_j * 1e6,
                         l.utilization < 0 ? std::string("-") : fmt::format("{:.1f}", 100.0 * l.utilization), l.duplication,
                         l.tiles);
    }
    // Components collapsed by type path, sorted by path.
    struct agg {
        int inst = 0;
        double area = 0, dyn = 0, leak = 0;
    };
    std::map<std::string, agg> by;
    for (const auto& c : r.components) {
        agg& a = by[collapse(c.path)];
        a.inst += 1;
        for (double v : c.area) a.area += v;
        a.dyn += c.energy_j;
        a.leak += c.leakage_w * r.sim_time_s / r.images;
    }
    o += "\ncomponent                                inst   area mm^2  area %    dyn uJ   leak uJ  energy %\n";
    const double etot = r.dynamic_energy_j + r.leakage_energy_j;
    for (const auto& [path, a] : by) {
        const int depth = static_cast<int>(std::count(path.begin(), path.end(), '.'));
        const std::string name =
            std::string(static_cast<std::size_t>(2 * depth), ' ') + path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
        o += fmt::format("  {:<38} {:5d} {:11.4f} {:7.1f} {:9.4f} {:9.4f} {:9.1f}\n", name, a.inst, a.area * 1e6,
                         r.area_m2 > 0 ? 100 * a.area / r.area_m2 : 0.0, a.dyn * 1e6, a.leak * 1e6,
                         etot > 0 ? 100 * (a.dyn + a.leak) / etot : 0.0);
    }
    return o;
}

std::string layers_csv(const report_data& r) {
    std::string o =
        "name,latency_s,dynamic_energy_j,memory_utilization,duplication,tiles,array_latency_s,adc_latency_s,"
        "accumulation_latency_s,buffer_latency_s,interconnect_latency_s,other_latency_s,input_bit_density\n";
    for (const auto& l : r.layers) {
        // Layer names come from the network file: quote them if they need it (RFC 4180).
        std::string name = l.name;
        if (name.find_first_of(",\"\n") != std::string::npos) {
            std::string q = "\"";
            for (char ch : name) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
            name = q + "\"";
        }
        o += fmt::format("{},{:.9g},{:.9g},{},{},{}", name, l.latency_s, l.dynamic_energy_j,
                         l.utilization < 0 ? std::string() : fmt::format("{:.6f}", l.utilization), l.duplication, l.tiles);
        for (double v : l.latency_by) o += fmt::format(",{:.9g}", v);
        o += "," + (l.input_bits ? fmt::format("{:.6g}", l.input_density()) : std::string()) + "\n";
    }
    return o;
}

void write_counts_json(std::ostream& os, const hw::chip& chip, const hw::run_record& rec, const std::string& what) {
    std::vector<const hw::component*> comps;
    walk(chip, comps);
    json_stream s(os, -1, what);
    s.begin_object();
    s.member("schema", "cimtlm.counts/1");
    s.key("components");
    s.begin_array();
    for (const hw::component* c : comps) {
        const circuit::action_table* t = c->table();
        if (t == nullptr) continue;
        const auto& counts = c->counts();
        bool any = false;
        for (const auto& n : counts) any = any || !n.empty();
        if (!any) continue;
        s.begin_object();
        s.member("path", c->name());
        s.member("table", t->kind() + " (" + t->variant() + ")");
        s.key("actions");
        s.begin_array();
        for (const auto& a : t->actions()) s.value(a.name);
        s.end_array();
        s.key("counts");
        s.begin_object();
        for (std::size_t l = 0; l < counts.size(); ++l) {
            if (counts[l].empty()) continue;
            s.key(std::to_string(l));
            s.begin_array();
            for (double v : counts[l]) s.value(v);
            s.end_array();
        }
        s.end_object();
        s.end_object();
    }
    s.end_array();
    s.key("reads");
    s.begin_array();
    for (const auto& r : rec.reads.reads()) {
        s.begin_array();
        s.value(r.block), s.value(r.layer), s.value(r.image), s.value(r.input_ones), s.value(r.column_level_sum);
        s.end_array();
    }
    s.end_array();
    s.key("writes");
    s.begin_array();
    for (const auto& w : rec.reads.writes()) {
        s.begin_array();
        s.value(w.block), s.value(w.layer), s.value(w.image), s.value(w.level_sum);
        s.end_array();
    }
    s.end_array();
    s.key("layer_inputs");
    s.begin_array();
    for (const auto& i : rec.reads.inputs()) {
        s.begin_array();
        s.value(i.layer), s.value(i.image), s.value(i.bits), s.value(i.ones);
        s.end_array();
    }
    s.end_array();
    s.end_object();
}

}  // namespace cim::report
