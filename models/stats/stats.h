#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cim::stats {

class group;

/// One named statistic with its unit and description; registers itself with its group.
class entry {
public:
    entry(group& g, std::string name, std::string unit, std::string description);
    entry(const entry&) = delete;
    entry& operator=(const entry&) = delete;
    virtual ~entry() = default;
    virtual double value() const = 0;
    const std::string& name() const { return m_name; }
    const std::string& unit() const { return m_unit; }
    const std::string& description() const { return m_description; }

private:
    std::string m_name, m_unit, m_description;
};

/// The statistics of one component, in declaration order.
class group {
public:
    void add(entry* e) { m_entries.push_back(e); }
    const std::vector<entry*>& entries() const { return m_entries; }

private:
    std::vector<entry*> m_entries;
};

/// An event count.
class counter : public entry {
public:
    using entry::entry;
    counter& operator+=(std::uint64_t n) {
        m_value += n;
        return *this;
    }
    std::uint64_t get() const { return m_value; }
    double value() const override { return static_cast<double>(m_value); }

private:
    std::uint64_t m_value = 0;
};

/// A running sum of a quantity (energy in J, time in s, ...).
class sum : public entry {
public:
    using entry::entry;
    sum& operator+=(double v) {
        m_value += v;
        return *this;
    }
    double get() const { return m_value; }
    double value() const override { return m_value; }

private:
    double m_value = 0.0;
};

/// The largest value seen of a quantity (a buffer's occupancy, ...).
class maximum : public entry {
public:
    using entry::entry;
    void update(double v) {
        if (v > m_value) m_value = v;
    }
    double value() const override { return m_value; }

private:
    double m_value = 0.0;
};

}  // namespace cim::stats
