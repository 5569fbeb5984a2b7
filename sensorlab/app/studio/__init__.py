"""The studio's main window and the recording workflow around it: sessions, devices, sync wizard."""
