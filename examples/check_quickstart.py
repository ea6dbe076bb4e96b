"""Run the quickstart example and check what a reader of docs/examples.md
is told it prints."""
import subprocess
import sys

out = subprocess.run([sys.argv[1]], capture_output=True, text=True, timeout=60)
if out.returncode != 0:
    sys.exit("quickstart exited %d: %s" % (out.returncode, out.stderr))
want = [
    "events: 4, page views: 3, cart: 1 item(s) worth 89.90",
    "top interest: sport/running",
    "in segment runners: yes",
    "offers for alice: 1. running-shoes-10-off 2. newsletter-signup",
    "offers for stranger: 1. newsletter-signup",
]
lines = out.stdout.splitlines()
for w in want:
    if not any(line.startswith(w) for line in lines):
        sys.exit("missing %r in output:\n%s" % (w, out.stdout))
if any("running-shoes" in l for l in lines if l.startswith("offers for stranger")):
    sys.exit("a stranger was offered the segment-only offer:\n" + out.stdout)
print(out.stdout, end="")
