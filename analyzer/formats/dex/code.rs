//! Code items: the methods a class defines (`class_data_item`) and a walker
//! over each method's Dalvik instructions that reports only the operands
//! later stages look up: invoked methods, loaded strings and static fields
//! read. Nothing is decompiled: each instruction's width comes from the
//! Dalvik instruction-format table, and the `packed-switch`,
//! `sparse-switch` and `fill-array-data` payloads (data embedded in the
//! instruction stream) are stepped over whole.
//!
//! Work is bounded: a method walks at most [`MAX_METHOD_UNITS`] code units,
//! and a class lists at most [`MAX_METHODS_PER_CLASS`] methods, so a
//! hostile file cannot make one class cost more than its bytes.

use crate::reader::{u16_le_at, u32_le_at, Reader};

use super::{ClassDef, DexFile};

/// Code units walked per method at most (Dalvik caps a method at 65535
/// registers, not instructions; real methods stay far below a million units).
pub const MAX_METHOD_UNITS: usize = 1 << 20;
/// Methods read from one `class_data_item` at most (a class holds at most
/// 65535 methods: method indexes are 16-bit in `invoke`).
pub const MAX_METHODS_PER_CLASS: u64 = 1 << 16;

/// One method a class defines, with its code (0 when abstract or native).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodedMethod {
    pub method_idx: u32,
    pub access_flags: u32,
    pub code_off: u32,
}

/// What the walker reports: an operand of interest, with the registers a
/// caller needs to tell which string an invoke is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// `invoke-*` (including `/range` and `invoke-polymorphic`): a
    /// `method_ids` index and its argument registers, at most the first
    /// [`MAX_ARGS`] (the receiver counts as the first of an instance method).
    Invoke { method: u32, args: [Option<u16>; MAX_ARGS] },
    /// `const-string` / `const-string/jumbo`: a `string_ids` index and the
    /// register it is loaded into.
    String { string: u32, register: u16 },
    /// `sget*`: a `field_ids` index.
    StaticField(u32),
    /// A register overwritten with an object by something other than a
    /// `const-string` or a field read (`move-object*`,
    /// `move-result-object`, `aget-object`): a string loaded into it
    /// before no longer stands there.
    ObjectWrite(u16),
    /// `sget-object` / `iget-object`: a `field_ids` index read into a register.
    FieldRead { field: u32, register: u16 },
    /// `sput-object` / `iput-object`: a register stored into a `field_ids` index.
    FieldWrite { field: u32, register: u16 },
}

/// Argument registers reported per invoke: all of a non-range invoke.
pub const MAX_ARGS: usize = 5;

/// Width in 16-bit code units of each opcode, from the Dalvik bytecode
/// format table (source.android.com/docs/core/runtime/dalvik-bytecode).
/// Unused opcodes count one unit, as dexdump steps over them.
const fn width(op: u8) -> usize {
    match op {
        0x00..=0x01 | 0x04 | 0x07 | 0x0a..=0x12 | 0x1d | 0x1e | 0x21 | 0x27 | 0x28 => 1,
        0x02 | 0x05 | 0x08 | 0x13 | 0x15 | 0x16 | 0x19 | 0x1a | 0x1c | 0x1f | 0x20 | 0x22 | 0x23 | 0x29 => 2,
        0x03 | 0x06 | 0x09 | 0x14 | 0x17 | 0x1b | 0x24 | 0x25 | 0x26 | 0x2a | 0x2b | 0x2c => 3,
        0x18 => 5,
        0x2d..=0x3d => 2,
        0x3e..=0x43 => 1,
        0x44..=0x6d => 2,
        0x6e..=0x72 | 0x74..=0x78 => 3,
        0x73 | 0x79 | 0x7a => 1,
        0x7b..=0x8f => 1,
        0x90..=0xaf => 2,
        0xb0..=0xcf => 1,
        0xd0..=0xe2 => 2,
        0xe3..=0xf9 => 1,
        0xfa | 0xfb => 4,
        0xfc | 0xfd => 3,
        0xfe | 0xff => 2,
    }
}

/// Units of the payload pseudo-instruction starting at unit `pc`, if one
/// starts there (`nop` whose high byte names the payload kind).
fn payload_units(insns: &[u8], pc: usize) -> Option<usize> {
    let unit = |i: usize| u16_le_at(insns, pc.checked_add(i)?.checked_mul(2)?).ok();
    let size = usize::from(unit(1)?);
    match unit(0)? {
        // ident, size, first_key (2 units), targets (2 units each)
        0x0100 => size.checked_mul(2)?.checked_add(4),
        // ident, size, keys and targets (2 units each)
        0x0200 => size.checked_mul(4)?.checked_add(2),
        // ident, element_width, size (2 units), data padded to whole units
        0x0300 => {
            let count = u32_le_at(insns, pc.checked_add(2)?.checked_mul(2)?).ok()? as usize;
            let bytes = count.checked_mul(size)?;
            bytes.checked_add(1)?.checked_div(2)?.checked_add(4)
        }
        _ => None,
    }
}

/// Walks the instructions of `insns` (the raw bytes of a method's code,
/// two per unit), calling `visit` for each operand of interest. Stops at
/// the end of the code, at an instruction running past it, or after
/// [`MAX_METHOD_UNITS`] units. Returns the units walked.
pub fn walk(insns: &[u8], mut visit: impl FnMut(Operand)) -> usize {
    let units = (insns.len() / 2).min(MAX_METHOD_UNITS);
    let mut pc = 0usize;
    while pc < units {
        let Some(&op) = insns.get(pc * 2) else { break };
        let step = if op == 0x00 { payload_units(insns, pc).unwrap_or(1) } else { width(op) };
        if pc + step > units {
            break;
        }
        let u16_at = |i: usize| u16_le_at(insns, (pc + i) * 2).ok();
        let u32_at = |i: usize| u32_le_at(insns, (pc + i) * 2).ok();
        // The high byte of the first unit: vAA, or B|A in formats 12x/22c.
        let aa = u16::from(insns.get(pc * 2 + 1).copied().unwrap_or(0));
        let a = aa & 0x0f;
        match op {
            0x1a => {
                if let Some(string) = u16_at(1) {
                    visit(Operand::String { string: u32::from(string), register: aa });
                }
            }
            0x1b => {
                if let Some(string) = u32_at(1) {
                    visit(Operand::String { string, register: aa });
                }
            }
            0x60..=0x66 => {
                if let Some(field) = u16_at(1).map(u32::from) {
                    visit(Operand::StaticField(field));
                    if op == 0x62 {
                        visit(Operand::FieldRead { field, register: aa });
                    }
                }
            }
            // iget-object vA, vB, field (22c) / sput-object vAA, field (21c) / iput-object (22c).
            0x54 | 0x5b | 0x69 => {
                if let Some(field) = u16_at(1).map(u32::from) {
                    visit(match op {
                        0x54 => Operand::FieldRead { field, register: a },
                        0x5b => Operand::FieldWrite { field, register: a },
                        _ => Operand::FieldWrite { field, register: aa },
                    });
                }
            }
            // move-object (12x: vA), move-object/from16 (22x: vAA), move-object/16 (32x: vAAAA).
            0x07 => visit(Operand::ObjectWrite(a)),
            0x08 | 0x0c | 0x46 => visit(Operand::ObjectWrite(aa)),
            0x09 => {
                if let Some(r) = u16_at(1) {
                    visit(Operand::ObjectWrite(r));
                }
            }
            0x6e..=0x72 | 0x74..=0x78 | 0xfa | 0xfb => {
                if let (Some(method), Some(regs)) = (u16_at(1), u16_at(2)) {
                    let mut args = [None; MAX_ARGS];
                    if matches!(op, 0x74..=0x78 | 0xfb) {
                        // 3rc / 4rcc: AA registers from vCCCC on.
                        for (i, arg) in args.iter_mut().enumerate().take(usize::from(aa)) {
                            *arg = regs.checked_add(i as u16);
                        }
                    } else {
                        // 35c / 45cc: A|G op, then F|E|D|C: C, D, E, F, then G.
                        let g = aa & 0x0f;
                        let nibbles = [regs & 0x0f, (regs >> 4) & 0x0f, (regs >> 8) & 0x0f, regs >> 12, g];
                        for (arg, r) in args.iter_mut().zip(nibbles).take(usize::from(aa >> 4)) {
                            *arg = Some(r);
                        }
                    }
                    visit(Operand::Invoke { method: u32::from(method), args });
                }
            }
            _ => {}
        }
        pc += step;
    }
    pc
}

impl<'a> DexFile<'a> {
    /// The methods `class` defines (direct then virtual), at most
    /// [`MAX_METHODS_PER_CLASS`]; a damaged `class_data_item` ends the list.
    pub fn class_methods(&self, class: &ClassDef) -> Vec<EncodedMethod> {
        let mut out = Vec::new();
        if class.class_data_off == 0 {
            return out;
        }
        let mut r = Reader::at(self.data, class.class_data_off as usize);
        let mut header = [0u64; 4];
        for h in &mut header {
            match r.uleb128() {
                Ok(v) => *h = v,
                Err(_) => return out,
            }
        }
        let [static_fields, instance_fields, direct, virtual_] = header;
        // Fields: (field_idx_diff, access_flags), skipped.
        let fields = static_fields.saturating_add(instance_fields);
        if fields > r.remaining() as u64 / 2 {
            return out;
        }
        for _ in 0..fields * 2 {
            if r.uleb128().is_err() {
                return out;
            }
        }
        for count in [direct, virtual_] {
            // Each method takes at least three bytes; the index restarts per list.
            let count = count.min(MAX_METHODS_PER_CLASS).min(r.remaining() as u64 / 3);
            let mut idx: u64 = 0;
            for _ in 0..count {
                let (Ok(diff), Ok(flags), Ok(code)) = (r.uleb128(), r.uleb128(), r.uleb128()) else {
                    return out;
                };
                idx = idx.saturating_add(diff);
                let (Ok(method_idx), Ok(access_flags), Ok(code_off)) =
                    (u32::try_from(idx), u32::try_from(flags), u32::try_from(code))
                else {
                    return out;
                };
                out.push(EncodedMethod { method_idx, access_flags, code_off });
            }
        }
        out
    }

    /// `registers_size` and `ins_size` of the `code_item` at `code_off`:
    /// a method's parameters are its last `ins_size` registers.
    pub fn code_registers(&self, code_off: u32) -> Option<(u16, u16)> {
        if code_off == 0 {
            return None;
        }
        let base = code_off as usize;
        Some((u16_le_at(self.data, base).ok()?, u16_le_at(self.data, base.checked_add(2)?).ok()?))
    }

    /// The instruction bytes of the `code_item` at `code_off` (two bytes per
    /// unit), cut at the end of the file; `None` for 0 or a bad offset.
    pub fn code_insns(&self, code_off: u32) -> Option<&'a [u8]> {
        if code_off == 0 {
            return None;
        }
        let base = code_off as usize;
        // registers, ins, outs, tries (u16 each), debug_info_off (u32), insns_size (u32)
        let units = u32_le_at(self.data, base.checked_add(12)?).ok()? as usize;
        let start = base.checked_add(16)?;
        let end = start.saturating_add(units.saturating_mul(2)).min(self.data.len());
        self.data.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(units: &[u16]) -> Vec<u8> {
        units.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn operands(units: &[u16]) -> Vec<Operand> {
        let mut out = Vec::new();
        walk(&bytes(units), |o| out.push(o));
        out
    }

    #[test]
    fn reports_invokes_strings_and_static_fields() {
        let code = [
            0x001a, 0x0007, // const-string v0, string@7
            0x001b, 0x0009, 0x0001, // const-string/jumbo v0, string@0x10009
            0x0062, 0x0003, // sget-object v0, field@3
            0x106e, 0x0005, 0x0000, // invoke-virtual {v0}, method@5
            0x0374, 0x0006, 0x0000, // invoke-virtual/range {v0..v2}, method@6
            0x0018, 1, 2, 3, 4,      // const-wide: five units, no operand of interest
            0x000e, // return-void
        ];
        assert_eq!(
            operands(&code),
            [
                Operand::String { string: 7, register: 0 },
                Operand::String { string: 0x1_0009, register: 0 },
                Operand::StaticField(3),
                Operand::FieldRead { field: 3, register: 0 },
                Operand::Invoke { method: 5, args: [Some(0), None, None, None, None] },
                Operand::Invoke { method: 6, args: [Some(0), Some(1), Some(2), None, None] },
            ]
        );
    }

    #[test]
    fn registers_follow_each_format() {
        let code = [
            0x051a, 0x0002, // const-string v5, string@2
            0x2071, 0x0008, 0x0065, // invoke-static {v5, v6}, method@8 (35c: C=5, D=6)
            0x0377, 0x0009, 0x0010, // invoke-static/range {v16..v18}, method@9
            0x0077, 0x000a, 0x0010, // invoke-static/range {}, method@10
            0x5b71, 0x000b, 0x4321, // invoke-static {v1, v2, v3, v4, v11}, method@11
            0x0c07, // move-object v12, v0 (12x: B|A = 0|c)
            0x040c, // move-result-object v4
            0x0709, 0x0123, 0x0000, // move-object/16 v0x123, v0
            0x2154, 0x0004, // iget-object v1, v2, field@4
            0x215b, 0x0005, // iput-object v1, v2, field@5
            0x0369, 0x0006, // sput-object v3, field@6
        ];
        assert_eq!(
            operands(&code),
            [
                Operand::String { string: 2, register: 5 },
                Operand::Invoke { method: 8, args: [Some(5), Some(6), None, None, None] },
                Operand::Invoke { method: 9, args: [Some(16), Some(17), Some(18), None, None] },
                Operand::Invoke { method: 10, args: [None; 5] },
                Operand::Invoke { method: 11, args: [Some(1), Some(2), Some(3), Some(4), Some(11)] },
                Operand::ObjectWrite(12),
                Operand::ObjectWrite(4),
                Operand::ObjectWrite(0x123),
                Operand::FieldRead { field: 4, register: 1 },
                Operand::FieldWrite { field: 5, register: 1 },
                Operand::FieldWrite { field: 6, register: 3 },
            ]
        );
    }

    #[test]
    fn payloads_are_stepped_over_not_decoded() {
        // A packed-switch payload whose targets look like invoke opcodes.
        let packed = [0x0100, 2, 0, 0, 0x006e, 0x0001, 0x006e, 0x0001];
        // A sparse-switch payload of one key and one target.
        let sparse = [0x0200, 1, 0x001a, 0x0001, 0x006e, 0x0002];
        // fill-array-data of 3 one-byte elements: 2 units of data.
        let fill = [0x0300, 1, 3, 0, 0x1a6e, 0x0060];
        for payload in [&packed[..], &sparse[..], &fill[..]] {
            let mut code = payload.to_vec();
            code.extend([0x106e, 0x0009, 0x0000]);
            assert_eq!(
                operands(&code),
                [Operand::Invoke { method: 9, args: [Some(0), None, None, None, None] }],
                "{payload:x?}"
            );
        }
    }

    #[test]
    fn an_instruction_running_off_the_end_stops_the_walk() {
        assert_eq!(operands(&[0x106e, 0x0005]), []);
        assert_eq!(operands(&[0x0100, 0xffff]), []);
        assert_eq!(walk(&[0x1a], |_| {}), 0);
        // A fill-array-data claiming 4 G elements of 64 KiB ends the walk.
        assert_eq!(operands(&[0x0300, 0xffff, 0xffff, 0xffff, 0x001a, 4]), []);
    }

    #[test]
    fn every_opcode_has_a_width_from_the_format_table() {
        // Spot checks against the table: format 35c, 3rc, 45cc, 51l, 10x.
        assert_eq!(width(0x6e), 3);
        assert_eq!(width(0x77), 3);
        assert_eq!(width(0xfa), 4);
        assert_eq!(width(0x18), 5);
        assert_eq!(width(0x0e), 1);
        assert!((0..=255u8).all(|op| (1..=5).contains(&width(op))));
    }
}
