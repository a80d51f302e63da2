#include "engine/x86_assembler.hpp"

namespace lutnet::engine::detail {

namespace {
uint8_t rex_w(int reg, int rm) {
  return static_cast<uint8_t>(0x48 | (reg >= 8 ? 0x04 : 0) | (rm >= 8 ? 0x01 : 0));
}
}  // namespace

void X86Assembler::push(int gpr) {
  if (gpr >= 8) bytes.push_back(0x41);
  bytes.push_back(static_cast<uint8_t>(0x50 | (gpr & 7)));
}

void X86Assembler::pop(int gpr) {
  if (gpr >= 8) bytes.push_back(0x41);
  bytes.push_back(static_cast<uint8_t>(0x58 | (gpr & 7)));
}

void X86Assembler::mov(int dst, int src) {
  bytes.push_back(rex_w(src, dst));
  bytes.push_back(0x89);
  bytes.push_back(static_cast<uint8_t>(0xC0 | ((src & 7) << 3) | (dst & 7)));
}

void X86Assembler::mov_imm(int dst, int32_t value) {
  bytes.push_back(rex_w(0, dst));
  bytes.push_back(0xC7);
  bytes.push_back(static_cast<uint8_t>(0xC0 | (dst & 7)));
  imm32(value);
}

void X86Assembler::lea(int gpr, int base, int32_t disp) {
  bytes.push_back(rex_w(gpr, base));
  bytes.push_back(0x8D);
  bytes.push_back(static_cast<uint8_t>(0x80 | ((gpr & 7) << 3) | (base & 7)));
  imm32(disp);
}

// The 0x81 group: add /0, and /4, sub /5 with a 32-bit immediate.
void X86Assembler::add(int gpr, int32_t value) {
  bytes.push_back(rex_w(0, gpr));
  bytes.push_back(0x81);
  bytes.push_back(static_cast<uint8_t>(0xC0 | (gpr & 7)));
  imm32(value);
}

void X86Assembler::and_(int gpr, int32_t value) {
  bytes.push_back(rex_w(0, gpr));
  bytes.push_back(0x81);
  bytes.push_back(static_cast<uint8_t>(0xE0 | (gpr & 7)));
  imm32(value);
}

void X86Assembler::sub(int gpr, int32_t value) {
  bytes.push_back(rex_w(0, gpr));
  bytes.push_back(0x81);
  bytes.push_back(static_cast<uint8_t>(0xE8 | (gpr & 7)));
  imm32(value);
}

void X86Assembler::dec(int gpr) {
  bytes.push_back(rex_w(0, gpr));
  bytes.push_back(0xFF);
  bytes.push_back(static_cast<uint8_t>(0xC8 | (gpr & 7)));
}

void X86Assembler::jnz_back(size_t target) {
  bytes.insert(bytes.end(), {0x0F, 0x85});
  imm32(static_cast<int64_t>(target) - static_cast<int64_t>(bytes.size() + 4));
}

void X86Assembler::vzeroupper() { bytes.insert(bytes.end(), {0xC5, 0xF8, 0x77}); }

void X86Assembler::ret() { bytes.push_back(0xC3); }

void X86Assembler::imm32(int64_t value) {
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>((value >> (8 * i)) & 0xFF));
}

void X86Assembler::patch_imm32(size_t at, int32_t value) {
  for (int i = 0; i < 4; ++i)
    bytes[at + static_cast<size_t>(i)] = static_cast<uint8_t>((value >> (8 * i)) & 0xFF);
}

void X86Assembler::memory(int reg, const MemOperand& m, int disp8_scale) {
  const bool short_disp =
      m.disp % disp8_scale == 0 && m.disp / disp8_scale >= -128 && m.disp / disp8_scale <= 127;
  bytes.push_back(
      static_cast<uint8_t>((short_disp ? 0x40 : 0x80) | ((reg & 7) << 3) | (m.base & 7)));
  if ((m.base & 7) == kRsp) bytes.push_back(0x24);  // SIB: base only
  if (short_disp) {
    bytes.push_back(static_cast<uint8_t>(m.disp / disp8_scale));
  } else {
    imm32(m.disp);
  }
}

}  // namespace lutnet::engine::detail
