//! Calls: records, transcription, analysis, checklists, operators and per-minute billing (issue 5).
//!
//! Only the crate exists so far: its ports, services and adapters arrive with the issue
//! that builds this part of the product (see `docs/architecture.md`).
