//! Activity log: audit events, the append-only hash-chained log and its queries (issue 3).
//!
//! Only the crate exists so far: its ports, services and adapters arrive with the issue
//! that builds this part of the product (see `docs/architecture.md`).
