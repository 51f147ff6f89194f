//! The read models reporting needs. Every method takes the [`FigureScope`] and a UTC range
//! `[from_ms, to_ms)`; series come back per [`crate::SLOT_MS`] slot (`call_at / SLOT_MS`) and
//! are bucketed by the service.

#[allow(unused_imports)]
use crate::FigureScope;
