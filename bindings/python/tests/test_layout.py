"""The ctypes mirrors have the C structs' sizes and field offsets."""
import ctypes
import os
import subprocess

from behavtarget import _lib


def test_struct_layouts_match_the_header():
    probe = os.environ.get("BVT_LAYOUT_PROBE")
    assert probe, "BVT_LAYOUT_PROBE (the layout-probe program) is not set: run through meson"
    out = subprocess.run([probe], check=True, capture_output=True, text=True).stdout
    lines = out.split("\n")
    seen = 0
    for line in filter(None, lines):
        name, size, last = line.split()
        cls = getattr(_lib, name)
        last_field = cls._fields_[-1][0]
        assert (ctypes.sizeof(cls), getattr(cls, last_field).offset) == (int(size), int(last)), name
        seen += 1
    assert seen == 16
