//! Calls grouped by client number: repeat-call chains with first-contact resolution, one
//! number's calls, and calls similar to a given one. Reads only; the scope is that of the
//! records listing (`dialix_calls::record_scope`).

mod model;
mod ports;
mod service;
mod similarity;

pub use model::{
    CallScope, Chain, ChainFilter, ChainReport, ChainSort, ChainSortKey, ChainSummary,
    MAX_RECORD_IDS_PER_CHAIN, MAX_SIMILAR, MAX_WINDOW_HOURS, NumberCall, SentimentCounts,
    SimilarCall, SimilarReason,
};
#[cfg(any(test, feature = "mock"))]
pub use ports::MockCallGroups;
pub use ports::{CallGroups, Candidate};
pub use service::{GroupingPorts, GroupingService};
pub use similarity::key_word_overlap;
