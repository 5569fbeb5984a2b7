/* A command-line driver of sensorlab_device for the Python tests (tests/firmware/): reads one
   command per line on stdin, prints everything the library wrote for it as one hex line.
     data ID DTYPE SHAPE0 SHAPE1 SEQ T_US N PAYLOAD_HEX   one DATA packet (payload little-endian)
     packet BODY_HEX                                     frame an arbitrary body
     receive HEX                                         bytes from the host (a DESCRIBE)
     begin                                               the boot-time lone delimiter
   `receive` talks to a fixed two-stream device (an int16 IMU with scale, float32 frames). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensorlab_device.h"

static void put_hex(void *user, const uint8_t *data, size_t len) {
  (void)user;
  while (len--) printf("%02x", *data++);
}

static size_t from_hex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  unsigned v;
  while (n < cap && sscanf(hex + 2 * n, "%2x", &v) == 1) out[n++] = (uint8_t)v;
  return n;
}

static char line[1 << 20];
static uint8_t buf[1 << 19];

int main(void) {
  static sl_device fixed, dev;
  static sl_stream fixed_streams[2], s;
  fixed_streams[0].name = "imu";
  fixed_streams[0].rate = "1000";
  fixed_streams[0].dtype = SL_INT16;
  fixed_streams[0].shape[0] = 6;
  fixed_streams[0].channels = "ax,ay,az,gx,gy,gz";
  fixed_streams[0].units = "g,g,g,deg/s,deg/s,deg/s";
  fixed_streams[0].scale = "[0.000244140625,0.000244140625,0.000244140625,0.0152587890625,0.0152587890625,0.0152587890625]";
  fixed_streams[1].id = 1;
  fixed_streams[1].name = "radar";
  fixed_streams[1].kind = "frames";
  fixed_streams[1].rate = "20";
  fixed_streams[1].dtype = SL_FLOAT32;
  fixed_streams[1].shape[0] = 64;
  fixed_streams[1].shape[1] = 32;
  fixed_streams[1].units = "a.u.";
  if (sl_init(&fixed, "emit_frames \"test\" device", "0.1", fixed_streams, 2, put_hex, NULL) != SL_OK) return 2;

  while (fgets(line, sizeof line, stdin)) {
    char cmd[16], hex[8];
    unsigned id, dtype, shape0, shape1, n;
    unsigned long seq, t_us;
    int rc = 0;
    if (sscanf(line, "%15s", cmd) != 1) continue;
    if (strcmp(cmd, "data") == 0) {
      char *payload;
      if (sscanf(line, "data %u %u %u %u %lu %lu %u %7s", &id, &dtype, &shape0, &shape1, &seq, &t_us, &n, hex) < 7)
        return 2;
      payload = strrchr(line, ' ') + 1;
      memset(&s, 0, sizeof s);
      s.id = (uint8_t)id;
      s.name = "s";
      s.dtype = (sl_dtype)dtype;
      s.shape[0] = (uint16_t)shape0;
      s.shape[1] = (uint16_t)shape1;
      s.seq = (uint32_t)seq;
      if ((rc = sl_init(&dev, "d", NULL, &s, 1, put_hex, NULL)) == SL_OK) {
        from_hex(payload, buf, sizeof buf);
        rc = sl_send(&dev, &s, (uint32_t)t_us, buf, (uint16_t)n);
      }
      if (rc != SL_OK) printf("error %d", rc);
    } else if (strcmp(cmd, "packet") == 0) {
      size_t len = from_hex(line + 7, buf, sizeof buf);
      sl_init(&dev, "d", NULL, NULL, 0, put_hex, NULL);
      sl_send_packet(&dev, buf, len);
    } else if (strcmp(cmd, "receive") == 0) {
      size_t len = from_hex(line + 8, buf, sizeof buf);
      sl_receive(&fixed, buf, len);
    } else if (strcmp(cmd, "begin") == 0) {
      sl_begin(&fixed);
    } else {
      return 2;
    }
    printf("\n");
    fflush(stdout);
  }
  return 0;
}
