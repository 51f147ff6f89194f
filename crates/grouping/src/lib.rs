//! Repeat-call grouping by client phone number and similar calls (later issue).
//!
//! Only the crate exists so far: its ports, services and adapters arrive with the issue
//! that builds this part of the product (see `docs/architecture.md`).
