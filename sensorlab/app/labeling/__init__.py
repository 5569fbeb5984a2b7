"""The labeling window: timeline tracks of video, audio and signals, segments, hotkeys, playback and model-suggested labels."""
