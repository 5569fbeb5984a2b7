/*
 * A tiny host (Linux) stand-in for the Arduino core, so the example sketches compile and RUN
 * on a PC in the tests. Only what the examples use: Serial (on a pseudo-terminal), micros,
 * millis, delay, delayMicroseconds, yield, Wire (see Wire.h).
 *
 * The emulated board prints two lines on stdout at start:
 *     PORT /dev/pts/N            the serial port to open (the app side of the pty)
 *     CLOCK <t0> <start>         micros() == (start + (CLOCK_MONOTONIC - t0) * 1e6) mod 2^32
 * t0 is in CLOCK_MONOTONIC seconds, which is what Python's time.monotonic() reads on Linux,
 * so a test can turn any device time the sketch sends into the exact host time it denotes.
 *
 * Environment:
 *     SHIM_MICROS_START  micros() at start (e.g. 4294967295 - 2000000 to see it wrap in 2 s)
 *     SHIM_BAUD          emulate a UART at this baud (bytes paced at baud/10 per second from
 *                        a 64-byte TX buffer, as on an AVR); unset or 0: native USB (no pacing)
 */
#ifndef SENSORLAB_ARDUINO_SHIM_H
#define SENSORLAB_ARDUINO_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t byte;
typedef bool boolean;

unsigned long micros(void);
unsigned long millis(void);
void delay(unsigned long ms);
void delayMicroseconds(unsigned int us);
void yield(void);

class ShimSerial {
 public:
  void begin(unsigned long baud);
  void end() {}
  int available();
  int read();
  int availableForWrite();
  void flush();
  size_t write(uint8_t b) { return write(&b, 1); }
  size_t write(const uint8_t *data, size_t len);
  size_t write(const char *s) { return write((const uint8_t *)s, strlen(s)); }
  size_t print(const char *s) { return write(s); }
  size_t print(char c) { return write((uint8_t)c); }
  size_t print(int v) { return print((long)v); }
  size_t print(unsigned int v) { return print((unsigned long)v); }
  size_t print(long v);
  size_t print(unsigned long v);
  size_t print(double v, int digits = 2);
  size_t println() { return write("\r\n"); }  // Arduino's println ends lines with CR LF
  template <typename T>
  size_t println(T v) { return print(v) + println(); }
  size_t println(double v, int digits) { return print(v, digits) + println(); }
  // Native USB (SHIM_BAUD unset): true while a program has the port open, as DTR makes it
  // on a real board. UART (SHIM_BAUD set): always true, as on an Uno.
  operator bool();
};

extern ShimSerial Serial;

#endif
