"""Figures without matplotlib: scatter panels and line charts drawn with PIL on NumPy.

Only pillow (already needed by data.py) is used, so the results page needs no extra
package. The figures are plain: axes, a few tick values, a legend.
"""

import os

import numpy as np
from PIL import Image, ImageDraw

import utils

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127)]
GREY = (200, 200, 200)


def _save(image, path):
    utils.ensure_dir(os.path.dirname(path) or ".")
    tmp = path + ".tmp.png"
    image.save(tmp)
    os.replace(tmp, path)


def scatter_panels(path, real, panels, row_labels=None, extent=2.5, size=180, label_width=110):
    """Rows of 2-D scatter plots, each with the real data in grey under the samples.

    Args:
      path: PNG to write.
      real: [n, 2] data points (drawn in every panel).
      panels: list of rows, each a list of [m, 2] sample arrays.
      row_labels: one text per row (left margin).
      extent: the panels show [-extent, extent]^2.
    """
    rows, cols = len(panels), max(len(r) for r in panels)
    image = Image.new("RGB", (label_width + cols * (size + 4), rows * (size + 4)), "white")
    draw = ImageDraw.Draw(image)

    def to_pixels(points, x0, y0):
        points = np.asarray(points, np.float64)
        points = points[np.all(np.isfinite(points), axis=1)]
        px = x0 + (points[:, 0] + extent) / (2 * extent) * (size - 1)
        py = y0 + (extent - points[:, 1]) / (2 * extent) * (size - 1)
        keep = (px >= x0) & (px < x0 + size) & (py >= y0) & (py < y0 + size)
        return px[keep], py[keep]

    for r, row in enumerate(panels):
        y0 = r * (size + 4) + 2
        if row_labels:
            draw.text((4, y0 + size // 2 - 5), str(row_labels[r]), fill="black")
        for c, samples in enumerate(row):
            x0 = label_width + c * (size + 4) + 2
            draw.rectangle([x0 - 1, y0 - 1, x0 + size, y0 + size], outline=(120, 120, 120))
            for px, py in zip(*to_pixels(real, x0, y0)):
                draw.point((px, py), fill=GREY)
            for px, py in zip(*to_pixels(samples, x0, y0)):
                draw.rectangle([px - 1, py - 1, px, py], fill=COLOURS[0])
    _save(image, path)
    return image


def _nice(value):
    return ("%.3g" % value) if abs(value) < 1e4 else ("%.2e" % value)


def line_chart(path, series, title="", width=640, height=300, smooth=1):
    """Line chart of several series.

    Args:
      path: PNG to write.
      series: list of (label, x [n], y [n]).
      title: text above the chart.
      smooth: moving-average window (1: raw values).
    """
    left, right, top, bottom = 60, 150, 24, 30
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    prepared = []
    for label, x, y in series:
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if smooth > 1 and len(y) >= smooth:
            y = np.convolve(y, np.ones(smooth) / smooth, mode="valid")
            x = x[smooth - 1:]
        keep = np.isfinite(x) & np.isfinite(y)
        prepared.append((label, x[keep], y[keep]))
    xs = np.concatenate([p[1] for p in prepared if len(p[1])] or [np.zeros(1)])
    ys = np.concatenate([p[2] for p in prepared if len(p[2])] or [np.zeros(1)])
    x_lo, x_hi = float(xs.min()), float(xs.max())
    y_lo, y_hi = float(np.percentile(ys, 0.5)), float(np.percentile(ys, 99.5))
    if x_hi == x_lo:
        x_hi = x_lo + 1.0
    if y_hi == y_lo:
        y_hi = y_lo + 1.0
    plot_w, plot_h = width - left - right, height - top - bottom
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline="black")
    draw.text((left, 4), title, fill="black")
    for frac in (0.0, 0.5, 1.0):
        yv = y_lo + frac * (y_hi - y_lo)
        py = top + plot_h - frac * plot_h
        draw.line([left - 4, py, left, py], fill="black")
        draw.text((4, py - 5), _nice(yv), fill="black")
        xv = x_lo + frac * (x_hi - x_lo)
        px = left + frac * plot_w
        draw.line([px, top + plot_h, px, top + plot_h + 4], fill="black")
        draw.text((px - 10, top + plot_h + 8), _nice(xv), fill="black")
    for i, (label, x, y) in enumerate(prepared):
        colour = COLOURS[i % len(COLOURS)]
        if len(x):
            px = left + (x - x_lo) / (x_hi - x_lo) * plot_w
            py = top + plot_h - (np.clip(y, y_lo, y_hi) - y_lo) / (y_hi - y_lo) * plot_h
            draw.line(list(zip(px.tolist(), py.tolist())), fill=colour, width=1)
        ly = top + 6 + 14 * i
        draw.line([left + plot_w + 10, ly + 5, left + plot_w + 30, ly + 5], fill=colour, width=2)
        draw.text((left + plot_w + 34, ly), str(label), fill="black")
    _save(image, path)
    return image


def image_row(path, images, labels=None, scale=3, columns=None):
    """Grayscale images [n, h, w] in [0, 1] (e.g. mean digits) in rows of `columns`
    (default: one row), scaled up, with an optional text under each (NaN: black)."""
    images = np.asarray(images, np.float64)
    n, h, w = images.shape[:3]
    columns = columns or n
    rows = -(-n // columns)
    cell_w, cell_h = w * scale + 6, h * scale + (16 if labels else 6)
    canvas = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(canvas)
    for i in range(n):
        x0, y0 = (i % columns) * cell_w, (i // columns) * cell_h
        tile = np.nan_to_num(images[i].reshape(h, w), nan=0.0)
        tile = Image.fromarray(np.round(np.clip(tile, 0, 1) * 255).astype(np.uint8), "L")
        canvas.paste(tile.resize((w * scale, h * scale), Image.NEAREST).convert("RGB"),
                     (x0 + 3, y0 + 3))
        if labels:
            draw.text((x0 + 3, y0 + h * scale + 4), str(labels[i]), fill="black")
    _save(canvas, path)
    return canvas
