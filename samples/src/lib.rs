//! appvet's sample builder: deterministic demo apps written by the project's
//! own format writers, so appvet's tests never depend on third-party app
//! files. `cargo run -p appvet-samples` writes them into samples/;
//! `cargo test -p appvet-samples` checks that the committed files are current.
//!
//! Writers: [`zip`], [`axml`], [`arsc`], [`dex`], [`elf`], [`der`] +
//! [`x509`], [`apk_sign_v2`] and [`apk_sign_v1`] (JAR signing), [`macho`] (iOS binaries).
//! The samples themselves are assembled in [`apps`].

pub mod apk_sign_v1;
pub mod apk_sign_v2;
pub mod apps;
pub mod arsc;
pub mod axml;
pub mod big;
pub mod der;
pub mod dex;
pub mod elf;
pub mod keys;
pub mod macho;
pub mod string_pool;
pub mod x509;
pub mod zip;

pub use apps::{all_samples, SampleFile};
