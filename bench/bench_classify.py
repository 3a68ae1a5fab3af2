"""Classifier benchmark: batch throughput (1 and 2 processes), single-text latency, held-out accuracy.

Run:  .venv/bin/python bench/bench_classify.py [--n 20000] [--model PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from civicgrid.classify.corpus import load_corpus, split_corpus
from civicgrid.classify.model import Classifier
from civicgrid.classify.train import evaluate

BATCH = 1000


def _classify_all(model_path: str | None, texts: list[str]) -> int:
    model = Classifier.load(Path(model_path) if model_path else None)
    model.predict(texts[:10])  # warm up jieba
    for start in range(0, len(texts), BATCH):
        model.predict(texts[start : start + BATCH])
    return len(texts)


def _two_process_rate(model_path: str | None, texts: list[str]) -> float:
    halves = [texts[: len(texts) // 2], texts[len(texts) // 2 :]]
    with ProcessPoolExecutor(max_workers=2) as pool:
        # warm the workers (import, model load, jieba) before timing
        list(pool.map(_classify_all, [model_path] * 2, [texts[:20]] * 2))
        started = time.perf_counter()
        done = sum(pool.map(_classify_all, [model_path] * 2, halves))
        return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000, help="texts to classify in the batch runs")
    parser.add_argument("--model", type=str, default=None, help="artifact path (default: shipped)")
    args = parser.parse_args()

    started = time.perf_counter()
    model = Classifier.load(Path(args.model) if args.model else None)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    model.predict_one("路灯不亮")
    first_s = time.perf_counter() - started

    rows = load_corpus()
    corpus_texts = [r.text for r in rows]
    texts = (corpus_texts * (args.n // len(corpus_texts) + 1))[: args.n]

    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        model.predict(texts[start : start + BATCH])
    one_proc = len(texts) / (time.perf_counter() - started)
    two_proc = _two_process_rate(args.model, texts)

    latencies = []
    for text in corpus_texts[:1000]:
        t0 = time.perf_counter()
        model.predict_one(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()

    _, test = split_corpus(rows)
    result = evaluate(model, test)

    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"model: {args.model or 'shipped'} ({model.info.estimator}, trained on {model.info.n_train} texts)")
    print(f"artifact load {load_s:.2f} s; first prediction {first_s:.2f} s (jieba initialisation)")
    print(f"batch ({BATCH}/call, {len(texts)} texts): 1 proc {one_proc:,.0f}/s, 2 procs {two_proc:,.0f}/s")
    print(
        f"single text ({len(latencies)} calls): median {statistics.median(latencies):.2f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.2f} ms, max {latencies[-1]:.2f} ms"
    )
    print(f"held-out ({result.n} texts of {len(rows)}): top-1 {result.top1:.1%}, top-3 {result.top3:.1%}")


if __name__ == "__main__":
    main()
