"""The confusion matrix picture (confusion.png, shown in the Training tab): every count readable."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")


def _luminance(rgb) -> float:
    def lin(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(float(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("confusion", [[[27, 18], [27, 33]], [[40, 0, 3], [9, 79, 1], [4, 2, 81]], [[5, 5], [5, 5]]])
def test_every_count_contrasts_with_its_cell(confusion):
    """A 2-class matrix of the demo rig drew the count 18 white on a white cell: the shading
    started at the smallest count, the text colour assumed it started at 0."""
    from matplotlib import colors
    from matplotlib import pyplot as plt

    from sensorlab.training.metrics import confusion_figure

    fig = confusion_figure({"confusion": confusion, "labels": [str(i) for i in range(len(confusion))]})
    ax = fig.axes[0]
    image = ax.images[0]
    texts = [t for t in ax.texts if t.get_text().isdigit()]
    assert len(texts) == len(confusion) ** 2
    for t in texts:
        j, i = (int(round(v)) for v in t.get_position())
        cell = image.cmap(image.norm(confusion[i][j]))
        a, b = _luminance(cell), _luminance(colors.to_rgb(t.get_color()))
        ratio = (max(a, b) + 0.05) / (min(a, b) + 0.05)
        assert ratio >= 3.0, (t.get_text(), ratio)  # WCAG: large text at least 3:1
    plt.close(fig)
