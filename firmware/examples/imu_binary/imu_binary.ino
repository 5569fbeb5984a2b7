/*
 * imu_binary: a 6-axis IMU sampled at 1 kHz, streamed to sensorlab over the binary protocol.
 *
 * Needs the sensorlab_device library (firmware/sensorlab_device): copy that folder into your
 * Arduino "libraries" folder, or build with
 *     arduino-cli compile --library firmware/sensorlab_device -b <fqbn> firmware/examples/imu_binary
 * Record it with the rig snippet next to this file (rig.toml); docs/FIRMWARE.md explains the
 * settings and which baud rate each board needs.
 *
 * What it does, each loop():
 *   1. answers the host's DESCRIBE request (sensorlab sends it when it opens the port);
 *   2. when micros() reaches the next sample instant (every 1000 us), reads the IMU;
 *   3. every SAMPLES_PER_PACKET samples, sends them as one packet stamped with the
 *      device time of the first one; the library numbers the samples (seq), so the host
 *      sees every lost sample, and appends a CRC, so it drops corrupted ones.
 *
 * Timing: a sample's device time is its scheduled instant on the micros() grid. The read
 * happens within a few microseconds of it (loop() has nothing else to wait for), so that is
 * when the sensor was sampled; sensorlab maps device time onto the PC's clock.
 */
#include <sensorlab_device.h>

// ---- settings ----------------------------------------------------------------------------

#define SAMPLE_RATE_HZ 1000UL
#define PERIOD_US (1000000UL / SAMPLE_RATE_HZ)

// Samples per packet: fewer means lower latency, more means less overhead per sample
// (docs/FIRMWARE.md has the table). AVR boards (Uno, Nano, Mega) have a 64-byte serial TX
// buffer: a packet longer than that makes Serial.write wait for the wire, and the samples
// due meanwhile are read late. 3 samples (60 bytes) fit in it.
#ifndef SAMPLES_PER_PACKET
#if defined(__AVR__)
#define SAMPLES_PER_PACKET 3
#else
#define SAMPLES_PER_PACKET 10
#endif
#endif

// UART boards (a USB-serial bridge: Uno, Nano, Mega, ESP32 DevKit with CP2102/CH340) run
// at this rate: the rig's `baud` must match. 500000 is exact on 16 MHz AVRs and fits
// 1 kHz x 6 int16 with room to spare. Native-USB boards (Leonardo, Micro, Zero, MKR,
// RP2040, ESP32-S2/S3 USB CDC, nRF52840, Teensy) ignore it: write `uart = false` in the rig.
#define SERIAL_BAUD 500000UL

// A loop() that falls more than this far behind (the board was stalled) skips the missed
// sample instants instead of reading a burst of samples late. The PC build used by the tests
// raises it: there the OS, not the sketch, pauses the program, and catching up is right.
#ifndef STALL_LIMIT_US
#define STALL_LIMIT_US 100000UL
#endif

// Which IMU: 0 = a synthetic test pattern (no sensor needed; channel ax counts samples),
//            1 = MPU-6050 (or MPU-6500/9250) on I2C at 0x68.
#ifndef IMU_DRIVER
#define IMU_DRIVER 0
#endif

// ---- the IMU driver: replace imu_begin/imu_read for another sensor -------------------------

// Physical units per count, sent in the self-description so sensorlab records g and deg/s.
// These match the MPU-6050 set to +-8 g (4096 counts/g) and +-500 deg/s (65.5 counts/(deg/s)).
#define ACCEL_SCALE "0.000244140625"
#define GYRO_SCALE "0.015267175572519083"

#if IMU_DRIVER == 1
// ======== REAL SENSOR: MPU-6050 over I2C (Wire) ========
#include <Wire.h>

static const uint8_t MPU_ADDR = 0x68;

static void mpu_write(uint8_t reg, uint8_t value) {
  Wire.beginTransmission(MPU_ADDR);
  Wire.write(reg);
  Wire.write(value);
  Wire.endTransmission();
}

static bool imu_begin() {
  Wire.begin();
  Wire.setClock(400000);       // 14 bytes take ~0.4 ms at 400 kHz: fits in the 1 ms period
  mpu_write(0x6B, 0x01);       // PWR_MGMT_1: wake up, clock from the X gyro PLL
  mpu_write(0x1A, 0x01);       // CONFIG: DLPF 184 Hz, so the output rate is 1 kHz
  mpu_write(0x19, 0x00);       // SMPLRT_DIV: 1 kHz / (1 + 0)
  mpu_write(0x1B, 0x08);       // GYRO_CONFIG: +-500 deg/s
  mpu_write(0x1C, 0x10);       // ACCEL_CONFIG: +-8 g
  Wire.beginTransmission(MPU_ADDR);
  return Wire.endTransmission() == 0;  // 0: the sensor acknowledged
}

// One sample: ax, ay, az, gx, gy, gz in counts.
static void imu_read(int16_t v[6]) {
  uint8_t b[14];
  Wire.beginTransmission(MPU_ADDR);
  Wire.write(0x3B);            // ACCEL_XOUT_H: accel (6), temperature (2), gyro (6), big-endian
  Wire.endTransmission(false);
  Wire.requestFrom(MPU_ADDR, (uint8_t)14);
  for (uint8_t i = 0; i < 14; i++) b[i] = (uint8_t)Wire.read();
  for (uint8_t i = 0; i < 3; i++) {
    v[i] = (int16_t)(((uint16_t)b[2 * i] << 8) | b[2 * i + 1]);
    v[3 + i] = (int16_t)(((uint16_t)b[8 + 2 * i] << 8) | b[9 + 2 * i]);
  }
}
#else
// ======== TEST PATTERN: put your IMU driver here (see IMU_DRIVER 1 above) ========
static uint16_t pattern_n = 0;

static bool imu_begin() { return true; }

static void imu_read(int16_t v[6]) {
  // ax counts samples (a lost or repeated sample shows as a jump), az reads 1 g, the others
  // are slow triangle waves of different periods.
  uint16_t n = pattern_n++;
  v[0] = (int16_t)(n & 0x7FFF);
  v[1] = (int16_t)((n & 0x3FF) < 0x200 ? (n & 0x1FF) * 8 : (0x3FF - (n & 0x3FF)) * 8);
  v[2] = 4096;
  v[3] = (int16_t)((n % 2000) < 1000 ? (n % 1000) * 6 : (1000 - n % 1000) * 6);
  v[4] = (int16_t)-v[3];
  v[5] = (int16_t)(v[1] / 2);
}
#endif

// ---- streaming -----------------------------------------------------------------------------

static sl_device dev;
static sl_stream imu;                           // zero-initialised: unset fields are NULL
static int16_t batch[SAMPLES_PER_PACKET][6];
static uint16_t in_batch = 0;
static uint32_t batch_t_us;                     // device time of batch[0]
static uint32_t next_us;                        // the next sample instant

// The library's only way out: hand it whole blocks, Serial.write queues them.
static void write_serial(void *user, const uint8_t *data, size_t len) {
  (void)user;
  Serial.write(data, len);
}

static void send_batch() {
  // Native-USB boards report `Serial` false while no program has the port open: skip the
  // packet, but keep counting samples, so seq stays "samples taken".
  if (Serial) {
    sl_send(&dev, &imu, batch_t_us, batch, in_batch);
  } else {
    imu.seq += in_batch;
  }
  in_batch = 0;
}

static void poll_host() {
  while (Serial.available() > 0) {
    uint8_t b = (uint8_t)Serial.read();
    sl_receive(&dev, &b, 1);                    // answers DESCRIBE with the description
  }
}

void setup() {
  Serial.begin(SERIAL_BAUD);
  // No `while (!Serial)`: a native-USB board should stream as soon as a host listens,
  // and run (and keep time) before that.

  imu.id = 0;
  imu.name = "imu";
  imu.rate = "1000";                            // JSON text: must match SAMPLE_RATE_HZ
  imu.dtype = SL_INT16;
  imu.shape[0] = 6;
  imu.channels = "ax,ay,az,gx,gy,gz";
  imu.units = "g,g,g,deg/s,deg/s,deg/s";
  imu.scale = "[" ACCEL_SCALE "," ACCEL_SCALE "," ACCEL_SCALE ","
              GYRO_SCALE "," GYRO_SCALE "," GYRO_SCALE "]";
  sl_init(&dev, "imu_binary example", "1.0.0", &imu, 1, write_serial, NULL);

  imu_begin();
  sl_begin(&dev);                               // a lone 0x00: the host drops any half frame
  next_us = micros();
}

void loop() {
  poll_host();
  uint32_t late = micros() - next_us;           // unsigned: correct across the 71-minute wrap
  if ((int32_t)late < 0) return;                // not time yet

  if (late > STALL_LIMIT_US) {
    // Far behind (the board was stalled): skip the missed instants instead of
    // reading a burst of samples at the wrong times. Advancing seq tells the host exactly
    // how many samples are missing.
    uint32_t missed = late / PERIOD_US;
    if (in_batch) send_batch();
    imu.seq += missed;
    next_us += missed * PERIOD_US;
  }

  if (in_batch == 0) batch_t_us = next_us;
  imu_read(batch[in_batch]);
  next_us += PERIOD_US;
  if (++in_batch == SAMPLES_PER_PACKET) send_batch();
}
