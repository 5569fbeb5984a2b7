/*
 * sensorlab_device: the device side of the sensorlab binary serial protocol (version 1).
 *
 * Portable C99, no dependencies, no dynamic memory, no large buffers: packets are CRC'd and
 * COBS-encoded on the fly through a 256-byte block buffer inside `sl_device`, so a 4 KiB radar
 * frame costs no more RAM than a 6-value IMU sample. Every encoded byte leaves through one
 * user-supplied write callback (e.g. Serial.write), in blocks of at most 256 bytes.
 *
 * The wire format is specified in docs/SERIAL-PROTOCOL.md; docs/FIRMWARE.md shows how to use
 * this library. In short:
 *
 *     static sl_stream imu;                 // zero-initialised: optional fields NULL
 *     static sl_device dev;
 *     imu.id = 0; imu.name = "imu"; imu.rate = "1000"; imu.dtype = SL_INT16; imu.shape[0] = 6;
 *     sl_init(&dev, "my board", "1.0", &imu, 1, write_fn, NULL);
 *     sl_begin(&dev);                                  // a lone 0x00: flush the host's receiver
 *     ...
 *     sl_receive(&dev, rx_bytes, n);                   // answers the host's DESCRIBE request
 *     sl_send(&dev, &imu, t_us_of_first_sample, samples, n_samples);   // seq kept per stream
 *
 * Threading: all calls on one device must come from one context (the main loop), never from
 * an interrupt handler: sl_receive answers a DESCRIBE by writing at once, which must not
 * land in the middle of another packet.
 *
 * Assumptions: 8-bit bytes, IEEE-754 float/double for the float dtypes (true on every
 * Arduino, ESP32, ARM and RISC-V target). Byte order is handled: payloads go out
 * little-endian whatever the CPU's order.
 */
#ifndef SENSORLAB_DEVICE_H
#define SENSORLAB_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_PROTOCOL_VERSION 1
#define SL_TYPE_DATA 0x01
#define SL_TYPE_DESCRIBE 0x02
#define SL_TYPE_DESCRIPTION 0x03

/* Largest JSON fragment per DESCRIPTION packet (1..65535). 240 matches the host's own encoder;
   it costs no RAM here (the JSON is generated while it is sent). */
#ifndef SL_DESCRIPTION_PART
#define SL_DESCRIPTION_PART 240
#endif

/* Dimensions of one sample: [channels] for a time series, e.g. [64, 32] for a radar frame. */
#define SL_MAX_DIMS 3

/* Largest packet body + CRC the host accepts (128 KiB). */
#define SL_MAX_PACKET 131072UL

/* Error codes (negative return values). */
#define SL_OK 0
#define SL_ERR_ARG (-1)       /* NULL pointer, n == 0, unknown dtype, stream not initialised */
#define SL_ERR_TOO_BIG (-2)   /* packet larger than SL_MAX_PACKET */
#define SL_ERR_SHAPE (-3)     /* shape empty, or more than 65535 values per sample */

/* Payload types and their wire codes (byte 3 of a DATA packet). */
typedef enum {
  SL_UINT8 = 1,
  SL_INT8 = 2,
  SL_UINT16 = 3,
  SL_INT16 = 4,
  SL_UINT32 = 5,
  SL_INT32 = 6,
  SL_FLOAT32 = 7,
  SL_FLOAT64 = 8
} sl_dtype;

/* Receives encoded bytes (never more than 256 at once). Must send them all: the protocol
   has no retransmission, and a short write corrupts one frame (the host drops it and counts
   a parse error). */
typedef void (*sl_write_fn)(void *user, const uint8_t *data, size_t len);

/*
 * One stream. Fill the description fields before sl_init; leave unused ones zero/NULL.
 * Numbers for the JSON (rate, scale, offset) are given as JSON text, so they go out exactly
 * as written, without float formatting (which many MCU C libraries lack).
 */
typedef struct sl_stream {
  uint8_t id;              /* 0..255, unique per device: the DATA packets' stream id */
  const char *name;        /* unique, no '/', not "labels" */
  const char *kind;        /* "timeseries" (NULL) or "frames" */
  const char *rate;        /* nominal samples/s as a JSON number, "1000"; NULL = 0 (irregular) */
  sl_dtype dtype;
  uint16_t shape[SL_MAX_DIMS]; /* {6} for a 6-axis IMU, {64, 32} for a frame; trailing 0s unused */
  const char *channels;    /* comma-separated names, "ax,ay,az"; NULL = ch0, ch1, ... */
  const char *units;       /* one unit, or comma-separated one per channel; NULL = none */
  const char *scale;       /* JSON number or array, "0.001" or "[0.5,0.25]"; NULL = raw values */
  const char *offset;      /* same form; physical = raw * scale + offset */

  /* State, maintained by the library. */
  uint32_t seq;            /* index of the next sample (mod 2^32): set it to resume a count */
  uint16_t values;         /* values per sample (product of shape), set by sl_init */
  uint8_t item_size;       /* bytes per value, set by sl_init */
} sl_stream;

typedef struct sl_device {
  const char *device;      /* name shown by the host */
  const char *firmware;    /* version string, may be NULL */
  sl_stream *streams;
  uint8_t nstreams;
  sl_write_fn write;
  void *user;

  /* Counters, for the firmware's own diagnostics. */
  uint32_t describe_requests; /* DESCRIBE requests answered */
  uint32_t rx_errors;         /* host->device frames that failed COBS/CRC or were too long */

  /* Internal state of the streaming encoder and of the receiver. */
  uint32_t crc_;
  uint16_t blen_;
  uint8_t full_;
  uint8_t rxlen_;
  uint8_t block_[256];      /* code byte, up to 254 data bytes, room for the delimiter */
  uint8_t rx_[16];          /* one host->device frame (DESCRIBE is 7 bytes) */
} sl_device;

/* Check the streams (computes `values` and `item_size`), store the callback. Sends nothing.
   Returns SL_OK or a negative SL_ERR_* (the first bad stream's problem). */
int sl_init(sl_device *d, const char *device, const char *firmware, sl_stream *streams,
            uint8_t nstreams, sl_write_fn write, void *user);

/* Send a lone 0x00 so the host drops any half frame it holds (call once after boot). */
void sl_begin(sl_device *d);

/* Send n samples of stream s as one DATA packet, the first taken at device time t_us
   (microseconds, e.g. micros()); the others are at t_us + k * 1e6 / rate on the host.
   `samples` holds n * s->values values of s->dtype in the CPU's own byte order, each sample
   in C (row-major) order. Advances s->seq by n (wrapping at 2^32). */
int sl_send(sl_device *d, sl_stream *s, uint32_t t_us, const void *samples, uint16_t n);

/* Feed bytes received from the host. A complete DESCRIBE request is answered at once with
   the DESCRIPTION packets. Returns how many requests were answered. */
int sl_receive(sl_device *d, const uint8_t *data, size_t len);

/* Send the self-description unasked (the host accepts it at any time). */
void sl_send_description(sl_device *d);

/* Bytes of the self-description JSON (what sl_send_description sends, before framing). */
uint32_t sl_description_length(const sl_device *d);

/* Frame and send any packet body (CRC appended, COBS-encoded, delimited). For custom
   packet types and tests; data and descriptions have their own calls. */
void sl_send_packet(sl_device *d, const uint8_t *body, size_t len);

/* CRC-32/ISO-HDLC (zlib's crc32): start with crc = 0; feed pieces by passing the result back. */
uint32_t sl_crc32(uint32_t crc, const void *data, size_t len);

/* Bytes on the wire (COBS overhead and delimiter included) of a DATA packet carrying
   n samples of s: use it to size the baud rate (docs/FIRMWARE.md). Worst case: assumes
   no zero byte in the packet, which is when COBS adds the most. */
uint32_t sl_wire_size(const sl_stream *s, uint16_t n);

#ifdef __cplusplus
}
#endif

#endif /* SENSORLAB_DEVICE_H */
