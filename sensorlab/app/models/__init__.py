"""Loading models into the studio (mapping dialog) and the host-vs-host / host-vs-device parity views."""
