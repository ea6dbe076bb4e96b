"""Runs examples/python/rfm_chart.py on a generated CSV (meson test
python-rfm-chart): the PNG must exist, be a PNG, and the printed segment
sizes must account for every buyer."""
import csv
import random
import subprocess
import sys
from pathlib import Path

example, outdir = sys.argv[1], Path(sys.argv[2])
csv_path = outdir / "rfm_chart_input.csv"
png_path = outdir / "rfm_chart.png"
png_path.unlink(missing_ok=True)
rng = random.Random(11)
users = 200
with open(csv_path, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["user_id", "timestamp", "value"])
    for u in range(users):
        for _ in range(rng.randint(1, 8)):
            day = rng.randint(1, 180)
            w.writerow([f"c{u}", 1_704_067_200_000 + day * 86_400_000,
                        round(rng.uniform(5, 200), 2)])
out = subprocess.run([sys.executable, example, str(csv_path), str(png_path)],
                     check=True, capture_output=True, text=True).stdout
sizes = {line.rsplit(",", 1)[0]: int(line.rsplit(",", 1)[1]) for line in out.split("\n") if line}
data = png_path.read_bytes() if png_path.exists() else b""
if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 1000:
    sys.exit(f"no PNG chart written at {png_path}")
if sum(sizes.values()) != users or len(sizes) != 11 or min(sizes.values()) < 0:
    sys.exit(f"segment sizes do not cover the {users} buyers: {sizes}")
print(f"ok: {len(data)} byte PNG, segments {sizes}")
