//! AI chat about one call: sessions, messages, question limits (later issue).
//!
//! Only the crate exists so far: its ports, services and adapters arrive with the issue
//! that builds this part of the product (see `docs/architecture.md`).
