//! The shape every paginated listing shares.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A page of items with the count of all matches.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// All items matching the filters, not just this page.
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

impl<T> PageOf<T> {
    pub fn from_page<U>(page: dialix_kernel::Page<U>, map: impl FnMut(U) -> T) -> Self {
        let page = page.map(map);
        Self {
            items: page.items,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        }
    }
}
