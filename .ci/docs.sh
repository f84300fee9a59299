#!/usr/bin/env bash
# Build the documentation site with warnings as errors, then check that every
# page and every gallery figure exists and that no page loads anything remote.
#
# Uses the active virtual environment (CI activates one before calling this);
# without one, makes .venv-docs.  Installs the package with its "docs" extra.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg

if [[ -z "${VIRTUAL_ENV:-}" ]]; then
    python3.11 -m venv .venv-docs
    . .venv-docs/bin/activate
fi
pip install -q -e ".[docs]"

# A fresh build: sphinx-gallery would otherwise skip examples whose source did
# not change, and the figures checked below must come from this run.
rm -rf docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst

# sphinx-gallery prints each example's run time ("plot_...py: N sec") below.
start=$(date +%s)
# Any attempt to reach the network during the build fails fast and, through
# -W, fails the build.
http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 no_proxy= NO_PROXY= \
    python -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs: sphinx build took $(( $(date +%s) - start )) s"

python - <<'PY'
"""Every page and gallery figure exists; nothing is loaded from the network."""
import pathlib
import re
import sys

html = pathlib.Path("docs/_build/html")
problems = []

# Every page of the sources (scaling.rst was missed by a hand-kept list), and
# the generated API pages.
sources = sorted(
    path.relative_to("docs").with_suffix(".html").as_posix()
    for path in pathlib.Path("docs").rglob("*.rst")
    if not {"_build", "generated", "auto_examples", "_templates"} & set(path.parts)
)
pages = sources + [
    "generated/skperceptron.BCEPerceptronClassifier.html",
    "generated/skperceptron.BCEPerceptronClassifierCV.html",
    "generated/skperceptron.LossCurveDisplay.html",
    "auto_examples/index.html",
]
for required in ("scaling.html", "user_guide/monitoring.html", "changelog.html"):
    if required not in pages:
        problems.append(f"no source for {required}")
for page in pages:
    if not (html / page).is_file():
        problems.append(f"missing page {page}")

# The API pages document the methods (an autodoc option once hid them all).
methods = {
    "generated/skperceptron.BCEPerceptronClassifier.html": [
        "fit", "predict", "predict_proba", "predict_log_proba", "decision_function",
        "score", "objective", "set_callbacks",
    ],
    "generated/skperceptron.BCEPerceptronClassifierCV.html": [
        "fit", "predict", "predict_proba", "decision_function", "score",
    ],
    "generated/skperceptron.LossCurveDisplay.html": ["from_estimator", "plot"],
}
for page, names in methods.items():
    text = (html / page).read_text() if (html / page).is_file() else ""
    for name in names:
        anchor = f'id="skperceptron.{page.split(".")[1]}.{name}"'
        if anchor not in text:
            problems.append(f"{page}: no entry for {name}")

examples = sorted(pathlib.Path("examples").glob("plot_*.py"))
if not examples:
    problems.append("no gallery examples found")
figures = 0
for example in examples:
    page = html / "auto_examples" / f"{example.stem}.html"
    if not page.is_file():
        problems.append(f"missing gallery page {page}")
        continue
    images = sorted((html / "_images").glob(f"sphx_glr_{example.stem}_[0-9][0-9][0-9].png"))
    if not images:
        problems.append(f"{example.name}: no figure")
    referenced = re.findall(r'src="\.\./(_images/sphx_glr_[^"]+\.png)"', page.read_text())
    if not referenced:
        problems.append(f"{page}: shows no figure")
    for src in referenced:
        if not (html / src).is_file():
            problems.append(f"{page}: figure {src} does not exist")
    figures += len(images)
    print(f"  {example.stem}: {len(images)} figure(s)")

# Resources a browser would fetch when opening a page: scripts, stylesheets,
# images, fonts.  Plain links to other sites are fine.
remote = re.compile(
    r'<(?:script|img|iframe|source)[^>]*\ssrc="(?:https?:)?//'
    r'|<link[^>]*\shref="(?:https?:)?//'
    r'|url\(\s*["\']?(?:https?:)?//'
    r'|@import\s+["\']?(?:url\()?["\']?(?:https?:)?//'
)
for path in list(html.rglob("*.html")) + list(html.rglob("*.css")):
    text = path.read_text(errors="replace")
    for match in remote.finditer(text):
        problems.append(f"{path}: loads a remote resource: {match.group(0)[:80]}")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"docs: {len(pages)} pages, {len(examples)} examples, {figures} figures, nothing remote")
PY
