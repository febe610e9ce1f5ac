#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "models/config/field.h"

namespace cim::cfg {

/// Echoes the effective config (every field, defaults included) as JSON, values in SI.
class json_writer : public visitor<json_writer> {
public:
    explicit json_writer(nlohmann::ordered_json& out) : m_out(out) {}
    template <class T>
    void leaf(const char* name, T& field, const range&, const char*) { m_out[name] = field; }
    void quantity(const char* name, double& field, unit, const range&, const char*) { m_out[name] = field; }
    void choice_impl(const char* name, std::string& field, const std::vector<std::string>&, const char*) {
        m_out[name] = field;
    }
    template <class S>
    void child(const char* name, S& s, const char*) {
        nlohmann::ordered_json sub = nlohmann::ordered_json::object();
        json_writer w(sub);
        s.visit(w);
        m_out[name] = std::move(sub);
    }

private:
    nlohmann::ordered_json& m_out;
};

template <class S>
nlohmann::ordered_json to_json(const S& s) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    json_writer w(j);
    S copy = s;
    copy.visit(w);
    return j;
}

}  // namespace cim::cfg
