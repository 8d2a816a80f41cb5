//! ELF shared libraries (`lib/<abi>/*.so` in APKs): architecture, SONAME,
//! DT_NEEDED, imported and exported dynamic symbols, and the printable
//! strings of the read-only data, which later stages search for SDK names,
//! hosts and packer markers.
//!
//! goblin reads the structures, but piece by piece rather than through
//! `Elf::parse`: one broken relocation table should not cost us the library
//! list, and every count goblin will trust is checked against the file size
//! first. A panic inside goblin is caught and reported as an error.

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::dynamic::{Dynamic, DT_NEEDED, DT_SONAME};
use goblin::elf::header::{self, Header, EM_386, EM_AARCH64, EM_ARM, EM_MIPS, EM_RISCV, EM_X86_64};
use goblin::elf::program_header::{ProgramHeader, PF_X, PT_LOAD};
use goblin::elf::section_header::{SectionHeader, SHT_DYNSYM, SHT_NOBITS, SHT_SYMTAB};
use goblin::elf::sym::{Sym, Symtab, STB_GLOBAL, STB_GNU_UNIQUE, STB_WEAK, STT_NOTYPE};
use goblin::elf::Elf;

use crate::diagnostic::Diagnostic;
use crate::formats::panic_guard::catch_panic;
use crate::formats::summary::NativeSummary;
use crate::reader::ByteOrder;

/// Shortest printable run kept as a string (as `strings -n 5`).
pub const MIN_STRING_LEN: usize = 5;
/// At most this many strings are extracted per file.
pub const MAX_STRINGS: usize = 65_536;
/// At most this many bytes of strings are extracted per file.
pub const MAX_STRINGS_BYTES: usize = 8 << 20;
/// A single run longer than this is cut (it is data, not text).
const MAX_ONE_STRING: usize = 64 << 10;
/// Dynamic symbols read per file; the largest real libraries have ~200k.
const MAX_SYMBOLS: usize = 1 << 20;
/// `st_shndx` of absolute symbols.
const SHN_ABS: usize = 0xfff1;
/// Longest symbol or library name read from a string table.
const MAX_NAME: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("ELF header truncated or invalid: {0}")]
    BadHeader(String),
    #[error("ELF parser panicked: {0}")]
    Panicked(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endianness {
    Little,
    Big,
}

/// What later stages need from one ELF file.
#[derive(Debug, Clone, PartialEq)]
pub struct ElfInfo {
    /// Stable lower-case name: arm, aarch64, x86, x86_64, mips, mips64,
    /// riscv32, riscv64, or `unknown(N)` with the e_machine value.
    pub arch: String,
    pub machine: u16,
    /// 32 or 64.
    pub bits: u8,
    pub endianness: Endianness,
    /// e_type: 1 relocatable, 2 executable, 3 shared object.
    pub file_type: u16,
    pub soname: Option<String>,
    /// DT_NEEDED entries in order.
    pub needed: Vec<String>,
    /// Undefined dynamic symbols (what the library calls).
    pub imported_symbols: Vec<String>,
    /// Defined global/weak dynamic symbols (`JNI_OnLoad`, `Java_...`).
    pub exported_symbols: Vec<String>,
    /// Section names in header order (empty when section headers are stripped).
    pub section_names: Vec<String>,
    /// No `.symtab` (the usual state of a release library).
    pub stripped: bool,
    /// Printable ASCII runs (>= 5 chars) from read-only data.
    pub strings: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ElfInfo {
    /// The Android ABI directory this architecture belongs in.
    pub fn abi_dir(&self) -> Option<&'static str> {
        match self.arch.as_str() {
            "arm" => Some("armeabi-v7a"),
            "aarch64" => Some("arm64-v8a"),
            "x86" => Some("x86"),
            "x86_64" => Some("x86_64"),
            "mips" => Some("mips"),
            "mips64" => Some("mips64"),
            "riscv64" => Some("riscv64"),
            _ => None,
        }
    }

    /// The report's view of this library.
    pub fn summary(&self, entry: &str) -> NativeSummary {
        NativeSummary {
            entry: entry.to_string(),
            arch: Some(self.arch.clone()),
            abi: self.abi_dir().map(str::to_string),
            needed: self.needed.clone(),
            imported_symbols: u32::try_from(self.imported_symbols.len()).unwrap_or(u32::MAX),
            exported_symbols: u32::try_from(self.exported_symbols.len()).unwrap_or(u32::MAX),
            soname: self.soname.clone(),
        }
    }
}

/// Stable architecture name for an ELF `e_machine`.
pub fn arch_name(machine: u16, is_64: bool) -> String {
    match machine {
        EM_ARM => "arm".into(),
        EM_AARCH64 => "aarch64".into(),
        EM_386 => "x86".into(),
        EM_X86_64 => "x86_64".into(),
        EM_MIPS if is_64 => "mips64".into(),
        EM_MIPS => "mips".into(),
        EM_RISCV if is_64 => "riscv64".into(),
        EM_RISCV => "riscv32".into(),
        other => format!("unknown({other})"),
    }
}

/// Parses an ELF file. Fails only when it is not ELF, the file header is
/// unreadable, or goblin panicked; everything else becomes a diagnostic.
pub fn parse(data: &[u8]) -> Result<ElfInfo, ElfError> {
    if data.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(ElfError::NotElf);
    }
    catch_panic(|| parse_unguarded(data)).unwrap_or_else(|message| Err(ElfError::Panicked(message)))
}

fn parse_unguarded(data: &[u8]) -> Result<ElfInfo, ElfError> {
    let class = data.get(header::EI_CLASS).copied();
    let encoding = data.get(header::EI_DATA).copied();
    let is_64 = match class {
        Some(header::ELFCLASS32) => false,
        Some(header::ELFCLASS64) => true,
        other => return Err(ElfError::BadHeader(format!("unknown ELF class {other:?}"))),
    };
    let endianness = match encoding {
        Some(header::ELFDATA2LSB) => Endianness::Little,
        Some(header::ELFDATA2MSB) => Endianness::Big,
        other => return Err(ElfError::BadHeader(format!("unknown data encoding {other:?}"))),
    };
    let header = Elf::parse_header(data).map_err(|e| ElfError::BadHeader(e.to_string()))?;
    let container = if is_64 { Container::Big } else { Container::Little };
    let endian = if endianness == Endianness::Little { Endian::Little } else { Endian::Big };
    let ctx = Ctx::new(container, endian);
    let mut parser = ElfParser { data, ctx, diagnostics: Vec::new() };

    let program_headers = parser.program_headers(&header);
    let section_headers = parser.section_headers(&header);
    let section_names = parser.section_names(&header, &section_headers);
    let stripped = !section_headers.iter().any(|s| s.sh_type == SHT_SYMTAB);
    if stripped {
        parser.diagnostics.push(Diagnostic::info("elf.stripped", "no .symtab: symbols stripped"));
    }

    let mut info = ElfInfo {
        arch: arch_name(header.e_machine, is_64),
        machine: header.e_machine,
        bits: if is_64 { 64 } else { 32 },
        endianness,
        file_type: header.e_type,
        soname: None,
        needed: Vec::new(),
        imported_symbols: Vec::new(),
        exported_symbols: Vec::new(),
        section_names,
        stripped,
        strings: Vec::new(),
        diagnostics: Vec::new(),
    };
    parser.dynamic_facts(&program_headers, &section_headers, &mut info);
    info.strings = parser.strings(&program_headers, &section_headers, &info.section_names);
    info.diagnostics = parser.diagnostics;
    Ok(info)
}

struct ElfParser<'a> {
    data: &'a [u8],
    ctx: Ctx,
    diagnostics: Vec<Diagnostic>,
}

/// `[offset, offset + size)` as a slice of `data` if it lies inside.
fn region(data: &[u8], offset: u64, size: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let len = usize::try_from(size).ok()?;
    data.get(start..start.checked_add(len)?)
}

/// NUL-terminated name at `offset` inside a string table.
fn name_at(table: &[u8], offset: u64) -> Option<String> {
    let start = usize::try_from(offset).ok()?;
    let rest = table.get(start..)?;
    let rest = rest.get(..rest.len().min(MAX_NAME)).unwrap_or(rest);
    let end = memchr::memchr(0, rest).unwrap_or(rest.len());
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

impl ElfParser<'_> {
    fn u32_at(&self, offset: usize) -> Option<u32> {
        let order = if self.ctx.le.is_little() { ByteOrder::Little } else { ByteOrder::Big };
        order.u32_at(self.data, offset).ok()
    }

    /// Checks that `count` entries of `entsize` bytes at `offset` fit, and
    /// that `entsize` is what goblin will read, before goblin allocates.
    fn table_fits(&mut self, what: &str, offset: u64, count: u64, entsize: u64, expected: usize) -> bool {
        if entsize != expected as u64 {
            self.diagnostics.push(Diagnostic::error(
                "elf.bad_entry_size",
                format!("{what}: entry size {entsize}, expected {expected}"),
            ));
            return false;
        }
        let fits = count.checked_mul(entsize).and_then(|size| region(self.data, offset, size)).is_some();
        if !fits {
            self.diagnostics.push(
                Diagnostic::error(
                    "elf.table_out_of_bounds",
                    format!("{what}: {count} entries at {offset:#x} run past the end of the file"),
                )
                .at(format!("offset {offset:#x}")),
            );
        }
        fits
    }

    fn program_headers(&mut self, header: &Header) -> Vec<ProgramHeader> {
        let count = u64::from(header.e_phnum);
        if count == 0 {
            return Vec::new();
        }
        let expected = ProgramHeader::size(self.ctx);
        if !self.table_fits("program headers", header.e_phoff, count, header.e_phentsize.into(), expected) {
            return Vec::new();
        }
        match ProgramHeader::parse(self.data, header.e_phoff as usize, count as usize, self.ctx) {
            Ok(headers) => headers,
            Err(e) => {
                self.diagnostics.push(Diagnostic::error("elf.bad_program_headers", e.to_string()));
                Vec::new()
            }
        }
    }

    fn section_headers(&mut self, header: &Header) -> Vec<SectionHeader> {
        if header.e_shoff == 0 {
            self.diagnostics.push(Diagnostic::info("elf.no_section_headers", "section headers stripped"));
            return Vec::new();
        }
        let expected = SectionHeader::size(self.ctx);
        // e_shnum 0 with a table means the real count sits in section 0;
        // goblin reads it there and checks it against the file size.
        let count = u64::from(header.e_shnum).max(1);
        if !self.table_fits("section headers", header.e_shoff, count, header.e_shentsize.into(), expected) {
            return Vec::new();
        }
        match SectionHeader::parse(self.data, header.e_shoff as usize, header.e_shnum.into(), self.ctx) {
            Ok(headers) => headers,
            Err(e) => {
                self.diagnostics.push(Diagnostic::error("elf.bad_section_headers", e.to_string()));
                Vec::new()
            }
        }
    }

    fn section_names(&mut self, header: &Header, sections: &[SectionHeader]) -> Vec<String> {
        if sections.is_empty() {
            return Vec::new();
        }
        let table = sections
            .get(usize::from(header.e_shstrndx))
            .and_then(|s| region(self.data, s.sh_offset, s.sh_size));
        let Some(table) = table else {
            self.diagnostics.push(Diagnostic::warning(
                "elf.bad_section_names",
                "section name table missing or out of bounds",
            ));
            return vec![String::new(); sections.len()];
        };
        sections.iter().map(|s| name_at(table, s.sh_name as u64).unwrap_or_default()).collect()
    }

    fn dynamic_facts(&mut self, phdrs: &[ProgramHeader], sections: &[SectionHeader], info: &mut ElfInfo) {
        let dynamic = match Dynamic::parse(self.data, phdrs, self.ctx) {
            Ok(Some(dynamic)) => dynamic,
            Ok(None) => {
                self.diagnostics.push(Diagnostic::info("elf.no_dynamic", "no PT_DYNAMIC segment"));
                return;
            }
            Err(e) => {
                self.diagnostics.push(Diagnostic::error("elf.bad_dynamic", e.to_string()));
                return;
            }
        };
        let dyn_info = &dynamic.info;
        let strtab = match region(self.data, dyn_info.strtab as u64, dyn_info.strsz as u64) {
            Some(table) if dyn_info.strtab != 0 => table,
            _ => {
                self.diagnostics.push(
                    Diagnostic::error("elf.bad_dynstr", "dynamic string table missing or out of bounds")
                        .at(format!("offset {:#x}", dyn_info.strtab)),
                );
                // Clamp to the file so names that are present still resolve.
                self.data.get(dyn_info.strtab..).unwrap_or_default()
            }
        };
        let mut bad_names = 0usize;
        for entry in &dynamic.dyns {
            match entry.d_tag {
                DT_NEEDED => match name_at(strtab, entry.d_val) {
                    Some(name) => info.needed.push(name),
                    None => bad_names += 1,
                },
                DT_SONAME => match name_at(strtab, entry.d_val) {
                    Some(name) => info.soname = Some(name),
                    None => bad_names += 1,
                },
                _ => {}
            }
        }
        if bad_names > 0 {
            self.diagnostics.push(Diagnostic::error(
                "elf.bad_dynamic_name",
                format!("{bad_names} DT_NEEDED/DT_SONAME names point outside the string table"),
            ));
        }
        self.dynamic_symbols(
            dyn_info.symtab,
            dyn_info.gnu_hash,
            dyn_info.hash,
            dyn_info.strtab,
            sections,
            strtab,
            info,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn dynamic_symbols(
        &mut self,
        symtab_off: usize,
        gnu_hash: Option<u64>,
        hash: Option<u64>,
        strtab_off: usize,
        sections: &[SectionHeader],
        strtab: &[u8],
        info: &mut ElfInfo,
    ) {
        let sym_size = Sym::size(self.ctx.container);
        // Prefer the section header, then the hash tables, then the usual
        // layout where .dynstr directly follows .dynsym.
        let from_section = sections
            .iter()
            .find(|s| s.sh_type == SHT_DYNSYM && s.sh_entsize == sym_size as u64)
            .map(|s| (s.sh_offset as usize, (s.sh_size / sym_size as u64) as usize));
        let (offset, declared) = match from_section {
            Some(found) => found,
            None if symtab_off == 0 => return,
            None => {
                let counted = gnu_hash
                    .and_then(|off| self.gnu_hash_symbol_count(off as usize))
                    .or_else(|| hash.and_then(|off| self.u32_at((off as usize).checked_add(4)?)))
                    .map(|n| n as usize)
                    .or_else(|| strtab_off.checked_sub(symtab_off).map(|gap| gap / sym_size));
                (symtab_off, counted.unwrap_or(0))
            }
        };
        let fit = self.data.len().saturating_sub(offset) / sym_size;
        let mut count = declared.min(fit);
        if count < declared {
            self.diagnostics.push(
                Diagnostic::error(
                    "elf.symbols_out_of_bounds",
                    format!("{declared} dynamic symbols declared, {count} inside the file"),
                )
                .at(format!("offset {offset:#x}")),
            );
        }
        if count > MAX_SYMBOLS {
            self.diagnostics.push(Diagnostic::warning(
                "elf.too_many_symbols",
                format!("{count} dynamic symbols; reading the first {MAX_SYMBOLS}"),
            ));
            count = MAX_SYMBOLS;
        }
        let symbols = match Symtab::parse(self.data, offset, count, self.ctx) {
            Ok(symbols) => symbols,
            Err(e) => {
                self.diagnostics.push(Diagnostic::error("elf.bad_symbols", e.to_string()));
                return;
            }
        };
        let mut bad_names = 0usize;
        for sym in symbols.iter().skip(1) {
            let bind = sym.st_bind();
            if !matches!(bind, STB_GLOBAL | STB_WEAK | STB_GNU_UNIQUE) {
                continue;
            }
            let Some(name) = name_at(strtab, sym.st_name as u64) else {
                bad_names += 1;
                continue;
            };
            if name.is_empty() {
                continue;
            }
            if sym.st_shndx == 0 {
                info.imported_symbols.push(name);
            } else if sym.st_shndx == SHN_ABS && sym.st_type() == STT_NOTYPE {
                // Linker markers (`_end`, `__bss_start`), not an interface.
                continue;
            } else {
                info.exported_symbols.push(name);
            }
        }
        if bad_names > 0 {
            self.diagnostics.push(Diagnostic::error(
                "elf.bad_symbol_name",
                format!("{bad_names} dynamic symbol names point outside the string table"),
            ));
        }
    }

    /// Number of dynamic symbols implied by a DT_GNU_HASH table: one past the
    /// highest symbol reachable from any bucket's chain.
    fn gnu_hash_symbol_count(&self, offset: usize) -> Option<u32> {
        let nbuckets = self.u32_at(offset)? as usize;
        let symoffset = self.u32_at(offset + 4)?;
        let bloom_size = self.u32_at(offset + 8)? as usize;
        let word = if self.ctx.container.is_big() { 8 } else { 4 };
        let buckets = offset.checked_add(16)?.checked_add(bloom_size.checked_mul(word)?)?;
        let chains = buckets.checked_add(nbuckets.checked_mul(4)?)?;
        if chains > self.data.len() {
            return None;
        }
        let mut last = 0u32;
        for i in 0..nbuckets {
            last = last.max(self.u32_at(buckets + 4 * i)?);
        }
        if last < symoffset {
            return Some(symoffset);
        }
        // Walk the last chain until its end marker (low bit set).
        let mut index = last;
        loop {
            let pos = chains.checked_add(4 * (index - symoffset) as usize)?;
            let value = self.u32_at(pos)?;
            if value & 1 == 1 {
                return index.checked_add(1);
            }
            index = index.checked_add(1)?;
        }
    }

    fn strings(
        &mut self,
        phdrs: &[ProgramHeader],
        sections: &[SectionHeader],
        names: &[String],
    ) -> Vec<String> {
        let wanted = |name: &str| {
            name == ".rodata" || name.starts_with(".rodata.") || name == ".data.rel.ro" || name == ".data"
        };
        let mut regions: Vec<(u64, u64)> = sections
            .iter()
            .zip(names)
            .filter(|(s, name)| s.sh_type != SHT_NOBITS && wanted(name))
            .map(|(s, _)| (s.sh_offset, s.sh_size))
            .collect();
        if regions.is_empty() {
            // Stripped or renamed sections: fall back to non-executable segments.
            regions = phdrs
                .iter()
                .filter(|p| p.p_type == PT_LOAD && p.p_flags & PF_X == 0)
                .map(|p| (p.p_offset, p.p_filesz))
                .collect();
        }
        let mut extractor = StringExtractor::default();
        for (offset, size) in regions {
            let bytes = match region(self.data, offset, size) {
                Some(bytes) => bytes,
                None => {
                    self.diagnostics.push(
                        Diagnostic::warning(
                            "elf.data_out_of_bounds",
                            "data region runs past the end of the file",
                        )
                        .at(format!("offset {offset:#x}")),
                    );
                    usize::try_from(offset).ok().and_then(|o| self.data.get(o..)).unwrap_or_default()
                }
            };
            if !extractor.scan(bytes) {
                self.diagnostics.push(Diagnostic::warning(
                    "elf.strings_truncated",
                    format!("string extraction stopped at {MAX_STRINGS} strings / {MAX_STRINGS_BYTES} bytes"),
                ));
                break;
            }
        }
        extractor.strings
    }
}

#[derive(Default)]
struct StringExtractor {
    strings: Vec<String>,
    total_bytes: usize,
}

impl StringExtractor {
    /// Appends the printable runs of `bytes`; false once a limit is hit.
    fn scan(&mut self, bytes: &[u8]) -> bool {
        let printable = |b: u8| (0x20..0x7f).contains(&b) || b == b'\t';
        let mut start = None;
        for (i, &b) in bytes.iter().chain(std::iter::once(&0u8)).enumerate() {
            match (printable(b), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    start = None;
                    let run = bytes.get(s..i).unwrap_or_default();
                    if run.len() >= MIN_STRING_LEN && !self.push(run) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        true
    }

    fn push(&mut self, run: &[u8]) -> bool {
        let run = run.get(..MAX_ONE_STRING).unwrap_or(run);
        if self.strings.len() >= MAX_STRINGS || self.total_bytes + run.len() > MAX_STRINGS_BYTES {
            return false;
        }
        self.total_bytes += run.len();
        // Printable ASCII is always valid UTF-8.
        self.strings.push(String::from_utf8_lossy(run).into_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{each_flip, each_truncation};

    /// Builds a little-endian ELF64 AArch64 shared object with a dynamic
    /// section (two DT_NEEDED, a SONAME), a .dynsym with one import and one
    /// export, and a .rodata holding a URL.
    fn sample() -> Vec<u8> {
        let mut dynstr = vec![0u8];
        let mut add = |s: &str| {
            let at = dynstr.len() as u64;
            dynstr.extend_from_slice(s.as_bytes());
            dynstr.push(0);
            at
        };
        let liblog = add("liblog.so");
        let libc = add("libc.so");
        let soname = add("libtracker.so");
        let open = add("open");
        let jni = add("JNI_OnLoad");
        let rodata = b"\x01\x02https://collect.example.cn/v1\x00ab\x00\x7fhello world\x00".to_vec();
        let shstr = b"\0.dynsym\0.dynstr\0.dynamic\0.rodata\0.shstrtab\0".to_vec();

        let mut out = vec![0u8; 64];
        let ph_off = out.len();
        out.resize(ph_off + 2 * 56, 0);
        let dynsym_off = out.len();
        let mut dynsym = vec![0u8; 24];
        let sym = |name: u64, shndx: u16, value: u64| {
            let mut s = Vec::new();
            s.extend_from_slice(&(name as u32).to_le_bytes());
            s.push(0x12); // GLOBAL FUNC
            s.push(0);
            s.extend_from_slice(&shndx.to_le_bytes());
            s.extend_from_slice(&value.to_le_bytes());
            s.extend_from_slice(&0u64.to_le_bytes());
            s
        };
        dynsym.extend(sym(open, 0, 0));
        dynsym.extend(sym(jni, 4, 0x1000));
        out.extend_from_slice(&dynsym);
        let dynstr_off = out.len();
        out.extend_from_slice(&dynstr);
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let dynamic_off = out.len();
        let mut dynamic = Vec::new();
        for (tag, val) in [
            (1u64, liblog),
            (1, libc),
            (14, soname),
            (5, dynstr_off as u64),
            (10, dynstr.len() as u64),
            (6, dynsym_off as u64),
            (11, 24),
            (0, 0),
        ] {
            dynamic.extend_from_slice(&tag.to_le_bytes());
            dynamic.extend_from_slice(&val.to_le_bytes());
        }
        out.extend_from_slice(&dynamic);
        let rodata_off = out.len();
        out.extend_from_slice(&rodata);
        let shstr_off = out.len();
        out.extend_from_slice(&shstr);
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let sh_off = out.len();
        let file_len = (sh_off + 6 * 64) as u64;
        // (name, type, offset, size, link, entsize)
        let sections: [(u32, u32, usize, usize, u32, u64); 6] = [
            (0, 0, 0, 0, 0, 0),
            (1, 11, dynsym_off, dynsym.len(), 2, 24),
            (9, 3, dynstr_off, dynstr.len(), 0, 0),
            (17, 6, dynamic_off, dynamic.len(), 2, 16),
            (26, 1, rodata_off, rodata.len(), 0, 0),
            (34, 3, shstr_off, shstr.len(), 0, 0),
        ];
        for (name, kind, offset, size, link, entsize) in sections {
            let mut s = Vec::new();
            s.extend_from_slice(&name.to_le_bytes());
            s.extend_from_slice(&kind.to_le_bytes());
            s.extend_from_slice(&0u64.to_le_bytes()); // flags
            s.extend_from_slice(&(offset as u64).to_le_bytes()); // addr = offset
            s.extend_from_slice(&(offset as u64).to_le_bytes());
            s.extend_from_slice(&(size as u64).to_le_bytes());
            s.extend_from_slice(&link.to_le_bytes());
            s.extend_from_slice(&0u32.to_le_bytes());
            s.extend_from_slice(&1u64.to_le_bytes());
            s.extend_from_slice(&entsize.to_le_bytes());
            out.extend_from_slice(&s);
        }
        // Program headers: one PT_LOAD mapping the file 1:1, one PT_DYNAMIC.
        let phdr = |kind: u32, flags: u32, offset: u64, size: u64| {
            let mut p = Vec::new();
            p.extend_from_slice(&kind.to_le_bytes());
            p.extend_from_slice(&flags.to_le_bytes());
            p.extend_from_slice(&offset.to_le_bytes());
            p.extend_from_slice(&offset.to_le_bytes());
            p.extend_from_slice(&offset.to_le_bytes());
            p.extend_from_slice(&size.to_le_bytes());
            p.extend_from_slice(&size.to_le_bytes());
            p.extend_from_slice(&8u64.to_le_bytes());
            p
        };
        let load = phdr(1, 4, 0, file_len);
        let dynamic_ph = phdr(2, 4, dynamic_off as u64, dynamic.len() as u64);
        out[ph_off..ph_off + 56].copy_from_slice(&load);
        out[ph_off + 56..ph_off + 112].copy_from_slice(&dynamic_ph);
        // File header.
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2;
        out[5] = 1;
        out[6] = 1;
        out[16..18].copy_from_slice(&3u16.to_le_bytes());
        out[18..20].copy_from_slice(&183u16.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[32..40].copy_from_slice(&(ph_off as u64).to_le_bytes());
        out[40..48].copy_from_slice(&(sh_off as u64).to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        out[56..58].copy_from_slice(&2u16.to_le_bytes());
        out[58..60].copy_from_slice(&64u16.to_le_bytes());
        out[60..62].copy_from_slice(&6u16.to_le_bytes());
        out[62..64].copy_from_slice(&5u16.to_le_bytes());
        out
    }

    fn codes(info: &ElfInfo) -> Vec<&str> {
        info.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn reads_a_well_formed_library() {
        let info = parse(&sample()).unwrap();
        assert_eq!(info.arch, "aarch64");
        assert_eq!(info.abi_dir(), Some("arm64-v8a"));
        assert_eq!(info.bits, 64);
        assert_eq!(info.endianness, Endianness::Little);
        assert_eq!(info.needed, ["liblog.so", "libc.so"]);
        assert_eq!(info.soname.as_deref(), Some("libtracker.so"));
        assert_eq!(info.imported_symbols, ["open"]);
        assert_eq!(info.exported_symbols, ["JNI_OnLoad"]);
        assert_eq!(info.strings, ["https://collect.example.cn/v1", "hello world"]);
        assert!(info.stripped);
        assert_eq!(codes(&info), ["elf.stripped"]);
        assert_eq!(info.section_names[4], ".rodata");
        assert_eq!(info.summary("lib/arm64-v8a/libtracker.so").needed.len(), 2);
    }

    #[test]
    fn rejects_non_elf_and_bad_headers() {
        assert_eq!(parse(b"").unwrap_err(), ElfError::NotElf);
        assert_eq!(parse(b"MZ\x90\x00").unwrap_err(), ElfError::NotElf);
        assert!(matches!(parse(b"\x7fELF\x02\x01\x01"), Err(ElfError::BadHeader(_))));
        assert!(matches!(parse(b"\x7fELF\x03\x01\x01\0\0\0\0\0\0\0\0\0"), Err(ElfError::BadHeader(_))));
    }

    #[test]
    fn stripped_sections_fall_back_to_segments() {
        let mut bytes = sample();
        bytes[40..48].copy_from_slice(&0u64.to_le_bytes());
        let info = parse(&bytes).unwrap();
        assert_eq!(info.needed, ["liblog.so", "libc.so"]);
        // The .dynsym size now comes from the dynstr-follows-dynsym layout.
        assert_eq!(info.imported_symbols, ["open"]);
        assert!(info.strings.iter().any(|s| s == "https://collect.example.cn/v1"));
        assert!(codes(&info).contains(&"elf.no_section_headers"));
    }

    #[test]
    fn hostile_counts_give_diagnostics() {
        let mut bytes = sample();
        bytes[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
        bytes[60..62].copy_from_slice(&0xffffu16.to_le_bytes());
        let info = parse(&bytes).unwrap();
        assert!(info.needed.is_empty());
        assert!(codes(&info).contains(&"elf.table_out_of_bounds"));

        let mut bytes = sample();
        bytes[54..56].copy_from_slice(&40u16.to_le_bytes());
        assert!(codes(&parse(&bytes).unwrap()).contains(&"elf.bad_entry_size"));
    }

    #[test]
    fn every_prefix_and_byte_flip_is_survivable() {
        let bytes = sample();
        each_truncation(&bytes, |cut| drop(parse(cut)));
        each_flip(&bytes, &[0x00, 0xff, 0x80, 0x7f], |at, value, copy| {
            if let Err(ElfError::Panicked(message)) = parse(copy) {
                panic!("goblin panicked with byte {at} = {value:#x}: {message}");
            }
        });
    }

    #[test]
    fn string_extraction_is_bounded() {
        let mut extractor = StringExtractor::default();
        let chunk = b"abcdefgh\0".repeat(MAX_STRINGS + 10);
        assert!(!extractor.scan(&chunk));
        assert_eq!(extractor.strings.len(), MAX_STRINGS);
        let mut extractor = StringExtractor::default();
        let long = vec![b'x'; 200_000];
        assert!(extractor.scan(&long));
        assert_eq!(extractor.strings[0].len(), MAX_ONE_STRING);
    }
}
