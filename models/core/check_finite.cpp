#include "models/core/check_finite.h"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "models/core/error.h"

namespace cim {

namespace {

template <class Json>
std::string element_name(const Json& e, std::size_t index) {
    if (e.is_object()) {
        for (const char* k : {"path", "name"}) {
            const auto it = e.find(k);
            if (it != e.end() && it->is_string() && !it->template get_ref<const std::string&>().empty())
                return "[" + it->template get_ref<const std::string&>() + "]";
        }
    }
    return "[" + std::to_string(index) + "]";
}

template <class Json>
void walk(const Json& j, const std::string& path, const std::string& what) {
    if (j.is_number_float()) {
        const double v = j.template get<double>();
        if (!std::isfinite(v))
            throw model_error(path.empty() ? what : path,
                              std::string("is ") + (std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf") + " in " + what +
                                  ", which holds finite numbers only (a parameter outside its physical range, or an "
                                  "overflow in the model)");
        return;
    }
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            walk(it.value(), path.empty() ? it.key() : path + "." + it.key(), what);
        return;
    }
    if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) walk(j[i], path + element_name(j[i], i), what);
    }
}

}  // namespace

void check_finite(const nlohmann::json& j, const std::string& what) { walk(j, "", what); }
void check_finite(const nlohmann::ordered_json& j, const std::string& what) { walk(j, "", what); }
void check_finite(const nlohmann::ordered_json& j, const std::string& what, const std::string& path) {
    walk(j, path, what);
}

void check_finite_csv(const std::string& csv, const std::string& what) {
    auto cells = [](const std::string& line) {
        std::vector<std::string> out;
        std::string cell;
        std::istringstream in(line);
        while (std::getline(in, cell, ',')) out.push_back(cell);
        return out;
    };
    std::istringstream in(csv);
    std::string line;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        const auto row = cells(line);
        if (header.empty()) {
            header = row;
            continue;
        }
        for (std::size_t k = 0; k < row.size(); ++k) {
            const char* b = row[k].c_str();
            char* e = nullptr;
            const double v = std::strtod(b, &e);
            if (e == b || *e != '\0' || std::isfinite(v)) continue;  // not a number, or a finite one
            const std::string column = k < header.size() ? header[k] : std::to_string(k);
            throw model_error((row.empty() ? std::string("?") : row[0]) + "." + column,
                              "is " + row[k] + " in " + what + ", which holds finite numbers only (a parameter outside "
                                  "its physical range, or an overflow in the model)");
        }
    }
}

}  // namespace cim
