"""XDF (the Lab Streaming Layer's file format): export sessions, import recordings.

- `export.export_xdf`: a session → one ``.xdf`` file (written here, to the XDF 1.0
  specification; readable by pyxdf, LabRecorder's tools, MNE, EEGLAB).
- `importer.import_xdf`: an ``.xdf`` file (LabRecorder's, or our own) → a session (read with
  pyxdf, the reference reader).

Clocks: an XDF stream stores time stamps on its sender's clock plus ClockOffset measurements
(collection time on the sender's clock, offset to the recorder's clock). A session's LSL
streams keep exactly that (raw device times and a ``<name>_lsl_clock`` stream, see
`sensorlab.acquisition.lsl.inlet`), so they export as LabRecorder would write them; every
other stream is exported on the host clock (offset 0). On import, a stream's host time is its
time stamp plus the offset of the latest measurement at or before it — the rule the inlet
applies live — so timestamps and offsets survive a session → XDF → session round trip.
See docs/LSL.md.
"""
