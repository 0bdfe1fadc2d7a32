"""The first send after an idle period, warm against cold: ``python bench/warm.py [--rounds 30]``.

A local HTTPS JSON-RPC server (a ``trustme`` CA) closes keep-alive connections that sit idle
for ``--idle-timeout`` seconds, as providers and load balancers do. Two ``TxSender``: ``cold``
does nothing between sends; ``warm`` calls ``sender.warm(target)`` every ``--interval`` seconds
(what ``auto_exit(keep_warm=...)`` does on its timer thread). Each round waits longer than the
idle timeout, then times one ``sendTransaction`` on each (in alternating order); p50/p99 in ms.

On loopback the difference is the handshakes' CPU time. Over the internet each handshake round
trip costs an RTT: the script counts them from the negotiated TLS version (TCP 1, TLS 1.3 1,
TLS 1.2 2) and states the extra time at 20, 80 and 200 ms round trips.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import trustme

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import lasersell_sync as ls  # noqa: E402

SIGNATURE = "5" * 88


def serve(idle_timeout: float) -> Any:
    """The HTTPS server and the CA bundle path that trusts it."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = Path(tempfile.mkdtemp(prefix="warm-bench-")) / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    versions: List[str] = []

    class Rpc(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = idle_timeout  # an idle keep-alive connection is closed after this long

        def setup(self) -> None:
            super().setup()
            versions.append(self.request.version())

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            result = SIGNATURE if body.get("method") == "sendTransaction" else "ok"
            payload = json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def log_error(self, format: str, *args: Any) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> Any:
            conn, addr = super().get_request()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as providers do: no Nagle stall
            return conn, addr

    server = Server(("127.0.0.1", 0), Rpc)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), name="warm-bench-server", daemon=True).start()
    return server, bundle, versions


def pct(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--idle-timeout", type=float, default=1.0, help="the server closes idle connections after this")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two warm-ups")
    options = parser.parse_args()
    server, bundle, versions = serve(options.idle_timeout)
    target = ls.SendTargetRpc(url=f"https://127.0.0.1:{server.server_address[1]}/rpc")
    cold, warm = ls.TxSender(verify=bundle), ls.TxSender(verify=bundle)
    stop = threading.Event()

    def keep_warm() -> None:
        while not stop.wait(options.interval):
            with contextlib.suppress(ls.TxSubmitError):
                warm.warm(target)

    warmer = threading.Thread(target=keep_warm, name="warm-bench-warmer")
    times: Dict[str, List[float]] = {"cold": [], "warm": []}
    try:
        for sender in (cold, warm):
            sender.send_b64(target, "AAAA")  # both start with an open connection
        warmer.start()
        for round_no in range(options.rounds):
            time.sleep(options.idle_timeout + 0.3)  # idle for longer than the server keeps it
            order = [("cold", cold), ("warm", warm)] if round_no % 2 == 0 else [("warm", warm), ("cold", cold)]
            for name, sender in order:
                started = time.perf_counter()
                assert sender.send_b64(target, "AAAA") == SIGNATURE
                times[name].append((time.perf_counter() - started) * 1000)
    finally:
        stop.set()
        if warmer.is_alive():
            warmer.join()
        cold.close()
        warm.close()
        server.shutdown()
    tls = max(set(versions), key=versions.count)
    round_trips = 1 + (1 if tls == "TLSv1.3" else 2)  # TCP, then the TLS handshake
    print(f"first sendTransaction after {options.idle_timeout + 0.3:g} s idle ({options.rounds} rounds, {tls}):")
    for name in ("cold", "warm"):
        print(f"  {name:<5} p50 {statistics.median(times[name]):6.2f} ms   p99 {pct(times[name], 0.99):6.2f} ms")
    ratio = statistics.median(times["cold"]) / statistics.median(times["warm"])
    print(f"  cold/warm p50: {ratio:.1f}x on loopback")
    print(f"a cold send also waits {round_trips} round trips (TCP 1 + {tls} {round_trips - 1}) before the request:")
    for rtt in (20, 80, 200):
        print(f"  at {rtt:>3} ms RTT: +{round_trips * rtt} ms ({round_trips} x {rtt} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
