"""Write langs/tesseract-models.tsv: every Tesseract model Debian ships, and its package.

Run on Debian 12 after `apt-get update`:  python3 langs/tools/make_model_list.py > langs/tesseract-models.tsv
The packages are those `apt-cache search --names-only '^tesseract-ocr-'` lists. A package's model names are
read from its file list (`dpkg -L`) when it is installed; otherwise they follow Debian's naming rule for
tesseract-lang (model `chi_sim` -> package `tesseract-ocr-chi-sim`), which holds for every installed one.
Script packages (tesseract-ocr-script-*) install their model under its plain name (`Bengali`), not
`script/Bengali` as in the tessdata repositories; they are all installed by `scripts/setup --test`.
"""

from __future__ import annotations

import re
import subprocess
import sys

NOT_MODELS = {"tesseract-ocr-all", "tesseract-ocr-dev", "tesseract-ocr-doc"}


def main() -> int:
    search = subprocess.run(["apt-cache", "search", "--names-only", "^tesseract-ocr-"],
                            capture_output=True, text=True, check=True).stdout
    packages = sorted({line.split(" - ")[0] for line in search.splitlines()} - NOT_MODELS)
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "tesseract-ocr"],
                             capture_output=True, text=True, check=False).stdout
    print(f"# Made by langs/tools/make_model_list.py on Debian 12 (tesseract-ocr {version}); see that file.")
    print("model\tpackage\thow")
    rows = []
    for pkg in packages:
        files = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=False)
        models = sorted(re.findall(r"/tessdata/([^/\n]+)\.traineddata$", files.stdout, re.MULTILINE))
        if files.returncode == 0 and models:
            rows += [(m, pkg, "dpkg -L") for m in models]
        elif pkg.startswith("tesseract-ocr-script-"):
            print(f"warning: {pkg} is not installed: its model name cannot be known", file=sys.stderr)
        else:
            rows.append((pkg.removeprefix("tesseract-ocr-").replace("-", "_"), pkg, "name rule"))
    for row in sorted(rows):
        print("\t".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
