#!/usr/bin/env python3
"""CPU the conformance grader adds to ccs-emulator, per downstream message.

Runs `ccsctl send --count N` against `ccs-emulator` with and without
`--conformance`, several times each, and reads the emulator's own CPU time
(user + system, /proc/PID/stat) from when it is ready until ccsctl is done.
Prints each run and the medians (CPU microseconds per downstream message).
With --scenario-off the graded run sees the same traffic as the plain one (no
drain, drop, NACKs or upstream messages): the grader's own cost per message.

    tests/bench/conformance_cpu.py build/release [--runs 5] [--count 20000] [--scenario-off]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


SCENARIO_OFF = ["--conformance-drain-at", "0", "--conformance-drop-at", "0", "--conformance-retryable-every", "0",
                "--conformance-bad-registration-at", "0", "--conformance-upstream-every", "0"]


def one_run(build, data_dir, count, graded, scenario=True):
    args = [os.path.join(build, "app", "ccs-emulator"), "--listen", "127.0.0.1:0", "--json", "--no-admin",
            "--data-dir", data_dir, "--seed", "7", "--receipt-delay-ms", "200"]
    if graded:
        # The token stays registered: ccsctl sends all of its messages to one.
        args += ["--conformance", "--conformance-unregister-at", "0"]
        if not scenario:
            args += SCENARIO_OFF
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
    a = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
