#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cim::circuit {

/// The report's cost categories: every action, area part and latency interval belongs to exactly one.
enum class category : std::uint8_t { array, adc, accumulation, buffer, interconnect, other };
inline constexpr std::size_t k_categories = 6;
inline constexpr std::array<const char*, k_categories> k_category_names{"array",  "adc",          "accumulation",
                                                                         "buffer", "interconnect", "other"};
inline const char* name_of(category c) { return k_category_names[static_cast<std::size_t>(c)]; }

/// The calibration classes (calibration.h): one global multiplier per (metric, class). Every action, area part and
/// leakage part of an action table belongs to exactly one class, so energy, area and leakage are linear in the
/// factors (each class's total is its factor times the uncalibrated physics).
enum class cost_class : std::uint8_t { array, switches, adc, accumulation, buffer, interconnect, digital, charge };
inline constexpr std::size_t k_cost_classes = 8;
inline constexpr std::array<const char*, k_cost_classes> k_cost_class_names{
    "array", "switch", "adc", "accumulation", "buffer", "interconnect", "digital", "charge"};
inline const char* name_of(cost_class c) { return k_cost_class_names[static_cast<std::size_t>(c)]; }

/// Leakage classes: CMOS logic, SRAM synaptic cells, SRAM buffers.
enum class leakage_class : std::uint8_t { logic, memory, buffer };
inline constexpr std::size_t k_leakage_classes = 3;
inline constexpr std::array<const char*, k_leakage_classes> k_leakage_class_names{"logic", "memory", "buffer"};
inline const char* name_of(leakage_class c) { return k_leakage_class_names[static_cast<std::size_t>(c)]; }

/// One action of a component: what a single count of it costs. Energies and latencies are calibrated (the factor
/// of `cls` is applied to the energy; a latency may combine the latency factors of several classes where circuits
/// overlap in time, see docs/models.md). A count may be fractional where the action is an activity argument (a
/// sum of conductance levels, for instance), so energy stays linear in the counts.
struct action {
    std::string name;         // e.g. "conversion"
    std::string unit;         // what one count is, e.g. "op", "bit", "level"
    std::string description;  // what the action is, one line
    category cat = category::other;
    cost_class cls = cost_class::digital;
    double energy = 0.0;   // J per count
    double latency = 0.0;  // s per count, on the component's own timeline (0: the action takes no time of its own)
};

/// A part of a component's own area.
struct area_part {
    std::string name;
    category cat = category::other;
    cost_class cls = cost_class::digital;
    double area = 0.0;  // m^2, calibrated
};

/// A part of a component's own leakage power.
struct leakage_part {
    std::string name;
    leakage_class cls = leakage_class::logic;
    double power = 0.0;  // W, calibrated
};

/// The energy reference table of one component (Accelergy's ERT): its actions with their energy and latency per
/// count, and its own area and leakage by part. Built once by the circuit model of the component from the
/// technology, the cell, the calibration and its geometry; immutable. `kind` names the component class
/// ("subarray", "adder_tree", ...) and `variant` its geometry ("inputs 4, 20 bits, 128 lanes"); two tables with the
/// same kind and variant are equal. A SystemC module counts the actions of its table; the report multiplies.
class action_table {
public:
    action_table() = default;
    action_table(std::string kind, std::string variant) : m_kind(std::move(kind)), m_variant(std::move(variant)) {}

    const std::string& kind() const { return m_kind; }
    const std::string& variant() const { return m_variant; }
    const std::vector<action>& actions() const { return m_actions; }
    const std::vector<area_part>& areas() const { return m_areas; }
    const std::vector<leakage_part>& leakages() const { return m_leakages; }
    std::size_t size() const { return m_actions.size(); }
    const action& operator[](std::size_t i) const { return m_actions[i]; }

    /// Adds an action and returns its index (the slot of its count).
    std::size_t add(action a);
    void add(area_part a) { m_areas.push_back(std::move(a)); }
    void add(leakage_part l) { m_leakages.push_back(std::move(l)); }
    /// Index of the action `name`; throws cim::model_error when there is none.
    std::size_t index(const std::string& name) const;

    double area() const;     // m^2, own
    double leakage() const;  // W, own
    std::array<double, k_categories> area_by_category() const;

    /// Energy (J) of `counts` (one per action, in table order).
    double energy(const std::vector<double>& counts) const;
    /// Latency (s) of `counts`: the sum of each action's latency times its count.
    double latency(const std::vector<double>& counts) const;
    /// Energy by category of `counts`.
    std::array<double, k_categories> energy_by_category(const std::vector<double>& counts) const;
    /// Latency (s) of `counts` on the component's own timeline, by category (the parts of one busy interval).
    std::array<double, k_categories> latency_by_category(const std::vector<double>& counts) const;

private:
    std::string m_kind, m_variant;
    std::vector<action> m_actions;
    std::vector<area_part> m_areas;
    std::vector<leakage_part> m_leakages;
};

}  // namespace cim::circuit
