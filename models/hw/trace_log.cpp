#include "models/hw/trace_log.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace cim::hw {

int trace_log::track(const std::string& module_path) {
    for (std::size_t i = 0; i < m_tracks.size(); ++i)
        if (m_tracks[i] == module_path) return static_cast<int>(i);
    m_tracks.push_back(module_path);
    return static_cast<int>(m_tracks.size()) - 1;
}

namespace {
std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o;
}
}  // namespace

std::string trace_log::chrome_json() const {
    std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    char buf[512];
    bool first = true;
    for (std::size_t i = 0; i < m_tracks.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%zu,\"args\":{\"name\":\"%s\"}}",
                      first ? "" : ",\n", i, escape(m_tracks[i]).c_str());
        out += buf;
        first = false;
    }
    for (const auto& e : m_events) {
        // Microseconds with picosecond resolution, so back-to-back intervals stay exact.
        std::snprintf(buf, sizeof buf, "%s{\"name\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.6f,\"dur\":%.6f}",
                      first ? "" : ",\n", escape(e.name).c_str(), e.track, e.start * 1e6, (e.end - e.start) * 1e6);
        out += buf;
        first = false;
    }
    out += "\n]}\n";
    return out;
}

namespace {

/// VCD identifier codes: printable ASCII 33..126, base 94.
std::string vcd_id(std::size_t n) {
    std::string s;
    do {
        s += static_cast<char>(33 + n % 94);
        n /= 94;
    } while (n);
    return s;
}

bool selected(const std::string& path, const std::vector<std::string>& scopes) {
    if (scopes.empty()) return true;
    for (const auto& p : scopes)
        if (fnmatch(p.c_str(), path.c_str(), 0) == 0) return true;
    return false;
}

std::string binary(std::int64_t v) {
    if (v == 0) return "0";
    std::string s;
    auto u = static_cast<std::uint64_t>(v);
    while (u) {
        s += (u & 1) ? '1' : '0';
        u >>= 1;
    }
    std::reverse(s.begin(), s.end());
    return s;
}

}  // namespace

std::string trace_log::vcd(const std::vector<std::string>& scopes) const {
    // Signals: (track, name) -> id. A busy wire per track with events; a vector per (track, value name).
    struct signal {
        std::string path;  // module path
        std::string name;
        int width;
        std::string id;
    };
    std::vector<signal> sigs;
    std::map<int, std::size_t> busy_of;                        // track -> signal index
    std::map<std::pair<int, std::string>, std::size_t> val_of;  // (track, name) -> signal index
    for (const auto& e : m_events)
        if (!busy_of.count(e.track) && selected(m_tracks[static_cast<std::size_t>(e.track)], scopes)) {
            busy_of[e.track] = sigs.size();
            sigs.push_back({m_tracks[static_cast<std::size_t>(e.track)], "busy", 1, ""});
        }
    for (const auto& v : m_values) {
        const auto key = std::make_pair(v.track, v.name);
        if (!val_of.count(key) && selected(m_tracks[static_cast<std::size_t>(v.track)] + "." + v.name, scopes)) {
            val_of[key] = sigs.size();
            sigs.push_back({m_tracks[static_cast<std::size_t>(v.track)], v.name, 64, ""});
        }
    }
    // Declarations in module order, nested scopes from the dotted paths.
    std::vector<std::size_t> order(sigs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return sigs[a].path < sigs[b].path; });
    std::string out = "$version cimtlm transaction log $end\n$timescale 1 ps $end\n";
    std::vector<std::string> open;
    auto split = [](const std::string& p) {
        std::vector<std::string> parts;
        std::size_t s = 0;
        while (true) {
            const auto d = p.find('.', s);
            parts.push_back(p.substr(s, d - s));
            if (d == std::string::npos) break;
            s = d + 1;
        }
        return parts;
    };
    std::size_t next = 0;
    for (std::size_t i : order) {
        const auto parts = split(sigs[i].path);
        std::size_t common = 0;
        while (common < open.size() && common < parts.size() && open[common] == parts[common]) ++common;
        while (open.size() > common) {
            out += "$upscope $end\n";
            open.pop_back();
        }
        for (std::size_t k = common; k < parts.size(); ++k) {
            out += "$scope module " + parts[k] + " $end\n";
            open.push_back(parts[k]);
        }
        sigs[i].id = vcd_id(next++);
        out += "$var wire " + std::to_string(sigs[i].width) + " " + sigs[i].id + " " + sigs[i].name +
               (sigs[i].width > 1 ? " [63:0]" : "") + " $end\n";
    }
    while (!open.empty()) {
        out += "$upscope $end\n";
        open.pop_back();
    }
    out += "$enddefinitions $end\n";
    // Changes: busy edges as +1/-1 counts per track, values as they come; sorted by time.
    struct change {
        std::int64_t ps;
        std::size_t sig;
        int delta;            // busy: +1 / -1
        std::int64_t value;   // vectors
        std::size_t seq;      // stable order for equal times
    };
    std::vector<change> ch;
    auto ps = [](double s) { return static_cast<std::int64_t>(std::llround(s * 1e12)); };
    for (const auto& e : m_events) {
        const auto it = busy_of.find(e.track);
        if (it == busy_of.end()) continue;
        ch.push_back({ps(e.start), it->second, +1, 0, ch.size()});
        ch.push_back({ps(e.end), it->second, -1, 0, ch.size()});
    }
    for (const auto& v : m_values) {
        const auto it = val_of.find({v.track, v.name});
        if (it != val_of.end()) ch.push_back({ps(v.time), it->second, 0, v.value, ch.size()});
    }
    std::sort(ch.begin(), ch.end(), [](const change& a, const change& b) {
        return a.ps != b.ps ? a.ps < b.ps : a.seq < b.seq;
    });
    std::vector<std::int64_t> count(sigs.size(), 0), shown(sigs.size(), -1);
    out += "#0\n$dumpvars\n";
    for (std::size_t i = 0; i < sigs.size(); ++i) {
        out += sigs[i].width == 1 ? "0" + sigs[i].id + "\n" : "b0 " + sigs[i].id + "\n";
        shown[i] = 0;
    }
    out += "$end\n";
    std::size_t k = 0;
    while (k < ch.size()) {
        const std::int64_t t = ch[k].ps;
        std::string block;
        // Apply every change at time t, then emit the final state of each touched signal once.
        std::vector<std::size_t> touched;
        for (; k < ch.size() && ch[k].ps == t; ++k) {
            const change& c = ch[k];
            if (sigs[c.sig].width == 1) count[c.sig] += c.delta;
            else count[c.sig] = c.value;
            touched.push_back(c.sig);
        }
        std::sort(touched.begin(), touched.end());
        touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        for (std::size_t s : touched) {
            const std::int64_t v = sigs[s].width == 1 ? (count[s] > 0 ? 1 : 0) : count[s];
            if (v == shown[s]) continue;
            shown[s] = v;
            block += sigs[s].width == 1 ? std::to_string(v) + sigs[s].id + "\n" : "b" + binary(v) + " " + sigs[s].id + "\n";
        }
        if (!block.empty()) out += "#" + std::to_string(t) + "\n" + block;
    }
    return out;
}

}  // namespace cim::hw
