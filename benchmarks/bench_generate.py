"""Full-scale synthetic market: wall time, peak memory, calibration at --scale 1.

Baseline in the same process: writing the generated tables with plain ``DataFrame.to_parquet``
(the unavoidable IO), so the ratio says how much the generation itself costs on top.

Run: ``.venv/bin/python -m benchmarks.bench_generate [--scale 1] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.report import peak_rss_mib, write_section
from features.synthetic.market import generate_market, write_market
from features.synthetic.market_check import calibration_table, format_table, shape_figures
from features.synthetic.spec import MarketSpec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    spec = MarketSpec(first_year=2011, last_year=2020, scale=args.scale, seed=7)
    runs, io = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            t0 = time.perf_counter()
            market = generate_market(spec)
            write_market(market, Path(tmp) / "gen")
            runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for name, df in market.tables.items():
                df.to_parquet(Path(tmp) / f"plain_{name}.parquet", index=False)
            io.append(time.perf_counter() - t0)
            if i < args.repeat - 1:
                del market
    n = len(market.tables["contracts"])
    med, base = statistics.median(runs), statistics.median(io)
    ok = all(r.ok for r in calibration_table(market.tables, args.scale))
    body = (
        f"| figure | value |\n| --- | --- |\n"
        f"| contracts generated (2011–2020) | {n:,} |\n"
        f"| generate + write, median of {args.repeat} | {med:.1f} s |\n"
        f"| contracts per second | {n / med:,.0f} |\n"
        f"| baseline: plain `to_parquet` of the same tables, median | {base:.1f} s |\n"
        f"| ratio generate+write / plain write | {med / base:.1f}× |\n"
        f"| peak memory (max RSS of the process) | {peak_rss_mib() / 1024:.2f} GiB |\n"
        f"| every calibration figure within tolerance | {'yes' if ok else 'NO'} |\n\n"
        "Calibration at this scale (`techcredit generate --scale 1 --check` prints the same):\n\n"
        "```\n" + format_table(calibration_table(market.tables, args.scale),
                               shape_figures(market.tables)) + "\n```\n"
    )
    write_section("generate", f"python -m benchmarks.bench_generate --scale {args.scale:g} "
                  f"--repeat {args.repeat}", body)
    print(body)


if __name__ == "__main__":
    main()
