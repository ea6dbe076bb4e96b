#!/usr/bin/env python3
"""scripts/check-layers on a tiny tree whose graph is known.

    test-check-layers.py SCRIPT      (CC and NM from the environment)

Layers, bottom first: low (base.c, util.h), mid (the folder sub/), top (app.c).
The broken tree has exactly these violations:
  sub/one.c <-> sub/two.c   a cycle inside mid (through the linker)
  base.c -> app.c           upward low -> top (through the linker)
  base.c -> sub/two.c       upward low -> mid (through two.h's inline function)
and legal edges the check must see without complaint: app.c -> sub/one.c,
sub/one.c -> util.h (an inline function), app.c -> util.h (an inline
function a macro defines).  sub/two.c names app.h's inline function only in
a comment and a string, which is no edge.  Then the violations are removed
and the check must pass.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

SCRIPT = sys.argv[1]
CC = shlex.split(os.environ.get('CC') or 'cc')
failures = []

LAYERS = """\
# bottom first
low: base util
mid: sub/
top: app
"""

BROKEN = {
    'util.h': """\
#define MAKE_GET(name, value) \\
    static inline int name(void) { return value; }
MAKE_GET(util_seven, 7)
static inline int util_twice(int x) { return 2 * x; }
""",
    'app.h': 'static inline int app_inline(void) { return 1; }\nint app_hook(void);\n',
    'app.c': """\
#include "app.h"
#include "util.h"
#include "sub/one.h"
int app_hook(void) { return one_g() + util_seven(); }
""",
    'base.c': """\
#include "sub/two.h"
int app_hook(void);
int base_value(void) { return app_hook() + two_inline(); }
""",
    'sub/one.h': 'int one_g(void);\n',
    'sub/one.c': """\
#include "one.h"
#include "two.h"
#include "util.h"
int one_g(void) { return two_f() + util_twice(1); }
""",
    'sub/two.h': 'int two_f(void);\nstatic inline int two_inline(void) { return 3; }\n',
    'sub/two.c': """\
#include "two.h"
#include "one.h"
#include "../app.h"
/* app_inline() would be an upward call */
const char *two_name = "app_inline";
int two_f(void) { return one_g(); }
""",
}

FIXED = dict(BROKEN)
FIXED['base.c'] = 'int base_value(void) { return 1; }\n'
FIXED['sub/two.c'] = '#include "two.h"\nint two_f(void) { return 2; }\n'


def check(ok, what):
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        failures.append(what)


def make_tree(root, files):
    """src/ with the files and LAYERS; objects as meson lays them out."""
    src = os.path.join(root, 'src')
    objdir = os.path.join(root, 'build', 'src', 'libfake.so.1.0.0.p')
    os.makedirs(objdir, exist_ok=True)
    for path, text in list(files.items()) + [('LAYERS', LAYERS)]:
        os.makedirs(os.path.dirname(os.path.join(src, path)), exist_ok=True)
        with open(os.path.join(src, path), 'w') as f:
            f.write(text)
    for path in files:
        if path.endswith('.c'):
            obj = os.path.join(objdir, path.replace('/', '_') + '.o')
            subprocess.run(CC + ['-c', '-I', src, '-o', obj, os.path.join(src, path)], check=True)


def run(root, *args):
    out = subprocess.run([SCRIPT, '--source-root', root] + list(args),
                         capture_output=True, text=True)
    print(out.stdout + out.stderr)
    return out


def edge_lines(text):
    """{(a, b): '[tag]'} of the offending edges printed (two-space lines)."""
    return {(m.group(1), m.group(2)): m.group(3)
            for m in re.finditer(r'^  (\S+) -> (\S+)  uses \S+.*?(\[.*\])$', text, re.M)}


def report_uses(text):
    """{file: set of what it uses} from --report."""
    return {m.group(1): set(m.group(2).split())
            for m in re.finditer(r'^    (\S+):\s+(.*)$', text, re.M)}


with tempfile.TemporaryDirectory() as tmp:
    broken = os.path.join(tmp, 'broken')
    make_tree(broken, BROKEN)
    build = os.path.join(broken, 'build')

    out = run(broken, build)
    check(out.returncode == 1, 'broken tree: exit 1 (got %d)' % out.returncode)
    check(edge_lines(out.stdout) == {
        ('sub/two.c', 'sub/one.c'): '[in mid]',
        ('base.c', 'app.c'): '[upward low -> top]',
        ('base.c', 'sub/two.c'): '[upward low -> mid]',
    }, 'broken tree: exactly the cycle edge and the two upward edges')
    check('cycle 1: 2 files: sub/one.c sub/two.c' in out.stdout, 'broken tree: the cycle is named')
    check('uses two_inline (inline)' in out.stdout, 'broken tree: the inline symbol is shown')
    check('app_hook' in out.stdout, 'broken tree: the linked symbol is shown')

    out = run(broken, '--report', '--dot', os.path.join(tmp, 'layers.dot'), build)
    check(out.returncode == 0, '--report: exit 0 despite violations')
    uses = report_uses(out.stdout)
    check(uses.get('app.c') == {'sub/one.c', 'util.h'}, '--report: app.c uses sub/one.c and util.h')
    check(uses.get('sub/one.c') == {'sub/two.c', 'util.h'}, '--report: sub/one.c uses sub/two.c, util.h')
    check(uses.get('sub/two.c') == {'sub/one.c'}, '--report: a name in a comment or string is no edge')
    with open(os.path.join(tmp, 'layers.dot')) as f:
        dot = f.read()
    check('L0 -> L2 [label="1", color=red' in dot, '--dot: the upward layer edge is red')

    fixed = os.path.join(tmp, 'fixed')
    make_tree(fixed, FIXED)
    out = run(fixed, os.path.join(fixed, 'build'))
    check(out.returncode == 0, 'fixed tree: exit 0 (got %d)' % out.returncode)
    check(edge_lines(out.stdout) == {}, 'fixed tree: no edge reported')
    check('check-layers: OK' in out.stdout, 'fixed tree: says OK')

    with open(os.path.join(fixed, 'src', 'extra.c'), 'w') as f:
        f.write('int extra(void) { return 0; }\n')
    out = run(fixed, os.path.join(fixed, 'build'))
    check(out.returncode == 1 and 'files in no layer of LAYERS: extra.c' in out.stdout,
          'a file in no layer: exit 1, named')
    os.remove(os.path.join(fixed, 'src', 'extra.c'))

    out = run(fixed, os.path.join(tmp, 'no-such-build'))
    check(out.returncode == 2, 'missing build directory: exit 2 (got %d)' % out.returncode)

    with open(os.path.join(fixed, 'src', 'LAYERS'), 'a') as f:
        f.write('extra: nothing_here\n')
    out = run(fixed, os.path.join(fixed, 'build'))
    check(out.returncode == 2 and 'nothing_here' in out.stderr, 'a LAYERS word naming no file: exit 2')

print('%d failed' % len(failures))
sys.exit(1 if failures else 0)
