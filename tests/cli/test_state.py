#!/usr/bin/env python3
"""State directories: bvt ingest --state (journal modes, acks, engine
options), stats, export, forget, checkpoint, repair; the secret they
require; options recorded in the directory; read-only reads; torn and
damaged journals.

Sections marked [journal] need the journal (--journal none/group/always,
and forget, which journals its erasure); the others use --journal off."""
import json
import os
import shutil
import subprocess
import time

from clitest import Checker

c = Checker()

SECRET = "a-test-secret-of-enough-bytes"
ENV = {"BVT_SECRET": SECRET}

# Five events of three users; u1 has three (two views and a click).
EVENTS = """user_id,timestamp,type,value
u1,2024-03-01T10:00:00Z,page_view,
u1,2024-03-01T10:01:00Z,page_view,
u2,2024-03-01T10:02:00Z,page_view,
u3,2024-03-01T10:03:00Z,purchase,20
u1,2024-03-01T10:04:00Z,click,
"""
NOW = "2024-03-02T00:00:00Z"
events = c.write("events.csv", EVENTS)


def kv_of(out):
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def keys_of(out):
    return [l.split("=", 1)[0] for l in out.splitlines() if "=" in l]


def acks_of(out):
    return [int(l.split()[1]) for l in out.splitlines() if l.startswith("acked ")]


def state_dir(name):
    return os.path.join(c.tmp.name, name)


def journal_files(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".bvtj"))


def files_of(d):
    """Every file of d with its bytes: what a read-only command must not change."""
    return {f: open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))}


def base_keys(out):
    return [k for k in keys_of(out) if not k.startswith("option.")]


def stats(d, env=ENV):
    rc, out, err = c.run("stats", "--state", d, env=env)
    c.eq((rc, err), (0, ""), f"stats {os.path.basename(d)} exits 0 quietly")
    return kv_of(out)


def check_acks(out, every, total, what):
    acks = acks_of(out)
    want = list(range(every, total + 1, every))
    if total % every:
        want.append(total)
    c.eq(acks, want, f"{what}: acks are the multiples of {every}, then the total")
    lines = out.splitlines()
    first_kv = next((i for i, l in enumerate(lines) if "=" in l), len(lines))
    c.check(all(l.startswith("acked ") for l in lines[:first_kv])
            and not any(l.startswith("acked ") for l in lines[first_kv:]),
            f"{what}: every ack line comes before the key=value lines", out)


# ---- the secret is required ---------------------------------------------
d0 = state_dir("nosecret")
for args in (["ingest", "--events", events, "--state", d0],
             ["stats", "--state", d0], ["export", "--state", d0, "u1"],
             ["forget", "--state", d0, "u1"], ["checkpoint", "--state", d0],
             ["repair", "--state", d0]):
    rc, out, err = c.run(*args)
    c.eq((rc, out), (2, ""), f"{args[0]} --state without a secret: exit 2, no output")
    c.check("BVT_SECRET" in err and "--secret-file" in err,
            f"{args[0]}: the message names BVT_SECRET and --secret-file", err)
c.check(not os.path.exists(d0), "without a secret the directory is not created")
rc, out, err = c.run("stats", "--state", d0, env={"BVT_SECRET": "short"})
c.eq(rc, 2, "BVT_SECRET under 16 bytes: exit 2")

# ---- bad command lines ----------------------------------------------------
d = state_dir("s")
for args, what in (
        (["ingest", "--events", events, "--journal", "off"], "--journal without --state"),
        (["ingest", "--events", events, "--ack-every", "2"], "--ack-every without --state"),
        (["ingest", "--events", events, "--state", d, "--journal", "sometimes"], "bad --journal"),
        (["ingest", "--events", events, "--state", d, "--ack-every", "0"], "--ack-every 0"),
        (["ingest", "--events", events, "--state", d, "--ack-every", "x"], "--ack-every x"),
        (["ingest", "--events", events, "--state", d, "--journal", "always", "--group-ms", "5"],
         "--group-ms without group"),
        (["ingest", "--events", events, "--state", d, "--group-ms", "0"], "--group-ms 0"),
        (["export", "--state", d], "export without USER"),
        (["export", "--state", d, "--now", "yesterday", "u1"], "export with a bad --now"),
        (["forget", "--state", d], "forget without USER"),
        (["stats"], "stats without --state"),
        (["checkpoint", "--state", d, "extra"], "checkpoint with an argument"),
        (["repair"], "repair without --state"),
        (["repair", "--state", d, "extra"], "repair with an argument"),
        (["ingest", "--events", events, "--analytics", "drop"], "--analytics drop"),
        (["ingest", "--events", events, "--analytics", "x"], "a bad --analytics"),
        (["ingest", "--events", events, "--history-events", "0"], "--history-events 0"),
        (["ingest", "--events", events, "--history-events", "4097"], "--history-events 4097")):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, out), (2, ""), f"{what}: exit 2, nothing on stdout")
    c.check("usage:" in err, f"{what}: usage on stderr", err)
c.check(not os.path.exists(d), "bad command lines create nothing")
for args in (["stats", "--state", d], ["export", "--state", d, "u1"],
             ["forget", "--state", d, "u1"], ["checkpoint", "--state", d],
             ["repair", "--state", d]):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, out), (1, ""), f"{args[0]} on a missing directory: exit 1")
    c.check(err.startswith(f"bvt: {d}: "), f"{args[0]}: 'bvt: DIR: reason'", err)
c.check(not os.path.exists(d), "only ingest creates a state directory")
for cmd in ("stats", "export", "forget", "checkpoint", "repair"):
    rc, out, err = c.run(cmd, "--help")
    c.check(rc == 0 and out.startswith(f"usage: bvt {cmd} --state DIR"), f"{cmd} --help", out)
rc, out, err = c.run("--help")
c.check(all(f"  {cmd} " in out for cmd in ("stats", "export", "forget", "checkpoint", "repair")),
        "bvt --help lists the state commands", out)

# ---- ingest --journal off, stats, a second ingest -------------------------
rc, out, err = c.run("ingest", "--events", events, "--state", d, "--journal", "off",
                     "--ack-every", "2", env=ENV)
c.eq((rc, err), (0, ""), "ingest --journal off exits 0 quietly")
check_acks(out, 2, 5, "--journal off")
c.eq([k for k in keys_of(out)], ["users", "events", "events_per_s", "bytes_per_user"],
     "ingest --state prints the usual keys")
kv = kv_of(out)
c.eq((kv.get("users"), kv.get("events")), ("3", "5"), "ingest --state: users=3 events=5")
c.check(os.path.isfile(os.path.join(d, "snapshot.bvts")), "--journal off writes the snapshot")
c.eq(journal_files(d), [], "--journal off writes no journal file")

rc, out, err = c.run("stats", "--state", d, env=ENV)
c.eq((rc, err), (0, ""), "stats exits 0 quietly")
c.eq(base_keys(out), ["users", "events", "events_rejected", "bytes_total", "bytes_per_user",
                      "journal_replayed", "snapshot_seq", "torn_bytes"],
     "stats prints these keys, in this order (no torn_offset without a torn tail)")
okeys = [k for k in keys_of(out) if k.startswith("option.")]
c.check(okeys and keys_of(out)[-len(okeys):] == okeys, "stats ends with the option.* lines",
        out)
c.check({"option.history_events", "option.analytics_policy", "option.shards",
         "option.type_weight.purchase"} <= set(okeys), "stats shows the recorded options", out)
c.check(not {"option.version", "option.check"} & set(okeys),
        "the options file's version and check lines are not options", out)
c.eq((kv_of(out).get("option.history_events"), kv_of(out).get("option.analytics_policy")),
     ("64", "0"), "a directory written without engine options records the defaults")
kv = kv_of(out)
c.eq((kv.get("users"), kv.get("events"), kv.get("events_rejected"), kv.get("journal_replayed"),
      kv.get("torn_bytes")), ("3", "5", "0", "0", "0"), "stats after one ingest")
c.check(kv.get("bytes_total", "").isdigit() and int(kv["bytes_total"]) > 0,
        "bytes_total is a positive integer", kv.get("bytes_total"))
c.check(kv.get("snapshot_seq", "").isdigit(), "snapshot_seq is a whole number")
c.eq(journal_files(d), [], "stats starts no journal")

rc, out, err = c.run("ingest", "--events", events, "--state", d, "--journal", "off", env=ENV)
c.eq((rc, acks_of(out)), (0, []), "second ingest, no --ack-every: no ack lines")
c.eq((kv_of(out).get("users"), kv_of(out).get("events")), ("3", "5"),
     "second ingest: users of the state, events of this run")
kv = stats(d)
c.eq((kv.get("users"), kv.get("events")), ("3", "10"), "a second ingest adds up")

# ---- export ----------------------------------------------------------------
rc, out, err = c.run("export", "--state", d, "--now", NOW, "u1", env=ENV)
c.eq((rc, err), (0, ""), "export exits 0 quietly")
try:
    x = json.loads(out)
except ValueError as e:
    x = {}
    c.check(False, "export prints JSON", f"{e}: {out[:200]!r}")
key = x.get("key", "")
c.check(len(key) == 32 and all(ch in "0123456789abcdef" for ch in key),
        "export: key is 32 hex digits", key)
c.check('"u1"' not in out, "export holds no raw id")
prof = x.get("profile", {})
c.eq(prof.get("events"), 6, "export: u1 has 6 events (3 per ingest)")
c.eq(prof.get("type_counts", {}).get("click"), 2, "export: two clicks")
c.eq(x.get("now"), 1709337600000, "export: --now is used")
rc, out, err = c.run("export", "--state", d, "u3", env=ENV)
try:
    x3 = json.loads(out)
    c.check(abs(x3.get("now", 0) - time.time() * 1000) < 600000,
            "export: --now defaults to the wall clock", x3.get("now"))
    c.eq(x3.get("profile", {}).get("purchases"), 2, "export u3: two purchases")
except ValueError as e:
    c.check(False, "export without --now prints JSON", f"{e}: {out[:200]!r}")
rc, out, err = c.run("export", "--state", d, "--now", NOW, "nobody", env=ENV)
c.eq((rc, out), (1, ""), "export of an unknown user: exit 1, nothing on stdout")
c.check("nobody" in err, "the message names the user", err)

# ---- checkpoint --------------------------------------------------------------
rc, out, err = c.run("checkpoint", "--state", d, env=ENV)
c.eq((rc, err), (0, ""), "checkpoint exits 0 quietly")
c.check(out.startswith("snapshot_seq=") and out.strip().split("=")[1].isdigit()
        and len(out.splitlines()) == 1, "checkpoint prints snapshot_seq=N", out)
c.eq(stats(d).get("events"), "10", "checkpoint keeps every event")

# ---- --secret-file --------------------------------------------------------
sf = c.write("secret.txt", SECRET + "\n")
rc, out, err = c.run("stats", "--state", d, "--secret-file", sf)
c.eq((rc, kv_of(out).get("events")), (0, "10"),
     "--secret-file with the same secret (trailing newline stripped) opens DIR")
rc, out, err = c.run("export", "--state", d, "--now", NOW, "--secret-file", sf, "u1",
                     env={"BVT_SECRET": "another-secret-of-enough-bytes"})
c.eq(rc, 0, "--secret-file wins over BVT_SECRET")
wrong = c.write("wrong.txt", "another-secret-of-enough-bytes\n")
for env, args, what in ((None, ["--secret-file", wrong], "a wrong --secret-file"),
                        ({"BVT_SECRET": "another-secret-of-enough-bytes"}, [], "a wrong BVT_SECRET")):
    rc, out, err = c.run("stats", "--state", d, *args, env=env)
    c.eq((rc, out), (1, ""), f"{what}: exit 1, nothing on stdout")
    c.check("secret" in err, f"{what}: the message mentions the secret", err)
short = c.write("short.txt", "too-short\n")
rc, out, err = c.run("stats", "--state", d, "--secret-file", short)
c.eq(rc, 2, "--secret-file under 16 bytes: exit 2")
c.check("16 bytes" in err, "the message says 16 bytes", err)
rc, out, err = c.run("stats", "--state", d, "--secret-file", os.path.join(c.tmp.name, "none"))
c.eq(rc, 2, "a missing --secret-file: exit 2")
# the commands that keep nothing take it too
rc, out, err = c.run("ingest", "--events", events, "--secret-file", short)
c.eq(rc, 2, "ingest without --state checks --secret-file")
rc, out, err = c.run("profile", "--events", events, "--secret-file", sf, "u1")
c.eq(rc, 0, "profile takes --secret-file")

# ---- bad input: a failing ingest leaves DIR as it was ------------------------
bad = c.write("bad.csv", EVENTS + "u4,2024-13-01,page_view,\n")
rc, out, err = c.run("ingest", "--events", bad, "--state", d, "--journal", "off",
                     "--ack-every", "1", env=ENV)
c.eq((rc, out), (1, ""), "bad input with --journal off: exit 1, no ack, nothing on stdout")
c.check(err.startswith(bad + ":7:"), "bad input: FILE:LINE on stderr", err)
c.eq(stats(d).get("events"), "10", "a failed --journal off ingest leaves DIR as it was")

# ---- damaged snapshot ----------------------------------------------------------
dc = state_dir("corrupt")
shutil.copytree(d, dc)
snap = os.path.join(dc, "snapshot.bvts")
data = bytearray(open(snap, "rb").read())
data[len(data) // 2] ^= 0x40
open(snap, "wb").write(bytes(data))
for args in (["stats", "--state", dc], ["export", "--state", dc, "u1"],
             ["checkpoint", "--state", dc],
             ["ingest", "--events", events, "--state", dc, "--journal", "off"],
             ["repair", "--state", dc]):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, out), (1, ""), f"{args[0]} on a corrupt snapshot: exit 1, nothing on stdout")
    c.check(err.startswith(f"bvt: {dc}: ") and len(err.splitlines()) == 1,
            f"{args[0]}: one line 'bvt: DIR: reason'", err)
    c.check("repair" not in err, f"{args[0]}: a damaged snapshot is not offered a repair "
            "that cannot mend it", err)
c.eq(bytes(data), open(snap, "rb").read(), "the damaged snapshot is left as it was")

# ---- [journal] ingest with a journal, acks as events become durable -------------
dj = state_dir("journal")
total = 0
for mode, every in (("group", 2), ("always", 3), ("none", 5), ("group", 1)):
    rc, out, err = c.run("ingest", "--events", events, "--state", dj, "--journal", mode,
                         "--ack-every", str(every), env=ENV)
    c.eq((rc, err), (0, ""), f"[journal] ingest --journal {mode} exits 0 quietly")
    check_acks(out, every, 5, f"[journal] --journal {mode} --ack-every {every}")
    total += 5
    kv = stats(dj)
    c.eq((kv.get("users"), kv.get("events")), ("3", str(total)),
         f"[journal] stats after --journal {mode}: the events add up")
c.check(int(kv.get("journal_replayed", "0")) > 0, "[journal] stats replays the journal",
        kv.get("journal_replayed"))
rc, out, err = c.run("ingest", "--events", events, "--state", dj, "--group-ms", "20", env=ENV)
c.eq(rc, 0, "[journal] the default mode is group, --group-ms accepted")
total += 5
nj = len(journal_files(dj))
stats(dj)
c.eq(len(journal_files(dj)), nj, "[journal] stats starts no journal file")
rc, out, err = c.run("checkpoint", "--state", dj, env=ENV)
seq = out.strip().split("=")[-1]
c.check(rc == 0 and seq.isdigit() and int(seq) > 0, "[journal] checkpoint: snapshot_seq > 0", out)
c.eq(journal_files(dj), [], "[journal] checkpoint deletes the journal files")
kv = stats(dj)
c.eq((kv.get("events"), kv.get("journal_replayed"), kv.get("snapshot_seq")),
     (str(total), "0", seq), "[journal] after the checkpoint: all in the snapshot")

# A bigger file with --journal always: acks come out while the command runs.
N = 200000
big = c.write("big.csv", "user_id,timestamp,type\n" + "".join(
    f"u{i % 5000},{1709287200000 + i},page_view\n" for i in range(N)))
db = state_dir("big")
env = dict(os.environ)
env.pop("BVT_SECRET", None)
env.update(ENV)
p = subprocess.Popen([c.bvt, "ingest", "--events", big, "--state", db, "--journal", "always",
                      "--ack-every", "1000"], stdout=subprocess.PIPE, env=env)
first = p.stdout.readline().decode()
running = p.poll() is None
rest = p.stdout.read().decode()
p.wait(timeout=120)
c.eq(p.returncode, 0, "[journal] big ingest --journal always exits 0")
c.eq(first, "acked 1000\n", "[journal] the first line is the first ack")
c.check(running, "[journal] the first ack is read while the command still runs")
check_acks(first + rest, 1000, N, "[journal] big --journal always")

# ---- [journal] forget ----------------------------------------------------------
users_before = int(stats(d).get("users", "0"))
rc, out, err = c.run("forget", "--state", d, "u1", env=ENV)
c.eq((rc, out, err), (0, "forgotten=1\n", ""), "[journal] forget u1: forgotten=1")
rc, out, err = c.run("export", "--state", d, "--now", NOW, "u1", env=ENV)
c.eq((rc, out), (1, ""), "[journal] export after forget: exit 1")
kv = stats(d)
c.eq(kv.get("users"), str(users_before - 1), "[journal] forget: one user fewer")
rc, out, err = c.run("checkpoint", "--state", d, env=ENV)
c.eq((rc, stats(d).get("users")), (0, str(users_before - 1)),
     "[journal] after another checkpoint the user is still gone")
rc, out, err = c.run("forget", "--state", d, "u1", env=ENV)
c.eq((rc, out), (0, "forgotten=0\n"), "[journal] forgetting again: forgotten=0, exit 0")
rc, out, err = c.run("export", "--state", d, "--now", NOW, "u2", env=ENV)
c.eq(rc, 0, "[journal] the other users stay")

# ---- [journal] engine options recorded in the directory ---------------------------
# Written with a history of 2 exact events (shapes the data) under anonymous
# analytics (a policy); every command must open it with those, not defaults.
EVENTS_U9 = "user_id,timestamp,type\nu9,2024-03-01T11:00:00Z,page_view\n"
events_u9 = c.write("events-u9.csv", EVENTS_U9)
da = state_dir("options")
rc, out, err = c.run("ingest", "--events", events, "--state", da, "--history-events", "2",
                     env=ENV)
c.eq((rc, err), (0, ""), "[journal] ingest --history-events 2 into a new directory")
rc, out, err = c.run("ingest", "--events", events_u9, "--state", da, "--analytics", "anonymous",
                     env=ENV)
c.eq((rc, out), (1, ""), "[journal] a data-shaping option that differs: exit 1, nothing on stdout")
c.check(err.startswith(f"bvt: {da}: ") and "history_events = 2" in err
        and len(err.splitlines()) == 1,
        "[journal] the library's refusal names the option and DIR's value", err)
c.check("BVT_OPTIONS_RECORDED" not in err and "no engine option" in err,
        "[journal] the advice is bvt's, not the C API's", err)
rc, out, err = c.run("ingest", "--events", events_u9, "--state", da, "--analytics", "anonymous",
                     "--history-events", "2", env=ENV)
c.eq((rc, err), (0, ""), "[journal] the same data-shaping value and a new policy: accepted")
rc, out, err = c.run("ingest", "--events", events_u9, "--state", da, env=ENV)
c.eq((rc, err), (0, ""), "[journal] ingest without engine options uses the recorded ones")
before = files_of(da)
rc, out, err = c.run("stats", "--state", da, env=ENV)
c.eq((rc, err), (0, ""), "[journal] stats on a directory with non-default options")
kv = kv_of(out)
c.eq((kv.get("option.history_events"), kv.get("option.analytics_policy"), kv.get("users")),
     ("2", "2", "3"), "[journal] stats: the recorded options; u9 only counted anonymously")
rc, out, err = c.run("export", "--state", da, "--now", NOW, "u1", env=ENV)
c.eq((rc, err), (0, ""), "[journal] export on a directory with non-default options")
try:
    c.eq(json.loads(out).get("profile", {}).get("history_events"), 2,
         "[journal] export: u1's three events fold into a history of 2")
except ValueError as e:
    c.check(False, "[journal] export prints JSON", f"{e}: {out[:200]!r}")
rc, out, err = c.run("export", "--state", da, "--now", NOW, "u9", env=ENV)
c.eq(rc, 1, "[journal] u9's events were anonymous: no profile")
c.check(files_of(da) == before, "[journal] stats and export change no file of DIR")
rc, out, err = c.run("checkpoint", "--state", da, env=ENV)
c.eq((rc, err), (0, ""), "[journal] checkpoint on a directory with non-default options")
rc, out, err = c.run("forget", "--state", da, "u2", env=ENV)
c.eq((rc, out, err), (0, "forgotten=1\n", ""),
     "[journal] forget on a directory with non-default options")
kv = stats(da)
c.eq((kv.get("option.history_events"), kv.get("option.analytics_policy"), kv.get("users")),
     ("2", "2", "2"), "[journal] after checkpoint and forget the options are still DIR's")
rc, out, err = c.run("ingest", "--events", events_u9, "--analytics", "anonymous", env=ENV)
c.eq((rc, kv_of(out).get("users"), kv_of(out).get("events")), (0, "0", "1"),
     "ingest --analytics anonymous in memory: the event counts, no profile")

# ---- [journal] a torn journal tail: stats reports it, the next writer cuts it -----
dt = state_dir("torn")
rc, out, err = c.run("ingest", "--events", events, "--state", dt, "--journal", "always",
                     "--ack-every", "1", env=ENV)
c.eq(rc, 0, "[journal] ingest with a frame per event")
jt = os.path.join(dt, journal_files(dt)[-1])
with open(jt, "r+b") as f:  # a crash in the middle of the last frame
    f.truncate(os.path.getsize(jt) - 5)
before = files_of(dt)
for attempt in ("first", "second"):
    kv = stats(dt)
    c.check(int(kv.get("torn_bytes", "0")) > 0 and kv.get("torn_offset", "").isdigit(),
            f"[journal] stats ({attempt}) reports the torn tail", kv)
    c.eq(kv.get("events"), "4", f"[journal] stats ({attempt}): the four whole events")
rc, out, err = c.run("export", "--state", dt, "--now", NOW, "u2", env=ENV)
c.eq(rc, 0, "[journal] export on a torn journal")
c.check(files_of(dt) == before, "[journal] stats and export leave the torn journal byte-identical")
rc, out, err = c.run("checkpoint", "--state", dt, env=ENV)
c.eq(rc, 0, "[journal] checkpoint on a torn journal")
kv = stats(dt)
c.eq((kv.get("torn_bytes"), kv.get("events"), "torn_offset" in kv), ("0", "4", False),
     "[journal] the writer cut the tail: no tear left")

# ---- [journal] a damaged journal: refused, naming bvt repair; repaired ------------
def flip_last_frame(path):
    data = bytearray(open(path, "rb").read())
    data[-3] ^= 0x40  # inside the last frame, which is whole
    open(path, "wb").write(bytes(data))


dr = state_dir("damaged")
rc, out, err = c.run("ingest", "--events", events, "--state", dr, "--journal", "always",
                     "--ack-every", "1", env=ENV)
flip_last_frame(os.path.join(dr, journal_files(dr)[-1]))
before = files_of(dr)
for args in (["stats", "--state", dr], ["export", "--state", dr, "u1"],
             ["checkpoint", "--state", dr], ["forget", "--state", dr, "u1"],
             ["ingest", "--events", events, "--state", dr]):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, out), (1, ""), f"[journal] {args[0]} on a damaged journal: exit 1, nothing on stdout")
    c.check(err.startswith(f"bvt: {dr}: ") and len(err.splitlines()) == 1
            and f"bvt repair --state {dr}" in err and "BVT_STATE_REPAIR" not in err,
            f"[journal] {args[0]}: one line naming 'bvt repair --state DIR'", err)
c.check(files_of(dr) == before, "[journal] refusing the damage changes no file")
rc, out, err = c.run("repair", "--state", dr, env=ENV)
c.eq((rc, err), (0, ""), "[journal] repair exits 0 quietly")
kv = kv_of(out)
c.eq(keys_of(out), ["dropped_first_seq", "dropped_last_seq", "dropped_bytes", "dropped_files"],
     "[journal] repair prints what it dropped")
c.eq((kv.get("dropped_first_seq"), kv.get("dropped_last_seq"), kv.get("dropped_files")),
     ("5", "unknown", "0"),
     "[journal] the fifth record is dropped; no sound frame after it tells the last")
damaged_size = len(next(v for k, v in before.items() if k.endswith(".bvtj")))
c.check(kv.get("dropped_bytes", "").isdigit() and 0 < int(kv["dropped_bytes"]) < damaged_size - 64,
        "[journal] dropped_bytes: the last frame, not the whole file", kv)
c.eq(journal_files(dr), [], "[journal] repair checkpoints: the journal is in the snapshot")
kv = stats(dr)
c.eq((kv.get("events"), kv.get("users")), ("4", "3"), "[journal] after repair DIR opens: 4 events")
rc, out, err = c.run("repair", "--state", dr, env=ENV)
c.eq((rc, out, err), (0, "nothing dropped\n", ""), "[journal] a second repair drops nothing")

# Damage in an older journal file: it and every newer file go.
dm = state_dir("damaged-older")
for _ in range(2):
    rc, out, err = c.run("ingest", "--events", events, "--state", dm, "--journal", "always",
                         "--ack-every", "1", env=ENV)
older, newer = journal_files(dm)
flip_last_frame(os.path.join(dm, older))
rc, out, err = c.run("stats", "--state", dm, env=ENV)
c.check(rc == 1 and f"bvt repair --state {dm}" in err,
        "[journal] damage in an older journal file: stats names bvt repair", err)
rc, out, err = c.run("repair", "--state", dm, env=ENV)
kv = kv_of(out)
c.eq((rc, kv.get("dropped_first_seq"), kv.get("dropped_last_seq"), kv.get("dropped_files")),
     (0, "5", "10", "1"), "[journal] repair drops records 5 to 10, the newer file with them")
c.eq(stats(dm).get("events"), "4", "[journal] after repair: the four events before the damage")

# ---- repair on a healthy directory -----------------------------------------------
before = stats(d)
rc, out, err = c.run("repair", "--state", d, env=ENV)
c.eq((rc, out, err), (0, "nothing dropped\n", ""), "repair on a healthy directory drops nothing")
after = stats(d)
c.eq((after.get("users"), after.get("events")), (before.get("users"), before.get("events")),
     "repair on a healthy directory keeps everything")

c.done()
