//! Evidence gathered from an app: where each class, API, string, library and host was seen.

pub mod hosts;
