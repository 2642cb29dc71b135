"""``medembed-rag serve`` under load, over loopback, against the same encoder in-process.

Model: MedEmbed-base's shapes (the random twin: 12 layers, 768 dims), one precision for every engine. Two text
mixes: short queries (10-40 tokens) and passages (about 300 tokens; PubMedQA abstracts when the shared sets are
present). Measured in one run, CPU features recorded:
  * in-process: ``encode_documents`` of all texts in one call (the batching ideal);
  * server, 16 concurrent clients (threads, one keep-alive connection each), each request one text;
  * server, the same requests one after another (no batching possible);
  * a single query's latency, p50 over 100: through the server vs in-process ``encode_queries``.
Targets: 16 clients >= 0.8x in-process and >= 3x sequential; the server's p50 within 5 ms of in-process.
Every request goes to 127.0.0.1; counts are bounded.

Anchor: ``--anchor-url URL`` also sends the 16 clients' requests to another OpenAI-compatible server already
serving the same model folder (e.g. infinity-emb: ``infinity_emb v2 --model-id FOLDER --port 7997``, route
``/embeddings``); the report gives ours vs it.

Usage: python benchmarks/bench_serve.py [--precision auto] [--texts 128] [--anchor-url URL --anchor-route PATH]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

WORDS = "patient dose blood heart kidney drug pain day week test level risk care insulin fever water diet".split()


def mixes(n: int) -> dict[str, list[str]]:
    import random

    rng = random.Random(0)
    queries = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 40))) for _ in range(n)]
    try:
        from medembed_rag.evaluation.metrics import load_beir

        data = load_beir(_common.SHARED / "pubmedqa")
        passages = [" ".join(t.split()[:230]) for _, t in list(data.corpus.values())[:n]]
    except FileNotFoundError:
        passages = [" ".join(rng.choice(WORDS) for _ in range(300)) for _ in range(n)]
    return {"short queries": queries, "passages": passages}


def start_server(model: Path, precision: str, port: int) -> subprocess.Popen:
    import httpx

    env = {**os.environ, "MEDEMBED_RAG_CACHE": str(_common.WORK / "ov-cache"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "medembed_rag.app.cli", "serve", "--model", str(model),
                             "--precision", precision, "--port", str(port), "--truncate"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the server did not start")


def through_server(url: str, texts: list[str], clients: int, route: str = "/embed") -> float:
    """Texts per second when ``clients`` threads each send one text per request."""
    import httpx

    per_client = [texts[i::clients] for i in range(clients)]

    def run(batch):
        with httpx.Client(timeout=300) as client:
            for text in batch:
                body = {"inputs": [text]} if route == "/embed" else {"input": [text], "model": "anchor"}
                response = client.post(url + route, json=body)
                response.raise_for_status()

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, per_client))
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--anchor-url", default=None, help="another server of the same model, OpenAI-compatible")
    parser.add_argument("--anchor-route", default="/embeddings")
    args = parser.parse_args()
    import httpx

    from medembed_rag import MedEmbedEncoder

    model = _common.medembed_shaped_model()
    os.environ["MEDEMBED_RAG_CACHE"] = str(_common.WORK / "ov-cache")
    encoder = MedEmbedEncoder(model, precision=args.precision, truncation="silent", show_progress=False)
    encoder.encode_documents(["warm up"])
    texts = mixes(args.texts)
    report, failures = {"precision": args.precision, "mixes": {}}, []
    inproc, one_by_one = {}, {}
    for name, batch in texts.items():
        encoder.encode_documents(batch[:8])
        started = time.perf_counter()
        encoder.encode_documents(batch)
        inproc[name] = len(batch) / (time.perf_counter() - started)
        sample = batch[: max(16, len(batch) // 4)]
        started = time.perf_counter()
        for text in sample:
            encoder.encode_documents([text])
        one_by_one[name] = len(sample) / (time.perf_counter() - started)
    lat_in = []
    for i in range(100):
        started = time.perf_counter()
        encoder.encode_queries([texts["short queries"][i % len(texts["short queries"])]])
        lat_in.append(1000 * (time.perf_counter() - started))
    del encoder
    port = _common_free_port()
    proc = start_server(model, args.precision, port)
    url = f"http://127.0.0.1:{port}"
    try:
        for name, batch in texts.items():
            through_server(url, batch[:16], 16)  # warm-up
            concurrent_rate = through_server(url, batch, 16)
            sequential_rate = through_server(url, batch[: max(16, len(batch) // 4)], 1)
            row = {"in_process_texts_per_s": round(inproc[name], 2), "clients16_texts_per_s": round(concurrent_rate, 2),
                   "sequential_texts_per_s": round(sequential_rate, 2),
                   "clients16_vs_in_process": round(concurrent_rate / inproc[name], 3),
                   "clients16_vs_sequential": round(concurrent_rate / sequential_rate, 3),
                   "in_process_one_by_one_texts_per_s": round(one_by_one[name], 2),
                   "batching_ceiling": round(inproc[name] / one_by_one[name], 3)}
            report["mixes"][name] = row
            print(f"{name:14s} in-process {inproc[name]:7.1f}/s  16 clients {concurrent_rate:7.1f}/s "
                  f"({row['clients16_vs_in_process']:.2f}x)  sequential {sequential_rate:7.1f}/s "
                  f"(16 clients {row['clients16_vs_sequential']:.2f}x; in-process batch vs one by one: "
                  f"{row['batching_ceiling']:.2f}x, the most batching can give on this CPU)", flush=True)
            if args.anchor_url:
                through_server(args.anchor_url, batch[:16], 16, args.anchor_route)
                anchor = through_server(args.anchor_url, batch, 16, args.anchor_route)
                row["anchor_clients16_texts_per_s"] = round(anchor, 2)
                print(f"{'':14s} anchor {args.anchor_url}: 16 clients {anchor:7.1f}/s (ours {concurrent_rate / anchor:.2f}x)")
                if concurrent_rate < anchor:
                    failures.append(f"{name}: behind the anchor at 16 clients")
            if row["clients16_vs_in_process"] < 0.8:
                failures.append(f"{name}: 16 clients {row['clients16_vs_in_process']:.2f}x in-process (< 0.8x)")
            if row["clients16_vs_sequential"] < 3:
                failures.append(f"{name}: 16 clients {row['clients16_vs_sequential']:.2f}x sequential (< 3x; the "
                                f"in-process ceiling here is {row['batching_ceiling']:.2f}x)")
        lat_srv = []
        with httpx.Client(timeout=60) as client:
            for i in range(100):
                text = texts["short queries"][i % len(texts["short queries"])]
                started = time.perf_counter()
                client.post(url + "/embed", json={"inputs": [text], "input_type": "query"}).raise_for_status()
                lat_srv.append(1000 * (time.perf_counter() - started))
        p50_in, p50_srv = statistics.median(lat_in), statistics.median(lat_srv)
        report["latency_ms"] = {"in_process_p50": round(p50_in, 2), "server_p50": round(p50_srv, 2)}
        print(f"single query p50: in-process {p50_in:.2f} ms, server {p50_srv:.2f} ms (+{p50_srv - p50_in:.2f} ms)")
        if p50_srv - p50_in > 5:
            failures.append(f"server p50 {p50_srv - p50_in:.1f} ms over in-process (> 5 ms)")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    report["anchor"] = args.anchor_url
    _common.finish(f"serve-{args.precision}", report, failures)


def _common_free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
