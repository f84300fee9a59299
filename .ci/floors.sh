#!/usr/bin/env bash
# The declared dependency floors are real: a fresh environment with the oldest
# numpy, scipy and scikit-learn that pyproject.toml allows (read from its
# `dependencies`), the package with its test extras, and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg

floors=$(python3.11 - <<'PY'
import re
import tomllib

with open("pyproject.toml", "rb") as f:
    dependencies = tomllib.load(f)["project"]["dependencies"]
pins = {}
for requirement in dependencies:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*", requirement)
    if match and match.group(1).lower() in {"numpy", "scipy", "scikit-learn"}:
        pins[match.group(1).lower()] = match.group(2)
missing = {"numpy", "scipy", "scikit-learn"} - set(pins)
if missing:
    raise SystemExit(f"no '>=' floor in pyproject.toml for {sorted(missing)}")
print("\n".join(f"{name}=={version}" for name, version in sorted(pins.items())))
PY
)
echo "floors: $(echo $floors)"

rm -rf .venv-floors
python3.11 -m venv .venv-floors
. .venv-floors/bin/activate
constraints=.venv-floors/floors.txt
echo "$floors" > "$constraints"
# Wheels only: a floor that needs compiling from source is not a floor users get.
pip install -q --only-binary=numpy,scipy,scikit-learn -c "$constraints" $floors
# The test extras resolve around the pinned floors, never upgrading them.
pip install -q -c "$constraints" -e ".[test]"

python - "$constraints" <<'PY'
import sys
from importlib.metadata import version

from packaging.version import Version

for line in open(sys.argv[1]):
    name, wanted = line.strip().split("==")
    if Version(version(name)) != Version(wanted):
        raise SystemExit(f"{name} {version(name)} installed, floor is {wanted}")
    print(f"  {name} {version(name)}")
PY
python -m pytest -p no:cacheprovider
