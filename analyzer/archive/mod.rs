//! Containers: detecting what an input is and reading ZIP archives safely.

pub mod zip;
