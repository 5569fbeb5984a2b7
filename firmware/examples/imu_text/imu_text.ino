/*
 * imu_text: the simplest way into sensorlab: one CSV line per sample, with a counter column.
 *
 *     n,ax,ay,az,gx,gy,gz
 *     0,0.0000,0.0000,1.0000,0.00,0.00,0.00
 *     1,0.0020,...
 *
 * Any board, no library. The counter (first column) gives exact timestamps (sample n was
 * taken n / SAMPLE_RATE_HZ seconds after sample 0) and reveals lost lines: a jump of k is
 * k - 1 lost samples. Record it with the rig snippet next to this file (rig.toml):
 * protocol "text", time_column "counter", rate = SAMPLE_RATE_HZ.
 *
 * Text costs ~50 bytes a sample: at 115200 baud that is ~200 samples/s at most; for more,
 * use imu_binary (docs/FIRMWARE.md compares them).
 */

#define SAMPLE_RATE_HZ 100UL
#define PERIOD_US (1000000UL / SAMPLE_RATE_HZ)
#define SERIAL_BAUD 115200UL   // UART boards: the rig's `baud`; native USB ignores it

// ======== put your IMU driver here: fill a[] in g and g_[] in deg/s ========
static uint32_t pattern_n = 0;

static void imu_read(float a[3], float g[3]) {
  // A test pattern: a slow triangle on ax, 1 g on az, a ramp on gz.
  uint32_t n = pattern_n++;
  a[0] = (float)((n % 200) < 100 ? (n % 100) : (100 - n % 100)) * 0.01f;
  a[1] = 0.0f;
  a[2] = 1.0f;
  g[0] = 0.0f;
  g[1] = 0.0f;
  g[2] = (float)(n % 360);
}

static uint32_t counter = 0;
static uint32_t next_us;

void setup() {
  Serial.begin(SERIAL_BAUD);
  Serial.println("n,ax,ay,az,gx,gy,gz");   // optional header: names the channels
  next_us = micros();
}

void loop() {
  if ((int32_t)(micros() - next_us) < 0) return;   // not time yet (wrap-safe)
  next_us += PERIOD_US;

  float a[3], g[3];
  imu_read(a, g);
  Serial.print(counter++);
  for (int i = 0; i < 3; i++) { Serial.print(','); Serial.print(a[i], 4); }
  for (int i = 0; i < 3; i++) { Serial.print(','); Serial.print(g[i], 2); }
  Serial.println();
}
