#pragma once
#include <stdexcept>
#include <string>

namespace cim {

/// An error in user input: a config file, a --set override, a network file or a dataset.
/// Carries where it happened (file, line, dotted key path) so the CLI can print one clear line.
/// line is 1-based; 0 means "no line" (e.g. a --set override or a missing file).
class config_error : public std::runtime_error {
public:
    config_error(std::string file, int line, std::string key, const std::string& what)
        : std::runtime_error(what), m_file(std::move(file)), m_line(line), m_key(std::move(key)) {}

    const std::string& file() const { return m_file; }
    int line() const { return m_line; }
    const std::string& key() const { return m_key; }

    /// "file:line: key: message", dropping empty parts; always one line (control characters from the input, such
    /// as a newline inside a quoted value, are written as escapes).
    std::string format() const;

private:
    std::string m_file;
    int m_line;
    std::string m_key;
};

/// A model that cannot be built or run with valid inputs, e.g. a network that does not fit a chip
/// fixed by config, or an impossible geometry. key is the dotted path of the offending model part.
class model_error : public std::runtime_error {
public:
    model_error(std::string key, const std::string& what)
        : std::runtime_error(what), m_key(std::move(key)) {}
    const std::string& key() const { return m_key; }
    /// "key: message", one line like config_error::format().
    std::string format() const;

private:
    std::string m_key;
};

/// `s` with control characters written as escapes (\n, \r, \t, \xHH), so an error message stays one line.
std::string one_line(const std::string& s);

}  // namespace cim
