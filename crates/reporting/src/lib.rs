//! Usage statistics and the compliance dashboard (later issue).
//!
//! Only the crate exists so far: its ports, services and adapters arrive with the issue
//! that builds this part of the product (see `docs/architecture.md`).
