"""Peer of `lrplan plot`: plotext (the terminal plotting library lrplan draws with) given every step.

    python benchmarks/peers/plotext_points.py N WIDTH HEIGHT

The benchmark's WSD LR (N points, numpy) and a second N-point series (a smooth stand-in for a loss curve on the
right axis), plotted the plain way: one plotext signal per series with all points (plotext 6's figure
API, as lrplan uses it), built to text.  Reports the work time.
"""

import sys
import time

from _common import report, wsd_lr


def main() -> None:
    n, width, height = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    t_imp = time.perf_counter()
    import numpy as np
    import plotext as plt

    t0 = time.perf_counter()
    x = np.arange(n)
    lr = wsd_lr(0, n, n)
    loss = 2.5 + 1.0 / np.sqrt(1.0 + x / 1000.0)
    plt.terminal.limit(False, False)
    f = plt.figure
    f.plot_size(width, height)
    f.draw(f.signal(x.tolist(), lr.tolist(), yside="left").lines())
    f.draw(f.signal(x.tolist(), loss.tolist(), yside="right").lines())
    text = f.build().string(colorless=True)
    report(work_s=time.perf_counter() - t0, import_s=t0 - t_imp, rows=n, chars=len(text))


if __name__ == "__main__":
    main()
