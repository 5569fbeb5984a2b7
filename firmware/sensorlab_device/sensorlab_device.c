/*
 * sensorlab_device: see sensorlab_device.h. Wire format: docs/SERIAL-PROTOCOL.md.
 *
 * Every packet goes out through a streaming encoder: bytes are added to a running CRC and
 * to the current COBS block (at most 254 non-zero bytes, preceded by their code byte); a
 * block is handed to the write callback when a zero byte ends it or when it is full. So
 * nothing but that one block is ever buffered.
 */
#include "sensorlab_device.h"

/* ---- CRC-32/ISO-HDLC, 4 bits at a time: a 64-byte table, about twice the speed of the
   bit loop, far smaller than the usual 1 KiB table (which would not fit an AVR's RAM). */
static const uint32_t crc_nibble[16] = {
    0x00000000UL, 0x1DB71064UL, 0x3B6E20C8UL, 0x26D930ACUL, 0x76DC4190UL, 0x6B6B51F4UL,
    0x4DB26158UL, 0x5005713CUL, 0xEDB88320UL, 0xF00F9344UL, 0xD6D6A3E8UL, 0xCB61B38CUL,
    0x9B64C2B0UL, 0x86D3D2D4UL, 0xA00AE278UL, 0xBDBDF21CUL};

static uint32_t crc_byte(uint32_t c, uint8_t b) {
  c ^= b;
  c = (c >> 4) ^ crc_nibble[c & 15u];
  return (c >> 4) ^ crc_nibble[c & 15u];
}

uint32_t sl_crc32(uint32_t crc, const void *data, size_t len) {
  const uint8_t *p = (const uint8_t *)data;
  uint32_t c = ~crc;
  while (len--) c = crc_byte(c, *p++);
  return ~c;
}

/* ---- streaming COBS -------------------------------------------------------------------- */

static void block_out(sl_device *d, uint8_t code, int delimit) {
  uint16_t n = (uint16_t)(d->blen_ + 1);
  d->block_[0] = code;
  if (delimit) d->block_[n++] = 0x00;
  d->write(d->user, d->block_, n);
  d->blen_ = 0;
}

/* One byte of the encoded packet (no CRC). */
static void cobs_put(sl_device *d, uint8_t b) {
  if (b == 0) { /* the zero becomes this block's code byte */
    block_out(d, (uint8_t)(d->blen_ + 1), 0);
    d->full_ = 0;
    return;
  }
  d->block_[1 + d->blen_++] = b;
  d->full_ = 0;
  if (d->blen_ == 254) { /* code 0xFF: 254 bytes and no implied zero */
    block_out(d, 0xFF, 0);
    d->full_ = 1;
  }
}

static void pk_begin(sl_device *d) {
  d->crc_ = 0xFFFFFFFFUL;
  d->blen_ = 0;
  d->full_ = 0;
}

static void pk_byte(sl_device *d, uint8_t b) {
  d->crc_ = crc_byte(d->crc_, b);
  cobs_put(d, b);
}

static void pk_bytes(sl_device *d, const uint8_t *p, size_t n) {
  while (n--) pk_byte(d, *p++);
}

static void pk_u16(sl_device *d, uint16_t v) {
  pk_byte(d, (uint8_t)(v & 0xFF));
  pk_byte(d, (uint8_t)(v >> 8));
}

static void pk_u32(sl_device *d, uint32_t v) {
  pk_u16(d, (uint16_t)(v & 0xFFFFu));
  pk_u16(d, (uint16_t)(v >> 16));
}

static void pk_end(sl_device *d) {
  uint32_t crc = ~d->crc_;
  int k;
  for (k = 0; k < 4; k++) cobs_put(d, (uint8_t)(crc >> (8 * k)));
  /* The last block ends the packet with no implied zero. After a full (0xFF) block with
     nothing since, there is no last block: the canonical encoding (and the host's) stops
     there rather than adding an empty one. */
  if (d->full_ && d->blen_ == 0) {
    uint8_t zero = 0x00;
    d->write(d->user, &zero, 1);
  } else {
    block_out(d, (uint8_t)(d->blen_ + 1), 1);
  }
}

void sl_send_packet(sl_device *d, const uint8_t *body, size_t len) {
  pk_begin(d);
  pk_bytes(d, body, len);
  pk_end(d);
}

void sl_begin(sl_device *d) {
  uint8_t zero = 0x00;
  d->write(d->user, &zero, 1);
}

/* ---- streams and data ------------------------------------------------------------------ */

static uint8_t dtype_size(sl_dtype t) {
  switch (t) {
    case SL_UINT8: case SL_INT8: return 1;
    case SL_UINT16: case SL_INT16: return 2;
    case SL_UINT32: case SL_INT32: case SL_FLOAT32: return 4;
    case SL_FLOAT64: return 8;
  }
  return 0;
}

static const char *dtype_name(sl_dtype t) {
  static const char *const names[] = {"", "uint8", "int8", "uint16", "int16",
                                      "uint32", "int32", "float32", "float64"};
  return ((int)t >= 1 && (int)t <= 8) ? names[t] : "";
}

static int stream_init(sl_stream *s) {
  uint32_t values = 1;
  int k, dims = 0;
  if (s->name == NULL || (s->item_size = dtype_size(s->dtype)) == 0) return SL_ERR_ARG;
  for (k = 0; k < SL_MAX_DIMS && s->shape[k] != 0; k++) {
    values *= s->shape[k];
    dims++;
    if (values > 0xFFFFUL) return SL_ERR_SHAPE;
  }
  if (dims == 0) return SL_ERR_SHAPE;
  s->values = (uint16_t)values;
  return SL_OK;
}

int sl_init(sl_device *d, const char *device, const char *firmware, sl_stream *streams,
            uint8_t nstreams, sl_write_fn write, void *user) {
  uint8_t i;
  int err;
  if (d == NULL || write == NULL || (nstreams && streams == NULL)) return SL_ERR_ARG;
  d->device = device ? device : "";
  d->firmware = firmware;
  d->streams = streams;
  d->nstreams = nstreams;
  d->write = write;
  d->user = user;
  d->describe_requests = 0;
  d->rx_errors = 0;
  d->blen_ = 0;
  d->full_ = 0;
  d->rxlen_ = 0;
  for (i = 0; i < nstreams; i++)
    if ((err = stream_init(&streams[i])) != SL_OK) return err;
  return SL_OK;
}

static int little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

uint32_t sl_wire_size(const sl_stream *s, uint16_t n) {
  uint32_t len = 16UL + (uint32_t)n * s->values * s->item_size + 4UL;
  return len + (len + 253UL) / 254UL + 1UL;
}

int sl_send(sl_device *d, sl_stream *s, uint32_t t_us, const void *samples, uint16_t n) {
  const uint8_t *p = (const uint8_t *)samples;
  uint32_t items, bytes;
  if (d == NULL || s == NULL || samples == NULL || n == 0 || s->values == 0 || s->item_size == 0)
    return SL_ERR_ARG;
  items = (uint32_t)n * s->values;
  bytes = items * s->item_size;
  if (items / n != s->values || bytes / s->item_size != items || 20UL + bytes > SL_MAX_PACKET)
    return SL_ERR_TOO_BIG;
  pk_begin(d);
  pk_byte(d, SL_PROTOCOL_VERSION);
  pk_byte(d, SL_TYPE_DATA);
  pk_byte(d, s->id);
  pk_byte(d, (uint8_t)s->dtype);
  pk_u32(d, s->seq);
  pk_u32(d, t_us);
  pk_u16(d, n);
  pk_u16(d, s->values);
  if (s->item_size == 1 || little_endian()) {
    while (bytes--) pk_byte(d, *p++);
  } else { /* big-endian CPU: each value goes out least significant byte first */
    uint8_t k, size = s->item_size;
    for (; items--; p += size)
      for (k = size; k--;) pk_byte(d, p[k]);
  }
  pk_end(d);
  s->seq += n; /* unsigned: wraps at 2^32 like the protocol's field */
  return SL_OK;
}

/* ---- self-description JSON, generated while it is sent ------------------------------------ */

/* Writes the JSON either nowhere (counting its length) or into DESCRIPTION packets of
   SL_DESCRIPTION_PART bytes, opening a new packet at each part boundary. */
typedef struct {
  sl_device *d;
  uint32_t pos;
  uint32_t parts; /* 0 while counting */
} json_out;

static void j_char(json_out *o, char c) {
  if (o->parts) {
    if (o->pos % SL_DESCRIPTION_PART == 0) {
      if (o->pos) pk_end(o->d);
      pk_begin(o->d);
      pk_byte(o->d, SL_PROTOCOL_VERSION);
      pk_byte(o->d, SL_TYPE_DESCRIPTION);
      pk_byte(o->d, (uint8_t)(o->pos / SL_DESCRIPTION_PART));
      pk_byte(o->d, (uint8_t)o->parts);
    }
    pk_byte(o->d, (uint8_t)c);
  }
  o->pos++;
}

static void j_raw(json_out *o, const char *s) {
  while (*s) j_char(o, *s++);
}

static void j_uint(json_out *o, uint32_t v) {
  char buf[11];
  int n = 0;
  do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n--) j_char(o, buf[n]);
}

/* A JSON string from s[0..len) (len < 0: up to the NUL), escaping quotes, backslashes and
   control characters (which the host would refuse in a name). */
static void j_string(json_out *o, const char *s, int len) {
  static const char hex[] = "0123456789abcdef";
  j_char(o, '"');
  for (; len < 0 ? *s != '\0' : len-- > 0; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      j_char(o, '\\');
      j_char(o, (char)c);
    } else if (c < 0x20) {
      j_raw(o, "\\u00");
      j_char(o, hex[c >> 4]);
      j_char(o, hex[c & 15]);
    } else {
      j_char(o, (char)c);
    }
  }
  j_char(o, '"');
}

/* "a,b,c" -> ["a","b","c"] */
static void j_list(json_out *o, const char *csv) {
  const char *start = csv;
  j_char(o, '[');
  for (;; csv++) {
    if (*csv != ',' && *csv != '\0') continue;
    j_string(o, start, (int)(csv - start));
    if (*csv == '\0') break;
    j_char(o, ',');
    start = csv + 1;
  }
  j_char(o, ']');
}

static void j_key(json_out *o, const char *key) {
  j_char(o, ',');
  j_string(o, key, -1);
  j_char(o, ':');
}

static void j_stream(json_out *o, const sl_stream *s) {
  int k;
  j_raw(o, "{\"id\":");
  j_uint(o, s->id);
  j_key(o, "name");
  j_string(o, s->name, -1);
  j_key(o, "kind");
  j_string(o, s->kind ? s->kind : "timeseries", -1);
  j_key(o, "rate");
  j_raw(o, s->rate ? s->rate : "0");
  j_key(o, "dtype");
  j_string(o, dtype_name(s->dtype), -1);
  j_key(o, "shape");
  j_char(o, '[');
  for (k = 0; k < SL_MAX_DIMS && s->shape[k]; k++) {
    if (k) j_char(o, ',');
    j_uint(o, s->shape[k]);
  }
  j_char(o, ']');
  if (s->channels) {
    j_key(o, "channels");
    j_list(o, s->channels);
  }
  if (s->units) {
    j_key(o, "units");
    j_list(o, s->units);
  }
  if (s->scale) {
    j_key(o, "scale");
    j_raw(o, s->scale);
  }
  if (s->offset) {
    j_key(o, "offset");
    j_raw(o, s->offset);
  }
  j_char(o, '}');
}

static void j_description(json_out *o) {
  uint8_t i;
  j_raw(o, "{\"protocol\":1,\"device\":");
  j_string(o, o->d->device, -1);
  if (o->d->firmware) {
    j_key(o, "firmware");
    j_string(o, o->d->firmware, -1);
  }
  j_raw(o, ",\"streams\":[");
  for (i = 0; i < o->d->nstreams; i++) {
    if (i) j_char(o, ',');
    j_stream(o, &o->d->streams[i]);
  }
  j_raw(o, "]}");
}

uint32_t sl_description_length(const sl_device *d) {
  json_out o;
  o.d = (sl_device *)d; /* counting only: nothing is written */
  o.pos = 0;
  o.parts = 0;
  j_description(&o);
  return o.pos;
}

void sl_send_description(sl_device *d) {
  json_out o;
  uint32_t len = sl_description_length(d);
  o.d = d;
  o.pos = 0;
  o.parts = (len + SL_DESCRIPTION_PART - 1) / SL_DESCRIPTION_PART;
  /* More than 255 parts cannot be numbered; the host would report the missing parts.
     (255 * 240 bytes = 60 KB of JSON: not a practical concern.) */
  if (o.parts > 255) o.parts = 255;
  j_description(&o);
  pk_end(d);
}

/* ---- the host's requests ----------------------------------------------------------------- */

/* COBS-decode rx_ in place; returns the decoded length, or -1 when malformed. */
static int cobs_decode_rx(sl_device *d) {
  uint8_t out[sizeof d->rx_];
  int i = 0, o = 0, n = d->rxlen_;
  while (i < n) {
    uint8_t code = d->rx_[i++], k;
    if (code == 0) return -1;
    for (k = 1; k < code; k++) {
      if (i >= n) return -1;
      out[o++] = d->rx_[i++];
    }
    if (code != 0xFF && i < n) out[o++] = 0;
  }
  for (i = 0; i < o; i++) d->rx_[i] = out[i];
  return o;
}

static int rx_frame(sl_device *d) {
  int n = cobs_decode_rx(d);
  uint32_t crc;
  if (n < 6) return n == 0 ? 0 : (d->rx_errors++, 0);
  crc = (uint32_t)d->rx_[n - 4] | (uint32_t)d->rx_[n - 3] << 8 | (uint32_t)d->rx_[n - 2] << 16 |
        (uint32_t)d->rx_[n - 1] << 24;
  if (sl_crc32(0, d->rx_, (size_t)(n - 4)) != crc) {
    d->rx_errors++;
    return 0;
  }
  if (d->rx_[0] == SL_PROTOCOL_VERSION && d->rx_[1] == SL_TYPE_DESCRIBE) {
    d->describe_requests++;
    sl_send_description(d);
    return 1;
  }
  return 0; /* another (future) request: ignored, like the host ignores unknown packets */
}

int sl_receive(sl_device *d, const uint8_t *data, size_t len) {
  int answered = 0;
  while (len--) {
    uint8_t b = *data++;
    if (b == 0x00) {
      if (d->rxlen_ <= sizeof d->rx_) answered += rx_frame(d);
      d->rxlen_ = 0;
    } else if (d->rxlen_ < sizeof d->rx_) {
      d->rx_[d->rxlen_++] = b;
    } else if (d->rxlen_ == sizeof d->rx_) { /* too long for any request: skip to the next 0x00 */
      d->rxlen_ = sizeof d->rx_ + 1;
      d->rx_errors++;
    }
  }
  return answered;
}
