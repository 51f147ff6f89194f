use crate::{DomainResult, FieldErrors};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;
/// The largest offset the databases can bind (a signed 64-bit integer).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Which slice of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub offset: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl PageRequest {
    /// Checks caller-supplied values: `limit` 1..=200 (default 50), `offset` 0..=`MAX_OFFSET` (default 0).
    pub fn parse(
        limit: Option<&str>,
        offset: Option<&str>,
        errors: &mut FieldErrors,
    ) -> Option<Self> {
        let limit = match limit {
            None => Some(DEFAULT_LIMIT),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Some(n),
                _ => {
                    errors.add(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    );
                    None
                }
            },
        };
        let offset = match offset {
            None => Some(0),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(n) if n <= MAX_OFFSET => Some(n),
                _ => {
                    errors.add(
                        "offset",
                        format!("must be a whole number from 0 to {MAX_OFFSET}"),
                    );
                    None
                }
            },
        };
        Some(Self {
            limit: limit?,
            offset: offset?,
        })
    }

    pub fn parse_or_reject(limit: Option<&str>, offset: Option<&str>) -> DomainResult<Self> {
        let mut errors = FieldErrors::new();
        let page = Self::parse(limit, offset, &mut errors);
        errors.into_result()?;
        Ok(page.unwrap_or_default())
    }
}

/// One slice of a list, with the number of all matching items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert_eq!(
            PageRequest::parse_or_reject(None, None),
            Ok(PageRequest::default())
        );
        assert_eq!(
            PageRequest::parse_or_reject(Some("200"), Some("10")),
            Ok(PageRequest {
                limit: 200,
                offset: 10
            })
        );
        for (limit, offset) in [
            ("0", "0"),
            ("201", "0"),
            ("x", "0"),
            ("10", "-1"),
            ("10", "9223372036854775808"),
        ] {
            assert!(PageRequest::parse_or_reject(Some(limit), Some(offset)).is_err());
        }
    }
}
