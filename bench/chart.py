#!/usr/bin/env python3
"""bench/chart.py -- a PNG chart beside every benchmark's Markdown table.

Every bench script writes its report as Markdown tables under bench/results/ and then
calls write_chart(path), which draws the same figures as bar or line charts into
<report>.png. The charts are read off the Markdown (not off the scripts' internals) so
that one drawing routine serves every script and old reports can be redrawn.

How a table becomes a panel:
  * columns named as a pair, "tandem X" and "redis X" (or "Tandem req/s" / "Redis req/s"):
    one panel per pair, grouped bars per row (a line per server when the rows are numbers,
    such as the replica counts of the fan-out curves);
  * a "server" column holding tandem / redis: the same, per numeric column;
  * plain "tandem" and "redis" columns under a "figure" column (rows in different units):
    one panel of tandem/redis ratios, with the line at 1.0 (left of it Tandem is lower);
  * columns holding anything but single numbers (per-round lists, "p50 / p99") are skipped.

Usage:
  bench/chart.py REPORT.md...    draw REPORT.png for each report
  bench/chart.py --readme        redraw the newest report of each benchmark and rewrite the
                                 "Latest results" part of bench/README.md

matplotlib comes from PyPI; when it is missing, ensure_matplotlib() installs it for the
user (pip --user), and a bench run never fails for want of a chart.
"""
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
README = os.path.join(HERE, "README.md")
TANDEM_COLOR, REDIS_COLOR, FLOOR_COLOR = "#2b6cb0", "#c53030", "#718096"


def ensure_matplotlib():
    """Imports matplotlib (installing it from PyPI for the user if needed); None if impossible."""
    try:
        import matplotlib
    except ImportError:
        cmd = [sys.executable, "-m", "pip", "install", "--user", "-q", "matplotlib"]
        r = subprocess.run(cmd, capture_output=True)
        if r.returncode != 0:  # Debian's Python refuses --user installs without this flag
            r = subprocess.run(cmd + ["--break-system-packages"], capture_output=True)
        if r.returncode != 0:
            sys.stderr.write("chart: matplotlib is not installed and pip could not install it\n")
            return None
        import site
        import importlib
        sys.path.append(site.getusersitepackages())
        importlib.invalidate_caches()
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


# ---------------------------------------------------------------- Markdown tables

def parse_tables(text):
    """Every table in the report: (heading above it, header cells, rows of cells)."""
    tables, heading, lines = [], "", text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|\s*:?-{3}", lines[i + 1].strip()):
            header = cells(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(cells(lines[i].strip()))
                i += 1
            tables.append((heading, header, rows))
            continue
        i += 1
    return tables


def cells(line):
    return [c.strip().strip("`") for c in line.strip().strip("|").split("|")]


def number(cell):
    """A cell's single number ("1,234", "0.79x", "12.5 %", "+0.81 pt"), or None."""
    c = cell.replace(",", "").replace("\u2009", "").strip()
    c = re.sub(r"\s*(x|%|pt|ms|s|us|µs|MB|B)$", "", c)
    try:
        return float(c)
    except ValueError:
        return None


# ---------------------------------------------------------------- panels

def panels_of(heading, header, rows):
    """The panels one table yields: dicts with title, labels, series {name: values}, kind."""
    lower = [h.lower() for h in header]
    out = []
    if "server" in lower:
        return long_format_panels(heading, header, rows)
    pairs = []
    for i, h in enumerate(lower):
        if "tandem" not in h or re.search(r"tandem\s*/\s*redis", h):
            continue
        twin = h.replace("tandem", "redis")
        if twin in lower and twin != h:
            pairs.append((i, lower.index(twin), header[i].replace("tandem", "").replace("Tandem", "").strip()))
        elif i + 1 < len(lower) and lower[i + 1] == "redis":
            pairs.append((i, i + 1, header[i].replace("Tandem", "").replace("tandem", "").strip()))
    if not pairs:
        return out
    label_cols = [j for j in range(len(header)) if "tandem" not in lower[j] and "redis" not in lower[j]
                  and not any(number(r[j]) is not None for r in rows if j < len(r))]
    # A second label column with a few values (compare's "mode": plain, P16, r1M) splits the
    # table into one panel per value: their scales differ by an order of magnitude.
    if len(label_cols) >= 2:
        modes = list(dict.fromkeys(r[label_cols[1]] for r in rows if label_cols[1] < len(r)))
        if 1 < len(modes) <= 6:
            out = []
            for mode in modes:
                part = [r for r in rows if label_cols[1] < len(r) and r[label_cols[1]] == mode]
                out += panels_of(f"{heading} [{mode}]", [h for j, h in enumerate(header) if j != label_cols[1]],
                                 [[c for j, c in enumerate(r) if j != label_cols[1]] for r in part])
            return out
    # No text column: the first one holds the x values (replicas, clients): a line per server.
    numeric_labels = not label_cols
    labels = [" ".join(r[j] for j in label_cols if j < len(r)) if label_cols else r[0] for r in rows]
    floor = next((j for j, h in enumerate(lower) if "floor" in h), None)
    for ti, ri, name in pairs:
        tv = [number(r[ti]) if ti < len(r) else None for r in rows]
        rv = [number(r[ri]) if ri < len(r) else None for r in rows]
        keep = [k for k in range(len(rows)) if tv[k] is not None and rv[k] is not None]
        if not keep:
            continue
        title = f"{heading}: {name}" if name else heading
        if lower[ti] == "tandem" and lower[0] == "figure":
            out.append({"title": heading + ": tandem / redis (1.0: the same)",
                        "labels": [labels[k] for k in keep],
                        "series": {"tandem / redis": [tv[k] / rv[k] if rv[k] else 0 for k in keep]},
                        "kind": "ratio"})
            continue
        series = {"tandem": [tv[k] for k in keep], "redis": [rv[k] for k in keep]}
        if floor is not None and lower[ti] == "tandem":
            series["tandem-floor"] = [number(rows[k][floor]) or 0 for k in keep]
        out.append({"title": title, "labels": [labels[k] for k in keep], "series": series,
                    "kind": "line" if numeric_labels else "bars", "xlabel": header[0]})
    return out


def long_format_panels(heading, header, rows):
    """Tables with a "server" column: one panel per numeric column, rows grouped by label."""
    lower = [h.lower() for h in header]
    s = lower.index("server")
    value_cols = [j for j in range(len(header)) if j != s and rows and all(number(r[j]) is not None for r in rows if j < len(r)
                  and r[s].lower() in ("tandem", "redis"))]
    label_cols = [j for j in range(len(header)) if j != s and j not in value_cols]
    out = []
    for j in value_cols:
        groups, order = {}, []
        for r in rows:
            server = r[s].lower()
            if server not in ("tandem", "redis") or j >= len(r):
                continue
            key = " ".join(r[k] for k in label_cols if k < len(r))
            if key not in groups:
                groups[key] = {}
                order.append(key)
            groups[key].setdefault(server, number(r[j]))
        keep = [k for k in order if "tandem" in groups[k] and "redis" in groups[k]]
        if keep:
            out.append({"title": f"{heading}: {header[j]}", "labels": keep, "kind": "bars",
                        "series": {"tandem": [groups[k]["tandem"] for k in keep],
                                   "redis": [groups[k]["redis"] for k in keep]}})
    return out


# ---------------------------------------------------------------- drawing

def draw(plt, panels, title, path):
    # (A panel of zeros only, such as "replicas dropped: 0", says nothing a chart can show.)
    panels = [p for p in panels if any(v for vals in p["series"].values() for v in vals)][:10]
    if not panels:
        return False
    heights = [max(3.2, 0.28 * len(p["labels"]) + 1) if p["kind"] == "ratio" else 3.2 for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    colors = {"tandem": TANDEM_COLOR, "redis": REDIS_COLOR, "tandem-floor": FLOOR_COLOR}
    for ax, p in zip(axes[:, 0], panels):
        labels, series = p["labels"], p["series"]
        if p["kind"] == "line":
            xs = [number(l) for l in labels]
            for name, vals in series.items():
                ax.plot(xs, vals, marker="o", label=name, color=colors.get(name))
            ax.set_xlabel(p.get("xlabel", ""), fontsize=8)
        elif p["kind"] == "ratio":
            vals = series["tandem / redis"]
            ax.barh(range(len(labels)), vals, color=TANDEM_COLOR)
            ax.axvline(1.0, color="black", linewidth=0.8)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            ax.invert_yaxis()
        else:
            n = len(series)
            width = 0.8 / n
            for k, (name, vals) in enumerate(series.items()):
                ax.bar([x + (k - (n - 1) / 2) * width for x in range(len(labels))], vals, width,
                       label=name, color=colors.get(name))
            ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0,
                          ha="right" if len(labels) > 6 else "center", fontsize=7)
            values = [v for vals in series.values() for v in vals if v and v > 0]
            if values and max(values) / min(values) > 50:
                ax.set_yscale("log")
        ax.set_title(p["title"][:110], fontsize=9)
        if p["kind"] != "ratio":
            ax.legend(fontsize=7)
        ax.grid(axis="y" if p["kind"] != "ratio" else "x", alpha=0.3)
    fig.suptitle(title[:120], fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / sum(heights)))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def write_chart(md_path):
    """Draws md_path's tables into md_path with .png; returns the PNG's path or None."""
    try:
        with open(md_path) as f:
            text = f.read()
        panels = [p for t in parse_tables(text) for p in panels_of(*t)]
        if not panels:
            return None
        plt = ensure_matplotlib()
        if plt is None:
            return None
        title = next((l.lstrip("# ").strip() for l in text.split("\n") if l.startswith("# ")), os.path.basename(md_path))
        png = os.path.splitext(md_path)[0] + ".png"
        return png if draw(plt, panels, title, png) else None
    except Exception as e:  # a chart never fails a benchmark run
        sys.stderr.write(f"chart: {md_path}: {e}\n")
        return None


# ---------------------------------------------------------------- bench/README.md

def latest_reports():
    """The newest report of each benchmark (bench/results/<bench>-<UTC time>.md)."""
    newest = {}
    for path in sorted(glob.glob(os.path.join(RESULTS, "*.md"))):
        m = re.match(r"(.+)-(\d{8}-\d{6}Z)\.md$", os.path.basename(path))
        if m:
            newest[m.group(1)] = path
    return newest


def update_readme():
    with open(README) as f:
        text = f.read()
    start, end = "<!-- latest: written by bench/chart.py --readme -->", "<!-- end of latest -->"
    parts = ["", ""]
    for bench, path in sorted(latest_reports().items()):
        # (A report whose script draws its own chart, as bench/micro's, keeps that one.)
        png = write_chart(path) or next(iter(glob.glob(os.path.splitext(path)[0] + ".png")), None)
        name = os.path.basename(path)
        parts.append(f"### {bench}\n\n[`results/{name}`](results/{name})\n")
        if png:
            parts.append(f"![{bench}](results/{os.path.basename(png)})\n")
    block = start + "\n".join(parts) + "\n" + end
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(README, "w") as f:
        f.write(text)


if __name__ == "__main__":
    if sys.argv[1:] == ["--readme"]:
        update_readme()
    elif len(sys.argv) > 1:
        for md in sys.argv[1:]:
            print(write_chart(md) or f"{md}: no chart")
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
