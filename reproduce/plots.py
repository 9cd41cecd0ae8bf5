"""The results page's figures, drawn with matplotlib without a display.

  line_chart      loss curves: steps against values, optional moving average
  scatter_panels  the toy study: one 2-D scatter per (method, seed), data in grey under it
  level_panels    the toy study's phases: D's level sets behind the data and G's samples
  image_row       small grayscale images with a label each (mean digits)

The object API (`Figure` + the Agg canvas) is used, never pyplot: no global figure
state, no GUI backend, so it works with no DISPLAY and from several threads. Each
figure is written atomically (temp file + os.replace); its size in pixels follows from
the arguments (DPI below).
"""


import numpy as np

import utils

DPI = 100
GREY = "#c8c8c8"
SAMPLE_COLOUR = "#1f77b4"
DATA_COLOUR = "#ff7f0e"          # level_panels: the data in orange, G's samples in green
LEVEL_SAMPLE_COLOUR = "#2ca02c"


def _figure(width_px, height_px):
    """A Figure of width_px x height_px pixels on the Agg canvas (matplotlib imported
    only when a figure is drawn: training code that imports this module does not need it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    """Write `fig` as a PNG of exactly its pixel size, atomically; returns path."""
    with utils.atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return path


def _finite_points(points):
    """[n, 2] float array of the rows of `points` with both coordinates finite."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    return points[np.all(np.isfinite(points), axis=1)]


def outside_share(points, extent):
    """The share of `points` ([m, 2]) a panel of [-extent, extent]^2 does not show: the
    non-finite ones and those outside the square."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if not len(points):
        return 0.0
    shown = np.all(np.isfinite(points) & (np.abs(points) <= extent), axis=1)
    return float(1.0 - shown.mean())


def outside_label(share):
    """A panel's note of the samples it cannot show, e.g. "37% outside the view"; None
    when it shows them all."""
    if share <= 0:
        return None
    return "%s outside the view" % ("<1%" if share < 0.005 else "%d%%" % round(100 * share))


def scatter_panels(path, real, panels, row_labels=None, extent=2.5, size=180, label_width=110,
                   col_labels=None):
    """Rows of 2-D scatter plots, each with the real data in grey under the samples.

    Args:
      path: PNG to write.
      real: [n, 2] data points (drawn in every panel).
      panels: list of rows, each a list of [m, 2] sample arrays (rows may be shorter
        than the longest: the missing panels stay empty). Non-finite points are left out.
      row_labels: one text per row (left of the row).
      extent: every panel shows [-extent, extent]^2, equal aspect.
      size: pixels per panel (square); label_width: pixels left of the panels.
      col_labels: one text per column (above the first row), e.g. the seeds.
    A panel that cannot show some of its samples (non-finite or out of the square) says
    how many in its lower left corner (`outside_label`).
    Returns:
      path. The PNG is (label_width + cols * size) x (top + rows * size) pixels, top
      being 24 pixels with col_labels and 8 without.
    """
    real = _finite_points(real)

    def draw(ax, points):
        ax.scatter(real[:, 0], real[:, 1], s=1.0, c=GREY, linewidths=0, rasterized=True)
        samples = _finite_points(points)
        ax.scatter(samples[:, 0], samples[:, 1], s=2.0, c=SAMPLE_COLOUR, alpha=0.6,
                   linewidths=0, rasterized=True)
        note = outside_label(outside_share(points, extent))
        if note:        # an empty-looking panel says where its samples went
            ax.text(0.03, 0.03, note, transform=ax.transAxes, fontsize=6.5, color="#333333",
                    ha="left", va="bottom", zorder=5,
                    bbox=dict(facecolor="white", alpha=0.85, edgecolor="none", pad=1.0))

    fig, _, _ = _draw_panels(panels, extent, size, label_width, row_labels, col_labels, draw)
    return _save(fig, path)


def _draw_panels(panels, extent, size, label_width, row_labels, col_labels, draw):
    """The grid of `_panel_grid` with `draw(axes, item)` run on each panel's item, the
    empty cells blank, column labels above the first row and row labels on the left;
    returns (fig, width, height)."""
    fig, width, height, rows, cols, panel = _panel_grid(panels, extent, size, label_width,
                                                        col_labels)
    bottom = 8
    for r in range(rows):
        row = panels[r] if r < len(panels) else []
        for c in range(cols):
            ax = panel(r, c)
            if c >= len(row):
                ax.set_axis_off()
                continue
            draw(ax, row[c])
            if r == 0 and col_labels:
                ax.set_title(str(col_labels[c]), fontsize=8, pad=3)
        if row_labels and r < len(row_labels):
            fig.text(4 / width, (bottom + (rows - 0.5 - r) * size) / height, str(row_labels[r]),
                     ha="left", va="center", fontsize=9)
    return fig, width, height


def _panel_grid(panels, extent, size, label_width, col_labels):
    """(fig, width, height, rows, cols, panel) of a grid of square panels below an
    optional row of column labels, a label column on the left; panel(r, c) adds the
    axes of row r, column c: [-extent, extent]^2, equal aspect, no ticks, grey frame."""
    rows, cols = len(panels), max([len(r) for r in panels] or [1])
    rows = max(rows, 1)
    top, bottom = (24 if col_labels else 8), 8
    width, height = label_width + cols * size, top + rows * size + bottom
    fig = _figure(width, height)
    pad = 3                                  # pixels between panels

    def panel(r, c):
        x0 = (label_width + c * size + pad) / width
        y0 = (bottom + (rows - 1 - r) * size + pad) / height
        ax = fig.add_axes([x0, y0, (size - 2 * pad) / width, (size - 2 * pad) / height])
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("#888888")
        return ax
    return fig, width, height, rows, cols, panel


def level_panels(path, real, panels, extent, row_labels=None, col_labels=None,
                 corner_label=None, size=180, label_width=110, levels=14):
    """Rows of 2-D panels, each a function's level sets as filled contours behind the
    data (orange) and samples (green): the toy study's D, rows methods, columns phases.

    Args:
      path: PNG to write.
      real: [n, 2] data points (drawn in every panel).
      panels: list of rows, each a list of (values [g, g], samples [m, 2]): the function
        on a g x g grid over [-extent, extent]^2, values[i, j] at (x_j, y_i), both axes
        evenly spaced from -extent to extent. Colours are scaled per panel (`levels`
        bands from its minimum to its maximum; D's scale differs between methods and
        phases); a panel without two distinct finite values gets no contours.
        Non-finite samples are left out.
      row_labels, col_labels: texts left of each row and above each column.
      corner_label: a text above the row labels (e.g. the data set and seed).
      size, label_width: as scatter_panels.
    Returns:
      path, a PNG of scatter_panels' size for the same arguments.
    """
    real = _finite_points(real)

    def draw(ax, item):
        values, samples = item
        values = np.asarray(values, np.float64)
        finite = values[np.isfinite(values)]
        if finite.size and finite.max() > finite.min():
            ax.contourf(np.linspace(-extent, extent, values.shape[1]),
                        np.linspace(-extent, extent, values.shape[0]),
                        np.where(np.isfinite(values), values, np.nan),
                        levels=np.linspace(finite.min(), finite.max(), levels + 1),
                        cmap="Blues", alpha=0.8)
        ax.scatter(real[:, 0], real[:, 1], s=2.0, c=DATA_COLOUR, linewidths=0,
                   rasterized=True)
        samples = _finite_points(samples)
        ax.scatter(samples[:, 0], samples[:, 1], s=2.0, c=LEVEL_SAMPLE_COLOUR, alpha=0.7,
                   linewidths=0, rasterized=True)

    fig, width, height = _draw_panels(panels, extent, size, label_width, row_labels,
                                      col_labels, draw)
    if corner_label:
        fig.text(4 / width, 1 - 4 / height, str(corner_label), ha="left", va="top", fontsize=8)
    return _save(fig, path)


def _moving_average(x, y, window):
    if window > 1 and len(y) >= window:
        y = np.convolve(y, np.ones(window) / window, mode="valid")
        x = x[window - 1:]
    return x, y


def line_chart(path, series, title="", width=720, height=340, smooth=1):
    """Line chart of several series: labelled axes ("step", "loss"), grid, legend.

    Args:
      path: PNG to write.
      series: list of (label, x [n], y [n]); points with a non-finite x or y are left
        out (before the moving average, so a NaN does not blank its window).
      title: text above the chart.
      smooth: moving-average window (1: raw values). With smooth > 1 the raw curve is
        drawn faint behind the smoothed one.
      width, height: pixels.
    Returns:
      path. The y range spans the 0.5-99.5th percentiles of the values shown (a few
      spikes do not squash the curves).
    """
    from matplotlib.ticker import MaxNLocator

    fig = _figure(width, height)
    ax = fig.add_subplot(1, 1, 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))      # steps: no 1.2, 1.4, ...
    shown = []
    for i, (label, x, y) in enumerate(series):
        x = np.asarray(x, np.float64).ravel()
        y = np.asarray(y, np.float64).ravel()
        keep = np.isfinite(x) & np.isfinite(y)
        x, y = x[keep], y[keep]
        colour = "C%d" % (i % 10)
        if not len(x):
            ax.plot([], [], color=colour, label="%s (no finite values)" % label)
            continue
        marker = "o" if len(x) == 1 else None
        xs, ys = _moving_average(x, y, smooth)
        if len(xs) < len(x):
            ax.plot(x, y, color=colour, alpha=0.25, linewidth=0.8)
        ax.plot(xs, ys, color=colour, linewidth=1.4, marker=marker, label=str(label))
        shown.append(y)
    if shown:
        values = np.concatenate(shown)
        lo, hi = np.percentile(values, 0.5), np.percentile(values, 99.5)
        margin = 0.05 * (hi - lo) if hi > lo else max(abs(lo) * 0.05, 0.5)
        ax.set_ylim(lo - margin, hi + margin)
    else:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                color="#888888")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.ticklabel_format(axis="y", useOffset=False)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout(pad=0.6)
    return _save(fig, path)


MIN_WIDTH = 320     # a grid on the page is at least this wide


def copy_enlarged(source, target, min_width=MIN_WIDTH):
    """Copy a grid PNG, enlarged by a whole factor (nearest neighbour) to >= min_width."""
    import shutil
    from PIL import Image
    with Image.open(source) as im:
        factor = max(1, -(-min_width // im.width))
        if factor == 1:
            shutil.copyfile(source, target)
            return
        with utils.atomic_path(target) as tmp:
            im.resize((im.width * factor, im.height * factor), Image.NEAREST).save(
                tmp, format="PNG")


def quality_chart(path, series, ylabel, title="", reference=None, width=620, height=300,
                  extra=()):
    """A measure against the training step: one line per seed with the spread over sample
    draws as error bars, and the real data's value as a dashed line.

    Args:
      series: list of (label, steps [n], means [n], sds [n]).
      reference: (value, label) of the real data (floor, ceiling or baseline), or None.
      extra: series measured with more samples a draw (hollow markers, same colours).
    """
    fig = _figure(width, height)
    ax = fig.add_subplot(1, 1, 1)
    for i, (label, x, y, err) in enumerate(series):
        ax.errorbar(np.asarray(x, np.float64), np.asarray(y, np.float64),
                    yerr=np.asarray(err, np.float64), color="C%d" % (i % 10), marker="o",
                    markersize=3, linewidth=1.2, capsize=2, label=str(label))
    colours = {label: "C%d" % (i % 10) for i, (label, _, _, _) in enumerate(series)}
    for label, x, y, err in extra:
        ax.errorbar(np.asarray(x, np.float64), np.asarray(y, np.float64),
                    yerr=np.asarray(err, np.float64), color=colours.get(label, "k"),
                    marker="o", markerfacecolor="none", markersize=6, linestyle="none",
                    capsize=2)
    if reference is not None and np.isfinite(reference[0]):
        ax.axhline(reference[0], color="#555555", linestyle="--", linewidth=1.0,
                   label=reference[1])
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: "{:,.0f}".format(v)))
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if series or reference is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout(pad=0.6)
    return _save(fig, path)


def image_row(path, images, labels=None, scale=3, columns=None):
    """Grayscale images in rows of `columns` (default: one row), no axes, a label under each.

    Args:
      path: PNG to write.
      images: [n, h, w] (or [n, h, w, 1]) values in [0, 1] (clipped; NaN: black).
      labels: one text per image, under it.
      scale: pixels per image pixel.
      columns: images per row.
    Returns:
      path. The PNG is columns * (w * scale + 8) x rows * (h * scale + 8, + 14 with
      labels) pixels.
    """
    from matplotlib import colormaps

    images = np.asarray(images, np.float64)
    n, h, w = images.shape[:3]
    columns = max(1, min(columns or n, n))
    rows = -(-n // columns)
    label_h = 14 if labels else 0
    cell_w, cell_h = w * scale + 8, h * scale + 8 + label_h
    width, height = columns * cell_w, rows * cell_h
    fig = _figure(width, height)
    cmap = colormaps["gray"].with_extremes(bad="black")
    for i in range(n):
        col, row = i % columns, i // columns
        x0 = col * cell_w + 4
        y0 = height - (row * cell_h + 4 + h * scale)          # bottom of the image
        ax = fig.add_axes([x0 / width, y0 / height, w * scale / width, h * scale / height])
        ax.imshow(np.clip(images[i].reshape(h, w), 0, 1), cmap=cmap, vmin=0, vmax=1,
                  interpolation="nearest", aspect="auto")
        ax.set_axis_off()
        if labels:
            fig.text((x0 + w * scale / 2) / width, (y0 - 2) / height, str(labels[i]),
                     ha="center", va="top", fontsize=8)
    return _save(fig, path)
