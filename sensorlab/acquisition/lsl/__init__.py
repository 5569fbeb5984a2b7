"""Lab Streaming Layer (LSL) bridge: LSL streams in, sensorlab streams out.

- `inlet.LslSource`: any LSL stream on the machine or network (resolved by name, type or
  source_id) as a sensorlab source; samples are stamped on the host clock and LSL's
  clock-offset measurements are recorded beside them (`clock`).
- `outlet.LslOutlet`: publishes a running stream, or the live labels, as an LSL outlet
  (a node of the stream graph with no output streams).
- `listing.list_lsl_streams`: what ``sensorlab devices`` shows.
- `config`: the rig tables ``[[lsl]]`` and ``[[lsl_outlet]]``.

Importing this package does not load liblsl: only opening a source or outlet does
(`runtime.pylsl`), so a rig without LSL works where pylsl is not installed.
See docs/LSL.md.
"""
