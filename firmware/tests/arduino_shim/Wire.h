/* Host stand-in for the Arduino Wire (I2C) library: enough for the examples' IMU drivers to
   compile and run on a PC. It emulates one register-addressed I2C sensor whose registers
   read a slowly counting pattern, so the driver code path is exercised end to end. */
#ifndef SENSORLAB_WIRE_SHIM_H
#define SENSORLAB_WIRE_SHIM_H

#include <stdint.h>
#include <stddef.h>

class TwoWire {
 public:
  void begin() {}
  void setClock(unsigned long) {}
  void beginTransmission(uint8_t address) { addr_ = address; first_ = true; }
  size_t write(uint8_t b) {
    if (first_) reg_ = b; else regs_[reg_++] = b;
    first_ = false;
    return 1;
  }
  uint8_t endTransmission(bool stop = true) { (void)stop; return addr_ == 0x68 || addr_ == 0x6A || addr_ == 0x6B ? 0 : 2; }
  uint8_t requestFrom(uint8_t address, uint8_t n) {
    (void)address;
    tick_++;
    for (uint8_t k = 0; k < n; k++) rx_[k] = (uint8_t)(regs_[(uint8_t)(reg_ + k)] + tick_ * (k + 1));
    rx_len_ = n;
    rx_pos_ = 0;
    return n;
  }
  int available() { return rx_len_ - rx_pos_; }
  int read() { return rx_pos_ < rx_len_ ? rx_[rx_pos_++] : -1; }

 private:
  uint8_t addr_ = 0, reg_ = 0, rx_len_ = 0, rx_pos_ = 0;
  bool first_ = false;
  uint8_t tick_ = 0;
  uint8_t regs_[256] = {0};
  uint8_t rx_[32] = {0};
};

extern TwoWire Wire;

#endif
