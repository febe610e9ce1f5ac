// An experiment config and its --set overrides, as `cimtlm run CONFIG --set ...` reads them: the YAML (it may include
// the repository's tech/, cells/ and chips/ files, relative to configs/experiments/), then, after a line `#--set`, one
// override `key.path=value` per line (the chip: section included). A config that loads must hold finite numbers only.
#include <sstream>

#include "models/config/json_writer.h"
#include "models/config/overrides.h"
#include "models/config/yaml_reader.h"
#include "models/core/check_finite.h"
#include "platforms/inference/run_config.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input = cim::fuzz::text(data, size);
    const std::string marker = "#--set\n";
    const std::size_t at = input.find(marker);
    const std::string yaml = input.substr(0, at);
    std::vector<std::string> sets;
    if (at != std::string::npos) {
        std::istringstream in(input.substr(at + marker.size()));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) sets.push_back(line);
    }
    cim::fuzz::expect_clean([&] {
        cim::inference::run_config c;
        std::vector<std::string> sources;
        cim::cfg::load_text(yaml, CIM_SOURCE_DIR "/configs/experiments/fuzz.yaml", c, &sources);
        std::vector<cim::cfg::override_spec> overrides;
        for (const auto& s : sets) overrides.push_back(cim::cfg::parse_override(s));
        cim::cfg::apply_overrides(c, overrides);
        try {
            cim::check_finite(cim::cfg::to_json(c), "config");
        } catch (const cim::model_error&) {
            cim::fuzz::finding();  // a non-finite value passed the readers
        }
    });
    return 0;
}

// libsystemc.so (linked for models/hw's chip config) names sc_main; this program never starts the kernel.
extern "C" int sc_main(int, char**) { return 0; }
