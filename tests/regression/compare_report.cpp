// compare_report EXPECTED ACTUAL [--rel TOL] [--exact] [--keys K1,K2,...]
// Compares two cimtlm report.json files, ignoring the "run" block (wall time, argv). Numbers compare with a
// relative tolerance (default 1e-9); --exact demands identical JSON; --keys compares only those top-level keys.
// Prints every difference with its key path.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

using json = nlohmann::json;

static int diffs = 0;
static std::string keys;  // comma-separated top-level keys to compare; empty: all

static bool selected(const std::string& key) {
    if (keys.empty()) return true;
    return ("," + keys + ",").find("," + key + ",") != std::string::npos;
}

static void compare(const json& a, const json& b, const std::string& path, double rel) {
    if (a.is_number() && b.is_number()) {
        const double x = a.get<double>(), y = b.get<double>();
        const double scale = std::max(std::fabs(x), std::fabs(y));
        if (std::fabs(x - y) > rel * scale + 1e-300) {
            if (diffs++ < 30) std::printf("%s: expected %.12g, got %.12g\n", path.c_str(), x, y);
        }
        return;
    }
    if (a.type() != b.type()) {
        if (diffs++ < 30) std::printf("%s: type differs\n", path.c_str());
        return;
    }
    if (a.is_object()) {
        for (auto it = a.begin(); it != a.end(); ++it) {
            if (path.empty() && (it.key() == "run" || !selected(it.key()))) continue;
            if (!b.contains(it.key())) {
                if (diffs++ < 30) std::printf("%s.%s: missing\n", path.c_str(), it.key().c_str());
                continue;
            }
            compare(it.value(), b[it.key()], path + "." + it.key(), rel);
        }
        for (auto it = b.begin(); it != b.end(); ++it)
            if (!a.contains(it.key()) && !(path.empty() && (it.key() == "run" || !selected(it.key()))))
                if (diffs++ < 30) std::printf("%s.%s: unexpected\n", path.c_str(), it.key().c_str());
        return;
    }
    if (a.is_array()) {
        if (a.size() != b.size()) {
            if (diffs++ < 30) std::printf("%s: %zu elements expected, %zu found\n", path.c_str(), a.size(), b.size());
            return;
        }
        for (std::size_t i = 0; i < a.size(); ++i) compare(a[i], b[i], path + "[" + std::to_string(i) + "]", rel);
        return;
    }
    if (a != b && diffs++ < 30) std::printf("%s: expected %s, got %s\n", path.c_str(), a.dump().c_str(), b.dump().c_str());
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: compare_report EXPECTED ACTUAL [--rel TOL] [--exact]\n");
        return 2;
    }
    double rel = 1e-9;
    for (int i = 3; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--exact")) rel = 0;
        if (!std::strcmp(argv[i], "--rel") && i + 1 < argc) rel = std::atof(argv[++i]);
        if (!std::strcmp(argv[i], "--keys") && i + 1 < argc) keys = argv[++i];
    }
    json a, b;
    try {
        std::ifstream fa(argv[1]), fb(argv[2]);
        if (!fa || !fb) {
            std::fprintf(stderr, "compare_report: cannot open %s\n", !fa ? argv[1] : argv[2]);
            return 2;
        }
        fa >> a;
        fb >> b;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compare_report: %s\n", e.what());
        return 2;
    }
    compare(a, b, "", rel);
    if (diffs) std::printf("%d difference(s)\n", diffs);
    return diffs ? 1 : 0;
}
