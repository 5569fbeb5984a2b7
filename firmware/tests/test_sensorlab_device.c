/* Unit tests of the sensorlab_device library, run on the host by `make firmware-test`.
   A tiny harness: CHECK counts failures and prints each one; the exit status is the count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensorlab_device.h"

static int failures = 0;
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)

/* Everything the device writes lands here. */
static uint8_t out[1 << 18];
static size_t out_len = 0;
static size_t biggest_write = 0;

static void capture(void *user, const uint8_t *data, size_t len) {
  (void)user;
  if (len > biggest_write) biggest_write = len;
  if (out_len + len <= sizeof out) memcpy(out + out_len, data, len);
  out_len += len;
}

static void reset_out(void) { out_len = 0; }

static int hex_equal(const uint8_t *got, size_t n, const char *hex) {
  size_t i;
  if (strlen(hex) != 2 * n) return 0;
  for (i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1 || v != got[i]) return 0;
  }
  return 1;
}

/* Reference COBS decoder of one frame (without its delimiter); -1 if malformed. */
static long cobs_decode(const uint8_t *in, size_t n, uint8_t *dst) {
  size_t i = 0, o = 0;
  while (i < n) {
    uint8_t code = in[i++], k;
    if (code == 0) return -1;
    for (k = 1; k < code; k++) {
      if (i >= n) return -1;
      dst[o++] = in[i++];
    }
    if (code != 0xFF && i < n) dst[o++] = 0;
  }
  return (long)o;
}

static void test_crc(void) {
  CHECK(sl_crc32(0, "123456789", 9) == 0xCBF43926UL);
  CHECK(sl_crc32(sl_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926UL); /* in pieces */
  CHECK(sl_crc32(0, "", 0) == 0);
}

/* The worked example of docs/SERIAL-PROTOCOL.md section 2.8, byte for byte. */
static void test_documented_example(void) {
  sl_device d;
  sl_stream s;
  const int16_t samples[2][3] = {{1, -2, 3}, {100, 200, -300}};
  memset(&s, 0, sizeof s);
  s.name = "imu";
  s.rate = "100";
  s.dtype = SL_INT16;
  s.shape[0] = 3;
  s.seq = 1000;
  CHECK(sl_init(&d, "doc", NULL, &s, 1, capture, NULL) == SL_OK);
  CHECK(s.values == 3 && s.item_size == 2);
  reset_out();
  CHECK(sl_send(&d, &s, 0x010CBBCDUL, samples, 2) == SL_OK);
  CHECK(hex_equal(out, out_len,
                  "0301010404e8030106cdbb0c01020203020104feff03026402c807d4fe24da646500"));
  CHECK(s.seq == 1002);
  CHECK(sl_wire_size(&s, 2) >= out_len);
}

/* The host's DESCRIBE request is the constant the protocol document gives. */
static void test_describe_request_constant(void) {
  sl_device d;
  const uint8_t body[2] = {1, 2};
  sl_init(&d, "x", NULL, NULL, 0, capture, NULL);
  reset_out();
  sl_send_packet(&d, body, 2);
  CHECK(hex_equal(out, out_len, "07010292" "42ccb6" "00"));
}

/* Any body frames to: no zero but the last byte; decodes to body + CRC. Sizes around the
   254-byte COBS block length, with and without zeros. */
static void test_cobs_round_trip(void) {
  static uint8_t body[1200], dec[1400];
  sl_device d;
  size_t n, i;
  int pattern;
  sl_init(&d, "x", NULL, NULL, 0, capture, NULL);
  srand(1);
  for (pattern = 0; pattern < 3; pattern++) {
    for (n = 0; n < sizeof body; n += (n < 520 ? 1 : 37)) {
      long m;
      uint32_t crc;
      for (i = 0; i < n; i++)
        body[i] = (uint8_t)(pattern == 0 ? rand() : pattern == 1 ? 1 + rand() % 255 : (i % 7 ? 0 : 5));
      reset_out();
      sl_send_packet(&d, body, n);
      CHECK(out_len > 0 && out[out_len - 1] == 0);
      CHECK(memchr(out, 0, out_len - 1) == NULL);
      m = cobs_decode(out, out_len - 1, dec);
      CHECK(m == (long)n + 4);
      if (m != (long)n + 4) continue;
      CHECK(memcmp(dec, body, n) == 0);
      crc = (uint32_t)dec[n] | (uint32_t)dec[n + 1] << 8 | (uint32_t)dec[n + 2] << 16 | (uint32_t)dec[n + 3] << 24;
      CHECK(crc == sl_crc32(0, body, n));
      CHECK(biggest_write <= 256);
    }
  }
}

static void test_sequence_wraps(void) {
  sl_device d;
  sl_stream s;
  int16_t v[5][2] = {{0}};
  uint8_t dec[64];
  long m;
  memset(&s, 0, sizeof s);
  s.name = "w";
  s.dtype = SL_INT16;
  s.shape[0] = 2;
  s.seq = 0xFFFFFFFEUL;
  sl_init(&d, "x", NULL, &s, 1, capture, NULL);
  reset_out();
  CHECK(sl_send(&d, &s, 0xFFFFFF00UL, v, 5) == SL_OK);
  CHECK(s.seq == 3); /* 0xFFFFFFFE + 5 wraps */
  m = cobs_decode(out, out_len - 1, dec);
  CHECK(m == 16 + 20 + 4);
  CHECK(dec[4] == 0xFE && dec[5] == 0xFF && dec[6] == 0xFF && dec[7] == 0xFF);
  CHECK(dec[8] == 0x00 && dec[9] == 0xFF && dec[10] == 0xFF && dec[11] == 0xFF);
}

static void test_argument_errors(void) {
  sl_device d;
  sl_stream s;
  int16_t v[4] = {0};
  memset(&s, 0, sizeof s);
  s.name = "e";
  s.dtype = SL_INT16; /* no shape */
  CHECK(sl_init(&d, "x", NULL, &s, 1, capture, NULL) == SL_ERR_SHAPE);
  s.shape[0] = 300;
  s.shape[1] = 300; /* 90 000 values > 65 535 */
  CHECK(sl_init(&d, "x", NULL, &s, 1, capture, NULL) == SL_ERR_SHAPE);
  s.shape[0] = 256;
  s.shape[1] = 256;
  s.shape[2] = 0;
  s.shape[1] = 255; /* 65 280 values: fine, but 3 samples of int16 exceed 128 KiB */
  CHECK(sl_init(&d, "x", NULL, &s, 1, capture, NULL) == SL_OK);
  reset_out();
  CHECK(sl_send(&d, &s, 0, v, 0) == SL_ERR_ARG);
  CHECK(sl_send(&d, &s, 0, v, 3) == SL_ERR_TOO_BIG);
  CHECK(out_len == 0 && s.seq == 0); /* nothing sent, nothing counted */
  s.dtype = (sl_dtype)9;
  CHECK(sl_init(&d, "x", NULL, &s, 1, capture, NULL) == SL_ERR_ARG);
}

/* Reassemble the DESCRIPTION packets in out[] into json; returns parts seen, -1 if bad. */
static int collect_description(char *json, size_t cap) {
  static uint8_t dec[1024];
  size_t start = 0, i, used = 0;
  int parts = 0, expected = -1;
  for (i = 0; i < out_len; i++) {
    long m;
    if (out[i] != 0) continue;
    if (i == start) { start = i + 1; continue; }
    m = cobs_decode(out + start, i - start, dec);
    start = i + 1;
    if (m < 8 || dec[0] != 1 || dec[1] != 3 || dec[2] != parts) return -1;
    if (sl_crc32(0, dec, (size_t)m - 4) !=
        ((uint32_t)dec[m - 4] | (uint32_t)dec[m - 3] << 8 | (uint32_t)dec[m - 2] << 16 | (uint32_t)dec[m - 1] << 24))
      return -1;
    if (expected < 0) expected = dec[3];
    if (dec[3] != expected || used + (size_t)m - 8 >= cap) return -1;
    memcpy(json + used, dec + 4, (size_t)m - 8);
    used += (size_t)m - 8;
    parts++;
  }
  json[used] = '\0';
  return parts == expected ? parts : -1;
}

static const char IMU_JSON[] =
    "{\"protocol\":1,\"device\":\"test \\\"board\\\"\",\"firmware\":\"1.2\",\"streams\":["
    "{\"id\":0,\"name\":\"imu\",\"kind\":\"timeseries\",\"rate\":1000,\"dtype\":\"int16\",\"shape\":[6],"
    "\"channels\":[\"ax\",\"ay\",\"az\",\"gx\",\"gy\",\"gz\"],\"units\":[\"g\",\"g\",\"g\",\"deg/s\",\"deg/s\",\"deg/s\"],"
    "\"scale\":[0.000244140625,0.000244140625,0.000244140625,0.0152587890625,0.0152587890625,0.0152587890625]},"
    "{\"id\":7,\"name\":\"radar\",\"kind\":\"frames\",\"rate\":20,\"dtype\":\"float32\",\"shape\":[64,32],"
    "\"units\":[\"a.u.\"],\"offset\":-1.5}]}";

static void setup_two_streams(sl_device *d, sl_stream s[2]) {
  memset(s, 0, 2 * sizeof *s);
  s[0].name = "imu";
  s[0].rate = "1000";
  s[0].dtype = SL_INT16;
  s[0].shape[0] = 6;
  s[0].channels = "ax,ay,az,gx,gy,gz";
  s[0].units = "g,g,g,deg/s,deg/s,deg/s";
  s[0].scale = "[0.000244140625,0.000244140625,0.000244140625,0.0152587890625,0.0152587890625,0.0152587890625]";
  s[1].id = 7;
  s[1].name = "radar";
  s[1].kind = "frames";
  s[1].rate = "20";
  s[1].dtype = SL_FLOAT32;
  s[1].shape[0] = 64;
  s[1].shape[1] = 32;
  s[1].units = "a.u.";
  s[1].offset = "-1.5";
  CHECK(sl_init(d, "test \"board\"", "1.2", s, 2, capture, NULL) == SL_OK);
}

static void test_describe_handshake(void) {
  static const uint8_t request[] = {0x07, 0x01, 0x02, 0x92, 0x42, 0xcc, 0xb6, 0x00};
  static const uint8_t noise[] = {0x55, 0x00, 0x07, 0x01, 0x02};
  static char json[2048];
  sl_device d;
  sl_stream s[2];
  size_t i;
  uint8_t bad[sizeof request];
  setup_two_streams(&d, s);
  CHECK(sl_description_length(&d) == strlen(IMU_JSON));

  /* Byte by byte, after noise and a cut-off frame: answered exactly once. */
  reset_out();
  CHECK(sl_receive(&d, noise, sizeof noise) == 0);
  CHECK(d.rx_errors == 1); /* 0x55 alone is not a frame */
  for (i = 0; i < sizeof request; i++) sl_receive(&d, request + i, 1);
  CHECK(d.describe_requests == 0); /* the cut-off "07 01 02" spoiled this one: no answer yet */
  CHECK(sl_receive(&d, request, sizeof request) == 1);
  CHECK(d.describe_requests == 1);
  CHECK(collect_description(json, sizeof json) == (int)((strlen(IMU_JSON) + 239) / 240));
  CHECK(strlen(IMU_JSON) > 240); /* so the reassembly of parts is exercised */
  CHECK(strcmp(json, IMU_JSON) == 0);
  if (strcmp(json, IMU_JSON) != 0) fprintf(stderr, "got  %s\nwant %s\n", json, IMU_JSON);

  /* A corrupt request (bad CRC) is counted and not answered. */
  memcpy(bad, request, sizeof bad);
  bad[3] ^= 0x10;
  reset_out();
  CHECK(sl_receive(&d, bad, sizeof bad) == 0);
  CHECK(out_len == 0 && d.rx_errors == 3);
  /* An over-long frame is skipped up to its delimiter; the next request still works. */
  {
    uint8_t longf[40];
    memset(longf, 0x33, sizeof longf);
    longf[39] = 0;
    CHECK(sl_receive(&d, longf, sizeof longf) == 0);
    CHECK(sl_receive(&d, request, sizeof request) == 1);
  }
}

/* Each data packet's header and payload for every dtype. */
static void test_every_dtype(void) {
  static uint8_t dec[256];
  sl_device d;
  sl_stream s;
  int t;
  const double values[3] = {1.0, -2.5, 3.25};
  for (t = SL_UINT8; t <= SL_FLOAT64; t++) {
    uint8_t raw[3 * 8];
    long m;
    int k;
    memset(&s, 0, sizeof s);
    s.id = 9;
    s.name = "s";
    s.dtype = (sl_dtype)t;
    s.shape[0] = 3;
    sl_init(&d, "x", NULL, &s, 1, capture, NULL);
    for (k = 0; k < 3; k++) {
      switch (t) {
        case SL_UINT8: raw[k] = (uint8_t)(k + 1); break;
        case SL_INT8: ((int8_t *)raw)[k] = (int8_t)-k; break;
        case SL_UINT16: ((uint16_t *)(void *)raw)[k] = (uint16_t)(0x1234 + k); break;
        case SL_INT16: ((int16_t *)(void *)raw)[k] = (int16_t)(-300 * k); break;
        case SL_UINT32: ((uint32_t *)(void *)raw)[k] = 0x89ABCDEFUL + (uint32_t)k; break;
        case SL_INT32: ((int32_t *)(void *)raw)[k] = -70000L * k; break;
        case SL_FLOAT32: ((float *)(void *)raw)[k] = (float)values[k]; break;
        default: ((double *)(void *)raw)[k] = values[k]; break;
      }
    }
    reset_out();
    CHECK(sl_send(&d, &s, 42, raw, 1) == SL_OK);
    m = cobs_decode(out, out_len - 1, dec);
    CHECK(m == 16 + 3 * s.item_size + 4);
    CHECK(dec[2] == 9 && dec[3] == t && dec[12] == 1 && dec[13] == 0 && dec[14] == 3);
    CHECK(memcmp(dec + 16, raw, 3u * s.item_size) == 0); /* this host is little-endian */
  }
}

int main(void) {
  test_crc();
  test_documented_example();
  test_describe_request_constant();
  test_cobs_round_trip();
  test_sequence_wraps();
  test_argument_errors();
  test_describe_handshake();
  test_every_dtype();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("sensorlab_device: all C unit tests passed\n");
  return 0;
}
