//! Hand-built Mach-O files: thin, universal, encrypted and damaged.

use super::*;
use crate::test_support::{each_flip, each_truncation};

/// A hand-built little-endian arm64 executable: a __TEXT segment with
/// __cstring and __objc_classname, LC_LOAD_DYLIB + weak, LC_RPATH,
/// LC_BUILD_VERSION, LC_ENCRYPTION_INFO_64 (cryptid 0), a symbol table
/// with one import, and a code signature holding a CodeDirectory.
pub(crate) fn sample() -> Vec<u8> {
    let cstrings = b"https://api.example.cn/track\0hi\0Loaded %@\0".to_vec();
    let classnames = b"AppDelegate\0_TtC4Demo14ViewController\0".to_vec();
    let strtab = b"\0_OBJC_CLASS_$_CLLocationManager\0_main\0".to_vec();
    let mut cmds: Vec<Vec<u8>> = Vec::new();
    let text_at = 0x400usize;
    let class_at = text_at + cstrings.len();
    let sym_at = 0x600usize;
    let str_at = sym_at + 32;
    let sig_at = 0x700usize;
    // segment with two sections
    let mut seg = Vec::new();
    seg.extend_from_slice(&0x19u32.to_le_bytes());
    seg.extend_from_slice(&(72u32 + 2 * 80).to_le_bytes());
    let mut name = [0u8; 16];
    name[..6].copy_from_slice(b"__TEXT");
    seg.extend_from_slice(&name);
    seg.extend_from_slice(&[0u8; 32]); // vmaddr, vmsize, fileoff, filesize
    seg.extend_from_slice(&[0u8; 8]); // maxprot, initprot
    seg.extend_from_slice(&2u32.to_le_bytes());
    seg.extend_from_slice(&0u32.to_le_bytes());
    for (sect, at, len) in
        [("__cstring", text_at, cstrings.len()), ("__objc_classname", class_at, classnames.len())]
    {
        let mut s = [0u8; 80];
        s[..sect.len()].copy_from_slice(sect.as_bytes());
        s[16..22].copy_from_slice(b"__TEXT");
        s[40..48].copy_from_slice(&(len as u64).to_le_bytes());
        s[48..52].copy_from_slice(&(at as u32).to_le_bytes());
        s[64..68].copy_from_slice(&2u32.to_le_bytes());
        seg.extend_from_slice(&s);
    }
    cmds.push(seg);
    let dylib = |cmd: u32, path: &str| {
        let mut c = Vec::new();
        let size = (24 + path.len() + 1).div_ceil(8) * 8;
        c.extend_from_slice(&cmd.to_le_bytes());
        c.extend_from_slice(&(size as u32).to_le_bytes());
        c.extend_from_slice(&24u32.to_le_bytes());
        c.extend_from_slice(&[0u8; 12]);
        c.extend_from_slice(path.as_bytes());
        c.resize(size, 0);
        c
    };
    cmds.push(dylib(0xc, "/System/Library/Frameworks/CoreLocation.framework/CoreLocation"));
    cmds.push(dylib(0x8000_0018, "@rpath/Tracker.framework/Tracker"));
    let mut rpath = Vec::new();
    rpath.extend_from_slice(&0x8000_001cu32.to_le_bytes());
    rpath.extend_from_slice(&40u32.to_le_bytes());
    rpath.extend_from_slice(&12u32.to_le_bytes());
    rpath.extend_from_slice(b"@executable_path/Frameworks\0");
    rpath.resize(40, 0);
    cmds.push(rpath);
    let mut build = Vec::new();
    for v in [0x32u32, 24, 2, 0x000e_0000, 0x0011_0200, 0] {
        build.extend_from_slice(&v.to_le_bytes());
    }
    cmds.push(build);
    let mut enc = Vec::new();
    for v in [0x2cu32, 24, 0x4000, 0x4000, 0, 0] {
        enc.extend_from_slice(&v.to_le_bytes());
    }
    cmds.push(enc);
    let mut symtab = Vec::new();
    for v in [2u32, 24, sym_at as u32, 2, str_at as u32, strtab.len() as u32] {
        symtab.extend_from_slice(&v.to_le_bytes());
    }
    cmds.push(symtab);
    let signature = {
        let ident = b"com.example.demo\0";
        let mut cd = vec![0u8; 48];
        cd[0..4].copy_from_slice(&0xfade_0c02u32.to_be_bytes());
        cd[4..8].copy_from_slice(&((48 + ident.len()) as u32).to_be_bytes());
        cd[8..12].copy_from_slice(&0x20100u32.to_be_bytes());
        cd[12..16].copy_from_slice(&2u32.to_be_bytes());
        cd[20..24].copy_from_slice(&48u32.to_be_bytes());
        cd[37] = 2;
        cd.extend_from_slice(ident);
        let mut sb = 0xfade_0cc0u32.to_be_bytes().to_vec();
        sb.extend_from_slice(&((20 + cd.len()) as u32).to_be_bytes());
        sb.extend_from_slice(&1u32.to_be_bytes());
        sb.extend_from_slice(&0u32.to_be_bytes());
        sb.extend_from_slice(&20u32.to_be_bytes());
        sb.extend(cd);
        sb
    };
    let mut cs = Vec::new();
    for v in [0x1du32, 16, sig_at as u32, signature.len() as u32] {
        cs.extend_from_slice(&v.to_le_bytes());
    }
    cmds.push(cs);

    let sizeofcmds: usize = cmds.iter().map(Vec::len).sum();
    let mut out = Vec::new();
    for v in [MH_MAGIC_64, 0x0100_000c, 0, 2, cmds.len() as u32, sizeofcmds as u32, 0x0020_0085, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for c in &cmds {
        out.extend_from_slice(c);
    }
    out.resize(text_at, 0);
    out.extend_from_slice(&cstrings);
    out.extend_from_slice(&classnames);
    out.resize(sym_at, 0);
    // nlist_64: strx, type, sect, desc, value
    let nlist = |strx: u32, n_type: u8, n_sect: u8| {
        let mut n = strx.to_le_bytes().to_vec();
        n.extend_from_slice(&[n_type, n_sect, 0, 0]);
        n.extend_from_slice(&0u64.to_le_bytes());
        n
    };
    out.extend(nlist(1, 0x01, 0));
    out.extend(nlist(33, 0x0f, 1));
    out.extend_from_slice(&strtab);
    out.resize(sig_at, 0);
    out.extend_from_slice(&signature);
    out
}

fn fat(slices: &[&[u8]]) -> Vec<u8> {
    let mut out = FAT_MAGIC.to_be_bytes().to_vec();
    out.extend_from_slice(&(slices.len() as u32).to_be_bytes());
    let mut offset = 0x1000usize;
    let mut body = Vec::new();
    for s in slices {
        for v in [0x0100_000cu32, 0, offset as u32, s.len() as u32, 12] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        body.resize(offset - 0x1000, 0);
        body.extend_from_slice(s);
        offset = 0x1000 + body.len().div_ceil(0x1000) * 0x1000;
    }
    out.resize(0x1000, 0);
    out.extend(body);
    out
}

#[test]
fn reads_a_thin_arm64_executable() {
    let file = parse(&sample()).unwrap();
    assert!(!file.fat);
    let s = &file.slices[0];
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    assert_eq!(s.arch, "arm64");
    assert_eq!(s.file_type, "EXECUTE");
    assert_eq!(s.linked_dylibs().collect::<Vec<_>>().len(), 2);
    assert_eq!(s.dylibs[1].kind, "weak");
    assert_eq!(s.rpaths, ["@executable_path/Frameworks"]);
    let min = s.min_os.as_ref().unwrap();
    assert_eq!((min.platform.as_str(), min.version.as_str()), ("IOS", "14.0.0"));
    assert_eq!(min.sdk.as_deref(), Some("17.2.0"));
    assert!(!s.encrypted());
    assert_eq!(s.imported_symbols, ["_OBJC_CLASS_$_CLLocationManager"]);
    assert_eq!(s.objc_classes, ["AppDelegate", "Demo.ViewController"]);
    assert_eq!(s.strings, ["https://api.example.cn/track", "Loaded %@"]);
    let cd = s.code_signature.as_ref().unwrap().primary().unwrap();
    assert_eq!(cd.identifier.as_deref(), Some("com.example.demo"));
    let summary = file.summary("Payload/Demo.app/Demo");
    assert_eq!(summary.arch, ["arm64"]);
    assert_eq!(summary.min_os.as_deref(), Some("14.0.0"));
    assert_eq!(summary.adhoc_signed, Some(true));
}

#[test]
fn reads_every_slice_of_a_universal_binary() {
    let thin = sample();
    let file = parse(&fat(&[&thin, &thin])).unwrap();
    assert!(file.fat);
    assert_eq!(file.slices.len(), 2);
    assert_eq!(file.slices[1].offset, 0x1000 + thin.len().div_ceil(0x1000) as u64 * 0x1000);
    assert_eq!(file.summary("x").dylibs.len(), 2);
}

#[test]
fn encrypted_slices_hide_strings_with_a_diagnostic() {
    let mut bytes = sample();
    let pos = memchr::memmem::find(&bytes, &[0x2c, 0, 0, 0, 24, 0, 0, 0]).unwrap();
    bytes[pos + 16..pos + 20].copy_from_slice(&1u32.to_le_bytes());
    bytes[pos + 8..pos + 12].copy_from_slice(&0u32.to_le_bytes());
    let file = parse(&bytes).unwrap();
    let s = &file.slices[0];
    assert!(s.encrypted());
    assert!(s.strings.is_empty());
    assert!(s.diagnostics.iter().any(|d| d.code == "macho.encrypted"));
    assert!(file.summary("x").encrypted);
}

#[test]
fn hostile_counts_and_truncation_are_survivable() {
    assert_eq!(parse(b"").unwrap_err(), MachoError::NotMacho);
    assert!(parse(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 45]).is_err());
    let mut bytes = sample();
    bytes[16..20].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
    let file = parse(&bytes).unwrap();
    assert!(file.slices[0].diagnostics.iter().any(|d| d.code == "macho.bad_command_count"));
    let bytes = sample();
    each_truncation(&bytes, |cut| drop(parse(cut)));
    each_flip(&bytes, &[0x00, 0xff, 0x80], |at, v, copy| {
        if let Err(MachoError::BadHeader(m)) = parse(copy) {
            assert!(!m.contains("panicked"), "byte {at} = {v:#x}: {m}");
        }
    });
}

#[test]
fn swift_class_names_demangle() {
    assert_eq!(demangle_swift_class("_TtC5MyApp11AppDelegate").as_deref(), Some("MyApp.AppDelegate"));
    assert_eq!(demangle_swift_class("_TtC5MyApp"), None);
    assert_eq!(demangle_swift_class("_TtC99x"), None);
    assert_eq!(demangle_swift_class("NSObject"), None);
}
