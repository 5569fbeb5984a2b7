/* The host implementation behind Arduino.h / Wire.h: a pty as the serial port, micros() from
   CLOCK_MONOTONIC, and main() calling setup() once and loop() forever (until killed). */
#include "Arduino.h"
#include "Wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

ShimSerial Serial;
TwoWire Wire;

void setup(void);
void loop(void);

static int master_fd = -1;
static int64_t t0_ns;
static uint64_t micros_start;

static int64_t mono_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

unsigned long micros(void) {
  // Arduino's micros() is a 32-bit count on every board: wrap like it.
  return (unsigned long)(uint32_t)(micros_start + (uint64_t)((mono_ns() - t0_ns) / 1000));
}
unsigned long millis(void) { return (unsigned long)(uint32_t)((mono_ns() - t0_ns) / 1000000); }

static void sleep_ns(int64_t ns) {
  if (ns <= 0) return;
  struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
  nanosleep(&ts, NULL);
}
void delay(unsigned long ms) { sleep_ns((int64_t)ms * 1000000LL); }
void delayMicroseconds(unsigned int us) { sleep_ns((int64_t)us * 1000LL); }
void yield(void) {}

// ---- writing to the pty ------------------------------------------------------------------

// Whether a program has the port open: the pty's master reports a hang-up while nobody has
// the other side open. That is what `Serial` (DTR) tells a native-USB sketch.
static bool port_open() {
  struct pollfd p = {master_fd, POLLOUT, 0};
  return poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP);
}

// Write all of data to the master. Nobody listening: the bytes are gone at once (a UART
// bridge or USB stack with no host drops them). A listener that stalls for more than 20 ms
// loses the rest.
static void pty_write(const uint8_t *data, size_t len) {
  int64_t give_up = mono_ns() + 20000000LL;
  while (len && port_open()) {
    ssize_t n = write(master_fd, data, len);
    if (n > 0) { data += n; len -= (size_t)n; continue; }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
    if (mono_ns() > give_up) return;
    struct pollfd p = {master_fd, POLLOUT, 0};
    poll(&p, 1, 2);
  }
}

// UART emulation: a TX ring the sketch fills (blocking when full, like HardwareSerial) and a
// thread that moves each byte into the pty no earlier than the wire would have finished it.
static unsigned long uart_baud = 0;
static const size_t TX_SIZE = 64;  // SERIAL_TX_BUFFER_SIZE of the AVR core
static uint8_t tx_buf[TX_SIZE];
static int64_t tx_ready[TX_SIZE];  // when the sketch wrote each byte
static size_t tx_head = 0, tx_count = 0;
static pthread_mutex_t tx_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tx_space = PTHREAD_COND_INITIALIZER;

static void *uart_thread(void *) {
  const int64_t byte_ns = (int64_t)(10.0e9 / (double)uart_baud);  // 8N1: 10 bits a byte
  int64_t wire_free = 0;  // when the wire finishes the last byte it sent
  uint8_t out[TX_SIZE];
  for (;;) {
    int64_t now = mono_ns();
    size_t n = 0;
    pthread_mutex_lock(&tx_lock);
    while (tx_count) {
      int64_t start = tx_ready[tx_head] > wire_free ? tx_ready[tx_head] : wire_free;
      if (start + byte_ns > now) break;
      out[n++] = tx_buf[tx_head];
      wire_free = start + byte_ns;
      tx_head = (tx_head + 1) % TX_SIZE;
      tx_count--;
    }
    if (n) pthread_cond_broadcast(&tx_space);
    pthread_mutex_unlock(&tx_lock);
    if (n) pty_write(out, n);
    sleep_ns(100000);  // 100 us: bytes arrive in small bursts, never early
  }
  return NULL;
}

size_t ShimSerial::write(const uint8_t *data, size_t len) {
  if (!uart_baud) {
    pty_write(data, len);
    return len;
  }
  pthread_mutex_lock(&tx_lock);
  for (size_t i = 0; i < len; i++) {
    while (tx_count == TX_SIZE) pthread_cond_wait(&tx_space, &tx_lock);
    size_t at = (tx_head + tx_count) % TX_SIZE;
    tx_buf[at] = data[i];
    tx_ready[at] = mono_ns();
    tx_count++;
  }
  pthread_mutex_unlock(&tx_lock);
  return len;
}

int ShimSerial::availableForWrite() {
  if (!uart_baud) return 256;
  pthread_mutex_lock(&tx_lock);
  int n = (int)(TX_SIZE - tx_count);
  pthread_mutex_unlock(&tx_lock);
  return n;
}

void ShimSerial::flush() {
  if (!uart_baud) return;
  pthread_mutex_lock(&tx_lock);
  while (tx_count) pthread_cond_wait(&tx_space, &tx_lock);
  pthread_mutex_unlock(&tx_lock);
}

ShimSerial::operator bool() { return uart_baud ? true : port_open(); }

void ShimSerial::begin(unsigned long baud) { (void)baud; }  // the pty ignores it; SHIM_BAUD paces

// ---- reading from the pty -----------------------------------------------------------------
static uint8_t rx_buf[256];
static size_t rx_pos = 0, rx_len = 0;

int ShimSerial::available() {
  if (rx_pos == rx_len) {
    ssize_t n = ::read(master_fd, rx_buf, sizeof rx_buf);  // non-blocking; EIO while nobody has it open
    rx_pos = 0;
    rx_len = n > 0 ? (size_t)n : 0;
  }
  return (int)(rx_len - rx_pos);
}

int ShimSerial::read() { return available() ? rx_buf[rx_pos++] : -1; }

size_t ShimSerial::print(long v) {
  char s[24];
  return write((const uint8_t *)s, (size_t)snprintf(s, sizeof s, "%ld", v));
}
size_t ShimSerial::print(unsigned long v) {
  char s[24];
  return write((const uint8_t *)s, (size_t)snprintf(s, sizeof s, "%lu", v));
}
size_t ShimSerial::print(double v, int digits) {
  char s[48];
  return write((const uint8_t *)s, (size_t)snprintf(s, sizeof s, "%.*f", digits, v));
}

// ---- the board ------------------------------------------------------------------------------
int main() {
  master_fd = posix_openpt(O_RDWR | O_NOCTTY);
  if (master_fd < 0 || grantpt(master_fd) || unlockpt(master_fd)) {
    perror("posix_openpt");
    return 1;
  }
  const char *port = ptsname(master_fd);
  // Set the app side raw (pyserial does too when it opens it), then close it again, so
  // port_open() sees when the app has it open.
  int slave = open(port, O_RDWR | O_NOCTTY);
  struct termios tio;
  if (slave < 0 || tcgetattr(slave, &tio)) {
    perror(port);
    return 1;
  }
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  close(slave);
  tcgetattr(master_fd, &tio);
  cfmakeraw(&tio);
  tcsetattr(master_fd, TCSANOW, &tio);
  fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL) | O_NONBLOCK);

  // A microcontroller runs only the sketch, so it samples on time whatever the PC is doing.
  // Real-time priority gives the emulated board the same: without it, on a loaded PC every
  // wake-up from the idle sleep below comes late, and every sample with it. The board sleeps
  // most of the time, so it cannot starve the machine. Not permitted: run as a normal
  // process, and say so.
  struct sched_param sp;
  memset(&sp, 0, sizeof sp);
  sp.sched_priority = 10;
  if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
    fprintf(stderr, "arduino shim: no real-time priority (%s): samples may be taken late on a busy PC\n", strerror(errno));

  const char *start = getenv("SHIM_MICROS_START");
  micros_start = start ? strtoull(start, NULL, 0) : 0;
  const char *baud = getenv("SHIM_BAUD");
  uart_baud = baud ? strtoul(baud, NULL, 0) : 0;
  if (uart_baud) {
    pthread_t t;
    pthread_create(&t, NULL, uart_thread, NULL);
  }
  t0_ns = mono_ns();
  printf("PORT %s\nCLOCK %.9f %llu\n", port, (double)t0_ns * 1e-9, (unsigned long long)micros_start);
  fflush(stdout);

  setup();
  for (;;) {
    loop();
    // A real loop() spins; here that would take a whole core from the recorder under test.
    // 50 us is far below the 1 ms sample period, and the sketches catch up when late.
    sleep_ns(50000);
  }
}
