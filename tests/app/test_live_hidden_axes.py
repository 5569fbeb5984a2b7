"""The live view's hidden x axes do not follow the scrolling range; the shown one does, also
after it moved to another plot (issue 14 §4: ~14 axis updates a frame for axes never drawn).

Frames are driven by hand on the real small rig and painted with ``grab()``."""

from __future__ import annotations

import pytest

from tests.app.conftest import scroll_live_view


def _x_axes(view):
    for panel in view.time_panels:
        for plot in panel._time_plots():
            for side in ("bottom", "top"):
                yield panel, plot, plot.getAxis(side)


def _assert_only_shown_axes_follow(view):
    shown = 0
    for panel, plot, axis in _x_axes(view):
        vb = plot.getViewBox()
        if axis.isVisibleTo(plot):
            shown += 1
            assert axis.linkedView() is vb, panel.info.name
            # The ticks and labels it paints are those of the range the plot shows.
            assert tuple(axis.range) == pytest.approx(tuple(vb.viewRange()[0]), abs=1e-9), panel.info.name
        else:
            assert axis.linkedView() is None, (panel.info.name, axis.orientation)
    assert shown == 1


def _painted_axis_is_current(qtbot, panel, plot):
    """The panel as painted equals the panel painted after telling its axis the view's range
    again (a stale axis would show other tick labels)."""
    g = panel.graphics
    before = g.grab().toImage()
    plot.getAxis("bottom").linkedViewChanged(plot.getViewBox())
    return before == g.grab().toImage()


def test_only_the_shown_time_axis_follows_the_view(qtbot, live_view):
    ranges = scroll_live_view(qtbot, live_view, 4)
    assert len(set(ranges)) >= 2  # it scrolled
    _assert_only_shown_axes_follow(live_view)
    lowest = live_view.time_panels[-1]
    assert _painted_axis_is_current(qtbot, lowest, lowest._time_plots()[-1])


def test_a_time_axis_moved_to_another_plot_shows_its_range_at_once_and_while_scrolling(qtbot, live_view):
    scroll_live_view(qtbot, live_view, 3)
    top, lowest = live_view.time_panels[0], live_view.time_panels[-1]
    assert top is not lowest
    # What `_place_time_axis` does when another panel becomes the lowest (a model's panel added).
    lowest.show_time_axis(False)
    top.show_time_axis(True)
    plot = top._time_plots()[-1]
    _assert_only_shown_axes_follow(live_view)  # relinked with the range the plot shows now
    assert _painted_axis_is_current(qtbot, top, plot)
    ranges = scroll_live_view(qtbot, live_view, 4)
    assert len(set(ranges)) >= 2
    _assert_only_shown_axes_follow(live_view)
    assert _painted_axis_is_current(qtbot, top, plot)
    # And back: the events panel's axis follows again.
    top.show_time_axis(False)
    lowest.show_time_axis(True)
    scroll_live_view(qtbot, live_view, 2)
    _assert_only_shown_axes_follow(live_view)
    assert _painted_axis_is_current(qtbot, lowest, lowest._time_plots()[-1])
