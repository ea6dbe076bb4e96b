"""Start the decision server on a free port for a test, and talk to it."""
import json
import os
import subprocess
import urllib.error
import urllib.request

SECRET = "decision-server-test-secret"


class Server:
    def __init__(self, exe, *args):
        env = dict(os.environ, BVT_SECRET=SECRET)
        self.proc = subprocess.Popen([exe, "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if "127.0.0.1:" not in line:
            self.proc.kill()
            self.proc.wait()
            raise SystemExit("server did not start: %r %s" % (line, self.proc.stderr.read()))
        self.base = line.split()[-1].rstrip("/")
        self.port = int(self.base.rsplit(":", 1)[1])

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

    def decide(self, **fields):
        status, _, body = self.request("/decide", json.dumps(fields))
        if status != 200:
            raise SystemExit("/decide %r -> %d %s" % (fields, status, body))
        return json.loads(body)

    def alive(self):
        return self.proc.poll() is None and self.request("/")[0] == 200

    def stop(self):
        """SIGTERM, and the exit status must be 0 (a clean shutdown)."""
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SystemExit("server ignored SIGTERM")
        if rc != 0:
            raise SystemExit("server exited %d: %s" % (rc, self.proc.stderr.read()))
