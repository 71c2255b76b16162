"""Charts of quantization results, as PNG files (matplotlib, Agg backend).

    qc.plot.error_vs_bpw({"qc imatrix": [(3.5, 0.08), (4.5, 0.02)],
                          "llama.cpp Q4_K_M": [(4.9, 0.03)]}, "err.png")
    qc.plot.bits_per_layer(qc.quantize(...), "bits.png")
"""
import re


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def error_vs_bpw(series, out, title="quantization error against size",
                 ylabel="PPL(Q)/PPL(float) - 1", xlabel="bits per weight",
                 log=True):
    """One line per series ({label: [(bpw, error), ...]}): qc's as circles
    on solid lines, the reference's as squares on
    dashed ones (labels starting with "llama"). Points with no error or error <= 0 on a log scale are left
    out. Writes `out` (PNG)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    for label in sorted(series):
        points = sorted((float(b), float(e)) for b, e in series[label]
                        if b is not None and e is not None and (e > 0 or not log))
        if not points:
            continue
        style = "s--" if label.lower().startswith("llama") else "o-"
        ax.plot([p[0] for p in points], [p[1] for p in points], style,
                label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _layer(name):
    m = re.match(r"blk\.(\d+)\.", name)
    return int(m.group(1)) if m else None


def bits_per_layer(table, out, title="bits per weight of a mixed assignment"):
    """A mixed assignment (qc.quantize's table: name, format, bpw): bits per
    weight of every tensor, grouped by block (embedding and head apart),
    coloured by format. Writes `out` (PNG)."""
    plt = _pyplot()
    rows = sorted(table, key=lambda r: (_layer(r["name"]) is not None,
                                        _layer(r["name"]) or 0, r["name"]))
    formats = sorted({r["format"] for r in rows})
    colours = {f: plt.cm.tab20(i % 20) for i, f in enumerate(formats)}
    fig, ax = plt.subplots(figsize=(max(8, 0.22 * len(rows)), 5))
    xs = range(len(rows))
    ax.bar(xs, [r["bpw"] for r in rows],
           color=[colours[r["format"]] for r in rows])
    ticks = [r["name"].replace(".weight", "") for r in rows]
    ax.set_xticks(list(xs))
    ax.set_xticklabels(ticks, rotation=90, fontsize=6)
    ax.set_ylabel("bits per weight")
    ax.set_title(title)
    for f in formats:
        ax.bar([0], [0], color=colours[f], label=f)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
