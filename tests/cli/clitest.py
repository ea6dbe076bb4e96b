"""Small helpers for the bvt command-line tests (stdlib only).

Each test script takes the path of the bvt executable as its first argument,
writes its inputs to a temporary folder, and exits 0 when every check passed,
1 otherwise (77 = skipped, for meson)."""
import os
import subprocess
import sys
import tempfile

SKIP = 77


class Checker:
    def __init__(self):
        self.failures = 0
        self.tmp = tempfile.TemporaryDirectory(prefix="bvt-cli-test-")
        self.bvt = os.path.abspath(sys.argv[1])

    def write(self, name, text, newline="\n"):
        path = os.path.join(self.tmp.name, name)
        data = text.replace("\n", newline) if isinstance(text, str) else text
        mode = "w" if isinstance(data, str) else "wb"
        kwargs = {"newline": ""} if isinstance(data, str) else {}
        with open(path, mode, **kwargs) as f:
            f.write(data)
        return path

    def run(self, *args, env=None):
        full_env = dict(os.environ)
        full_env.pop("BVT_SECRET", None)
        if env:
            full_env.update(env)
        p = subprocess.run([self.bvt, *args], capture_output=True, env=full_env,
                           timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def check(self, cond, what, detail=""):
        if not cond:
            self.failures += 1
            print(f"FAIL: {what}" + (f"\n  {detail}" if detail else ""))
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, what, f"got  {got!r}\n  want {want!r}")

    def near(self, got, want, tol, what):
        return self.check(abs(got - want) <= tol, what, f"got {got}, want {want} (+-{tol})")

    def done(self):
        self.tmp.cleanup()
        if self.failures:
            print(f"{self.failures} check(s) failed")
            sys.exit(1)
        print("all checks passed")
        sys.exit(0)
