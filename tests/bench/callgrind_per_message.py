#!/usr/bin/env python3
"""Instructions per message by function, from two callgrind files of the same client
run with SMALL and LARGE messages (tests/bench/client_cpu_callgrind.sh with OUT=DIR):
(LARGE - SMALL) / (LARGE_COUNT - SMALL_COUNT), so start-up cancels out.

  tests/bench/callgrind_per_message.py SMALL.cg LARGE.cg EXTRA_MESSAGES [inclusive|self] [ROWS]
"""
import re
import subprocess
import sys


def load(path, inclusive):
    text = subprocess.run(['callgrind_annotate', '--threshold=100', '--inclusive=' + ('yes' if inclusive else 'no'),
                           path], capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in text.splitlines():
        m = re.match(r'\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$', line)
        if not m or m.group(2).startswith('=>'):
            continue
        name = re.sub(r'/work/[^ :]*?/build/release/\.\./\.\./|/work/[^/ ]+/', '', m.group(2))
        name = re.sub(r' \[[^\]]*\]$', '', name)
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(',', ''))
    return costs


def main():
    small, large, extra = sys.argv[1], sys.argv[2], int(sys.argv[3])
    inclusive = len(sys.argv) < 5 or sys.argv[4] == 'inclusive'
    rows = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    a, b = load(small, inclusive), load(large, inclusive)
    total = (b.get('PROGRAM TOTALS', 0) - a.get('PROGRAM TOTALS', 0)) / extra
    per = sorted(((b[k] - a.get(k, 0)) / extra, k) for k in b)
    for value, name in reversed(per[-rows:]):
        print(f'{value:9.0f} {100 * value / total:5.1f}%  {name[:160]}')


if __name__ == '__main__':
    main()
