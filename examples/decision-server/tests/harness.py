"""Start the decision server on a free port for a test, and talk to it."""
import json
import os
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request

SECRET = "decision-server-test-secret"


class Server:
    def __init__(self, exe, *args, port="0"):
        env = dict(os.environ, BVT_SECRET=SECRET)
        cmd = [exe] + (["--port", port] if port is not None else []) + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on http://"):
            self.proc.kill()
            self.proc.wait()
            raise SystemExit("server did not start: %r %s" % (line, self.proc.stderr.read()))
        self.base = line.split()[-1].rstrip("/")
        self.port = urllib.parse.urlsplit(self.base).port

    def request(self, path, body=None, headers=None, method=None):
        """(status, headers, body bytes); 4xx/5xx are returned, not raised."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {},
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def post_json(self, path, fields, cookie=None):
        """(status, parsed reply) of a JSON POST."""
        headers = {"Cookie": "bvt_uid=" + cookie} if cookie else {}
        status, _, body = self.request(path, json.dumps(fields), headers=headers)
        return status, json.loads(body)

    def decide(self, cookie=None, **fields):
        status, got = self.post_json("/decide", fields, cookie)
        if status != 200:
            raise SystemExit("/decide %r -> %d %s" % (fields, status, got))
        return got

    def consent(self, cookie=None, **choices):
        status, got = self.post_json("/consent", choices, cookie)
        if status != 200:
            raise SystemExit("/consent %r -> %d %s" % (choices, status, got))
        return got

    def alive(self):
        return self.proc.poll() is None and self.request("/healthz")[0] == 200

    def kill(self):
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        """SIGTERM, and the exit status must be 0 (a clean shutdown)."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise SystemExit("server ignored SIGTERM")
        if rc != 0:
            raise SystemExit("server exited %d: %s" % (rc, self.proc.stderr.read()))


def run(exe, *args, timeout=10):
    """Run the server expecting it to exit (bad options, --help):
    (exit status, stdout, stderr)."""
    env = dict(os.environ, BVT_SECRET=SECRET)
    p = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class Checks:
    """Collects failures; exit() ends the test with them."""

    def __init__(self, verbose=False):
        self.failures = []
        self.verbose = verbose

    def __call__(self, cond, what):
        if not cond:
            self.failures.append(what)
            print("FAIL:", what)
        elif self.verbose:
            print("ok:  ", what)
        return cond

    def exit(self):
        if self.failures:
            raise SystemExit("%d check(s) failed" % len(self.failures))
        print("all checks passed")
