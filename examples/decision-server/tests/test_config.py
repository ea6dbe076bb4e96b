"""Options (README.md, "Options"): a config file of `key = value` lines
sets every option, the command line overrides it, and a file with an
unknown key, a key given twice or a bad value is refused with its line
number.  Also --bind (127.0.0.2, and ::1 where the machine has IPv6),
--max-users and --help.  Loopback only; every server started here is
stopped here."""
import json
import os
import socket
import sys
import tempfile

from harness import Checks, Server, run

check = Checks()
exe = sys.argv[1]
KEYS = ["bind", "port", "timeout", "threads", "secret-file", "state", "journal",
        "group-commit-ms", "checkpoint", "max-users"]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def metric(srv, name):
    _, _, body = srv.request("/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


with tempfile.TemporaryDirectory() as tmp:
    # --help lists every option (the file's keys are the same names).
    rc, out, _ = run(exe, "--help")
    check(rc == 0 and all("--" + k + " " in out for k in KEYS) and "--config" in out,
          "--help lists every option: %s" % out)

    # A file that sets every option.
    secret = write(os.path.join(tmp, "secret"), "a-secret-from-the-config-file\n")
    state = os.path.join(tmp, "state")
    conf = write(os.path.join(tmp, "ds.conf"), "\n".join([
        "# the decision server, every option",
        "",
        "bind = 127.0.0.2",
        "port = 0",
        "  timeout=5  ",
        "threads = 4",
        "secret-file = " + secret,
        "state = " + state,
        "journal = always",
        "group-commit-ms = 20",
        "checkpoint = 0",
        "max-users = 1",
    ]) + "\n")
    srv = Server(exe, "--config", conf, port=None)
    try:
        check(srv.base.startswith("http://127.0.0.2:"), "bind from the file: %s" % srv.base)
        check(os.path.isdir(state), "state from the file: the directory was created")
        for uid in ("first", "second"):
            st, _, _ = srv.request("/p.gif?uid=" + uid)
            check(st == 200, "pixel for " + uid)
        check(metric(srv, "bvt_users") == 1 and metric(srv, "bvt_users_evicted_total") == 1,
              "max-users from the file: one profile held, one evicted")
    finally:
        srv.stop()
    # The state was written with the file's secret: BVT_SECRET opens nothing.
    rc, _, err = run(exe, "--port", "0", "--state", state, timeout=20)
    check(rc == 1 and "secret" in err.lower(),
          "secret-file from the file was used (another secret is refused): %s" % err.strip())

    # The command line overrides the file, whatever the order.
    srv = Server(exe, "--bind", "127.0.0.1", "--config", conf, "--max-users", "5", port="0")
    try:
        check(srv.base.startswith("http://127.0.0.1:"), "--bind overrides the file: %s"
              % srv.base)
        for uid in ("a", "b", "c"):
            srv.request("/p.gif?uid=" + uid)
        # the one profile the state held, and these three
        check(metric(srv, "bvt_users") == 4, "--max-users overrides the file: %s"
              % metric(srv, "bvt_users"))
    finally:
        srv.stop()

    # Refusals, with the line number.
    bad = [
        ("# comment\n\nprot = 80\n", "line 3: unknown key 'prot'"),
        ("port = 8080\ntimeout = 0\n", "line 2: timeout: expected an integer 1..600"),
        ("port = 1\nport = 2\n", "line 2: 'port' given twice (first on line 1)"),
        ("bind = localhost\n", "line 1: bind: expected a numeric IPv4 or IPv6 address"),
        ("journal = sometimes\n", "line 1: journal: expected group or always"),
        ("threads = 65\n", "line 1: threads: expected an integer 1..64"),
        ("port 8080\n", "line 1: expected key = value"),
        ("port = 8080 # a comment\n", "line 1: port: expected an integer"),
        ("config = other.conf\n", "line 1: unknown key 'config'"),
        ("state =\n", "line 1: state: a path of 1.."),
    ]
    for text, want in bad:
        path = write(os.path.join(tmp, "bad.conf"), text)
        rc, _, err = run(exe, "--config", path)
        check(rc == 2 and (path + ": " + want) in err,
              "%r refused with %r (exit %d): %s" % (text, want, rc, err.strip()))
    for args, want in [(["--prot", "80"], "unknown option '--prot'"),
                       (["--port", "65536"], "--port: expected an integer 0..65535"),
                       (["--port"], "--port needs a value"),
                       (["--config", os.path.join(tmp, "missing.conf")], "missing.conf"),
                       (["--config", conf, "--config", conf], "--config: given twice")]:
        rc, _, err = run(exe, *args)
        check(rc == 2 and want in err, "%s refused with %r (exit %d): %s"
              % (args, want, rc, err.strip()))

    # IPv6 loopback, where the machine has it.
    if ipv6_loopback():
        srv = Server(exe, "--bind", "::1")
        try:
            st, _, body = srv.request("/healthz")
            check(srv.base.startswith("http://[::1]:") and st == 200 and
                  json.loads(body)["status"] == "ok", "--bind ::1: %s" % srv.base)
        finally:
            srv.stop()
    else:
        print("note: no IPv6 loopback here; --bind ::1 not tried")
check.exit()
