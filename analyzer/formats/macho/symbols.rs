//! Imported symbols: the undefined external entries of the symbol table
//! (`_OBJC_CLASS_$_CLLocationManager`), which stay readable in a
//! FairPlay-encrypted binary.

use crate::diagnostic::Diagnostic;
use crate::reader::ByteOrder;

use super::load_commands::c_string;
use super::Slice;

/// Most symbol table entries read per slice.
const MAX_SYMBOLS: u32 = 1 << 21;

#[allow(clippy::too_many_arguments)]
pub(super) fn read_symbols(
    data: &[u8],
    order: ByteOrder,
    is_64: bool,
    symoff: u32,
    nsyms: u32,
    stroff: u32,
    strsize: u32,
    slice: &mut Slice,
) {
    let entry = if is_64 { 16usize } else { 12 };
    let Some(strtab) = data.get(stroff as usize..(stroff as usize).saturating_add(strsize as usize)) else {
        slice
            .diagnostics
            .push(Diagnostic::error("macho.bad_string_table", "symbol string table runs past the end"));
        return;
    };
    let fits = (nsyms as usize)
        .checked_mul(entry)
        .and_then(|n| n.checked_add(symoff as usize))
        .is_some_and(|end| end <= data.len());
    if !fits || nsyms > MAX_SYMBOLS {
        slice.diagnostics.push(Diagnostic::error(
            "macho.bad_symbol_table",
            format!("{nsyms} symbols at {symoff:#x} do not fit in the file"),
        ));
        return;
    }
    for i in 0..nsyms as usize {
        let at = symoff as usize + i * entry;
        let (Some(strx), Some(&n_type), Some(&n_sect)) =
            (order.u32_at(data, at).ok(), data.get(at + 4), data.get(at + 5))
        else {
            break;
        };
        // Undefined, external, not a debugging entry: what the binary imports.
        if n_type & 0xe0 != 0 || n_type & 0x0e != 0 || n_type & 0x01 == 0 || n_sect != 0 {
            continue;
        }
        if let Some(name) = c_string(strtab, strx as usize).filter(|n| !n.is_empty()) {
            slice.imported_symbols.push(name);
        }
    }
    slice.imported_symbols.sort_unstable();
    slice.imported_symbols.dedup();
}
