"""The errors of cimtlm, raised by the in-process engine and by the CLI runs alike (docs/python.md)."""


class Error(Exception):
    """Base class of cimtlm's errors."""


class ConfigError(Error, ValueError):
    """Bad user input: a config file, an override, a network file or a dataset.

    file and key may be empty and line 0 when the place is not known (an override has no line)."""

    def __init__(self, file: str = "", line: int = 0, key: str = "", message: str = ""):
        self.file, self.line, self.key, self.message = file or "", int(line or 0), key or "", message
        super().__init__(self.format())

    def format(self) -> str:
        """The CLI's wording: FILE:LINE: KEY: message, empty parts dropped."""
        where = self.file + (f":{self.line}" if self.file and self.line else "")
        return ": ".join(p for p in (where, self.key, self.message) if p)


class ModelError(Error, RuntimeError):
    """A model that cannot be built or run with valid inputs (e.g. a network that does not fit the chip)."""

    def __init__(self, key: str = "", message: str = ""):
        self.key, self.message = key or "", message
        super().__init__(": ".join(p for p in (self.key, self.message) if p))


class RunError(Error, RuntimeError):
    """The simulator failed for another reason (SystemC error, crash); carries its exit code and stderr."""

    def __init__(self, message: str, returncode: int = 1, stderr: str = ""):
        self.returncode, self.stderr = returncode, stderr
        super().__init__(message)


_KEY = r"[A-Za-z_][A-Za-z0-9_.\[\]=-]*"


def parse_cli_error(stderr: str, returncode: int):
    """The exception for a failed CLI run, from its one error line (`cimtlm: error: ...`, `cimtlm: model error: ...`)."""
    import os
    import re

    lines = [l for l in stderr.splitlines() if l.startswith("cimtlm: ")]
    for line in reversed(lines):
        if line.startswith("cimtlm: model error: "):
            text = line[len("cimtlm: model error: "):]
            m = re.match(rf"^({_KEY}): (.*)$", text)
            return ModelError(m.group(1), m.group(2)) if m else ModelError("", text)
        if line.startswith("cimtlm: error: "):
            text = line[len("cimtlm: error: "):]
            file, lineno = "", 0
            m = re.match(r"^([^:\s][^:]*?):(\d+): (.*)$", text)
            if m:
                file, lineno, text = m.group(1), int(m.group(2)), m.group(3)
            else:
                m = re.match(r"^([^:\s][^:]*?): (.*)$", text)
                # A first part without a line is a file when it looks like a path (or is the --set flag), else the key.
                if m and ("/" in m.group(1) or m.group(1).startswith("--") or os.path.splitext(m.group(1))[1] in
                          (".yaml", ".yml", ".onnx", ".csv", ".npy", ".json", ".gz") or os.path.exists(m.group(1))):
                    file, text = m.group(1), m.group(2)
            key = ""
            m = re.match(rf"^({_KEY}): (.*)$", text)
            if m:
                key, text = m.group(1), m.group(2)
            return ConfigError(file, lineno, key, text)
    tail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}"
    return RunError(tail, returncode, stderr)
