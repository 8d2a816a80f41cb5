//! ELF64 little-endian AArch64 shared-object writer (a fake native library).
//!
//! Sections: .dynsym, .dynstr, .hash (SysV), .text (one `ret` per export),
//! .rodata (NUL-terminated strings), .dynamic and .shstrtab. Two PT_LOAD
//! segments (text, data) and PT_DYNAMIC; virtual addresses equal file offsets.
//! The dynamic section names the DT_NEEDED libraries and the DT_SONAME.

use crate::zip::{put_u16, put_u32, put_u64};

const EM_AARCH64: u16 = 183;
const ET_DYN: u16 = 3;
const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;
const SHT_HASH: u32 = 5;
const SHT_DYNAMIC: u32 = 6;
const SHT_DYNSYM: u32 = 11;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const STB_GLOBAL: u8 = 1;
const STT_FUNC: u8 = 2;
const AARCH64_RET: u32 = 0xd65f_03c0;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_SONAME: u64 = 14;

/// What the shared object declares.
#[derive(Clone, Debug, Default)]
pub struct SharedObject {
    pub soname: String,
    pub needed: Vec<String>,
    /// Undefined function symbols (imports).
    pub imports: Vec<String>,
    /// Functions defined in .text (exports).
    pub exports: Vec<String>,
    /// Strings placed in .rodata.
    pub rodata_strings: Vec<String>,
}

struct StringTable {
    bytes: Vec<u8>,
}

impl StringTable {
    fn new() -> Self {
        StringTable { bytes: vec![0] }
    }

    fn add(&mut self, s: &str) -> u32 {
        let at = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        at
    }
}

/// The classic SysV ELF symbol hash.
pub fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &byte in name {
        h = (h << 4).wrapping_add(u32::from(byte));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

fn align(out: &mut Vec<u8>, to: usize) {
    while !out.len().is_multiple_of(to) {
        out.push(0);
    }
}

/// Builds the shared object.
pub fn build(so: &SharedObject) -> Vec<u8> {
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    const PHNUM: usize = 3;

    let mut dynstr = StringTable::new();
    let needed: Vec<u32> = so.needed.iter().map(|n| dynstr.add(n)).collect();
    let soname = dynstr.add(&so.soname);
    let import_names: Vec<u32> = so.imports.iter().map(|n| dynstr.add(n)).collect();
    let export_names: Vec<u32> = so.exports.iter().map(|n| dynstr.add(n)).collect();
    let symbol_count = 1 + so.imports.len() + so.exports.len();

    let mut out = vec![0u8; EHDR + PHDR * PHNUM];
    let dynsym_off = out.len();
    // Symbols are written once .text's address is known; reserve space.
    out.resize(dynsym_off + 24 * symbol_count, 0);
    let dynstr_off = out.len();
    out.extend_from_slice(&dynstr.bytes);
    align(&mut out, 4);
    let hash_off = out.len();
    let all_names: Vec<&String> = so.imports.iter().chain(&so.exports).collect();
    let bucket_count = 1u32;
    let mut buckets = vec![0u32; bucket_count as usize];
    let mut chains = vec![0u32; symbol_count];
    for (i, name) in all_names.iter().enumerate() {
        let symbol = (i + 1) as u32;
        let bucket = (elf_hash(name.as_bytes()) % bucket_count) as usize;
        chains[symbol as usize] = buckets[bucket];
        buckets[bucket] = symbol;
    }
    put_u32(&mut out, bucket_count);
    put_u32(&mut out, symbol_count as u32);
    for b in &buckets {
        put_u32(&mut out, *b);
    }
    for c in &chains {
        put_u32(&mut out, *c);
    }
    align(&mut out, 16);
    let text_off = out.len();
    for _ in &so.exports {
        put_u32(&mut out, AARCH64_RET);
    }
    let text_size = out.len() - text_off;
    align(&mut out, 16);
    let rodata_off = out.len();
    for s in &so.rodata_strings {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    let rodata_size = out.len() - rodata_off;
    let text_segment_end = out.len();

    // The writable segment starts on a fresh page, like a linker would do.
    align(&mut out, 0x1000);
    let dynamic_off = out.len();
    let mut dynamic = Vec::new();
    for &n in &needed {
        put_u64(&mut dynamic, DT_NEEDED);
        put_u64(&mut dynamic, u64::from(n));
    }
    for (tag, value) in [
        (DT_SONAME, u64::from(soname)),
        (DT_HASH, hash_off as u64),
        (DT_STRTAB, dynstr_off as u64),
        (DT_SYMTAB, dynsym_off as u64),
        (DT_STRSZ, dynstr.bytes.len() as u64),
        (DT_SYMENT, 24),
        (DT_NULL, 0),
    ] {
        put_u64(&mut dynamic, tag);
        put_u64(&mut dynamic, value);
    }
    out.extend_from_slice(&dynamic);
    let dynamic_end = out.len();

    let mut shstrtab = StringTable::new();
    let names = [
        shstrtab.add(".dynsym"),
        shstrtab.add(".dynstr"),
        shstrtab.add(".hash"),
        shstrtab.add(".text"),
        shstrtab.add(".rodata"),
        shstrtab.add(".dynamic"),
        shstrtab.add(".shstrtab"),
    ];
    let shstrtab_off = out.len();
    out.extend_from_slice(&shstrtab.bytes);
    align(&mut out, 8);
    let shoff = out.len();

    // Symbol table: null, imports (undefined), exports (in .text).
    let mut symbols = vec![0u8; 24];
    for &name in &import_names {
        symbol(&mut symbols, name, STT_FUNC, 0, 0, 0);
    }
    for (i, &name) in export_names.iter().enumerate() {
        symbol(&mut symbols, name, STT_FUNC, 4, (text_off + 4 * i) as u64, 4);
    }
    out[dynsym_off..dynsym_off + symbols.len()].copy_from_slice(&symbols);

    // Section headers (section 4 = .text is referenced by the exports).
    let mut sh = vec![0u8; 64];
    let dynstr_index = 2;
    let sections = [
        Section::new(names[0], SHT_DYNSYM, SHF_ALLOC, dynsym_off, 24 * symbol_count)
            .linked(dynstr_index, 1)
            .entries(8, 24),
        Section::new(names[1], SHT_STRTAB, SHF_ALLOC, dynstr_off, dynstr.bytes.len()),
        Section::new(names[2], SHT_HASH, SHF_ALLOC, hash_off, 4 * (2 + buckets.len() + chains.len()))
            .linked(1, 0)
            .entries(4, 4),
        Section::new(names[3], SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text_off, text_size).entries(16, 0),
        Section::new(names[4], SHT_PROGBITS, SHF_ALLOC, rodata_off, rodata_size).entries(16, 0),
        Section::new(names[5], SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, dynamic_off, dynamic.len())
            .linked(dynstr_index, 0)
            .entries(8, 16),
        Section::new(names[6], SHT_STRTAB, 0, shstrtab_off, shstrtab.bytes.len()),
    ];
    for section in &sections {
        section.write(&mut sh);
    }
    out.extend_from_slice(&sh);
    let shnum = 1 + sections.len();

    let mut header = Vec::with_capacity(EHDR + PHDR * PHNUM);
    header.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    header.resize(16, 0);
    put_u16(&mut header, ET_DYN);
    put_u16(&mut header, EM_AARCH64);
    put_u32(&mut header, 1);
    put_u64(&mut header, 0); // entry
    put_u64(&mut header, EHDR as u64);
    put_u64(&mut header, shoff as u64);
    put_u32(&mut header, 0); // flags
    put_u16(&mut header, EHDR as u16);
    put_u16(&mut header, PHDR as u16);
    put_u16(&mut header, PHNUM as u16);
    put_u16(&mut header, 64);
    put_u16(&mut header, shnum as u16);
    put_u16(&mut header, (shnum - 1) as u16); // .shstrtab is last
    let segments = [
        (PT_LOAD, 5u32, 0usize, text_segment_end, 0x1000u64), // R + X
        (PT_LOAD, 6, dynamic_off, dynamic_end - dynamic_off, 0x1000), // R + W
        (PT_DYNAMIC, 6, dynamic_off, dynamic_end - dynamic_off, 8),
    ];
    for (kind, flags, offset, size, alignment) in segments {
        put_u32(&mut header, kind);
        put_u32(&mut header, flags);
        put_u64(&mut header, offset as u64);
        put_u64(&mut header, offset as u64);
        put_u64(&mut header, offset as u64);
        put_u64(&mut header, size as u64);
        put_u64(&mut header, size as u64);
        put_u64(&mut header, alignment);
    }
    out[..header.len()].copy_from_slice(&header);
    out
}

/// One section header (Elf64_Shdr).
struct Section {
    name: u32,
    kind: u32,
    flags: u64,
    offset: usize,
    size: usize,
    link: u32,
    info: u32,
    alignment: u64,
    entry_size: u64,
}

impl Section {
    fn new(name: u32, kind: u32, flags: u64, offset: usize, size: usize) -> Self {
        Section { name, kind, flags, offset, size, link: 0, info: 0, alignment: 1, entry_size: 0 }
    }

    fn linked(mut self, link: u32, info: u32) -> Self {
        self.link = link;
        self.info = info;
        self
    }

    fn entries(mut self, alignment: u64, entry_size: u64) -> Self {
        self.alignment = alignment;
        self.entry_size = entry_size;
        self
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_u32(out, self.name);
        put_u32(out, self.kind);
        put_u64(out, self.flags);
        // Allocated sections live at virtual address == file offset.
        let address = if self.flags & SHF_ALLOC != 0 { self.offset as u64 } else { 0 };
        put_u64(out, address);
        put_u64(out, self.offset as u64);
        put_u64(out, self.size as u64);
        put_u32(out, self.link);
        put_u32(out, self.info);
        put_u64(out, self.alignment);
        put_u64(out, self.entry_size);
    }
}

fn symbol(out: &mut Vec<u8>, name: u32, kind: u8, section: u16, value: u64, size: u64) {
    put_u32(out, name);
    out.push((STB_GLOBAL << 4) | kind);
    out.push(0); // default visibility
    put_u16(out, section);
    put_u64(out, value);
    put_u64(out, size);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elf_hash_known_value() {
        // Value from the System V ABI hash of "printf".
        assert_eq!(elf_hash(b"printf"), 0x0779_05a6);
    }

    #[test]
    fn header_is_aarch64_shared_object() {
        let so = build(&SharedObject {
            soname: "libx.so".into(),
            needed: vec!["libc.so".into()],
            imports: vec!["strlen".into()],
            exports: vec!["JNI_OnLoad".into()],
            rodata_strings: vec!["https://example.org".into()],
        });
        assert_eq!(&so[..4], b"\x7fELF");
        assert_eq!(u16::from_le_bytes([so[18], so[19]]), EM_AARCH64);
        assert!(so.windows(19).any(|w| w == b"https://example.org"));
    }
}
