#!/usr/bin/env python3
"""CPU the conformance grader adds to ccs-emulator, per downstream message.

Runs `ccsctl send --count N` against `ccs-emulator` with and without
`--conformance`, several times each, and reads the emulator's own CPU time
(user + system, /proc/PID/stat) from when it is ready until ccsctl is done.
The CPU time is the sum of the emulator's threads' on-CPU time from
/proc/PID/task/*/schedstat (nanoseconds), not the 10 ms ticks of /proc/PID/stat.
Prints each run and the medians (CPU microseconds per downstream message).
With --scenario-off the graded run sees the same traffic as the plain one (no
drain, drop, NACKs or upstream messages): the grader's own cost per message.

CPU time on a shared machine moves with the load on it. --instructions counts
instructions instead (the emulator under valgrind's callgrind), which do not:
each mode is run with --count and with 3 x --count messages, and the difference
divided by the extra messages is the instructions per downstream message, the
start-up and shut-down cancelling out.

    tests/bench/conformance_cpu.py build/release [--runs 5] [--count 20000] [--scenario-off]
    tests/bench/conformance_cpu.py build/release --instructions [--count 2000] [--scenario-off]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

def cpu_seconds(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])  # nanoseconds on a CPU
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return total / 1e9


SCENARIO_OFF = ["--conformance-drain-at", "0", "--conformance-drop-at", "0", "--conformance-retryable-every", "0",
                "--conformance-bad-registration-at", "0", "--conformance-upstream-every", "0"]


def one_run(build, data_dir, count, graded, scenario=True, callgrind_out=None):
    args = [os.path.join(build, "app", "ccs-emulator"), "--listen", "127.0.0.1:0", "--json", "--no-admin",
            "--data-dir", data_dir, "--seed", "7", "--receipt-delay-ms", "200"]
    if graded:
        # The token stays registered: ccsctl sends all of its messages to one.
        args += ["--conformance", "--conformance-unregister-at", "0"]
        if not scenario:
            args += SCENARIO_OFF
    if callgrind_out:
        args = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + callgrind_out] + args
    emu = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        info = json.loads(emu.stdout.readline())
        with open(info["api_key_file"]) as f:
            key = f.readline().strip()
        before = cpu_seconds(emu.pid)
        env = dict(os.environ, CCS_API_KEY=key, CCS_SECRET_STORE="memory",
                   XDG_CONFIG_HOME=os.path.join(data_dir, "config"))
        ctl = subprocess.run([os.path.join(build, "app", "ccsctl"), "send", "--host", "127.0.0.1", "--port",
                              str(info["port"]), "--sender-id", info["sender_id"], "--ca-cert",
                              info["certificate"], "--to", "emu-pixel-7-registered", "--data", '{"n":"1"}',
                              "--count", str(count), "--timeout", "600"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = cpu_seconds(emu.pid)
        return (after - before) / count * 1e6, ctl.returncode
    finally:
        emu.send_signal(signal.SIGINT)
        try:
            emu.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            emu.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--scenario-off", action="store_true",
                        help="grade the same traffic as the plain run: the scenario's faults and upstream off")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under callgrind instead of timing (load does not move them)")
    a = parser.parse_args()
    if a.instructions:
        return instructions(a)
    with tempfile.TemporaryDirectory() as data_dir:
        one_run(a.build, data_dir, 200, False)  # certificate made, caches warm
        results = {False: [], True: []}
        for i in range(a.runs):
            for graded in (False, True):  # interleaved: load changes hit both alike
                us, rc = one_run(a.build, data_dir, a.count, graded, not a.scenario_off)
                results[graded].append(us)
                print(f"run {i + 1} {'--conformance' if graded else 'plain        '}: "
                      f"{us:.1f} us CPU per message (ccsctl exit {rc})", flush=True)
        plain = statistics.median(results[False])
        graded = statistics.median(results[True])
        print(f"median plain: {plain:.1f} us/message; median --conformance: {graded:.1f} us/message; "
              f"grading adds {100 * (graded - plain) / plain:+.1f}%")


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def instructions(a):
    count = a.count if a.count != 20000 else 2000  # under callgrind: about 50 times slower
    with tempfile.TemporaryDirectory() as data_dir:
        one_run(a.build, data_dir, 200, False)  # certificate made
        per_message = {}
        for graded in (False, True):
            totals = {}
            for n in (count, 3 * count):
                out = os.path.join(data_dir, f"callgrind-{int(graded)}-{n}.out")
                _, rc = one_run(a.build, data_dir, n, graded, not a.scenario_off, callgrind_out=out)
                totals[n] = callgrind_total(out)
                print(f"{'--conformance' if graded else 'plain        '} {n:6d} messages: "
                      f"{totals[n]:,} instructions (ccsctl exit {rc})", flush=True)
            per_message[graded] = (totals[3 * count] - totals[count]) / (2 * count)
            print(f"{'--conformance' if graded else 'plain        '}: "
                  f"{per_message[graded]:,.0f} instructions per downstream message", flush=True)
        plain, graded = per_message[False], per_message[True]
        print(f"grading adds {graded - plain:,.0f} instructions per message: "
              f"{100 * (graded - plain) / plain:+.1f}%")


if __name__ == "__main__":
    sys.exit(main())
