"""Serve a video file or World frames as an MJPEG-over-HTTP stream, like an ESP32-CAM.

``cv2.VideoCapture("http://127.0.0.1:PORT/stream.mjpg", cv2.CAP_FFMPEG)`` reads it live at the
served rate (docs/TESTING.md, "Camera"). Each client gets its own paced frame sequence.

Run::

    python -m sensorlab.acquisition.emulated.mjpeg_server clip.avi --port 8765 --fps 30
    python -m sensorlab.acquisition.emulated.mjpeg_server --world --port 0   # prints the URL

The first line printed is the stream URL (port 0 picks a free port).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sensorlab.acquisition.clock import now

BOUNDARY = "frame"


class MjpegServer:
    """An HTTP server thread streaming ``multipart/x-mixed-replace`` JPEG frames.

    Parameters
    ----------
    video
        A video file to loop, or None to film ``world``.
    world
        The World to film (default `shared_world()`).
    port
        TCP port on 127.0.0.1 (0: any free port; see ``url``).
    fps, width, height, quality
        Served rate, World frame size, JPEG quality.
    """

    def __init__(self, video: str | Path | None = None, port: int = 0, fps: float = 30.0,
                 width: int = 640, height: int = 480, quality: int = 80, world=None):  # fmt: skip
        self.world = world
        self.video, self.fps, self.width, self.height, self.quality = video, fps, width, height, quality
        self._halt = threading.Event()  # NB: set once by stop(), read by every client thread
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # one thread per client
                if self.path.split("?")[0] != "/stream.mjpg":
                    self.send_error(404, "try /stream.mjpg")
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                try:
                    for jpeg in server._jpegs():
                        self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode())
                        self.wfile.write(jpeg + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client left

            def log_message(self, *args):  # no per-request noise on stderr
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self._thread: threading.Thread | None = None

    def _jpegs(self):
        """Client thread: yield encoded frames at ``fps`` until the server stops."""
        import cv2

        from sensorlab.acquisition.emulated.world import shared_world

        cap = cv2.VideoCapture(str(self.video)) if self.video else None
        if cap is not None and not cap.isOpened():
            raise OSError(f"cannot read {self.video}")
        world = self.world or shared_world()
        t0, k = now(), 0
        try:
            while not self._halt.wait(max(0.0, t0 + k / self.fps - now())):
                if cap is None:
                    frame = world.video_frame(now(), self.width, self.height)
                else:
                    ok, frame = cap.read()
                    if not ok:  # loop the file
                        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        ok, frame = cap.read()
                        if not ok:
                            return
                k += 1
                yield cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])[1].tobytes()
        finally:
            if cap is not None:
                cap.release()

    def start(self) -> MjpegServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="mjpeg-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._halt.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_process(video: str | Path | None = None, fps: float = 30.0, port: int = 0, world=None) -> tuple[subprocess.Popen, str]:
    """Run the server in a child process (killable, like a camera losing power).

    Without ``video`` the child films ``world`` (default `shared_world()`): the host clock is
    system-wide, so passing the World's ``t0`` keeps claps aligned across processes.
    Returns the process and the stream URL; the caller terminates the process.
    """
    from sensorlab.acquisition.emulated.world import shared_world

    cmd = [sys.executable, "-m", "sensorlab.acquisition.emulated.mjpeg_server", "--port", str(port), "--fps", str(fps)]
    if video:
        cmd.append(str(video))
    else:
        w = world or shared_world()
        cmd += ["--world", "--t0", repr(w.t0), "--clap-interval", repr(w.clap_interval)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError(f"mjpeg_server did not start (exit code {proc.wait()})")
    return proc, url


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("video", nargs="?", help="video file to loop")
    p.add_argument("--world", action="store_true", help="film the simulated World instead of a file")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--t0", type=float, help="World start, host-clock seconds (to share another process's World)")
    p.add_argument("--clap-interval", type=float, default=2.0)
    args = p.parse_args(argv)
    if not args.video and not args.world:
        p.error("give a video file or --world")
    world = None
    if args.world:
        from sensorlab.acquisition.emulated.world import World

        world = World(clap_interval=args.clap_interval, **({"t0": args.t0} if args.t0 is not None else {}))
    server = MjpegServer(None if args.world else args.video, args.port, args.fps, world=world)
    print(server.url, flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
