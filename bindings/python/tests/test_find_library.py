"""Where the package looks for libbehavtarget.so.1."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import behavtarget

PKG = Path(behavtarget.__file__).resolve().parent


def find_in(tmp_path, env_library):
    tree = tmp_path / "tree"
    shutil.copytree(PKG, tree / "bindings" / "python" / "behavtarget")
    (tree / "build" / "src").mkdir(parents=True)
    built = tree / "build" / "src" / "libbehavtarget.so.1"
    shutil.copy(os.environ["BVT_LIBRARY"], built)
    env = {k: v for k, v in os.environ.items() if k != "BVT_LIBRARY"}
    if env_library:
        env["BVT_LIBRARY"] = env_library
    env["PYTHONPATH"] = str(tree / "bindings" / "python")
    code = "import behavtarget._lib as l; print(l._find_library()); import behavtarget as b; print(b.version())"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.split()
    return out, built


def test_build_tree_above_the_package(tmp_path):
    (found, version), built = find_in(tmp_path, None)
    assert found == str(built)
    assert version == "1.1.0"


def test_env_var_wins(tmp_path):
    (found, _), _ = find_in(tmp_path, os.environ["BVT_LIBRARY"])
    assert found == os.environ["BVT_LIBRARY"]
