#!/usr/bin/env python3
"""procedure.py MACHINE SECTION [BLOCK...]: run the sh blocks of a section of deploy/RUNBOOK.md,
exactly as written, on a rehearsal machine (machine.sh), after the variables of section 0.
SECTION is a number as the runbook's headings give it: 1, 2.1, 3, ...; BLOCK numbers the
section's blocks from 1 (all when none is given). REHEARSAL_API, when set, replaces API (the
runbook's own `export API=...` after HTTPS is a step of its own). Stops at the first failure."""
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
machine, section = sys.argv[1], sys.argv[2]
wanted = [int(b) for b in sys.argv[3:]]
text = open(os.path.join(here, '..', 'RUNBOOK.md'), encoding='utf-8').read()
blocks, heading = [], ''
for m in re.finditer(r'^(#{2,3} [^\n]*)$|^( *)```sh\n(.*?)^ *```$', text, re.M | re.S):
    if m.group(1):
        heading = m.group(1)
        continue
    indent = m.group(2)
    code = ''.join(l[len(indent):] if l.startswith(indent) else l
                   for l in m.group(3).splitlines(True))
    blocks.append((heading, code))
variables = next(code for h, code in blocks if h.startswith('## 0.') and 'export MEMBER' in code)
if os.environ.get('REHEARSAL_API'):
    variables += 'export API=' + os.environ['REHEARSAL_API'] + '\n'
ours = [code for h, code in blocks if re.match(r'#{2,3} ' + re.escape(section) + r'[ .]', h)]
if not ours:
    sys.exit(f'no section {section} with sh blocks in RUNBOOK.md')
for n, code in enumerate(ours, 1):
    if wanted and n not in wanted:
        continue
    print(f'===== section {section}, block {n}, on {machine}\n{code}=====', flush=True)
    run = subprocess.run([os.path.join(here, 'machine.sh'), 'run', machine,
                          'set -ex\n' + variables + code])
    print(f'===== exit {run.returncode}', flush=True)
    if run.returncode:
        sys.exit(run.returncode)
