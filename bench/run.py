"""Run the benchmark suite and print one table: ``python bench/run.py [--quick]``.

Bots run as separate processes: ``ours`` (lasersell_sync, decorator handlers), ``raw`` (a bare
websocket-client loop: the practical limit) and ``official`` (lasersell-sdk from PyPI, in its own
virtualenv under bench/.venv-official, created on first run). ``ours+metrics`` (not run unless
named in ``--bots``) is ``ours`` serving Prometheus metrics, scraped every second while it runs.
Every latency is measured on the server's clock. Figures are medians over repetitions; compare
them as ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import websocket

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from server import DONE_ID, BenchServer, pnl, tick  # noqa: E402

OFFICIAL_VENV = HERE / ".venv-official"
OFFICIAL_SDK = "lasersell-sdk==1.1.0"
METRICS = "ours+metrics"
SCRAPE_INTERVAL = 1.0  # Prometheus scrapes every 15 s by default: this is 15 times as often


def official_python() -> Optional[str]:
    """A Python with lasersell-sdk installed (it needs 3.10+ and websockets<16)."""
    python = OFFICIAL_VENV / "bin" / "python"
    if not python.exists():
        if sys.version_info < (3, 10):
            return None
        subprocess.run([sys.executable, "-m", "venv", str(OFFICIAL_VENV)], check=True)
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", OFFICIAL_SDK], capture_output=True)
        if result.returncode:
            print("could not install the official SDK; skipping it", file=sys.stderr)
            return None
    return str(python)


class Bot:
    def __init__(self, name: str, python: str, server: BenchServer, *extra: str) -> None:
        before = len(server.configures)
        script, options = ("ours", ["--metrics-port", str(free_port())]) if name == METRICS else (name, [])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE / "bots"), str(HERE.parent)])}
        self.proc = subprocess.Popen(
            [python, str(HERE / "bots" / f"{script}.py"), server.url, *options, *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server.wait_connections(before + 1)
        self.scraper = Scraper(int(options[1])) if options else None
        time.sleep(0.2)  # let the bot finish starting (handler threads, first reads)

    def stats(self) -> Dict[str, float]:
        """CPU seconds, thread count and context switches of the bot, from /proc."""
        pid = self.proc.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        switches = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.endswith("ctxt_switches:") or "ctxt_switches" in line:
                    switches += int(line.split()[1])
        threads = len(list(Path(f"/proc/{pid}/task").iterdir()))
        return {"cpu": cpu, "switches": switches, "threads": threads}

    def stop(self) -> None:
        if self.scraper is not None:
            scrapes, failures = self.scraper.stop()
            if failures or not scrapes:
                print(f"  {METRICS}: {failures} of {scrapes + failures} scrapes failed", file=sys.stderr)
        self.proc.kill()
        self.proc.wait(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Scraper:
    """Scrapes a bot's metrics endpoint every SCRAPE_INTERVAL seconds, as Prometheus would."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.scrapes = self.failures = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while True:
            try:
                with self.opener.open(self.url, timeout=5) as response:
                    if b"lasersell_frames_received_total" not in response.read():
                        raise ValueError("no frame counter in the scrape")
                self.scrapes += 1
            except (OSError, ValueError):
                self.failures += 1
            if self.stopping.wait(SCRAPE_INTERVAL):
                return

    def stop(self) -> Tuple[int, int]:
        """(scrapes that succeeded, scrapes that failed)."""
        self.stopping.set()
        self.thread.join(10)
        return self.scrapes, self.failures


def pct(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(ns: float) -> float:
    return ns / 1e6


# -- scenarios ---------------------------------------------------------------------------------


def server_send_rate(quick: bool) -> float:
    """Frames per second the server writes to a client that only discards bytes."""
    server = BenchServer()
    ws = websocket.create_connection(server.url, header=["x-api-key: k"])
    ws.send("{}")
    ws.recv()
    count = 100_000 if quick else 400_000
    blob = b"".join(tick(1 + i % 100, i) for i in range(count))
    total, got = len(blob), 0

    def discard() -> None:
        nonlocal got
        while got < total:
            got += len(ws.sock.recv(1 << 20))

    reader = threading.Thread(target=discard)
    reader.start()
    start = time.perf_counter()
    for offset in range(0, total, 1 << 20):
        server.write(blob[offset : offset + (1 << 20)])
    reader.join(60)
    rate = count / (time.perf_counter() - start)
    ws.close()
    server.stop()
    return rate


def quiet(bot: Bot, server: BenchServer, n: int) -> Dict[str, float]:
    latencies = []
    for i in range(n):
        server.signal([10_000 + i])
        latencies.append(server.wait_reaction(10_000 + i))
    return {"p50_ms": ms(pct(latencies, 0.5)), "p99_ms": ms(pct(latencies, 0.99))}


def flood(bot: Bot, server: BenchServer, per_ms: int, seconds: float, signals: int) -> Dict[str, float]:
    before = bot.stats()
    flooder = threading.Thread(target=server.flood, args=(per_ms, seconds))
    flooder.start()
    time.sleep(0.2)
    latencies = []
    for i in range(signals):
        server.signal([20_000 + i])
        latencies.append(server.wait_reaction(20_000 + i, timeout=60))
        time.sleep(max(0.0, (seconds - 0.4) / signals - 0.001))
    flooder.join()
    after = bot.stats()
    return {
        "p50_ms": ms(pct(latencies, 0.5)),
        "p99_ms": ms(pct(latencies, 0.99)),
        "cpu_s": after["cpu"] - before["cpu"],
    }


def saturating(bot: Bot, server: BenchServer, backlog: int, work_us: float) -> Dict[str, float]:
    prefix = b"".join(pnl(1 + i % 100, i) for i in range(backlog))
    server.signal([30_000], prefix=prefix)
    latency = ms(server.wait_reaction(30_000, timeout=120))
    return {"reaction_ms": latency, "backlog_work_ms": backlog * work_us / 1000}


def throughput(bot: Bot, server: BenchServer, count: int) -> Dict[str, float]:
    blob = b"".join(tick(1 + i % 100, i) for i in range(count))
    server.sent[DONE_ID] = time.perf_counter_ns()
    for offset in range(0, len(blob), 1 << 20):
        server.write(blob[offset : offset + (1 << 20)])
    elapsed = server.wait_reaction(DONE_ID, timeout=300)
    return {"ticks_per_s": count / (elapsed / 1e9)}


def burst(bot: Bot, server: BenchServer) -> Dict[str, float]:
    ids = list(range(40_000, 40_010))
    server.signal(ids)
    return {"all_reacted_ms": max(ms(server.wait_reaction(i)) for i in ids)}


def idle(bot: Bot, server: BenchServer, seconds: float) -> Dict[str, float]:
    before = bot.stats()
    time.sleep(seconds)
    after = bot.stats()
    return {
        "cpu_ms_per_s": (after["cpu"] - before["cpu"]) * 1000 / seconds,
        "wakeups_per_s": (after["switches"] - before["switches"]) / seconds,
        "threads": after["threads"],
    }


def reset(bot: Bot, server: BenchServer, times: int) -> Dict[str, float]:
    delays = []
    for _ in range(times):
        count = len(server.configures)
        start = time.perf_counter()
        server.abort()
        try:
            server.wait_connections(count + 1, timeout=10)
        except TimeoutError:
            return {"reconnect_ms": float("nan")}
        delays.append((server.configures[count] - start) * 1000)
        time.sleep(2.5)  # each reset hits an established connection (healthy_after is 2 s)
    return {"reconnect_ms": statistics.median(delays)}


def silent(name: str, python: str, cap: float) -> Dict[str, float]:
    server = BenchServer()
    bot = Bot(name, python, server)
    try:
        count = len(server.configures)
        start = time.perf_counter()
        server.go_silent()
        try:
            server.wait_connections(count + 1, timeout=cap)
            return {"detect_s": server.configures[count] - start}
        except TimeoutError:
            return {"detect_s": float("inf")}
    finally:
        bot.stop()
        server.stop()


# -- driver ------------------------------------------------------------------------------------


def run_bot(name: str, python: str, quick: bool) -> Dict[str, Dict[str, float]]:
    results: Dict[str, Dict[str, float]] = {}

    def with_bot(key: str, measure: Callable[[Bot, BenchServer], Dict[str, float]], *extra: str) -> None:
        server = BenchServer()
        bot = Bot(name, python, server, *extra)
        try:
            results[key] = measure(bot, server)
        except TimeoutError as exc:
            results[key] = {"error": float("nan")}
            print(f"  {name} {key}: {exc}", file=sys.stderr)
        finally:
            bot.stop()
            server.stop()
        print(f"  {name:<8} {key:<12} {results[key]}", flush=True)

    reps = 30 if quick else 100
    with_bot("quiet", lambda b, s: quiet(b, s, reps))
    with_bot("flood20k", lambda b, s: flood(b, s, 20, 3.0 if quick else 6.0, 20 if quick else 40))
    with_bot("saturating", lambda b, s: saturating(b, s, 20_000, 50.0), "--work-us", "50")
    count = 50_000 if quick else 200_000
    with_bot("throughput", lambda b, s: throughput(b, s, count), "--count", str(count))
    with_bot("burst", burst, "--delay-ms", "50")
    with_bot("idle", lambda b, s: idle(b, s, 3.0 if quick else 10.0))
    with_bot("reset", lambda b, s: reset(b, s, 3 if quick else 7))
    # (the reconnect loop escalates only while connections keep failing within healthy_after)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about a minute)")
    parser.add_argument("--bots", default="ours,raw,official")
    parser.add_argument("--no-silent", action="store_true", help="skip the 30-45 s silent-connection test")
    parser.add_argument("--repeat", type=int, default=1, help="run every scenario this many times; report medians")
    args = parser.parse_args()
    pythons = {"ours": sys.executable, METRICS: sys.executable, "raw": sys.executable}
    if "official" in args.bots:
        official = official_python()
        if official:
            pythons["official"] = official
    bots = [b for b in args.bots.split(",") if b in pythons]
    print(f"server send rate to a discarding client: {server_send_rate(args.quick):,.0f} frames/s")
    runs: Dict[str, List[Dict[str, Dict[str, float]]]] = {name: [] for name in bots}
    for repetition in range(args.repeat):  # bots interleaved, so drift in the machine hits all alike
        if args.repeat > 1:
            print(f"repetition {repetition + 1} of {args.repeat}", flush=True)
        for name in bots:
            runs[name].append(run_bot(name, pythons[name], args.quick))
    results = {name: medians(runs[name]) for name in bots}
    if not args.no_silent:
        outcome: Dict[str, Dict[str, float]] = {}
        threads = [
            threading.Thread(target=lambda n=n: outcome.__setitem__(n, silent(n, pythons[n], 50.0))) for n in bots
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for name in bots:
            results[name]["silent"] = outcome[name]
    report(results)
    out = HERE / "results.json"
    out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": machine(), "results": results}, indent=1))
    return 0


def medians(runs: List[Dict[str, Dict[str, float]]]) -> Dict[str, Dict[str, float]]:
    """Per scenario and figure, the median over repetitions."""
    out: Dict[str, Dict[str, float]] = {}
    for scenario in runs[0]:
        for field in runs[0][scenario]:
            values = [run[scenario][field] for run in runs if field in run.get(scenario, {})]
            out.setdefault(scenario, {})[field] = statistics.median(values)
    return out


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    model = models[0] if models else platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


ROWS = [
    ("quiet reaction p50 (ms)", "quiet", "p50_ms"),
    ("quiet reaction p99 (ms)", "quiet", "p99_ms"),
    ("20k/s pnl flood: reaction p50 (ms)", "flood20k", "p50_ms"),
    ("20k/s pnl flood: reaction p99 (ms)", "flood20k", "p99_ms"),
    ("20k/s pnl flood: bot CPU (s)", "flood20k", "cpu_s"),
    ("saturating: exit after 20k slow pnl (ms)", "saturating", "reaction_ms"),
    ("trade_tick throughput (/s)", "throughput", "ticks_per_s"),
    ("burst 10 x 50 ms: all reacted (ms)", "burst", "all_reacted_ms"),
    ("idle CPU (ms per s)", "idle", "cpu_ms_per_s"),
    ("idle wake-ups per s", "idle", "wakeups_per_s"),
    ("idle threads", "idle", "threads"),
    ("TCP reset -> configure (ms)", "reset", "reconnect_ms"),
    ("silent connection detected (s)", "silent", "detect_s"),
]


def report(results: Dict[str, Dict[str, Dict[str, float]]]) -> None:
    names = list(results)
    pairs = [("ours", "raw", "ours/raw"), ("ours", "official", "ours/official")]
    if METRICS in names:
        pairs.append((METRICS, "ours", "metrics on/off"))
    print("\n" + f"{'scenario':<44}" + "".join(f"{n:>14}" for n in names) + "".join(f"{p[2]:>15}" for p in pairs))
    for label, key, field in ROWS:
        values = [results[n].get(key, {}).get(field, float("nan")) for n in names]
        line = f"{label:<44}" + "".join(f"{v:>14,.2f}" for v in values)
        by = dict(zip(names, values))
        for top, bottom, _ in pairs:
            if top in by and bottom in by and by[bottom] not in (0, float("inf")) and by[bottom] == by[bottom]:
                line += f"{by[top] / by[bottom]:>14.2f}x"
            else:
                line += f"{'-':>15}"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
