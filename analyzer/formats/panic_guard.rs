//! The one guard around third-party parsers (goblin for ELF and Mach-O load
//! commands, the plist crate) that can still panic on hostile input: a panic
//! becomes an error carrying its message, so one bad binary costs only
//! itself and never the scan.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `parse`; a panic inside it comes back as `Err` with the panic's
/// message (or `unknown panic` when the payload is not text).
pub(crate) fn catch_panic<T>(parse: impl FnOnce() -> T) -> Result<T, String> {
    // The closures only read borrowed input and build a fresh result, so no
    // state they could leave half-updated survives the unwind.
    catch_unwind(AssertUnwindSafe(parse)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_their_message() {
        assert_eq!(catch_panic(|| 7), Ok(7));
        assert_eq!(catch_panic(|| -> u8 { panic!("static text") }), Err("static text".to_string()));
        let n = 3;
        assert_eq!(catch_panic(|| -> u8 { panic!("formatted {n}") }), Err("formatted 3".to_string()));
        assert_eq!(catch_panic(|| -> u8 { std::panic::panic_any(42u32) }), Err("unknown panic".to_string()));
    }
}
