//! The shape every paginated listing shares, and the paging-only query.

use dialix_kernel::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::ApiError;

/// Paging of a listing that has no filters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    offset: Option<String>,
}

impl PageQuery {
    /// 422 naming `limit` or `offset` when out of range.
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse_or_reject(
            self.limit.as_deref(),
            self.offset.as_deref(),
        )?)
    }
}

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
